"""report.html, read without a browser: self-contained, the verdict and figures summary.json holds,
one waterfall per headline row whose running totals are bridge.csv's, the PBX and records
sections only with those inputs, the same bytes on a rerun, caps that say so."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path

import polars as pl
import pytest
from conftest import ROOT, audit_samples

from auditor.report import charts
from auditor.report.html import Limits, render_report
from auditor.result import AuditOutcome

RECORDS = ("--records", "sample_exports/records/notifications_2025-11.csv")
RECORDS_FORMAT = ("--records-format", "notification_log")
SCRIPT = "<script>alert(1)</script>"


class Page(HTMLParser):
    """Every element's tag and attributes, the text under each `data-figure`, and the text of
    each waterfall label (`<g id="bridge-N-total-RULE">`)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.figures: dict[str, list[str]] = {}
        self.labels: dict[str, str] = {}
        self._open: list[tuple[str, str, str]] = []  # (tag, kind, key)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.tags.append((tag, a))
        if "data-figure" in a:
            self._open.append((tag, "figure", a["data-figure"] or ""))
        elif tag == "g" and re.fullmatch(r"bridge-\d+-(total|delta)-[\w-]+", a.get("id") or ""):
            self._open.append((tag, "label", a["id"] or ""))
        elif self._open:
            self._open.append((tag, "", ""))

    def handle_endtag(self, tag: str) -> None:
        if self._open:
            self._open.pop()

    def handle_data(self, data: str) -> None:
        for _, kind, key in self._open:
            if kind == "figure":
                self.figures.setdefault(key, []).append(data.strip())
            elif kind == "label" and data.strip():
                self.labels[key] = data.strip()


def parse(html: str) -> Page:
    page = Page()
    page.feed(html)
    return page


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("html") / "out"
    done = audit_samples(out)
    assert done.returncode == 1, done.stderr
    return out


@pytest.fixture(scope="module")
def with_records(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("html") / "records"
    done = audit_samples(out, *RECORDS, *RECORDS_FORMAT)
    assert done.returncode == 1, done.stderr
    return out


def _page(out: Path) -> str:
    return (out / "report.html").read_text(encoding="utf-8")


def test_self_contained(samples: Path) -> None:
    html = _page(samples)
    page = parse(html)
    for tag, attrs in page.tags:
        for name in ("src", "href", "xlink:href", "action", "data"):
            value = attrs.get(name) or ""
            assert value == "" or value.startswith("#"), (tag, name, value)
        assert tag not in ("script", "link", "iframe", "img", "object", "embed"), tag
    assert "http" not in html and "@import" not in html
    assert set(re.findall(r"url\((.)", html)) <= {"#"}  # clip paths within the page only
    assert html.count("<style") == 1 + html.count("<svg")  # the page's, and matplotlib's own


def test_verdict_and_figures_are_summary_json(samples: Path) -> None:
    summary = json.loads((samples / "summary.json").read_text(encoding="utf-8"))
    page = parse(_page(samples))
    exit_code = next(a for t, a in page.tags if a.get("data-figure") == "exit-code")
    assert exit_code["data-value"] == str(summary["exit_code"]) == "1"
    assert "Findings: the audit does not pass." in _page(samples)
    un, nc = summary["unexplained"], summary["not_compared"]
    f = {k: " ".join(v) for k, v in page.figures.items()}
    assert f["unexplained-rows"] == str(un["rows"])
    assert f["unexplained-calls"] == str(un["calls"])
    assert f["unexplained-minutes"] == un["minutes"]
    assert f["unexplained-price"] == " + ".join(
        f"{p} {c}" for c, p in un["price_by_currency"].items()
    )
    assert un["currency"] and un["currency"] in f["unexplained-price"]
    assert f.get("not-compared-rows", "0") == str(nc["count"])
    assert f["rejected-rows"] == str(summary["rejects"]["rows"])
    assert f["dst-gap"] == str(summary["dst"]["gap"])
    assert f["dst-overlap"] == str(summary["dst"]["overlap"])
    for key, value in summary["cdr_matching"].items():
        assert f[f"pbx-{key}"] == str(value)


def test_one_waterfall_per_headline_row_with_bridge_csv_totals(samples: Path) -> None:
    """Each headline row's waterfall draws bridge.csv's `own_*` running totals (its own legs),
    labelled to 2 decimals; a category step that is 0 on its own legs is left out of the
    chart, never a non-zero one."""
    html = _page(samples)
    page = parse(html)
    recon = pl.read_csv(samples / "usage_reconciliation.csv", infer_schema=False)
    heads = recon.filter(pl.col("headline") == "true")
    assert heads.height == 3
    figures = [a for t, a in page.tags if t == "figure" and (a.get("class") or "") == "bridge"]
    assert {(a["data-period"], a["data-category"]) for a in figures} == set(
        heads.select("period", "category").iter_rows()
    )
    assert len(re.findall(r'<svg id="bridge-\d+"', html)) == heads.height
    bridge = pl.read_csv(samples / "bridge.csv", infer_schema=False)
    for i, fig in enumerate(figures):
        steps = bridge.filter(
            (pl.col("period") == fig["data-period"]) & (pl.col("category") == fig["data-category"])
        )
        for s in steps.iter_rows(named=True):
            rule, after = s["rule"], Decimal(s["own_minutes_after"])
            if rule == "unexplained":  # the usage bar carries the running total; it its delta
                shown = page.labels[f"bridge-{i}-total-usage"]
                delta = Decimal(s["own_minutes_delta"]).quantize(Decimal("0.01"))
                assert Decimal(page.labels[f"bridge-{i}-delta-unexplained"]) == delta
            elif f"bridge-{i}-total-{rule}" not in page.labels:
                assert rule.endswith("-category") or rule == "category-split", rule
                assert Decimal(s["own_minutes_delta"]) == 0 and int(s["own_count_delta"]) == 0
                continue
            else:
                shown = page.labels[f"bridge-{i}-total-{rule}"]
            assert Decimal(shown) == after.quantize(Decimal("0.01")), (fig, rule)
            assert len(shown.partition(".")[2]) <= 2


def test_category_bridge_starts_from_its_own_legs(samples: Path) -> None:
    """Issue 19.4: calls-inbound-local's bridge starts from its own legs, not the account's
    888.9 minutes (which the account-wide bridge shows, once). By hand from calls.parquet: the
    category's 55 legs of 2025-11 (UTC) run 13877 s = 231.283333 min, 52 of them billable;
    that is the own bridge at `unbilled-status` and at `category-split`, where the account's
    bridge (every category's legs dropped but this one's) agrees."""
    calls = pl.read_parquet(samples / "calls.parquet").filter(
        (pl.col("category") == "calls-inbound-local") & (pl.col("period") == "2025-11")
    )
    assert calls.height == 55 and calls["duration_s"].sum() == 13877
    assert calls["billable"].sum() == 52
    bridge = pl.read_parquet(samples / "bridge.parquet").filter(
        (pl.col("category") == "calls-inbound-local") & (pl.col("period") == "2025-11")
    )
    at = {r["rule"]: r for r in bridge.iter_rows(named=True)}
    raw = Decimal(13877) / 60
    assert at["unbilled-status"]["own_count_after"] == 52
    assert abs(at["unbilled-status"]["own_minutes_after"] - raw) < Decimal("0.000001")
    split = at["category-split"]
    assert (split["own_count_after"], split["own_minutes_after"]) == (
        split["count_after"],
        split["minutes_after"],
    )
    assert at["naive"]["minutes_after"] == Decimal("888.9")  # the account's every leg
    assert at["naive"]["own_minutes_after"] < Decimal(240)
    html = _page(samples)
    page = parse(html)
    figures = [a for t, a in page.tags if t == "figure" and (a.get("class") or "") == "bridge"]
    i = next(n for n, a in enumerate(figures) if a["data-category"] == "calls-inbound-local")
    own_naive = at["naive"]["own_minutes_after"].quantize(Decimal("0.01"))
    assert Decimal(page.labels[f"bridge-{i}-total-naive"]) == own_naive
    # the account-wide bridge, once for the account's 2025-11: from 888.9 to the billable legs
    assert html.count('class="bridge-account"') == 1
    account = html.split('<svg id="account-bridge-0"')[1].split("</svg>")[0]
    naive = account.split('id="account-bridge-0-total-naive"')[1]
    assert re.search(r">([^<>]+)</text>", naive).group(1).strip() == "888.9"


def test_price_only_finding_shows_in_its_bridge(samples: Path) -> None:
    """Issue 19.3 (chart half): the sample's calls-client differs in price only (+0.25 USD,
    0 minutes: usage 0.598 - logs 0.348): its bridge has a price panel with those figures
    and says it is a difference in price only."""
    html = _page(samples)
    page = parse(html)
    figures = [a for t, a in page.tags if t == "figure" and (a.get("class") or "") == "bridge"]
    i = next(n for n, a in enumerate(figures) if a["data-category"] == "calls-client")
    svg = html.split(f'<svg id="bridge-{i}"')[1].split("</svg>")[0]

    def price_label(name: str) -> str:
        part = svg.split(f'id="bridge-{i}-price-{name}"')[1]
        return re.search(r">([^<>]+)</text>", part).group(1).strip()

    assert price_label("logs") == "0.348"
    assert price_label("unexplained") == "+0.25"
    assert price_label("usage") == "0.598"
    assert "price (USD)" in svg
    assert page.figures["price-only"] == ["a difference in price only"]
    assert page.labels[f"bridge-{i}-delta-unexplained"] == "0"


def test_pbx_and_records_sections_only_when_given(samples: Path, with_records: Path) -> None:
    plain, records = _page(samples), _page(with_records)
    assert 'id="pbx"' in plain and 'id="pbx"' in records  # sample_exports holds PBX CDRs
    assert 'id="records"' not in plain and "Your records vs Twilio" not in plain
    assert 'id="records"' in records and "Records with a finding" in records
    summary = json.loads((with_records / "summary.json").read_text(encoding="utf-8"))
    f = {k: " ".join(v) for k, v in parse(records).figures.items()}
    for key, value in summary["records"].items():
        assert f[f"records-{key}"] == str(value)
    # the rows behind the findings carry their source file and row
    matches = pl.read_csv(with_records / "records_matches.csv", infer_schema=False)
    found = matches.filter(pl.col("finding").is_not_null())
    assert found.height
    source = found.row(0, named=True)
    assert f"<td>{source['twilio_source_file']}</td>" in records
    cdr = pl.read_csv(samples / "cdr_matches.csv", infer_schema=False)
    pbx_only = cdr.filter(pl.col("match_status") == "pbx-only").row(0, named=True)
    assert pbx_only["pbx_source_file"] in plain


def test_dst_rejects_and_rows_with_source(samples: Path) -> None:
    html = _page(samples)
    assert 'id="dst"' in html and 'id="rejects"' in html
    rejects = pl.read_csv(samples / "rejects.csv", infer_schema=False)
    for file, row in rejects.select("source_file", "source_row").iter_rows():
        assert f'<td>{file}</td><td class="n">{row}</td>' in html
    recon = pl.read_csv(samples / "usage_reconciliation.csv", infer_schema=False)
    for r in recon.filter(pl.col("status") == "unexplained").iter_rows(named=True):
        assert f"<td>{r['usage_source_file']}</td>" in html


def test_byte_identical_rerun(samples: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    assert audit_samples(again).returncode == 1
    assert (again / "report.html").read_bytes() == (samples / "report.html").read_bytes()


def test_caps_say_when_they_cut(samples: Path) -> None:
    """A page capped at one waterfall and one row per table says how many there were."""
    outcome = AuditOutcome(
        summary=_summary(samples),
        reconciliation=pl.read_parquet(samples / "usage_reconciliation.parquet"),
        bridge=pl.read_parquet(samples / "bridge.parquet"),
        usage_records=pl.read_parquet(samples / "usage_records.parquet"),
        rejects=pl.read_csv(samples / "rejects.csv"),
        calls=samples / "calls.parquet",
        cdr_matches=pl.read_parquet(samples / "cdr_matches.parquet"),
    )
    html = render_report(
        outcome.summary,
        outcome.reconciliation,
        bridge=outcome.bridge,
        cdr_matches=outcome.cdr_matches,
        rejects=outcome.rejects,
        limits=Limits(waterfalls=1, items=1),
    )
    assert html.count('<svg id="bridge-') == 1
    assert "Showing the first 1 of 3 bridges" in html
    assert "Showing the first 1 of 4 rows" in html  # rejects


def test_headline_row_without_bridge_says_so(samples: Path) -> None:
    summary = _summary(samples)
    recon = pl.read_parquet(samples / "usage_reconciliation.parquet")
    empty = pl.read_parquet(samples / "bridge.parquet").clear()
    rows = [r | {"bridge": []} for r in summary.reconciliation]
    html = render_report(_replace(summary, reconciliation=rows), recon, bridge=empty)
    assert html.count("No bridge for this row.") == 3


def test_chart_text_is_escaped() -> None:
    """matplotlib writes XML: a label from the inputs is text, never markup, and `$` is no math."""
    svg = charts.waterfall(
        "bridge-0",
        SCRIPT,
        [charts.Step(SCRIPT, Decimal(1), Decimal(1)), charts.Step("$x$ $", Decimal(1), Decimal(2))],
    )
    assert "<script" not in svg and "&lt;script&gt;alert(1)&lt;/script&gt;" in svg
    assert "$x$ $" in svg


def _summary(out: Path):  # the typed Summary, rebuilt from summary.json for a render call
    from auditor.result import (
        CdrCounts,
        NotComparedTotals,
        RejectCounts,
        Summary,
        UnexplainedTotals,
    )

    doc = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    return Summary(
        inputs=doc["inputs"],
        reconciliation=doc["reconciliation"],
        unexplained=UnexplainedTotals(**doc["unexplained"]),
        not_compared=NotComparedTotals(**doc["not_compared"]),
        dst=doc["dst"],
        rejects=RejectCounts(**doc["rejects"]),
        unaligned_usage=doc["unaligned_usage"],
        period=doc["period"],
        exit_code=doc["exit_code"],
        cdr_matching=CdrCounts(**doc["cdr_matching"]) if "cdr_matching" in doc else None,
    )


def _replace(summary, **changes):
    from dataclasses import replace

    return replace(summary, **changes)


def test_templates_ship_as_package_data() -> None:
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert '"auditor.report" = ["templates/*"]' in pyproject


def test_title_block_says_what_the_page_is(samples: Path) -> None:
    """Issue 19.15: the <title> and the title block name the account, the periods, the inputs
    (count and the legs' first and last start, read from calls.parquet here), the version, the
    options that change figures (sample_exports/auditor.toml: New York, --dst earliest) and the
    input set's digest, recomputed here from manifest.json's inputs."""
    from auditor import __version__

    html = _page(samples)
    title = re.search(r"<title>(.*?)</title>", html)
    assert title is not None
    assert title.group(1) == (
        "Billing audit 2025-03, 2025-11 for AC5f1a9e0c7b3d24e6a8f0b1c2d3e4f5a6: exit 1 "
        "(call-auditor)"
    )
    about = _about_texts(html)
    summary = json.loads((samples / "summary.json").read_text(encoding="utf-8"))
    assert about["accounts"] == "AC5f1a9e0c7b3d24e6a8f0b1c2d3e4f5a6"
    assert about["periods"] == "2025-03, 2025-11 (month)"
    calls = pl.read_parquet(samples / "calls.parquet")
    first, last = calls["start_time_utc"].min(), calls["start_time_utc"].max()
    assert about["first-start"] == first.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert about["last-start"] == last.strftime("%Y-%m-%dT%H:%M:%SZ")
    rows = sum(f["rows_read"] for f in summary["inputs"])
    assert about["inputs"].startswith(f"{len(summary['inputs'])} file(s), {rows} row(s) read")
    assert about["version"] == f"call-auditor {__version__}"  # no engine: reports are engine-blind
    for option in ("--tz America/New_York", "--dst earliest", "--period month", "--pricing"):
        assert option in about["options"], option
    manifest = json.loads((samples / "manifest.json").read_text(encoding="utf-8"))
    lines = "".join(f"{e['path']} {e['sha256']}\n" for e in manifest["inputs"])
    import hashlib

    assert about["inputs-sha256"].startswith(hashlib.sha256(lines.encode()).hexdigest())


def _about_texts(html: str) -> dict[str, str]:
    """The text under each `data-about` element, nested ones included."""

    class About(HTMLParser):
        def __init__(self) -> None:
            super().__init__(convert_charrefs=True)
            self.texts: dict[str, str] = {}
            self.open: list[str | None] = []

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            self.open.append(dict(attrs).get("data-about"))

        def handle_endtag(self, tag: str) -> None:
            if self.open:
                self.open.pop()

        def handle_data(self, data: str) -> None:
            for key in filter(None, self.open):
                self.texts[key] = self.texts.get(key, "") + data

    parser = About()
    parser.feed(html.split("</dl>", 1)[0])
    return {k: v.strip() for k, v in parser.texts.items()}


def test_status_and_sid_cells_do_not_break(samples: Path) -> None:
    """Issue 19.17: status cells carry `status` (white-space: nowrap) and SID cells `sid`
    (a small monospace font that breaks anywhere, never mid-word in a status)."""
    html = _page(samples)
    css = (ROOT / "auditor" / "report" / "templates" / "report.css").read_text(encoding="utf-8")
    assert re.search(r"td\.status[^{]*\{[^}]*white-space:nowrap", css)
    assert re.search(r"td\.sid\{[^}]*monospace[^}]*word-break:break-all", css)
    assert '<td class="status unexplained">unexplained</td>' in html
    recon = pl.read_csv(samples / "usage_reconciliation.csv", infer_schema=False)
    account = recon["account_sid"][0]
    assert f'<td class="sid">{account}</td>' in html
    cdr = pl.read_csv(samples / "cdr_matches.csv", infer_schema=False)
    found = cdr.filter((pl.col("match_status") != "matched") | pl.col("mismatch").is_not_null())
    sid = found.filter(pl.col("call_sid").is_not_null())["call_sid"][0]
    assert f'<td class="sid">{sid}</td>' in html


def test_daily_chart_compares_like_with_like(tmp_path: Path) -> None:
    """Issue 19.5: the per-day chart holds daily `calls` usage against the logs rolled up to
    `calls` only (never calls-client or trunking legs), and a day that matches is drawn as
    matching. Figures by hand from the legs below:
    11-04: calls-inbound-local 3 + 3 min, calls-outbound 20 min -> 3 calls, 26 min; usage calls
           3 calls, 26 min: a match (the calls-client 40 min and trunking 4 min legs are not
           in `calls`; all together would read 5 calls, 70 min: 'under-billed').
    11-05: calls-outbound 10 min billable (+ a failed leg, not billable) -> 1 call, 10 min;
           usage 1 call, 12 min: differs.
    2025-10 has no daily usage: logs only, every category together: 10-31 calls-outbound 5 min
           + trunking-origination 2 min -> 2 calls, 7 min."""
    from datetime import UTC, date, datetime

    from auditor.reconcile.daily import daily_volumes
    from auditor.reconcile.periods import Period
    from auditor.report.html import ALL_CATEGORIES, daily_series
    from auditor.rules.model import load_rules
    from auditor.schemas.dtypes import MINUTES

    ac = "AC" + "0" * 32
    legs = [  # (category, UTC start, billable, billed minutes)
        ("calls-inbound-local", datetime(2025, 11, 4, 9), True, "3"),
        ("calls-inbound-local", datetime(2025, 11, 4, 10), True, "3"),
        ("calls-outbound", datetime(2025, 11, 4, 11), True, "20"),
        ("calls-client", datetime(2025, 11, 4, 12), True, "40"),
        ("trunking-termination", datetime(2025, 11, 4, 13), True, "4"),
        ("calls-outbound", datetime(2025, 11, 5, 9), True, "10"),
        ("calls-outbound", datetime(2025, 11, 5, 10), False, "0"),
        ("calls-outbound", datetime(2025, 10, 31, 9), True, "5"),
        ("trunking-origination", datetime(2025, 10, 31, 10), True, "2"),
    ]
    calls = pl.DataFrame(
        {
            "account_sid": [ac] * len(legs),
            "period": [f"{t:%Y-%m}" for _, t, _, _ in legs],
            "category": [c for c, _, _, _ in legs],
            "start_time_utc": [t.replace(tzinfo=UTC) for _, t, _, _ in legs],
            "billable": [b for _, _, b, _ in legs],
            "billed_minutes": pl.Series([Decimal(m) for *_, m in legs], dtype=MINUTES),
        }
    )
    calls.write_parquet(tmp_path / "calls.parquet")
    usage = pl.DataFrame(
        {
            "account_sid": [ac, ac],
            "category": ["calls", "calls"],
            "count": [3, 1],
            "usage": [Decimal(26), Decimal(12)],
            "start_date": [date(2025, 11, 4), date(2025, 11, 5)],
            "end_date": [date(2025, 11, 4), date(2025, 11, 5)],
            "used_as": ["unaligned", "unaligned"],
        }
    )
    daily = daily_volumes(tmp_path / "calls.parquet", usage, load_rules(None), Period.MONTH)
    series = daily_series(daily)
    got = [
        (
            s.period,
            s.category,
            [
                (d.day, d.billable_calls, d.billed_minutes, d.usage_count, d.usage_minutes)
                for d in s.days
            ],
        )
        for s in series
    ]
    assert got == [
        ("2025-10", ALL_CATEGORIES, [("2025-10-31", 2, Decimal(7), None, None)]),
        (
            "2025-11",
            "calls",
            [
                ("2025-11-04", 3, Decimal(26), 3, Decimal(26)),
                ("2025-11-05", 1, Decimal(10), 1, Decimal(12)),
            ],
        ),
    ]
    assert [d.matches for d in series[1].days] == [True, False]
    assert series[1].differing == ["2025-11-05"]
    svg = charts.daily("daily-1", "t", series[1].days)
    assert 'id="daily-1-usage-match-2025-11-04"' in svg
    assert 'id="daily-1-usage-differs-2025-11-05"' in svg


def test_sample_daily_chart_is_per_category(samples: Path) -> None:
    """The sample's November daily usage holds `calls` only: one chart of `calls`, whose days
    match but for the two planted differences' days (11-12, 11-20)."""
    html = _page(samples)
    figures = re.findall(
        r'<figure class="daily" data-period="([^"]+)" data-category="([^"]+)"', html
    )
    assert ("2025-11", "calls") in figures
    assert 'data-differing="2"' in html and "2025-11-12, 2025-11-20" in html


def test_pbx_delta_chart_series() -> None:
    """Issue 19.16: the PBX chart draws the matched calls per second of start and duration
    delta, mismatches apart, clipped to +-30 s. By hand from the rows below (the pbx-only row
    and a null delta are not drawn): start -3 (1 fine), 0 (1 fine, 1 mismatch), 45 -> 30
    (1 fine); duration 0 (1), 1 (1), 40 -> 30 (1 mismatch)."""
    from auditor.report.html import pbx_delta_series

    matches = pl.DataFrame(
        {
            "match_status": ["matched", "matched", "matched", "matched", "pbx-only"],
            "start_delta_s": [-3, 0, 0, 45, None],
            "duration_delta_s": [1, 40, 0, None, None],
            "mismatch": [None, "duration", None, None, None],
        }
    )
    start, duration = pbx_delta_series(matches)
    assert (start.seconds, start.fine, start.flagged) == ([-3, 0, 30], [1, 1, 1], [0, 1, 0])
    assert (duration.seconds, duration.fine, duration.flagged) == (
        [0, 1, 30],
        [1, 1, 0],
        [0, 0, 1],
    )
    svg = charts.deltas("pbx-deltas", "t", [start, duration])
    assert 'id="pbx-deltas-start-delta-mismatch-0"' in svg
    assert 'id="pbx-deltas-duration-delta-mismatch-30"' in svg


def test_records_findings_chart_series(with_records: Path, samples: Path) -> None:
    """Issue 19.16: findings per group, from records_groups.csv's columns (by hand from the
    sample's records_groups.csv: campaign=it-outage 2 ambiguous + 1 status; school-closing
    1 records-only, 1 undelivered, 1 machine-answered, 1 duration); the page draws it and the
    PBX delta chart beside their tables."""
    from auditor.report.html import records_group_series

    groups = pl.read_csv(with_records / "records_groups.csv")
    series = {
        g.label: {k: n for k, n in g.findings.items() if n} for g in records_group_series(groups)
    }
    assert series["campaign=it-outage"] == {"ambiguous": 2, "status": 1}
    assert series["campaign=school-closing"] == {
        "records-only": 1,
        "undelivered": 1,
        "machine-answered": 1,
        "duration": 1,
    }
    html = _page(with_records)
    assert 'id="records-chart"' in html and '<svg id="records-groups"' in html
    assert 'id="pbx-chart"' in html and '<svg id="pbx-deltas"' in html
    assert 'id="records-chart"' not in _page(samples)


def test_records_delay_and_duration_chart_series(with_records: Path) -> None:
    """Issue 19.16: the records' delta chart, by hand from the sample's six matched records
    (delay_s, duration_delta_s, finding): (2, 0, -), (95, 0, slow), (2, -, undelivered),
    (3, 24, duration), (3, 0, machine-answered), (2, -, status). Delay: 2 s 1 fine + 2 with
    a finding, 3 s 2 with a finding, 95 s clipped to 30: 1; duration: 0 s 1 fine + 2, 24 s 1
    (two nulls not drawn)."""
    from auditor.report.html import records_delta_series

    matches = pl.read_parquet(with_records / "records_matches.parquet")
    delay, duration = records_delta_series(matches)
    assert (delay.seconds, delay.fine, delay.flagged) == ([2, 3, 30], [1, 0, 0], [2, 2, 1])
    assert (duration.seconds, duration.fine, duration.flagged) == ([0, 24], [1, 0], [2, 1])
    html = _page(with_records)
    assert '<svg id="records-deltas"' in html
    assert 'id="records-deltas-delay-finding-30"' in html
