"""What the audit may not call "explained": rows nothing on the other side covers (`not-compared`)
and prices in different currencies. Figures worked out by hand in each test."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
from audit_inputs import ACCOUNT, call, calls_page, usage, usage_page
from conftest import ROOT, run_cli

from auditor.errors import EXIT_FINDINGS, EXIT_OK
from auditor.pipeline.audit import run_audit
from auditor.pipeline.options import AuditOptions, IngestOptions
from auditor.reconcile.periods import Period

NOV = ("2025-11-01", "2025-11-30")
OCT = ("2025-10-01", "2025-10-31")
OTHER = "AC" + "2" * 32
REAL = ROOT.parent / "shared" / "real"
NO_PERIOD = "not compared: no usage record covers this period at all"
NO_CATEGORY = "not compared: this category is absent from usage that covers the period"
NO_LOGS = "not compared: no call logs cover this period at all"


def audit(tmp_path: Path, calls: list[dict], records: list[dict], period=Period.MONTH):
    calls_page(tmp_path / "calls.json", calls)
    usage_page(tmp_path / "usage.json", records)
    return run_audit(
        [str(tmp_path)], tmp_path / "out", IngestOptions(), AuditOptions(period=period)
    )


def row(result, category: str, period: str = "2025-11", account: str = ACCOUNT) -> dict:
    rows = result.recon.filter(
        pl.col("category") == category, pl.col("period") == period, pl.col("account_sid") == account
    )
    assert rows.height == 1, result.recon
    return rows.row(0, named=True)


OUTBOUND_61S = call(1, "2025-11-03 10:00:00", "2025-11-03 10:01:01", "61", price="-0.0280")
NOV_OUTBOUND_USAGE = usage("calls-outbound", *NOV, 1, 2, "0.028")


def test_a_period_no_usage_covers_is_not_compared(tmp_path: Path) -> None:
    # December's 30 s call has no usage record of December at all: 1 call, 1 expected minute.
    dec = call(2, "2025-12-02 10:00:00", "2025-12-02 10:00:30", "30", price="-0.0140")
    res = audit(tmp_path, [OUTBOUND_61S, dec], [NOV_OUTBOUND_USAGE])
    assert row(res, "calls-outbound")["status"] == "explained"  # 61 s -> 2 min: rounding
    r = row(res, "calls-outbound", "2025-12")
    assert r["status"] == "not-compared" and r["headline"]
    assert (r["billable_calls"], r["expected_minutes"]) == (1, Decimal(1))
    assert r["notes"] == NO_PERIOD and r["explained_by"] == ""
    assert r["unexplained_count"] is None and "export usage records" in r["next_check"]
    parent = row(res, "calls", "2025-12")
    assert parent["status"] == "not-compared" and not parent["headline"]
    nc = res.summary.not_compared
    assert (nc.count, nc.billable_calls, nc.usage_count) == (2, 1, 0)
    assert res.summary.unexplained.rows == 0
    assert res.exit_code == EXIT_FINDINGS


def test_a_category_absent_from_usage_is_not_compared(tmp_path: Path) -> None:
    client = call(
        2, "2025-11-04 09:00:00", "2025-11-04 09:00:45", "45", to="client:alice", price="-0.004"
    )
    res = audit(tmp_path, [OUTBOUND_61S, client], [NOV_OUTBOUND_USAGE])
    r = row(res, "calls-client")
    assert (r["status"], r["headline"], r["notes"]) == ("not-compared", True, NO_CATEGORY)
    assert row(res, "calls-outbound")["status"] == "explained"
    assert res.exit_code == EXIT_FINDINGS


def test_usage_of_a_period_without_logs_is_not_compared(tmp_path: Path) -> None:
    res = audit(
        tmp_path, [OUTBOUND_61S], [usage("calls-outbound", *OCT, 2, 3, "0.042"), NOV_OUTBOUND_USAGE]
    )
    r = row(res, "calls-outbound", "2025-10")
    assert (r["status"], r["headline"], r["notes"]) == ("not-compared", True, NO_LOGS)
    assert "call logs of the whole period" in r["next_check"]
    assert res.summary.not_compared.usage_count == 2
    assert row(res, "calls-outbound")["status"] == "explained"


def test_usage_of_a_category_the_covering_logs_lack_is_unexplained(tmp_path: Path) -> None:
    # November has logs: 3 client calls billed and none logged is a finding, not a coverage gap.
    res = audit(
        tmp_path,
        [OUTBOUND_61S],
        [NOV_OUTBOUND_USAGE, usage("calls-client", *NOV, 3, 5, "0.02")],
    )
    r = row(res, "calls-client")
    assert (r["status"], r["unexplained_count"], r["unexplained_minutes"]) == ("unexplained", 3, 5)
    assert "deleted" in r["next_check"]


def test_compared_at_the_parent_still_explains_and_exits_0(tmp_path: Path) -> None:
    # `calls` only: outbound 61 s -> 2 min, inbound 30 s -> 1 min: 2 calls, 3 min, 0.042.
    inbound = call(
        2,
        "2025-11-05 12:00:00",
        "2025-11-05 12:00:30",
        "30",
        direction="inbound",
        frm="+16175550123",
        to="+12125550100",
    )
    res = audit(tmp_path, [OUTBOUND_61S, inbound], [usage("calls", *NOV, 2, 3, "0.042")])
    assert row(res, "calls")["status"] == "explained"
    for child in ("calls-outbound", "calls-inbound", "calls-inbound-local"):
        r = row(res, child)
        assert r["status"] == "explained" and r["notes"].endswith("compared at calls"), child
    assert res.summary.not_compared.count == 0
    assert res.exit_code == EXIT_OK


def test_day_period_against_monthly_usage_is_not_compared(tmp_path: Path) -> None:
    res = audit(tmp_path, [OUTBOUND_61S], [NOV_OUTBOUND_USAGE], period=Period.DAY)
    used = pl.read_parquet(tmp_path / "out" / "usage_records.parquet")["used_as"]
    assert used.to_list() == ["unaligned"]
    r = row(res, "calls-outbound", "2025-11-03")
    assert (r["status"], r["notes"]) == ("not-compared", NO_PERIOD)
    assert set(res.recon["status"]) == {"not-compared"}
    assert res.exit_code == EXIT_FINDINGS


def test_mixed_currencies_are_never_summed(tmp_path: Path) -> None:
    # 61 s USD (-0.0280) + 30 s JPY (-2): 2 calls, 3 minutes, as usage says; no price total.
    jpy = call(2, "2025-11-05 10:00:00", "2025-11-05 10:00:30", "30", price="-2", currency="JPY")
    res = audit(tmp_path, [OUTBOUND_61S, jpy], [usage("calls-outbound", *NOV, 2, 3, "0.028")])
    for category in ("calls-outbound", "calls"):
        r = row(res, category)
        assert (r["logged_price"], r["currency"], r["unexplained_price"]) == (None, None, None)
        assert "prices not summed: legs priced in JPY, USD" in r["notes"]
    r = row(res, "calls-outbound")
    assert (r["unexplained_count"], r["unexplained_minutes"]) == (0, 0)
    assert r["status"] == "unexplained" and r["headline"]
    assert "per currency by hand" in r["next_check"]
    un = res.summary.unexplained
    assert (un.price, un.currency, un.price_not_compared_rows) == (None, None, 1)


def test_logs_and_usage_in_different_currencies_are_not_compared(tmp_path: Path) -> None:
    eur = call(
        1, "2025-11-03 10:00:00", "2025-11-03 10:01:00", "60", price="-0.0250", currency="EUR"
    )
    res = audit(tmp_path, [eur], [usage("calls-outbound", *NOV, 1, 1, "0.028")])
    r = row(res, "calls-outbound")
    assert r["logged_price"] == Decimal("0.025") and r["currency"] is None
    assert r["unexplained_price"] is None and r["status"] == "unexplained"
    assert "prices not compared: legs priced in EUR, usage in USD" in r["notes"]


def test_unexplained_price_totals_per_currency(tmp_path: Path) -> None:
    # USD account: usage +0.25 over 0.028; EUR account: usage +0.10 over 0.025.
    eur = call(
        2,
        "2025-11-03 10:00:00",
        "2025-11-03 10:01:00",
        "60",
        price="-0.025",
        currency="EUR",
        account=OTHER,
    )
    res = audit(
        tmp_path,
        [OUTBOUND_61S, eur],
        [
            usage("calls-outbound", *NOV, 1, 2, "0.278"),
            usage("calls-outbound", *NOV, 1, 1, "0.125", account=OTHER, currency="eur"),
        ],
    )
    assert row(res, "calls-outbound", account=OTHER)["currency"] == "EUR"
    un = res.summary.unexplained
    assert (un.rows, un.price, un.currency) == (2, None, None)
    assert un.price_by_currency == {"EUR": "0.1", "USD": "0.25"}


@pytest.fixture
def real() -> Path:
    if not REAL.is_dir():
        pytest.skip(f"real exports not found at {REAL} (CI has ../shared beside the checkout)")
    return REAL


def test_real_calls_of_2019_against_usage_of_2011_are_not_compared(
    real: Path, tmp_path: Path
) -> None:
    proc = run_cli(
        "audit",
        str(real / "twilio-calls" / "twilio-python_test_call_read_full_page1.json"),
        str(real / "twilio-usage" / "twilio-python_test_usage_record_read_full.json"),
        "--out",
        str(tmp_path),
    )
    assert proc.returncode == EXIT_FINDINGS, proc.stderr
    assert "NOT COMPARED" in proc.stdout and "Every difference is explained" not in proc.stdout
    summary = json.loads((tmp_path / "summary.json").read_text())
    rows = {r["category"]: r for r in summary["reconciliation"]}
    assert set(rows) == {"calls", "calls-inbound", "calls-inbound-local", "calls-outbound"}
    assert {r["status"] for r in rows.values()} == {"not-compared"}
    assert summary["not_compared"]["count"] == 4
    assert summary["not_compared"]["billable_calls"] == 2  # one USD call, one JPY call
    # the parent holds a USD and a JPY leg: no price, no currency; each child keeps its own
    assert (rows["calls"]["logged_price"], rows["calls"]["currency"]) == (None, None)
    assert "JPY, USD" in rows["calls"]["notes"]
    assert (rows["calls-outbound"]["logged_price"], rows["calls-outbound"]["currency"]) == (
        "0.2",
        "USD",
    )
    assert rows["calls-inbound-local"]["currency"] == "JPY"
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "What could not be compared" in page and "is explained by the rules" not in page


def test_statuses_are_enum_columns(tmp_path: Path) -> None:
    audit(tmp_path, [OUTBOUND_61S], [NOV_OUTBOUND_USAGE, usage("calls-outbound", *OCT, 2, 3, "1")])
    out = tmp_path / "out"
    status = pl.read_parquet(out / "usage_reconciliation.parquet").schema["status"]
    assert status == pl.Enum(["match", "explained", "unexplained", "not-compared"])
    used_as = pl.read_parquet(out / "usage_records.parquet").schema["used_as"]
    assert used_as == pl.Enum(["reconciled", "not-voice", "unaligned"])
    text = pl.read_csv(out / "usage_reconciliation.csv", infer_schema=False)
    assert set(text["status"]) == {"explained", "not-compared"}


def test_logs_cut_at_the_16th_are_named_not_read_as_deleted_calls(tmp_path: Path) -> None:
    """The sample month with every leg starting on or after 2025-11-17 left out of the call-log
    inputs (each November leg is in one file chosen by its start date: the API pages, the
    Console CSV and the 11-16 Bulk Export file are kept, the later day files and the Parquet
    file of 11-24..30 dropped), usage kept: coverage says where the logs end and the usage
    rows name the cut, with the last kept start computed here from the kept files."""
    import contextlib
    import gzip
    import shutil
    from datetime import UTC, datetime
    from email.utils import parsedate_to_datetime

    samples = ROOT / "sample_exports"
    cut = tmp_path / "cut"
    (cut / "bulk_export").mkdir(parents=True)
    (cut / "usage").mkdir()
    for name in ("api_calls_2025-11_page0.json", "api_calls_2025-11_page1.json"):
        shutil.copy(samples / name, cut / name)
    shutil.copy(samples / "console_calls_2025-11_new_york.csv", cut)
    shutil.copy(samples / "bulk_export/2025-11-16.json.gz", cut / "bulk_export")
    for name in ("2025-11_monthly.json", "2025-11_daily_calls.parquet"):
        shutil.copy(samples / "usage" / name, cut / "usage")
    # The last kept start: the latest parseable start of the kept API pages and day file (the
    # Console CSV ends on 11-07 local).
    starts = []
    for name in ("api_calls_2025-11_page0.json", "api_calls_2025-11_page1.json"):
        for c in json.loads((cut / name).read_text())["calls"]:
            with contextlib.suppress(TypeError, ValueError):  # the planted 31 Nov 25:61
                starts.append(parsedate_to_datetime(c["start_time"]).astimezone(UTC))
    with gzip.open(cut / "bulk_export/2025-11-16.json.gz", "rt") as fh:
        for line in fh:
            ts = json.loads(line)["start_time"]
            starts.append(datetime.fromisoformat(ts.replace("Z", "+00:00")).astimezone(UTC))
    last = max(s for s in starts if s < datetime(2025, 11, 17, tzinfo=UTC))
    out = tmp_path / "out"
    done = run_cli(
        "audit", str(cut), "--out", str(out), "--tz", "America/New_York", "--dst", "earliest"
    )
    assert done.returncode == EXIT_FINDINGS, done.stderr
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    [nov] = [c for c in summary["coverage"] if c["period"] == "2025-11"]
    assert nov["last_start"] == last.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert nov["first_start"] == "2025-11-01T00:00:00Z"  # the Console CSV's 10-31 20:00 EDT
    assert nov["days_without_legs"] == [f"2025-11-{d}" for d in range(17, 31)]
    assert (nov["usage_first_day"], nov["usage_last_day"]) == ("2025-11-01", "2025-11-30")
    note = f"logs end {last:%Y-%m-%dT%H:%M}Z; usage runs to 11-30: the export looks cut"
    assert nov["cause"] == "logs-cut" and nov["note"] == note
    recon = pl.read_csv(out / "usage_reconciliation.csv", infer_schema=False)
    unexplained = recon.filter(pl.col("status") == "unexplained")
    assert unexplained.height > 0
    assert all(note in n for n in unexplained["notes"])
    assert all(c.startswith("The call-log export looks cut") for c in unexplained["next_check"])
    assert "export looks cut" in done.stdout  # the terminal shows the next check


def test_daily_usage_that_stops_early_is_named(tmp_path: Path) -> None:
    """The sample month's call logs in full against its daily `calls` usage records cut after
    2025-11-20 (no monthly page): usage covers 11-01..11-20 only, the logs run to 11-30, so the
    usage export is named as cut on the account-month's rows."""
    import shutil

    samples = ROOT / "sample_exports"
    cut = tmp_path / "cut"
    shutil.copytree(samples / "bulk_export", cut / "bulk_export")
    (cut / "usage").mkdir()
    for name in (
        "api_calls_2025-11_page0.json",
        "api_calls_2025-11_page1.json",
        "console_calls_2025-11_new_york.csv",
        "calls_2025-11-24_to_30.parquet",
    ):
        shutil.copy(samples / name, cut / name)
    daily = pl.read_parquet(samples / "usage/2025-11_daily_calls.parquet")
    kept = daily.filter(pl.col("start_date") <= "2025-11-20")
    assert kept.height == 20  # one `calls` record a day
    kept.write_parquet(cut / "usage/2025-11_daily_calls.parquet")
    out = tmp_path / "out"
    done = run_cli(
        "audit", str(cut), "--out", str(out), "--tz", "America/New_York", "--dst", "earliest"
    )
    assert done.returncode == EXIT_FINDINGS, done.stderr
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    [nov] = [c for c in summary["coverage"] if c["period"] == "2025-11"]
    note = "usage ends 2025-11-20; logs run to 11-30: the usage export looks cut"
    assert (nov["cause"], nov["note"], nov["days_without_legs"]) == ("usage-cut", note, [])
    assert nov["usage_last_day"] == "2025-11-20"
    recon = pl.read_csv(out / "usage_reconciliation.csv", infer_schema=False)
    flagged = recon.filter(pl.col("notes").str.contains(note, literal=True))
    assert flagged.height > 0
    assert set(flagged["status"]) <= {"unexplained", "not-compared"}
    assert all(c.startswith("The usage export looks cut") for c in flagged["next_check"])


def test_rows_rejected_for_dst_point_to_dst_earliest(tmp_path: Path) -> None:
    """The sample month under `--dst reject`: the March Console CSV's 02:30 (in the gap) and the
    November one's 01:30 (in the overlap) are rejected, and show as calls missing from the logs;
    the unexplained rows with usage above the logs in those months name `--dst earliest` and
    how many rows of their month were rejected for DST (one each, counted here from
    rejects.csv). Under `--dst earliest` (they are placed) no row says so."""
    from conftest import audit_samples

    out = tmp_path / "reject"
    done = audit_samples(out, dst="reject")
    assert done.returncode == EXIT_FINDINGS, done.stderr
    rejects = pl.read_csv(out / "rejects.csv", infer_schema=False).filter(
        pl.col("reason").str.contains("DST")
        & ~pl.col("source_file").str.contains("/pbx/", literal=True)
    )
    per_month = (
        rejects.group_by("source_file", "source_row")
        .agg(pl.col("value").min().str.slice(0, 7).alias("period"))
        .group_by("period")
        .len()
    )
    want = dict(per_month.iter_rows())
    assert want == {"2025-03": 1, "2025-11": 1}
    recon = pl.read_csv(out / "usage_reconciliation.csv", infer_schema=False)
    above = recon.filter(
        (pl.col("status") == "unexplained") & (pl.col("unexplained_count").cast(pl.Int64) > 0)
    )
    assert set(above["period"]) == set(want)
    for period, check in above.select("period", "next_check").iter_rows():
        assert check.startswith(
            f"{want[period]} call-log row(s) were rejected for a DST gap or overlap "
            "(--dst reject): give --dst earliest"
        ), check
    others = recon.join(above.select("period", "category"), on=["period", "category"], how="anti")
    assert not others["next_check"].fill_null("").str.contains("--dst earliest").any()
    placed = tmp_path / "earliest"
    assert audit_samples(placed).returncode == EXIT_FINDINGS
    recon = pl.read_csv(placed / "usage_reconciliation.csv", infer_schema=False)
    assert not recon["next_check"].fill_null("").str.contains("--dst earliest").any()


def test_console_csv_read_with_tz_utc_names_the_offset(tmp_path: Path) -> None:
    """The sample month's call logs and usage with the New York Console CSV read `--tz UTC` by
    mistake: its legs of local 10-31 20:00..23:59 (UTC 11-01 00:00..03:59, EDT) land in
    October, so November's usage bills calls the logs lack. Moving the naive times k hours
    shrinks the count residuals first at k = New York's offset on 11-01, negated (+4, computed
    here with zoneinfo): the unexplained rows with a count residual say so."""
    import shutil
    from datetime import datetime
    from zoneinfo import ZoneInfo

    samples = ROOT / "sample_exports"
    logs = tmp_path / "logs"
    shutil.copytree(samples / "bulk_export", logs / "bulk_export")
    (logs / "usage").mkdir()
    for name in (
        "api_calls_2025-11_page0.json",
        "api_calls_2025-11_page1.json",
        "console_calls_2025-11_new_york.csv",
        "calls_2025-11-24_to_30.parquet",
    ):
        shutil.copy(samples / name, logs / name)
    for name in ("2025-11_monthly.json", "2025-11_daily_calls.parquet"):
        shutil.copy(samples / "usage" / name, logs / "usage")
    offset = datetime(2025, 11, 1, tzinfo=ZoneInfo("America/New_York")).utcoffset()
    hours = -int(offset.total_seconds() // 3600)
    assert hours == 4
    out = tmp_path / "out"
    done = run_cli("audit", str(logs), "--out", str(out), "--tz", "UTC")
    assert done.returncode == EXIT_FINDINGS, done.stderr
    recon = pl.read_csv(out / "usage_reconciliation.csv", infer_schema=False)
    # October now holds the moved legs (not compared: no usage for it)
    assert set(recon.filter(pl.col("period") == "2025-10")["status"]) == {"not-compared"}
    counted = recon.filter(
        (pl.col("status") == "unexplained") & (pl.col("unexplained_count") != "0")
    )
    assert counted.height > 0
    note = f"naive call-log times look +{hours} h off: read as UTC, local times of UTC-0{hours}:00"
    assert all(n.startswith(note) for n in counted["notes"]), counted["notes"].to_list()
    assert all(f"are moved +{hours} h" in c for c in counted["next_check"])
    # read in the right zone, no row says so
    right = tmp_path / "right"
    args = ("--tz", "America/New_York", "--dst", "earliest")
    assert run_cli("audit", str(logs), "--out", str(right), *args).returncode == EXIT_FINDINGS
    recon = pl.read_csv(right / "usage_reconciliation.csv", infer_schema=False)
    assert not recon["notes"].fill_null("").str.contains("h off").any()
