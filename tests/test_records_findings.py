"""`auditor audit LOGS --records FILE --records-format FORMAT`: each finding on hand-made cases,
the figures (delay, durations, billed minutes at stake, group totals) computed here.

One Calls page of outbound-api legs from +12125550100 and a dispatch log written for it, in a
format file of the test's own (the shipped ones are tested on their samples elsewhere)."""

from __future__ import annotations

import csv
import json
import math
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
from audit_inputs import call, calls_page, sid
from conftest import run_cli

import auditor.reconcile.records as recmod
from auditor.ingest.records_format_file import parse_records_format
from auditor.normalize.records import normalize_records
from auditor.rules.model import load_rules
from auditor.schemas.outputs import RECORDS_MATCHES

OWN = "+12125550100"
FORMAT = """
name = "dispatch"
[columns]
call_sid = "sid"
to = "number"
from = "caller"
time = "placed"
duration = "talk"
status = "result"
answered_by = "verdict"
group = ["campaign"]
[time]
format = "%Y-%m-%d %H:%M:%S"
zone = "UTC"
[status_map]
ok = "completed"
"no answer" = "no-answer"
failed = "failed"
"""
HEADER = ["sid", "number", "caller", "placed", "talk", "result", "verdict", "campaign"]


def leg(n: int, start: str, seconds: int | None, status: str = "completed", **extra: object):
    end = None
    if seconds is not None:
        end_dt = datetime.fromisoformat(start).timestamp() + seconds
        end = datetime.fromtimestamp(end_dt).strftime("%Y-%m-%d %H:%M:%S")
    fields = {k: v for k, v in extra.items() if k not in ("answered_by", "parent")}
    out = call(n, start, end, None if seconds is None else str(seconds), status, **fields)
    out["answered_by"] = extra.get("answered_by")
    out["parent_call_sid"] = extra.get("parent")
    if status != "completed":
        out["price"] = None
    return out


def minutes(seconds: int) -> int:
    """Billed minutes under the default pricing model (60 s minimum, 60 s increments)."""
    return max(1, math.ceil(seconds / 60))


# The records: (sid, number, placed (UTC), talk seconds, result, verdict, campaign)
RECORDS = [
    (sid(1), "+16175550101", "2025-11-03 10:00:00", "125", "ok", "human", "a"),  # clean
    (sid(2), "+16175550102", "2025-11-03 10:10:00", "", "ok", "", "a"),  # undelivered: busy
    (sid(3), "+16175550103", "2025-11-03 10:20:00", "40", "ok", "Human", "a"),  # machine
    (sid(4), "+16175550104", "2025-11-03 11:00:00", "30", "ok", "", "b"),  # slow: +150 s
    (sid(5), "+16175550105", "2025-11-03 12:00:00", "61", "ok", "", "b"),  # duration
    (sid(6), "+16175550106", "2025-11-03 13:00:00", "", "failed", "", "b"),  # status
    (sid(99), "+16175550199", "2025-11-03 13:30:00", "20", "ok", "", "b"),  # records-only
    ("", "617-555-0109", "2025-11-03 15:00:00", "", "no answer", "", "c"),  # ambiguous (twice)
    ("", "617-555-0109", "2025-11-03 15:00:00", "", "no answer", "", "c"),
    ("", "(617) 555-0110", "2025-11-03 16:00:00", "33", "ok", "", "c"),  # number + time
    (sid(1), "+16175550101", "2025-11-03 10:00:01", "125", "ok", "", "c"),  # SID twice
]
LEGS = [
    leg(1, "2025-11-03 10:00:05", 125, to="+16175550101"),
    leg(2, "2025-11-03 10:10:02", None, "busy", to="+16175550102"),
    leg(3, "2025-11-03 10:20:03", 40, to="+16175550103", answered_by="machine_end_beep"),
    leg(4, "2025-11-03 11:02:30", 30, to="+16175550104"),
    leg(5, "2025-11-03 12:00:04", 185, to="+16175550105"),
    leg(6, "2025-11-03 13:00:02", 12, to="+16175550106"),
    leg(8, "2025-11-03 14:00:00", 50, to="+16175550108"),  # twilio-only
    leg(9, "2025-11-03 15:00:10", None, "no-answer", to="+16175550109"),
    leg(10, "2025-11-03 16:00:03", 33, to="+16175550110"),
    leg(12, "2025-11-03 14:30:00", 20, to="+16175550112", frm="+13125550000"),  # other system
    leg(
        13, "2025-11-03 10:00:06", 120, direction="outbound-dial", to="+16175550113", parent=sid(1)
    ),  # a child of a matched leg: part of that call
    leg(14, "2025-11-04 09:00:00", 20, to="+16175550114"),  # after the records' span
]


def write_records(path: Path, rows: list[tuple], header: list[str] = HEADER) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        for r in rows:
            w.writerow([r[0], r[1], OWN, *r[2:]])
    return path


@pytest.fixture(scope="module")
def audit(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    tmp = tmp_path_factory.mktemp("records")
    logs = calls_page(tmp / "calls.json", LEGS)
    fmt = tmp / "dispatch.toml"
    fmt.write_text(FORMAT, encoding="utf-8")
    records = write_records(tmp / "dispatch.csv", RECORDS)
    out = tmp / "out"
    done = run_cli(
        "audit",
        str(logs),
        "--out",
        str(out),
        "--records",
        str(records),
        "--records-format",
        str(fmt),
    )
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode == 1, done.stderr
    return out, done


def rows(out: Path) -> dict[tuple, dict]:
    """records_matches.csv by (records_source_row, twilio_source_row)."""
    with (out / "records_matches.csv").open(newline="", encoding="utf-8") as fh:
        found = list(csv.DictReader(fh))
    return {(r["records_source_row"], r["twilio_source_row"]): r for r in found}


def test_columns_are_the_contract_then_the_groups(audit) -> None:
    out, _ = audit
    header = (out / "records_matches.csv").read_text(encoding="utf-8").splitlines()[0]
    columns = [*RECORDS_MATCHES, "campaign"]
    assert header.split(",") == columns
    assert pl.read_parquet(out / "records_matches.parquet").columns == columns


def test_each_finding(audit) -> None:
    out, _ = audit
    got = rows(out)
    # records_source_row: the CSV line (header = 1); twilio_source_row: the Calls page record
    want = {
        ("2", "1"): ("matched", ""),
        ("3", "2"): ("matched", "undelivered"),
        ("4", "3"): ("matched", "machine-answered"),
        ("5", "4"): ("matched", "slow"),
        ("6", "5"): ("matched", "duration"),
        ("7", "6"): ("matched", "status"),
        ("8", ""): ("records-only", "undelivered;records-only"),
        ("9", ""): ("ambiguous", "ambiguous"),
        ("10", ""): ("ambiguous", "ambiguous"),
        ("", "8"): ("ambiguous", "ambiguous"),
        ("11", "9"): ("matched", ""),
        ("", "7"): ("twilio-only", "twilio-only"),
        ("12", "1"): ("ambiguous", "ambiguous"),
    }
    assert {k: (r["match_status"], r["finding"]) for k, r in got.items()} == want


def test_figures(audit) -> None:
    out, _ = audit
    got = rows(out)
    slow = got[("5", "4")]
    assert int(slow["delay_s"]) == 150  # 11:02:30 - 11:00:00
    dur = got[("6", "5")]
    assert int(dur["duration_delta_s"]) == 185 - 61
    assert Decimal(dur["billed_minutes"]) == minutes(185)
    clean = got[("2", "1")]
    assert (int(clean["delay_s"]), int(clean["duration_delta_s"])) == (5, 0)
    assert clean["call_sid"] == sid(1) and clean["to_e164"] == "+16175550101"
    assert got[("3", "2")]["twilio_status"] == "busy"  # which undelivered status, said
    assert got[("4", "3")]["answered_by"] == "machine_end_beep"
    by_number = got[("11", "9")]
    assert by_number["call_sid"] == sid(10) and by_number["to_e164"] == "+16175550110"
    # the record repeating sid(1) is shown beside the leg but not counted for it
    repeat = got[("12", "1")]
    assert repeat["call_sid"] == sid(1) and repeat["billed_minutes"] == ""
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    at_stake = abs(minutes(185) - minutes(61))  # 4 - 2: the one duration finding
    assert summary["records"] == {
        "records": 11,
        "matched": 7,
        "records_only": 1,
        "twilio_only": 1,
        "ambiguous": 4,
        "undelivered": 2,
        "machine_answered": 1,
        "slow": 1,
        "duration": 1,
        "status": 1,
        "billed_minutes_at_stake": float(at_stake),
    }
    assert summary["exit_code"] == 1
    [inp] = [i for i in summary["inputs"] if i["kind"] == "records"]
    assert (inp["format"], inp["rows_read"], inp["rows_accepted"], inp["rows_rejected"]) == (
        "dispatch",
        11,
        11,
        0,
    )


def test_groups(audit) -> None:
    out, _ = audit
    groups = pl.read_csv(out / "records_groups.csv", infer_schema=False)
    by = {r["value"]: r for r in groups.iter_rows(named=True)}
    assert list(groups["group"]) == ["campaign"] * 3
    a, b, c = by["a"], by["b"], by["c"]
    assert (a["records"], a["matched"], a["undelivered"], a["machine_answered"]) == (
        "3",
        "3",
        "1",
        "1",
    )
    assert Decimal(a["billed_minutes"]) == minutes(125) + 0 + minutes(40)
    assert Decimal(a["price"]) == Decimal("0.0140") * 2 + 0  # two priced legs, busy unpriced
    assert a["currency"] == "USD"
    assert (b["records"], b["slow"], b["duration"], b["status"], b["records_only"]) == (
        "4",
        "1",
        "1",
        "1",
        "1",
    )
    assert float(b["billed_minutes_at_stake"]) == abs(minutes(185) - minutes(61))
    assert Decimal(b["billed_minutes"]) == minutes(30) + minutes(185) + minutes(12)
    assert (c["records"], c["matched"], c["ambiguous"]) == ("4", "1", "3")


def test_terminal_and_report_show_them(audit) -> None:
    out, done = audit
    assert "Your records vs Twilio" in done.stdout
    assert "records_matches.csv" in done.stdout
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "Your records vs Twilio" in html and "machine answered" in html


def test_scope_options(tmp_path: Path) -> None:
    """--records-from names the system's caller IDs (the `from` column is then not used), and
    --records-direction its directions: only such legs are twilio-only."""
    logs = calls_page(tmp_path / "calls.json", LEGS)
    fmt = tmp_path / "f.toml"
    fmt.write_text(FORMAT, encoding="utf-8")
    records = write_records(tmp_path / "r.csv", RECORDS[:1] + RECORDS[4:5])

    def twilio_only(*extra: str) -> set[str]:
        out = tmp_path / f"out{len(list(tmp_path.iterdir()))}"
        done = run_cli(
            "audit",
            str(logs),
            "--out",
            str(out),
            "--records",
            str(records),
            "--records-format",
            str(fmt),
            *extra,
        )
        assert done.returncode == 1, done.stderr
        found = pl.read_csv(out / "records_matches.csv", infer_schema=False)
        return set(found.filter(pl.col("match_status") == "twilio-only")["call_sid"])

    # from the records' own caller ID: legs 2, 3, 4 (10:10 .. 11:02:30, span 10:00 .. 12:01)
    assert twilio_only() == {sid(2), sid(3), sid(4)}
    assert twilio_only("--records-from", "(312) 555-0000") == set()
    assert twilio_only("--records-from", "+13125550000", "--records-from", OWN) == {
        sid(2),
        sid(3),
        sid(4),
    }
    assert twilio_only("--records-direction", "outbound-dial") == set()


def test_a_call_twilio_did_not_answer_is_undelivered_only(tmp_path: Path) -> None:
    """A record saying delivered with 45 s of talk, Twilio's leg `no-answer` with 0 s: one
    problem (`undelivered`), not also `duration` (it was `undelivered;duration`, counting the
    never-connected call twice); the other record's 185 s vs 61 s is the one `duration`."""
    legs = [
        leg(2, "2025-11-03 10:10:02", 0, "no-answer", to="+16175550102"),
        leg(5, "2025-11-03 12:00:04", 185, to="+16175550105"),
    ]
    records = [
        (sid(2), "+16175550102", "2025-11-03 10:10:00", "45", "ok", "", "a"),
        RECORDS[4],
    ]
    fmt = tmp_path / "f.toml"
    fmt.write_text(FORMAT, encoding="utf-8")
    out = tmp_path / "out"
    done = run_cli(
        "audit",
        str(calls_page(tmp_path / "calls.json", legs)),
        "--out",
        str(out),
        "--records",
        str(write_records(tmp_path / "r.csv", records)),
        "--records-format",
        str(fmt),
    )
    assert done.returncode == 1, done.stderr
    got = rows(out)
    assert got[("2", "1")]["finding"] == "undelivered"
    assert got[("2", "1")]["duration_delta_s"] == str(0 - 45)  # still shown, not a finding
    assert got[("3", "2")]["finding"] == "duration"
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))["records"]
    assert (summary["undelivered"], summary["duration"]) == (1, 1)
    assert summary["billed_minutes_at_stake"] == float(minutes(185) - minutes(61))


def _frames(rows_: list[tuple], legs: list[dict]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Canonical records and classified legs, built directly (no files)."""
    fmt = parse_records_format(
        {
            "columns": {"call_sid": "sid", "to": "to", "time": "t", "duration": "d"},
            "time": {"format": "%Y-%m-%d %H:%M:%S", "zone": "UTC"},
        },
        "test",
    )
    raw = pl.DataFrame(
        [
            {
                "source_file": "r.csv",
                "source_row": i + 2,
                "call_sid": s,
                "to": to,
                "time": t,
                "duration": d,
                "_error": None,
                "_error_column": None,
            }
            for i, (s, to, t, d) in enumerate(rows_)
        ],
        schema={
            "source_file": pl.String,
            "source_row": pl.Int64,
            "call_sid": pl.String,
            "to": pl.String,
            "time": pl.String,
            "duration": pl.String,
            "_error": pl.String,
            "_error_column": pl.String,
        },
    )
    records, rejects = normalize_records(raw, fmt)
    assert rejects.is_empty(), rejects
    frame = pl.DataFrame(legs).with_columns(
        pl.col("start_time_utc").str.to_datetime(time_zone="UTC", time_unit="us"),
        pl.lit("calls-outbound").alias("category"),
        (pl.col("status") == "completed").alias("billable"),
        pl.lit(None, pl.String).alias("answered_by"),
    )
    frame = frame.with_columns(
        pl.when("billable")
        .then(((pl.col("duration_s") + 59) // 60).clip(1) * 60)
        .otherwise(0)
        .alias("billed_seconds"),
    ).with_columns((pl.col("billed_seconds").cast(pl.Decimal(38, 6)) / 60).alias("billed_minutes"))
    return records, frame


def test_a_record_between_two_equal_legs_is_ambiguous_with_both() -> None:
    legs = [
        {
            "source_file": "c",
            "source_row": i,
            "call_sid": sid(i),
            "parent_call_sid": None,
            "direction": "outbound-api",
            "from": OWN,
            "to": "+16175550100",
            "status": "completed",
            "start_time_utc": t,
            "duration_s": 30,
            "price": None,
            "price_unit": None,
        }
        for i, t in ((1, "2025-11-03T10:00:00"), (2, "2025-11-03T10:00:20"))
    ]
    records, frame = _frames([(None, "+16175550100", "2025-11-03 10:00:10", "30")], legs)
    found = recmod.match_records(records, frame, rules=load_rules(), has_status=False)
    assert sorted(found.matches["match_status"].cast(pl.String)) == ["ambiguous"] * 3
    assert found.counts.ambiguous == 3 and found.counts.matched == 0


def test_closest_start_then_closest_duration_wins() -> None:
    legs = [
        {
            "source_file": "c",
            "source_row": i,
            "call_sid": sid(i),
            "parent_call_sid": None,
            "direction": "outbound-api",
            "from": OWN,
            "to": "+16175550100",
            "status": "completed",
            "start_time_utc": t,
            "duration_s": d,
            "price": None,
            "price_unit": None,
        }
        for i, t, d in (
            (1, "2025-11-03T10:00:00", 30),
            (2, "2025-11-03T10:00:20", 90),  # as close as leg 1, but its duration is further
            (3, "2025-11-03T10:00:40", 30),
        )
    ]
    records, frame = _frames(
        [
            (None, "+16175550100", "2025-11-03 10:00:10", "31"),
            (None, "+16175550100", "2025-11-03 10:00:41", "30"),
        ],
        legs,
    )
    found = recmod.match_records(records, frame, rules=load_rules(), has_status=False)
    pairs = found.matches.filter(pl.col("match_status") == "matched").select(
        "records_source_row", "twilio_source_row"
    )
    assert sorted(pairs.rows()) == [(2, 1), (3, 3)]  # leg 2 left: twilio-only in the span
    assert found.counts.twilio_only == 1
