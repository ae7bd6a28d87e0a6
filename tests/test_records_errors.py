"""Your own records that are wrong, and format files that are: a one-line error (exit 2) naming
the file and the key or column, or rejects naming file, row and column: never a traceback.
Also each shape a records file may come in (CSV, JSON lines, Parquet, gzipped) and each time
format."""

from __future__ import annotations

import csv
import gzip
import json
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl
import pytest
from audit_inputs import call, calls_page, sid
from conftest import run_cli

from auditor.errors import InputError
from auditor.ingest.records_format_file import load_records_format, shipped_formats

BASE = """
[columns]
call_sid = "sid"
to = "number"
time = "at"
duration = "secs"
status = "result"
[time]
format = "iso8601"
zone = "UTC"
[status_map]
ok = "completed"
"""


@pytest.fixture
def logs(tmp_path: Path) -> Path:
    legs = [
        call(1, "2025-11-03 10:00:05", "2025-11-03 10:01:05", "60", to="+16175550101"),
        call(2, "2025-11-03 11:00:05", "2025-11-03 11:01:05", "60", to="+16175550102"),
    ]
    return calls_page(tmp_path / "calls.json", legs)


def fmt_file(tmp_path: Path, text: str = BASE, name: str = "f.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def records_csv(
    tmp_path: Path, rows: list[list[str]], header=("sid", "number", "at", "secs", "result")
) -> Path:
    path = tmp_path / "records.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path


def audit(tmp_path: Path, logs: Path, records: Path, fmt: Path | str, *extra: str):
    out = tmp_path / f"out{len(list(tmp_path.glob('out*')))}"
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
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr, done.stderr
    return done, out


def one_line_error(done) -> str:
    assert done.returncode == 2, (done.stdout, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    return lines[0]


def rejects(out: Path) -> list[dict[str, str]]:
    with (out / "rejects.csv").open(newline="", encoding="utf-8") as fh:
        return [r for r in csv.DictReader(fh) if r["source_file"].endswith("records.csv")]


GOOD = [sid(1), "+16175550101", "2025-11-03T10:00:00Z", "60", "ok"]


def test_a_time_that_does_not_parse_is_rejected(tmp_path: Path, logs: Path) -> None:
    rec = records_csv(tmp_path, [GOOD, [sid(2), "+16175550102", "yesterday at ten", "60", "ok"]])
    done, out = audit(tmp_path, logs, rec, fmt_file(tmp_path))
    assert done.returncode == 1, done.stderr
    [bad] = rejects(out)
    assert (bad["source_row"], bad["column"], bad["value"]) == ("3", "at", "yesterday at ten")
    assert "unparseable time" in bad["reason"]
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    [inp] = [i for i in summary["inputs"] if i["kind"] == "records"]
    assert (inp["rows_read"], inp["rows_accepted"], inp["rows_rejected"]) == (2, 1, 1)
    # the leg of the rejected record (11:00) is outside the span of the one left (10:00 +- 60 s)
    assert summary["records"]["twilio_only"] == 0


def test_malformed_sids_and_other_bad_cells_are_rejected(tmp_path: Path, logs: Path) -> None:
    rec = records_csv(
        tmp_path,
        [
            GOOD,
            ["CA123", "+16175550102", "2025-11-03T11:00:00Z", "60", "ok"],  # short SID
            ["ca" + "0" * 32, "+16175550102", "2025-11-03T11:00:00Z", "60", "ok"],  # lower CA
            [sid(2), "+16175550102", "2025-11-03T11:00:00Z", "-5", "ok"],  # negative
            [sid(2), "+16175550102", "2025-11-03T11:00:00Z", "1 min", "ok"],  # not a number
            [sid(2), "+16175550102", "2025-11-03T11:00:00Z", "60", "maybe"],  # not in the map
            ["", "", "2025-11-03T11:00:00Z", "60", "ok"],  # no SID, no number
            ["", "+16175550102", "", "60", "ok"],  # no SID, no time
        ],
    )
    done, out = audit(tmp_path, logs, rec, fmt_file(tmp_path))
    assert done.returncode == 1, done.stderr
    got = {(r["source_row"], r["column"], r["reason"]) for r in rejects(out)}
    assert got == {
        ("3", "sid", "not a call SID (CA + 32 hex)"),
        ("4", "sid", "not a call SID (CA + 32 hex)"),
        ("5", "secs", "negative duration"),
        ("6", "secs", "not a whole number of seconds"),
        ("7", "result", f"outcome not in the [status_map] of {tmp_path / 'f.toml'}"),
        ("8", "number", "no call SID, and no phone number to match the record by"),
        ("9", "at", "no call SID, and no time to match the record by"),
    }


@pytest.mark.parametrize(
    ("text", "says"),
    [
        (BASE.replace('to = "number"', 'to = "phone_number"'), "column 'phone_number' (columns.to"),
        ('colour = "blue"\n' + BASE, "unknown key colour (known: name,"),
        (BASE.replace('zone = "UTC"', 'zone = "UTC"\nzonee = "UTC"'), "unknown key time.zonee"),
        (BASE.replace("[columns]", '[columns]\nanswer = "x"'), "unknown key columns.answer"),
        (BASE.replace('zone = "UTC"', 'zone = "Mars/Olympus"'), "time.zone 'Mars/Olympus'"),
        (BASE.replace('ok = "completed"', 'ok = "done"'), "status_map.ok: 'done' is not"),
        (BASE.replace('format = "iso8601"', 'format = "yyyy-mm-dd"'), "time.format must be"),
        ('[columns]\nto = "number"\n', "must map call_sid, or both to and time"),
        ("[columns\n", "not valid TOML"),
    ],
)
def test_format_file_errors_are_one_line(tmp_path: Path, logs: Path, text: str, says: str) -> None:
    rec = records_csv(tmp_path, [GOOD])
    fmt = fmt_file(tmp_path, text)
    done, out = audit(tmp_path, logs, rec, fmt)
    line = one_line_error(done)
    assert says in line, line
    assert str(fmt) in line or str(rec) in line
    assert not out.exists()


def test_a_missing_column_names_the_data_file_the_column_and_the_key(tmp_path, logs) -> None:
    rec = records_csv(tmp_path, [GOOD[:4]], header=("sid", "number", "at", "secs"))
    fmt = fmt_file(tmp_path)
    line = one_line_error(audit(tmp_path, logs, rec, fmt)[0])
    assert line == (
        f"auditor: error: {rec}:1: column 'result' (columns.status of {fmt}) is not in the file"
    )


def test_option_errors_are_one_line(tmp_path: Path, logs: Path) -> None:
    rec = records_csv(tmp_path, [GOOD])
    fmt = fmt_file(tmp_path)
    no_format = run_cli("audit", str(logs), "--out", str(tmp_path / "o1"), "--records", str(rec))
    assert "--records-format" in one_line_error(no_format)
    no_records = run_cli(
        "audit", str(logs), "--out", str(tmp_path / "o2"), "--records-format", str(fmt)
    )
    assert "--records FILE" in one_line_error(no_records)
    unknown = audit(tmp_path, logs, rec, "no_such_format")[0]
    assert "shipped formats: ai_agent_sessions, notification_log" in one_line_error(unknown)
    bad_from = audit(tmp_path, logs, rec, fmt, "--records-from", "client:alice")[0]
    assert "--records-from 'client:alice'" in one_line_error(bad_from)
    bad_dir = audit(tmp_path, logs, rec, fmt, "--records-direction", "sideways")[0]
    assert "--records-direction 'sideways'" in one_line_error(bad_dir)
    usage = tmp_path / "usage.csv"
    usage.write_text(
        "account_sid,category,count,usage,usage_unit,price,price_unit,start_date,end_date\n"
        f"AC{'1' * 32},calls,1,1,minutes,0.01,usd,2025-11-01,2025-11-30\n"
    )
    no_logs = audit(tmp_path, usage, rec, fmt)[0]
    assert "needs Twilio call logs" in one_line_error(no_logs)


def test_a_naive_time_without_a_zone_names_its_cell(tmp_path: Path, logs: Path) -> None:
    rec = records_csv(tmp_path, [[sid(1), "+16175550101", "2025-11-03 10:00:00", "60", "ok"]])
    fmt = fmt_file(tmp_path, BASE.replace('zone = "UTC"\n', ""))
    line = one_line_error(audit(tmp_path, logs, rec, fmt)[0])
    assert f"{rec}:2: column at: naive time '2025-11-03 10:00:00' needs [time] zone" in line


def test_json_array_and_empty_files_are_one_line(tmp_path: Path, logs: Path) -> None:
    arr = tmp_path / "records.json"
    arr.write_text('[{"sid": "x"}]\n', encoding="utf-8")
    assert "JSON lines" in one_line_error(audit(tmp_path, logs, arr, fmt_file(tmp_path))[0])
    empty = tmp_path / "empty.csv"
    empty.write_text("", encoding="utf-8")
    assert "empty" in one_line_error(audit(tmp_path, logs, empty, fmt_file(tmp_path))[0])


def test_every_shipped_format_loads() -> None:
    assert shipped_formats() == ["ai_agent_sessions", "notification_log", "salesforce_task"]
    for name in shipped_formats():
        fmt = load_records_format(name)
        assert fmt.columns["call_sid"] and fmt.group
    assert load_records_format("ai_agent_sessions").columns["end"] == "session_end"
    with pytest.raises(InputError, match="no such records format"):
        load_records_format("nope")


# --- each shape and time format -----------------------------------------------------------------
SHAPE_FORMAT = """
[columns]
call_sid = "sid"
to = "to"
time = "t"
end = "e"
group = ["g"]
[time]
format = "{fmt}"
{zone}
"""
ZONE = ZoneInfo("America/New_York")
STARTS = [datetime(2025, 11, 3, 10, 0, 3, tzinfo=UTC), datetime(2025, 11, 3, 11, 0, 3, tzinfo=UTC)]


def _matched(tmp_path: Path, logs: Path, records: Path, fmt: str, zone: str = "") -> list[dict]:
    f = fmt_file(tmp_path, SHAPE_FORMAT.format(fmt=fmt, zone=zone), "shape.toml")
    done, out = audit(tmp_path, logs, records, f)
    assert done.returncode == 0, done.stderr  # all matched, within tolerances: nothing to say
    found = pl.read_csv(out / "records_matches.csv", infer_schema=False)
    return found.filter(pl.col("records_source_row").is_not_null()).to_dicts()


def _check(found: list[dict]) -> None:
    assert [(r["match_status"], r["delay_s"], r["record_duration_s"]) for r in found] == [
        ("matched", "2", "58"),
        ("matched", "2", "58"),
    ]
    assert [r["g"] for r in found] == ["x", "y"]


def test_json_lines_gzipped_with_epoch_times(tmp_path: Path, logs: Path) -> None:
    lines = [
        json.dumps(
            {
                "sid": sid(n),
                "to": f"+1617555010{n}",
                "t": s.timestamp(),
                "e": s.timestamp() + 58.6,
                "g": g,
            }
        )
        for n, s, g in ((1, STARTS[0], "x"), (2, STARTS[1], "y"))
    ]
    path = tmp_path / "records.jsonl.gz"
    path.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))
    _check(_matched(tmp_path, logs, path, "epoch"))


def test_parquet_with_typed_timestamps(tmp_path: Path, logs: Path) -> None:
    path = tmp_path / "records.parquet"
    pl.DataFrame(
        {
            "sid": [sid(1), sid(2)],
            "to": ["+16175550101", "+16175550102"],
            "t": STARTS,
            "e": [s.replace(second=1, minute=1) for s in STARTS],
            "g": ["x", "y"],
        }
    ).write_parquet(path)
    _check(_matched(tmp_path, logs, path, "%d/%m/%Y %H:%M:%S", 'zone = "Europe/Paris"'))
    _check(_matched(tmp_path, logs, path, "iso8601"))
    _check(_matched(tmp_path, logs, path, "epoch_ms"))  # written back as epoch milliseconds


def test_csv_gzipped_with_a_strftime_pattern_in_a_zone(tmp_path: Path, logs: Path) -> None:
    def wall(t: datetime) -> str:
        return t.astimezone(ZONE).strftime("%m/%d/%Y %I:%M:%S %p")

    rows = "sid,to,t,e,g\n" + "".join(
        f"{sid(n)},(617) 555-010{n},{wall(s)},{wall(s.replace(minute=1, second=1))},{g}\n"
        for n, s, g in ((1, STARTS[0], "x"), (2, STARTS[1], "y"))
    )
    path = tmp_path / "records.csv.gz"
    path.write_bytes(gzip.compress(rows.encode()))
    _check(_matched(tmp_path, logs, path, "%m/%d/%Y %I:%M:%S %p", 'zone = "America/New_York"'))


# --- durations and times as other systems write them (issue 18, point 12) -----------------------
AGENT_FORMAT = """
name = "voice-agent"
duration_unit = "milliseconds"
[columns]
call_sid = "twilio_call_sid"
to = "to_number"
time = "start_timestamp"
duration = "duration_ms"
[time]
format = "epoch_ms"
"""


def _found(out: Path, name: str) -> tuple[list[dict], list[tuple[str, str, str, str]]]:
    matches = pl.read_csv(out / "records_matches.csv", infer_schema=False)
    found = matches.filter(pl.col("records_source_row").is_not_null()).to_dicts()
    bad = pl.read_csv(out / "rejects.csv", infer_schema=False)
    bad = bad.filter(pl.col("source_file").str.ends_with(name))
    return found, bad.select("source_row", "column", "value", "reason").rows()


def test_an_ai_agent_export_in_epoch_milliseconds(tmp_path: Path, logs: Path) -> None:
    # An AI voice agent platform's call export: start_timestamp in Unix milliseconds,
    # duration_ms; the legs of `logs` start 10:00:05 and 11:00:05 UTC and last 60 s.
    def ms(t: datetime) -> int:
        return int(t.timestamp()) * 1000

    rows = [
        (sid(1), "+16175550101", ms(STARTS[0]), 58400),  # 10:00:03.000, 58.4 s -> 58
        (sid(2), "+16175550102", ms(STARTS[1]) + 250, 58600.0),  # 11:00:03.250, 58.6 s -> 59
        (sid(3), "+16175550103", "2025-11-03T12:00:03Z", 1000),  # not epoch milliseconds
        (sid(4), "+16175550104", ms(STARTS[1]), "58 s"),  # not milliseconds
    ]
    keys = ("twilio_call_sid", "to_number", "start_timestamp", "duration_ms")
    path = tmp_path / "calls.jsonl"
    text = "".join(json.dumps(dict(zip(keys, r, strict=True))) + "\n" for r in rows)
    path.write_text(text, encoding="utf-8")
    done, out = audit(tmp_path, logs, path, fmt_file(tmp_path, AGENT_FORMAT, "agent.toml"))
    assert done.returncode == 1, done.stderr  # the two rejects
    found, bad = _found(out, "calls.jsonl")
    # delay: the legs start 2 s and 1.75 s (whole seconds: 1) after the records' times
    assert [(r["match_status"], r["delay_s"], r["record_duration_s"]) for r in found] == [
        ("matched", "2", "58"),
        ("matched", "1", "59"),
    ]
    assert bad == [
        ("3", "start_timestamp", "2025-11-03T12:00:03Z", "not epoch milliseconds"),
        ("4", "duration_ms", "58 s", "not a number of milliseconds"),
    ]


def test_a_crm_export_with_durations_in_hh_mm_ss(tmp_path: Path) -> None:
    # A CRM's call activity export: duration as 00:09:50 (= 590 s); the leg lasts 590 s too.
    logs = calls_page(
        tmp_path / "calls.json",
        [call(1, "2025-11-03 10:00:05", "2025-11-03 10:09:55", "590", to="+16175550101")],
    )
    rec = records_csv(
        tmp_path,
        [
            [sid(1), "+16175550101", "2025-11-03T10:00:03Z", "00:09:50", "ok"],
            [sid(2), "+16175550102", "2025-11-03T11:00:03Z", "9:50", "ok"],  # mm:ss: not hh:mm:ss
            [sid(3), "+16175550103", "2025-11-03T12:00:03Z", "590", "ok"],  # seconds: neither
        ],
    )
    fmt = fmt_file(tmp_path, 'duration_unit = "hh:mm:ss"\n' + BASE)
    done, out = audit(tmp_path, logs, rec, fmt)
    assert done.returncode == 1, done.stderr
    found, bad = _found(out, "records.csv")
    assert [(r["match_status"], r["record_duration_s"]) for r in found] == [("matched", "590")]
    assert bad == [
        ("3", "secs", "9:50", "not a duration in hh:mm:ss"),
        ("4", "secs", "590", "not a duration in hh:mm:ss"),
    ]
    wrong = fmt_file(tmp_path, 'duration_unit = "minutes"\n' + BASE, "wrong.toml")
    line = one_line_error(audit(tmp_path, logs, rec, wrong)[0])
    assert "duration_unit must be one of seconds, milliseconds, hh:mm:ss, mm:ss" in line
