"""The CLI's exit codes and one-line errors: never a traceback, always the file (row, column)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import polars as pl
import pytest
from audit_inputs import ACCOUNT, call, calls_page, usage, usage_page
from conftest import run_cli

HEADER = "Call Sid,Start Time,End Time,Duration,From,To,Direction,Status,Price,Price Unit\n"


def one_line_error(proc, *parts: str) -> None:
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    for part in parts:
        assert part in lines[0], lines[0]


def test_missing_file(tmp_path: Path) -> None:
    one_line_error(
        run_cli("validate", str(tmp_path / "nope.csv"), "--out", str(tmp_path / "o")),
        "nope.csv",
        "no such file",
    )


def test_corrupt_gzip(tmp_path: Path) -> None:
    path = tmp_path / "day.json.gz"
    path.write_bytes(gzip.compress(b'{"sid": "x"}\n' * 50)[:30])
    one_line_error(
        run_cli("validate", str(path), "--out", str(tmp_path / "o")), "day.json.gz", "corrupt gzip"
    )


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "calls.csv"
    path.write_bytes(HEADER.encode() + b"CA\xff\xfe,2025-11-01 10:00:00\n")
    one_line_error(
        run_cli("validate", str(path), "--out", str(tmp_path / "o")),
        "calls.csv",
        "not UTF-8",
        "line 2",
    )


def test_unsupported_format(tmp_path: Path) -> None:
    path = tmp_path / "notes.json"
    path.write_text(json.dumps({"hello": "world"}))
    one_line_error(
        run_cli("validate", str(path), "--out", str(tmp_path / "o")),
        "notes.json",
        "unsupported format",
    )


def test_console_csv_missing_required_columns(tmp_path: Path) -> None:
    path = tmp_path / "console.csv"
    path.write_text("Call Sid,Status,From\nCA" + "a" * 32 + ",completed,+1\n")
    one_line_error(
        run_cli("validate", str(path), "--out", str(tmp_path / "o")),
        "console.csv:1",
        "required column(s) missing",
        "start_time",
        "duration",
    )


def test_naive_times_need_a_zone(tmp_path: Path) -> None:
    path = tmp_path / "console.csv"
    path.write_text(
        HEADER + "CA" + "a" * 32 + ",2025-11-01 10:00:00,2025-11-01 10:01:00,60,"
        "+1,+2,outbound-api,completed,-0.014,USD\n"
    )
    one_line_error(
        run_cli("validate", str(path), "--out", str(tmp_path / "o")),
        "console.csv:2: column start_time",
        "--tz",
    )


def test_bad_zone_name(tmp_path: Path) -> None:
    path = calls_page(tmp_path / "c.json", [call(1, "2025-11-01 10:00:00", None, "0")])
    one_line_error(
        run_cli("validate", str(path), "--out", str(tmp_path / "o"), "--tz", "Mars/Base"),
        "--tz",
        "IANA",
    )


def test_audit_needs_an_account_for_console_logs(tmp_path: Path) -> None:
    (tmp_path / "console.csv").write_text(
        HEADER + "CA" + "a" * 32 + ",2025-11-01 10:00:00,2025-11-01 10:01:00,60,"
        "+1,+2,outbound-api,completed,-0.014,USD\n"
    )
    one_line_error(
        run_cli(
            "audit", str(tmp_path / "console.csv"), "--out", str(tmp_path / "o"), "--tz", "UTC"
        ),
        "console.csv",
        "--account",
    )


@pytest.mark.parametrize(
    ("account", "reason"),
    [
        ("AC123", "is not an account SID (AC + 32 hex)"),
        ("AC" + "f" * 32, "names no account of the usage records"),
    ],
)
def test_an_account_no_input_names_is_one_line(tmp_path: Path, account: str, reason: str) -> None:
    """`--account` naming no account of the inputs: one line naming those present and exit 2
    (it was one `not an account SID` reject per Console CSV row, or every call unmatched)."""
    (tmp_path / "console.csv").write_text(
        HEADER + "CA" + "a" * 32 + ",2025-11-01 10:00:00,2025-11-01 10:01:00,60,"
        "+1,+2,outbound-api,completed,-0.014,USD\n"
    )
    page = usage_page(
        tmp_path / "usage.json",
        [usage("calls-outbound", "2025-11-01", "2025-11-30", 1, 1, "0.014")],
    )
    args = ["audit", str(tmp_path / "console.csv"), str(page), "--tz", "UTC"]
    one_line_error(
        run_cli(*args, "--out", str(tmp_path / "o"), "--account", account),
        f"--account {account!r} {reason}",
        f"accounts in the inputs: {ACCOUNT}",
    )
    # the account of the usage records is accepted (filled into the Console CSV's rows)
    done = run_cli(*args, "--out", str(tmp_path / "ok"), "--account", ACCOUNT)
    assert done.returncode in (0, 1) and "--account" not in done.stderr, done.stderr
    assert pl.read_parquet(tmp_path / "ok" / "calls.parquet")["account_sid"].to_list() == [ACCOUNT]
    # without usage: a Calls page of ACCOUNT, another account given
    page = calls_page(tmp_path / "calls.json", [call(1, "2025-11-01 10:00:00", None, "60")])
    one_line_error(
        run_cli("validate", str(page), "--out", str(tmp_path / "v"), "--account", "AC" + "f" * 32),
        "matches no row of any input",
        f"accounts in the inputs: {ACCOUNT}",
    )


@pytest.mark.parametrize("bad", [False, True])
def test_exit_code_and_conservation(tmp_path: Path, bad: bool) -> None:
    rows = [
        HEADER.rstrip("\n"),
        "CA" + "a" * 32 + ",2025-11-01 10:00:00,2025-11-01 10:01:00,60,+1,+2,outbound-api,"
        "completed,-0.014,USD",
        # a multi-line quoted field: the next record's physical line is 5, not 4
        "CA" + "b" * 32 + ',2025-11-01 11:00:00,2025-11-01 11:00:30,30,"+1\n\n",+2,inbound,'
        "completed,-0.0085,USD",
        ("CA" + "c" * 32 if not bad else "CAnothex")
        + ",2025-11-01 12:00:00,2025-11-01 12:00:10,"
        + ("-5" if bad else "10")
        + ",+1,+2,outbound-api,completed,-0.014,USD",
    ]
    path = tmp_path / "console.csv"
    path.write_text("\n".join(rows) + "\n")
    out = tmp_path / "o"
    proc = run_cli("validate", str(path), "--out", str(out), "--tz", "UTC")
    assert proc.returncode == (1 if bad else 0), proc.stderr
    calls = pl.read_parquet(out / "calls.parquet")
    rejects = pl.read_csv(out / "rejects.csv", infer_schema=False)
    assert calls["source_row"].to_list() == ([2, 3] if bad else [2, 3, 6])
    if bad:
        assert rejects.select("source_row", "column").rows() == [("6", "duration"), ("6", "sid")]
    assert f"read       3  accepted       {2 if bad else 3}" in proc.stdout
