"""Issue 18, call logs and usage rows: values that passed silently and must not.

Call-log prices with no currency (`price_unit` missing, `--currency`), durations and counts
bounded to what a call can be (no integer wrap), a duration longer than end - start, a direction
Twilio does not write, a NUL in text, a leap second. Each case goes through the CLI in-process
and asserts the exit code, the reject rows and the figures.
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from audit_inputs import call, calls_page, usage, usage_page
from conftest import FIXTURES, ROOT, run_cli

REAL = ROOT.parent / "shared" / "real"
TWILIO = FIXTURES / "twilio"
NOTE = "call-log prices carry no currency (price_unit missing): give --currency"


def _recon(out: Path) -> dict[str, dict]:
    rows = pl.read_csv(out / "usage_reconciliation.csv", infer_schema=False)
    return {r["category"]: r for r in rows.iter_rows(named=True)}


def _rejects(out: Path) -> list[tuple[str, str, str, str]]:
    rows = pl.read_csv(out / "rejects.csv", infer_schema=False)
    return [
        (r["source_row"], r["column"], r["value"], r["reason"]) for r in rows.iter_rows(named=True)
    ]


# --- Point 1: call-log prices with no currency ---------------------------------------------


def test_prices_without_currency_are_not_compared(tmp_path: Path) -> None:
    """no_price_unit.json: two 2011 inbound calls priced -0.02 and -0.01 with no price_unit;
    the usage page bills 0.10 USD for 2 calls and 3 minutes (61 s -> 2, 30 s -> 1)."""
    out = tmp_path / "out"
    proc = run_cli(
        "audit",
        str(TWILIO / "no_price_unit.json"),
        str(TWILIO / "no_price_unit_usage.json"),
        "--out",
        str(out),
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Every difference is explained" not in proc.stdout
    row = _recon(out)["calls-inbound"]
    assert row["status"] == "unexplained"
    assert (row["unexplained_count"], row["unexplained_minutes"]) == ("0", "0.000000")
    assert row["unexplained_price"] is None and row["currency"] is None
    assert NOTE in row["notes"]
    assert "--currency" in row["next_check"]
    # without a usage record of their own, the parent and the child carry the note too
    assert NOTE in _recon(out)["calls"]["notes"]


def test_currency_option_fills_a_missing_price_unit(tmp_path: Path) -> None:
    """With --currency USD: 0.10 - (0.02 + 0.01) = 0.07 USD of price residual."""
    out = tmp_path / "out"
    proc = run_cli(
        "audit",
        str(TWILIO / "no_price_unit.json"),
        str(TWILIO / "no_price_unit_usage.json"),
        "--currency",
        "USD",
        "--out",
        str(out),
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    row = _recon(out)["calls-inbound"]
    assert (row["status"], row["unexplained_price"], row["currency"]) == (
        "unexplained",
        "0.0700000000",
        "USD",
    )
    assert NOTE not in (row["notes"] or "")
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["options"]["ingest"]["currency"] == "USD"


def test_currency_never_overrides_a_price_unit(tmp_path: Path) -> None:
    """A page whose calls say JPY stays JPY with --currency USD: the USD usage is not compared."""
    page = json.loads((TWILIO / "no_price_unit.json").read_text())
    for c in page["calls"]:
        c["price_unit"] = "JPY"
    (tmp_path / "calls.json").write_text(json.dumps(page))
    out = tmp_path / "out"
    proc = run_cli("validate", str(tmp_path / "calls.json"), "--currency", "USD", "--out", str(out))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert pl.read_parquet(out / "calls.parquet")["price_unit"].to_list() == ["JPY", "JPY"]


def test_currency_from_the_config_file(tmp_path: Path) -> None:
    (tmp_path / "auditor.toml").write_text('currency = "USD"\n')
    out = tmp_path / "out"
    proc = run_cli("validate", str(TWILIO / "no_price_unit.json"), "--out", str(out), cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert pl.read_parquet(out / "calls.parquet")["price_unit"].to_list() == ["USD", "USD"]
    assert json.loads((out / "manifest.json").read_text())["options"]["ingest"]["currency"] == "USD"


@pytest.mark.parametrize("code", ["usd", "US", "USDX", "U$D"])
def test_currency_must_be_a_code(tmp_path: Path, code: str) -> None:
    proc = run_cli(
        "validate", str(TWILIO / "no_price_unit.json"), "--currency", code, "--out", str(tmp_path)
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "--currency" in lines[0] and "not a currency code" in lines[0]


def test_calls_with_no_price_at_all_are_not_a_currency_problem(tmp_path: Path) -> None:
    """Prices all null (pending): no currency note; the row is what it was (price-pending)."""
    page = json.loads((TWILIO / "no_price_unit.json").read_text())
    for c in page["calls"]:
        c["price"] = None
    (tmp_path / "calls.json").write_text(json.dumps(page))
    out = tmp_path / "out"
    run_cli(
        "audit",
        str(tmp_path / "calls.json"),
        str(TWILIO / "no_price_unit_usage.json"),
        "--out",
        str(out),
    )
    row = _recon(out)["calls-inbound"]
    assert NOTE not in (row["notes"] or "")
    assert "price-pending" in row["explained_by"]


def _real_feb_2011(tmp_path: Path, unit: str | None) -> Path:
    """twilio-python's v3 Calls page filtered to its 5 calls of 2011-02 (prices 0.02, 0.02,
    0.04, 0.03, 0.02 = 0.13; durations 102, 106, 181, 23, 117 s = 2+2+4+1+2 = 11 minutes)."""
    src = REAL / "twilio-calls" / "twilio-python_v3_calls_list.json"
    if not src.is_file():
        pytest.skip(f"real exports not found at {REAL} (CI has ../shared beside the checkout)")
    page = json.loads(src.read_text())
    page["calls"] = [c for c in page["calls"] if "Feb 2011" in (c["start_time"] or "")]
    assert len(page["calls"]) == 5
    if unit is not None:
        for c in page["calls"]:
            c["price_unit"] = unit
    (tmp_path / "calls.json").write_text(json.dumps(page))
    usage = json.loads((TWILIO / "no_price_unit_usage.json").read_text())
    record = usage["usage_records"][0]
    record.update(account_sid=page["calls"][0]["account_sid"], count="5", usage="11", price="0.50")
    (tmp_path / "usage.json").write_text(json.dumps(usage))
    return tmp_path


@pytest.mark.parametrize(
    ("unit", "args", "price", "currency"),
    [
        (None, (), None, None),  # unknown currency: no residual, unexplained, the note
        ("USD", (), "0.3700000000", "USD"),  # 0.50 - 0.13
        (None, ("--currency", "USD"), "0.3700000000", "USD"),  # the same, stated by the user
    ],
)
def test_real_2011_page(tmp_path: Path, unit, args, price, currency) -> None:
    d = _real_feb_2011(tmp_path, unit)
    out = tmp_path / "out"
    proc = run_cli("audit", str(d / "calls.json"), str(d / "usage.json"), *args, "--out", str(out))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Every difference is explained" not in proc.stdout
    row = _recon(out)["calls-inbound"]
    assert (row["status"], row["unexplained_price"], row["currency"]) == (
        "unexplained",
        price,
        currency,
    )
    assert (row["unexplained_count"], row["unexplained_minutes"]) == ("0", "0.000000")
    assert (NOTE in (row["notes"] or "")) is (currency is None)


# --- Point 3: durations, counts and billsec bounded; duration vs end - start ----------------

CONSOLE_HEADER = (
    "Call Sid,Date Created,Start Time,End Time,Duration,From,To,Direction,Status,Price,"
    "Price Unit,Parent Call Sid\n"
)


def _console_row(n: int, start: str, end: str, duration: str, **over: str) -> str:
    cells = {
        "sid": f"CA{n:032x}",
        "created": start,
        "start": start,
        "end": end,
        "duration": duration,
        "from": "+13475550118",
        "to": "+12125550100",
        "direction": "inbound",
        "status": "completed",
        "price": "-0.0170",
        "unit": "USD",
        "parent": "",
    } | over
    return ",".join(cells.values()) + "\n"


def _console(tmp_path: Path, rows: list[str], name: str = "calls.csv") -> Path:
    path = tmp_path / name
    path.write_text(CONSOLE_HEADER + "".join(rows), encoding="utf-8")
    return path


TOO_LONG = "duration over 7 days (604800 s): not a call"


def test_huge_durations_are_rejected_not_wrapped(tmp_path: Path) -> None:
    """Line 2: 2^63 - 1 (today: billed 60 s after a wrap); lines 3-4: 5e18 each (valid alone
    today, wrapping when summed); line 5: 1e19 (past Int64: the bound, not 'not a number');
    line 6: 604800 s exactly (7 days: the bound itself is a call); line 7: a plain 61 s call."""
    week_end = "2025-11-10 10:00:00"
    path = _console(
        tmp_path,
        [
            _console_row(1, "2025-11-03 10:00:00", "2025-11-03 10:01:01", "9223372036854775807"),
            _console_row(2, "2025-11-03 11:00:00", "2025-11-03 11:01:01", "5e18"),
            _console_row(3, "2025-11-03 12:00:00", "2025-11-03 12:01:01", "5e18"),
            _console_row(4, "2025-11-03 13:00:00", "2025-11-03 13:01:01", "1e19"),
            _console_row(5, "2025-11-03 10:00:00", week_end, "604800"),
            _console_row(6, "2025-11-04 10:00:00", "2025-11-04 10:01:01", "61"),
        ],
    )
    usage = TWILIO / "no_price_unit_usage.json"  # any usage page: the logs side is the point
    out = tmp_path / "out"
    proc = run_cli("audit", str(path), str(usage), "--tz", "UTC", "--out", str(out))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert _rejects(out) == [
        ("2", "duration", "9223372036854775807", TOO_LONG),
        ("3", "duration", "5000000000000000000", TOO_LONG),
        ("4", "duration", "5000000000000000000", TOO_LONG),
        ("5", "duration", "9223372036854775807", TOO_LONG),
    ]
    calls = pl.read_parquet(out / "calls.parquet")
    assert calls["source_row"].to_list() == [6, 7]
    # 604800 + 61 s: no wrap, and no negative sum anywhere
    recon = pl.read_csv(out / "usage_reconciliation.csv")
    assert recon.filter(pl.col("category") == "calls")["log_seconds"].to_list() == [604861]
    assert (recon["log_seconds"] >= 0).all()


def test_duration_longer_than_end_minus_start_is_rejected(tmp_path: Path) -> None:
    """Line 2: 562 s over End - Start = 262 s (edited); line 3: 267 s over 262 s, within the 5 s
    slack; line 4: 268 s, past it; line 5: 0 s of a no-answer leg that rang 25 s (shorter is
    ringing, not a disagreement); line 6: an inbound call of 61 s, exact."""
    path = _console(
        tmp_path,
        [
            _console_row(1, "2025-11-03 10:00:00", "2025-11-03 10:04:22", "562"),
            _console_row(2, "2025-11-03 11:00:00", "2025-11-03 11:04:22", "267"),
            _console_row(3, "2025-11-03 12:00:00", "2025-11-03 12:04:22", "268"),
            _console_row(
                4, "2025-11-03 13:00:00", "2025-11-03 13:00:25", "0", status="no-answer", price=""
            ),
            _console_row(5, "2025-11-03 14:00:00", "2025-11-03 14:01:01", "61"),
        ],
    )
    out = tmp_path / "out"
    proc = run_cli("validate", str(path), "--tz", "America/New_York", "--out", str(out))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert _rejects(out) == [
        ("2", "duration", "562", "duration disagrees with end - start (562 s vs 262 s)"),
        ("4", "duration", "268", "duration disagrees with end - start (268 s vs 262 s)"),
    ]
    assert pl.read_parquet(out / "calls.parquet")["source_row"].to_list() == [3, 5, 6]


def test_api_page_duration_checks_on_the_fast_pass(tmp_path: Path) -> None:
    """A Calls page of 60 good legs (the fast pass takes them as written) and, among them, one
    leg of 562 s over 262 s and one of 700000 s: both rejected, the rest accepted."""
    legs = [
        call(n, f"2025-11-03 10:{n:02d}:00", f"2025-11-03 10:{n:02d}:45", "45") for n in range(60)
    ]
    legs[10] = call(10, "2025-11-03 11:00:00", "2025-11-03 11:04:22", "562")
    legs[20] = call(20, "2025-11-03 12:00:00", "2025-11-03 12:04:22", "700000")
    path = calls_page(tmp_path / "calls.json", legs)
    out = tmp_path / "out"
    proc = run_cli("validate", str(path), "--out", str(out))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert _rejects(out) == [
        ("11", "duration", "562", "duration disagrees with end - start (562 s vs 262 s)"),
        ("21", "duration", "700000", TOO_LONG),
    ]
    assert pl.read_parquet(out / "calls.parquet").height == 58


def test_usage_count_and_minutes_are_bounded(tmp_path: Path) -> None:
    """Record 1: count 10^12 + 1; record 2: 10^13 + 1 minutes; record 3: 2^63 - 1 calls;
    record 4: 10^12 calls and 10^13 minutes, the bounds themselves (accepted)."""
    records = [
        usage("calls", "2025-11-01", "2025-11-30", 10**12 + 1, 5, "0.1"),
        usage("calls-inbound", "2025-11-01", "2025-11-30", 3, 10**13 + 1, "0.1"),
        usage("calls-outbound", "2025-11-01", "2025-11-30", 2**63 - 1, 5, "0.1"),
        usage("calls-client", "2025-11-01", "2025-11-30", 10**12, 10**13, "0.1"),
    ]
    path = usage_page(tmp_path / "usage.json", records)
    out = tmp_path / "out"
    proc = run_cli("validate", str(path), "--out", str(out))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert _rejects(out) == [
        ("1", "count", "1000000000001", "count over 10^12: not a usage count"),
        ("2", "usage", "10000000000001.0000000000", "usage over 10^13: not a usage amount"),
        ("3", "count", "9223372036854775807", "count over 10^12: not a usage count"),
    ]
    assert pl.read_parquet(out / "usage.parquet")["category"].to_list() == ["calls-client"]


def _asterisk(tmp_path: Path, edits: dict[int, dict[int, str]]) -> Path:
    """tests/fixtures/pbx/asterisk_Master.csv with cells replaced: {line: {field index: text}}."""
    import csv
    import io

    rows = list(csv.reader(io.StringIO((FIXTURES / "pbx" / "asterisk_Master.csv").read_text())))
    for line, cells in edits.items():
        for i, text in cells.items():
            rows[line - 1][i] = text
    buf = io.StringIO()
    csv.writer(buf, quoting=csv.QUOTE_ALL, lineterminator="\n").writerows(rows)
    path = tmp_path / "Master.csv"
    path.write_text(buf.getvalue(), encoding="utf-8")
    return path


def test_pbx_duration_and_billsec_are_bounded(tmp_path: Path) -> None:
    """Asterisk fields 12/13 are duration/billsec: line 1 gets a duration of 2^63 - 1, line 2
    a billsec of 700000 (with a duration to match, so only the bound speaks)."""
    path = _asterisk(tmp_path, {1: {12: "9223372036854775807"}, 2: {12: "700045", 13: "700000"}})
    out = tmp_path / "out"
    proc = run_cli("validate", str(path), "--pbx-tz", "UTC", "--out", str(out))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    rejects = [r for r in _rejects(out) if r[3].endswith("not a call")]
    assert rejects == [
        ("1", "duration", "9223372036854775807", TOO_LONG),
        ("2", "billsec", "700000", "billsec over 7 days (604800 s): not a call"),
        ("2", "duration", "700045", TOO_LONG),
    ]


def test_own_records_duration_is_bounded(tmp_path: Path) -> None:
    path = tmp_path / "notifications.csv"
    path.write_text(
        "alert_id,campaign,twilio_sid,phone,caller_id,sent_at,outcome,amd,talk_seconds\n"
        f"AL-1,water,CA{1:032x},+16175550191,+18885550100,2025-11-02 09:02:17,delivered,human,"
        "9223372036854775807\n"
        f"AL-2,water,CA{2:032x},+16175550192,+18885550100,2025-11-02 09:03:17,delivered,human,40\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    proc = run_cli(
        "validate",
        str(TWILIO / "no_price_unit.json"),
        "--records",
        str(path),
        "--records-format",
        "notification_log",
        "--out",
        str(out),
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert _rejects(out) == [("2", "talk_seconds", "9223372036854775807", TOO_LONG)]


# --- Point 18: direction, NUL, leap second --------------------------------------------------

DIRECTIONS = (
    "not a call direction (inbound, outbound-api, outbound-dial, trunking-originating, "
    "trunking-terminating)"
)
LEAP = "leap second (:60): rejected, not clamped to :59"


def test_direction_outside_twilios_values(tmp_path: Path) -> None:
    """Console CSV line 2 `sideways`, line 3 `Inbound` (read as inbound); API page record 2
    `sideways`."""
    csv_path = _console(
        tmp_path,
        [
            _console_row(
                1, "2025-11-03 10:00:00", "2025-11-03 10:01:01", "61", direction="sideways"
            ),
            _console_row(
                2, "2025-11-03 11:00:00", "2025-11-03 11:01:01", "61", direction="Inbound"
            ),
        ],
    )
    page = calls_page(
        tmp_path / "calls.json",
        [
            call(10, "2025-11-03 12:00:00", "2025-11-03 12:01:01", "61"),
            call(11, "2025-11-03 13:00:00", "2025-11-03 13:01:01", "61", direction="sideways"),
        ],
    )
    out = tmp_path / "out"
    proc = run_cli("validate", str(csv_path), str(page), "--tz", "UTC", "--out", str(out))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    rows = pl.read_csv(out / "rejects.csv", infer_schema=False)
    assert rows.select(
        pl.col("source_file").str.extract(r"([^/]+)$"), "source_row", "column", "value", "reason"
    ).rows() == [
        ("calls.csv", "2", "direction", "sideways", DIRECTIONS),
        ("calls.json", "2", "direction", "sideways", DIRECTIONS),
    ]
    calls = pl.read_parquet(out / "calls.parquet")
    assert calls.filter(pl.col("source_row") == 3)["direction"].to_list() == ["inbound"]


def test_nul_character_in_text_is_rejected(tmp_path: Path) -> None:
    """A NUL in a Console CSV `From`, an API page's `to`, a usage record's `description`, a PBX
    line's `src` and an own record's `campaign`: each rejected naming its column."""
    csv_path = _console(
        tmp_path,
        [
            _console_row(
                1,
                "2025-11-03 10:00:00",
                "2025-11-03 10:01:01",
                "61",
                **{"from": "+1347\x005550118"},
            ),
            _console_row(2, "2025-11-03 11:00:00", "2025-11-03 11:01:01", "61"),
        ],
    )
    page = calls_page(
        tmp_path / "calls.json",
        [call(10, "2025-11-03 12:00:00", "2025-11-03 12:01:01", "61", to="+1617\x005550123")],
    )
    record = usage("calls", "2025-11-01", "2025-11-30", 3, 5, "0.1") | {"description": "Voice\x00"}
    upage = usage_page(tmp_path / "usage.json", [record])
    pbx = _asterisk(tmp_path, {1: {1: "10\x0001"}})
    own = tmp_path / "notifications.csv"
    own.write_text(
        "alert_id,campaign,twilio_sid,phone,caller_id,sent_at,outcome,amd,talk_seconds\n"
        f"AL-1,wa\x00ter,CA{1:032x},+16175550191,+18885550100,2025-11-02 09:02:17,"
        "delivered,human,4\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    proc = run_cli(
        "validate",
        str(csv_path),
        str(page),
        str(upage),
        str(pbx),
        "--tz",
        "UTC",
        "--pbx-tz",
        "UTC",
        "--records",
        str(own),
        "--records-format",
        "notification_log",
        "--out",
        str(out),
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    rows = pl.read_csv(out / "rejects.csv", infer_schema=False)
    nul = rows.filter(pl.col("reason") == "NUL character in text")
    assert nul.select(pl.col("source_file").str.extract(r"([^/]+)$"), "source_row", "column").sort(
        "source_file"
    ).rows() == [
        ("Master.csv", "1", "src"),
        ("calls.csv", "2", "from"),
        ("calls.json", "1", "to"),
        ("notifications.csv", "2", "group:campaign"),
        ("usage.json", "1", "description"),
    ]


def test_leap_second_is_rejected_not_clamped(tmp_path: Path) -> None:
    """`2025-11-30 23:59:60` read as the next second moved the call into December; now the row
    is rejected, on a Console CSV (naive time) and an API page (RFC 2822)."""
    csv_path = _console(
        tmp_path,
        [
            _console_row(1, "2025-11-30 23:58:59", "2025-11-30 23:59:60", "61"),
            _console_row(2, "2025-11-30 23:59:60", "2025-12-01 00:01:00", "60"),
            _console_row(3, "2025-11-30 23:58:00", "2025-11-30 23:59:01", "61"),
        ],
    )
    leg = call(10, "2025-11-30 23:58:00", "2025-11-30 23:59:00", "60")
    leg["start_time"] = "Sun, 30 Nov 2025 23:59:60 +0000"
    page = calls_page(tmp_path / "calls.json", [leg])
    out = tmp_path / "out"
    proc = run_cli("validate", str(csv_path), str(page), "--tz", "UTC", "--out", str(out))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    rows = pl.read_csv(out / "rejects.csv", infer_schema=False)
    assert rows.select(
        pl.col("source_file").str.extract(r"([^/]+)$"), "source_row", "column", "value", "reason"
    ).rows() == [
        ("calls.csv", "2", "end_time", "2025-11-30 23:59:60", LEAP),
        ("calls.csv", "3", "start_time", "2025-11-30 23:59:60", LEAP),
        ("calls.json", "1", "start_time", "Sun, 30 Nov 2025 23:59:60 +0000", LEAP),
    ]
    assert pl.read_parquet(out / "calls.parquet")["source_row"].to_list() == [4]


def test_duration_check_spares_a_leg_placed_by_dst(tmp_path: Path) -> None:
    """2025-11-02 in New York: 01:00-02:00 happens twice. A 5400 s call from 00:50 EDT to
    01:20 EST, read with --dst earliest, spans 1800 s (01:20 taken as EDT); it is marked
    dst-overlap and kept, not rejected for its span (the hour is the zone's, not the log's)."""
    path = _console(
        tmp_path, [_console_row(1, "2025-11-02 00:50:00", "2025-11-02 01:20:00", "5400")]
    )
    out = tmp_path / "out"
    proc = run_cli(
        "validate", str(path), "--tz", "America/New_York", "--dst", "earliest", "--out", str(out)
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    calls = pl.read_parquet(out / "calls.parquet")
    assert calls.select("duration_s", "dst").rows() == [(5400, "dst-overlap")]
