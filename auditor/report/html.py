"""report.html: one self-contained page an auditor would rather look at than read.

Rendered from `templates/report.html.j2` (Jinja2, autoescape on: every value from the inputs is
escaped) with the charts of `report.charts` inlined as SVG: no script, no stylesheet or image to
load, nothing that names an address; it opens offline from an archive folder years later and
prints (`@media print`). It lays out figures already computed (the typed `AuditOutcome`): this
module only picks rows to show (at most `Limits`, saying when it cut) and shapes them for the
template.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import jinja2
import polars as pl

from auditor import __version__
from auditor.reconcile.findings import differs_in, finding_level
from auditor.report import charts
from auditor.report.outdir import writing
from auditor.result import AuditOutcome, Summary, signed
from auditor.statuses import BridgeStep, FindingLevel, ReconStatus

KEY = ("account_sid", "period", "category")


@dataclass(frozen=True)
class Limits:
    """At most this many of each on the page (it must stay small whatever the input size);
    the CSV/Parquet tables hold them all."""

    waterfalls: int = 50
    items: int = 200
    daily_charts: int = 24


@dataclass(frozen=True)
class Shown:
    """Rows of a table on the page: the first `len(rows)` of `total`."""

    rows: list[dict[str, Any]]
    total: int

    @property
    def cut(self) -> bool:
        return self.total > len(self.rows)


@cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("auditor.report", "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.ChainableUndefined,
    )
    env.filters["text"] = _text
    env.filters["signed"] = lambda value: signed(_text(value))
    return env


def _text(value: Any) -> str:
    """A cell's text: nothing for null, Decimals without trailing zeros."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return charts.minutes_text(value)
    return str(value)


def _shown(frame: pl.DataFrame | None, columns: list[str], limit: int) -> Shown | None:
    if frame is None:
        return None
    rows = frame.head(limit).select([c for c in columns if c in frame.columns])
    return Shown(list(rows.iter_rows(named=True)), frame.height)


MARK_COLUMNS = {
    "status": pl.String,
    "headline": pl.Boolean,
    "unexplained_count": pl.Int64,
    "unexplained_minutes": pl.Float64,
    "unexplained_price": pl.Float64,
}


def _marked(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """summary.json's rows with their `level` (finding or roll-up) and what they differ in,
    by the expressions every row table uses (`reconcile.findings`), findings first."""
    if not rows:
        return []
    frame = pl.DataFrame(
        {c: [r.get(c) for r in rows] for c in MARK_COLUMNS}, schema=MARK_COLUMNS, strict=False
    )
    marks = frame.select(finding_level(), differs_in())
    out = [
        r | {"level": level, "differs_in": differs}
        for r, (level, differs) in zip(rows, marks.iter_rows(), strict=True)
    ]
    return sorted(out, key=lambda r: r["level"] != FindingLevel.FINDING.value)


def _verdict(summary: Summary) -> dict[str, Any]:
    """The exit code in words, with what made it."""
    reasons = summary.reasons()
    if summary.exit_code == 0:
        words = "Pass: every difference in scope was compared and explained, nothing rejected."
    else:
        words = "Findings: the audit does not pass."
    return {
        "code": summary.exit_code,
        "ok": summary.exit_code == 0,
        "words": words,
        "reasons": reasons,
    }


def _about(summary: Summary, about: dict[str, Any] | None) -> dict[str, Any]:
    """The title block: what the page is about (accounts, periods, inputs, version, the options
    that change figures, the input set's digest) and the page's <title>, which names them."""
    about = about or {}
    accounts = sorted({r["account_sid"] for r in summary.reconciliation if r.get("account_sid")})
    periods = sorted({str(r["period"]) for r in summary.reconciliation if r.get("period")})
    if len(periods) > 3:  # a run of periods: its ends and how many (they need not be adjacent)
        span = f"{len(periods)} periods {periods[0]} to {periods[-1]}"
    else:
        span = ", ".join(periods) or "no period"
    who = accounts[0] if len(accounts) == 1 else f"{len(accounts)} accounts"
    return {
        "accounts": accounts,
        "periods": periods,
        "heading": f"{span} for {who}",
        "title": f"Billing audit {span} for {who}: exit {summary.exit_code} (call-auditor)",
        "input_count": len(summary.inputs),
        "rows_read": sum(int(f.get("rows_read") or 0) for f in summary.inputs),
        "version": __version__,
        "options": about.get("options") or {"period": summary.period, "dst": summary.dst["policy"]},
        "inputs_sha256": about.get("inputs_sha256"),
        "first_start": about.get("first_start"),
        "last_start": about.get("last_start"),
    }


# The bridge's steps before the category steps (the same on every category's bridge of an
# account), and the category steps.
_ORDER = list(BridgeStep)
SHARED_STEPS = tuple(s.value for s in _ORDER[: _ORDER.index(BridgeStep.CLIENT_CATEGORY)])
CATEGORY_STEPS = tuple(
    s.value
    for s in (
        BridgeStep.CLIENT_CATEGORY,
        BridgeStep.SIP_CATEGORY,
        BridgeStep.TRUNKING_CATEGORY,
        BridgeStep.CATEGORY_SPLIT,
    )
)


def _price(row: dict[str, Any]) -> charts.Price | None:
    """The row's price panel: logs, unexplained, usage (summary.json's figures), when compared
    in one currency."""
    figures = [row.get(k) for k in ("logged_price", "unexplained_price", "usage_price")]
    if any(f is None for f in figures) or not row.get("currency"):
        return None
    logged, unexplained, usage = (Decimal(str(f)) for f in figures)
    return charts.Price(logged, unexplained, usage, str(row["currency"]))


def _own_steps(steps: list[dict[str, Any]]) -> list[charts.Step]:
    """The row's own legs' bridge as drawn: its category steps, 0 on its own legs by
    construction, left out (the table under the chart lists every step)."""

    def idle(s: dict[str, Any]) -> bool:
        return (
            s["rule"] in CATEGORY_STEPS and not s["own_minutes_delta"] and not s["own_count_delta"]
        )

    return [
        charts.Step(s["rule"], s["own_minutes_delta"], s["own_minutes_after"])
        for s in steps
        if s.get("own_minutes_after") is not None
        and s.get("own_minutes_delta") is not None
        and not idle(s)
    ]


def _account_bridge(i: int, row: dict[str, Any], steps: list[dict[str, Any]]) -> dict[str, Any]:
    """The account-wide bridge, once per account and period: from every logged leg of the
    account to its billable ones, the steps every category's bridge shares (`BridgeStep`
    before the category steps depend on no category)."""
    shared = [s for s in steps if s["rule"] in SHARED_STEPS]
    drawn = [charts.Step(s["rule"], s["minutes_delta"], s["minutes_after"]) for s in shared]
    last = shared[-1] if shared else None
    if last is not None:
        drawn.append(charts.Step("billable", Decimal(0), last["minutes_after"]))
    title = f"Account-wide bridge: {row['period']} ({row['account_sid']})"
    return {
        "account_sid": row["account_sid"],
        "period": row["period"],
        "steps": shared,
        "chart": charts.waterfall(
            f"account-bridge-{i}", title, drawn, totals=("naive", "billable")
        ),
    }


def _waterfalls(
    summary: Summary, bridge: pl.DataFrame | None, limit: int
) -> tuple[list[dict[str, Any]], int, list[dict[str, Any]]]:
    """Each headline row (unexplained first), with its bridge chart and steps, up to `limit`;
    and the account-wide bridge of each account and period those rows are in."""
    heads = [r for r in summary.reconciliation if r.get("headline")]
    order = {ReconStatus.UNEXPLAINED.value: 0, ReconStatus.NOT_COMPARED.value: 1}
    heads.sort(key=lambda r: order.get(r["status"], 2))
    out: list[dict[str, Any]] = []
    accounts: dict[tuple[str, str], dict[str, Any]] = {}
    for i, row in enumerate(heads[:limit]):
        item: dict[str, Any] = {"row": row, "chart": None, "steps": []}
        if bridge is not None and set(KEY) <= set(bridge.columns):
            steps = bridge.filter(*(pl.col(k) == row[k] for k in KEY)).sort("step")
            item["steps"] = list(steps.iter_rows(named=True))
        if item["steps"] and "own_minutes_after" in item["steps"][0]:
            scope = (row["account_sid"], row["period"])
            if scope not in accounts:
                accounts[scope] = _account_bridge(len(accounts), row, item["steps"])
            title = f"Bridge: {row['period']} {row['category']} ({row['account_sid']})"
            item["price"] = _price(row)
            item["chart"] = charts.waterfall(
                f"bridge-{i}", title, _own_steps(item["steps"]), item["price"]
            )
        else:  # no bridge frame (or no row in it): the steps summary.json holds, as a table
            item["summary_steps"] = row.get("bridge") or []
            item["steps"] = []
        out.append(item)
    return out, len(heads), list(accounts.values())


ALL_CATEGORIES = "every category"  # a period without daily usage: its logs only, together


@dataclass(frozen=True)
class DailySeries:
    """What one per-day chart draws: an account's period, one category, its days (logs and the
    daily usage of that same category, see `reconcile.daily`)."""

    account_sid: str
    period: str
    category: str
    days: list[charts.Day]

    @property
    def with_usage(self) -> bool:
        return any(d.usage_count is not None for d in self.days)

    @property
    def differing(self) -> list[str]:
        """The days whose usage differs from the logs (days without a usage record aside)."""
        return [d.day for d in self.days if d.usage_count is not None and not d.matches]


def daily_series(daily: pl.DataFrame | None) -> list[DailySeries]:
    """The per-day charts' data, one per (account, period, category) of the daily table."""
    if daily is None or not daily.height:
        return []
    groups = daily.partition_by(
        ["account_sid", "period", "category"], maintain_order=True, as_dict=True
    )
    return [
        DailySeries(
            str(account),
            str(period),
            ALL_CATEGORIES if category is None else str(category),
            [
                charts.Day(
                    str(d["day"]),
                    d["billable_calls"],
                    d["billed_minutes"],
                    d["usage_count"],
                    d["usage_minutes"],
                )
                for d in frame.iter_rows(named=True)
            ],
        )
        for (account, period, category), frame in groups.items()
    ]


def _daily(daily: pl.DataFrame | None, limit: int) -> tuple[list[dict[str, Any]], int]:
    series = daily_series(daily)
    out = []
    for i, s in enumerate(series[:limit]):
        title = f"Per day: {s.period} {s.category} ({s.account_sid})"
        out.append(
            {
                "account_sid": s.account_sid,
                "period": s.period,
                "category": s.category,
                "with_usage": s.with_usage,
                "differing": s.differing,
                "chart": charts.daily(f"daily-{i}", title, s.days),
            }
        )
    return out, len(series)


PBX_COLUMNS = [
    "match_status",
    "mismatch",
    "pbx_source_file",
    "pbx_source_rows",
    "twilio_source_file",
    "twilio_source_row",
    "call_sid",
    "from_e164",
    "to_e164",
    "from_raw",
    "to_raw",
    "pbx_start_utc",
    "twilio_start_utc",
    "duration_delta_s",
    "billed_minutes_delta",
]
RECORDS_COLUMNS = [
    "match_status",
    "finding",
    "records_source_file",
    "records_source_row",
    "twilio_source_file",
    "twilio_source_row",
    "call_sid",
    "to_e164",
    "record_time_utc",
    "twilio_start_utc",
    "delay_s",
    "duration_delta_s",
    "billed_minutes",
    "campaign",
]
REJECT_COLUMNS = ["source_file", "source_row", "column", "value", "reason"]


def _pbx_findings(matches: pl.DataFrame | None, limit: int) -> Shown | None:
    if matches is None:
        return None
    found = matches.filter(
        pl.col("match_status").cast(pl.String).is_in(["pbx-only", "twilio-only", "ambiguous"])
        | pl.col("mismatch").is_not_null()
    )
    return _shown(found, PBX_COLUMNS, limit)


def _records_findings(matches: pl.DataFrame | None, limit: int) -> Shown | None:
    if matches is None:
        return None
    found = matches.filter(
        pl.col("finding").is_not_null() | (pl.col("match_status").cast(pl.String) != "matched")
    )
    return _shown(found, RECORDS_COLUMNS, limit)


DELTA_EDGE = 30  # the PBX delta charts' range in seconds (the end bins hold the rest)
FINDING_KINDS: tuple[str, ...]  # records_groups columns, in the chart's order
FINDING_KINDS = ("records_only", "ambiguous", "undelivered", "machine_answered", "slow")
FINDING_KINDS += ("duration", "status")


def _histogram(
    matched: pl.DataFrame, column: str, name: str, flag: str = "mismatch"
) -> charts.Histogram:
    """Matched calls per whole second of `column`, clipped to +-DELTA_EDGE, split by whether
    `flag` (mismatch, finding) is set."""
    values = matched.filter(pl.col(column).is_not_null()).select(
        pl.col(column).clip(-DELTA_EDGE, DELTA_EDGE).alias("s"),
        pl.col(flag).is_not_null().alias("flag"),
    )
    counts = values.group_by("s").agg(
        (~pl.col("flag")).sum().alias("fine"), pl.col("flag").sum().alias("flagged")
    )
    counts = counts.sort("s")
    return charts.Histogram(
        name,
        [int(s) for s in counts["s"]],
        [int(n) for n in counts["fine"]],
        [int(n) for n in counts["flagged"]],
        DELTA_EDGE,
    )


def pbx_delta_series(matches: pl.DataFrame | None) -> list[charts.Histogram]:
    """What the PBX delta chart draws: for the matched calls, the start and duration deltas
    (cdr_matches' `start_delta_s`, `duration_delta_s`) per second."""
    matched = _matched(matches)
    if matched is None:
        return []
    return [
        _histogram(matched, "start_delta_s", "start-delta"),
        _histogram(matched, "duration_delta_s", "duration-delta"),
    ]


def records_delta_series(matches: pl.DataFrame | None) -> list[charts.Histogram]:
    """What the records' delta chart draws: for the matched records, Twilio's delay after the
    record (`delay_s`) and the duration delta (`duration_delta_s`) per second, records with a
    finding apart."""
    matched = _matched(matches)
    if matched is None:
        return []
    return [
        _histogram(matched, "delay_s", "delay", "finding"),
        _histogram(matched, "duration_delta_s", "duration-delta", "finding"),
    ]


def _matched(matches: pl.DataFrame | None) -> pl.DataFrame | None:
    """The `matched` rows of a matches frame (PBX or records), or None when there are none."""
    if matches is None or not matches.height:
        return None
    matched = matches.filter(pl.col("match_status").cast(pl.String) == "matched")
    return matched if matched.height else None


def records_group_series(groups: pl.DataFrame | None) -> list[charts.Group]:
    """What the records chart draws: per group of records_groups, its findings by kind (only
    groups with at least one)."""
    if groups is None or not groups.height:
        return []
    kinds = [k for k in FINDING_KINDS if k in groups.columns]
    out = []
    for row in groups.iter_rows(named=True):
        findings = {k.replace("_", "-"): int(row[k] or 0) for k in kinds}
        if any(findings.values()):
            out.append(charts.Group(f"{row['group']}={row['value']}", findings))
    return out


def _finding_charts(
    cdr_matches: pl.DataFrame | None,
    records_groups: pl.DataFrame | None,
    records_matches: pl.DataFrame | None,
) -> dict[str, Any]:
    pbx = pbx_delta_series(cdr_matches)
    groups = records_group_series(records_groups)
    own = records_delta_series(records_matches)
    return {
        "records_deltas": charts.deltas(
            "records-deltas",
            "Your records: delay and duration deltas",
            own,
            "your record",
            "finding",
        )
        if own
        else None,
        "pbx_chart": charts.deltas("pbx-deltas", "PBX vs Twilio: start and duration deltas", pbx)
        if pbx
        else None,
        "records_chart": charts.findings_per_group(
            "records-groups", "Your records: findings per group", groups
        )
        if groups
        else None,
    }


def render_report(
    summary: Summary,
    recon: pl.DataFrame,
    *,
    bridge: pl.DataFrame | None = None,
    daily: pl.DataFrame | None = None,
    cdr_matches: pl.DataFrame | None = None,
    records_matches: pl.DataFrame | None = None,
    rejects: pl.DataFrame | None = None,
    limits: Limits = Limits(),
    about: dict[str, Any] | None = None,
    records_groups: pl.DataFrame | None = None,
) -> str:
    """The page. `summary` and `recon` are enough for the figures and tables; the frames add
    the bridges' charts, the daily charts and the rows behind each finding."""
    findings = _marked(
        [
            r
            for r in summary.reconciliation
            if r["status"] in (ReconStatus.UNEXPLAINED.value, ReconStatus.NOT_COMPARED.value)
        ]
    )
    waterfalls, headline_rows, account_bridges = _waterfalls(summary, bridge, limits.waterfalls)
    daily_charts, daily_groups = _daily(daily, limits.daily_charts)
    context = {
        "s": summary,
        "about": _about(summary, about),
        "verdict": _verdict(summary),
        "heads": [
            r
            for r in findings
            if r.get("headline") and r["status"] == ReconStatus.UNEXPLAINED.value
        ],
        "nc_heads": [r for r in summary.not_compared.rows if r.get("headline")],
        "waterfalls": waterfalls,
        "headline_rows": headline_rows,
        "account_bridges": account_bridges,
        "daily": daily_charts,
        "daily_groups": daily_groups,
        "findings": Shown(findings[: limits.items], len(findings)),
        "findings_counted": sum(r["level"] == FindingLevel.FINDING.value for r in findings),
        "every": summary.reconciliation if recon.height else [],
        "cdr": None if summary.cdr_matching is None else asdict(summary.cdr_matching),
        "cdr_findings": _pbx_findings(cdr_matches, limits.items),
        "records": None if summary.records is None else summary.records.as_json(),
        "records_findings": _records_findings(records_matches, limits.items),
        "rejects": _shown(rejects, REJECT_COLUMNS, limits.items),
        "limits": limits,
        **_finding_charts(cdr_matches, records_groups, records_matches),
        "statuses": {s.value for s in ReconStatus},
    }
    template = _environment().get_template("report.html.j2")
    return template.render(context)


def write_report(outcome: AuditOutcome, path: Path, limits: Limits = Limits()) -> None:
    """report.html from the audit's typed result."""
    page = render_report(
        outcome.summary,
        outcome.reconciliation,
        bridge=outcome.bridge,
        daily=outcome.daily,
        cdr_matches=outcome.cdr_matches,
        records_matches=outcome.records_matches,
        rejects=outcome.rejects,
        limits=limits,
        about=outcome.about,
        records_groups=outcome.records_groups,
    )
    with writing(path):
        path.write_text(page, encoding="utf-8")
