"""The command line in a pipeline (issue 19, points 12 and 13): a stdout closed by its reader
(`auditor audit ... | head -1`) ends the printing, not the exit code (the audit's own); `-` as a
PATH reads standard input, named `<stdin>`; `--exclude GLOB` leaves files out of a folder scan.

The clean month: 5 outbound calls of 65 s at 0.014 USD a minute, each billed 2 minutes (rounded
up) and 0.028 USD; the usage record says 5 calls, 10 minutes, 0.14 USD: every difference is
rounding, so the audit exits 0. The same usage saying 11 minutes is a finding (exit 1)."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
from audit_inputs import ACCOUNT, call, calls_page, usage, usage_page
from conftest import run_cli

NOV = ("2025-11-01", "2025-11-30")
AUDITOR = [sys.executable, "-m", "auditor"]


def _month(folder: Path, minutes: int = 10) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    calls = [
        call(i, f"2025-11-0{i} 10:00:00", f"2025-11-0{i} 10:01:05", "65", price="-0.028")
        for i in range(1, 6)
    ]
    calls_page(folder / "calls.json", calls)
    usage_page(folder / "usage.json", [usage("calls-outbound", *NOV, 5, minutes, "0.14")])
    return [str(folder / "calls.json"), str(folder / "usage.json")]


def _closed_stdout(*args: str, cwd: Path) -> tuple[int, str]:
    """`auditor ARGS` whose stdout is closed before it writes a byte (as `head -1` closes it
    early, but every time): its exit code and stderr."""
    proc = subprocess.Popen(
        [*AUDITOR, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=cwd, text=True
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()
    err = proc.stderr.read()
    return proc.wait(timeout=120), err


def test_a_closed_stdout_is_not_a_finding(tmp_path: Path) -> None:
    paths = _month(tmp_path / "in")
    assert run_cli("audit", *paths, "--out", str(tmp_path / "plain")).returncode == 0
    for n, extra in enumerate([(), ("--json",)]):
        out = tmp_path / f"closed{n}"
        code, err = _closed_stdout("audit", *paths, "--out", str(out), *extra, cwd=tmp_path)
        assert (code, err) == (0, "")  # quietly: no traceback, no error line
        assert (out / "manifest.json").is_file()  # the run completed before it printed
    code, err = _closed_stdout("validate", paths[0], "--out", str(tmp_path / "v"), cwd=tmp_path)
    assert (code, err) == (0, "")
    assert _closed_stdout("audit", "--help", cwd=tmp_path) == (0, "")
    assert _closed_stdout("--version", cwd=tmp_path) == (0, "")


def test_a_closed_stdout_keeps_the_audits_own_exit_code(tmp_path: Path) -> None:
    paths = _month(tmp_path / "in", minutes=11)  # billed 1 minute more than the logs: a finding
    assert run_cli("audit", *paths, "--out", str(tmp_path / "plain")).returncode == 1
    code, err = _closed_stdout("audit", *paths, "--out", str(tmp_path / "closed"), cwd=tmp_path)
    assert (code, err) == (1, "")


def test_head_in_a_real_pipe(tmp_path: Path) -> None:
    paths = _month(tmp_path / "in")
    script = (
        " ".join(f"'{a}'" for a in [*AUDITOR, "audit", *paths, "--out", str(tmp_path / "o")])
        + ' | head -1; exit "${PIPESTATUS[0]}"'
    )
    done = subprocess.run(["bash", "-c", script], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert len(done.stdout.splitlines()) == 1
    assert done.stdout.startswith(paths[0])  # the first file line


CONSOLE_HEADER = (
    "Call Sid,Date Created,Start Time,End Time,Duration,From,To,Direction,Status,Price,"
    "Price Unit,Parent Call Sid\n"
)


def _console_csv() -> bytes:
    """The clean month's 5 calls as a Console CSV download (naive New York times: 05:00 there is
    10:00 UTC in November)."""
    rows = [
        f"CA{i:032x},2025-11-0{i} 05:00:00,2025-11-0{i} 05:00:00,2025-11-0{i} 05:01:05,65,"
        f"+12125550100,+16175550123,outbound-api,completed,-0.028,USD,\n"
        for i in range(1, 6)
    ]
    return (CONSOLE_HEADER + "".join(rows)).encode()


def _env(tmp: Path) -> dict[str, str]:
    tmp.mkdir()
    return {**os.environ, "TMPDIR": str(tmp)}  # where the spool of stdin goes


def test_dash_reads_stdin(tmp_path: Path) -> None:
    data = _console_csv()
    usage_file = _month(tmp_path / "in")[1]
    out = tmp_path / "out"
    args = ["audit", "-", usage_file, "--tz", "America/New_York", "--account", ACCOUNT]
    done = subprocess.run(
        [*AUDITOR, *args, "--out", str(out)],
        input=data,
        capture_output=True,
        env=_env(tmp_path / "tmp"),
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode()  # the clean month, from stdin
    calls = pl.read_parquet(out / "calls.parquet")
    assert calls["source_file"].to_list() == ["<stdin>"] * 5
    assert calls["call_sid"].to_list() == [f"CA{i:032x}" for i in range(1, 6)]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["inputs"][0] == {
        "path": "<stdin>",
        "kind": "calls",
        "size": len(data),  # hashed as read
        "sha256": hashlib.sha256(data).hexdigest(),
    }
    assert manifest["options"]["paths"] == ["-", usage_file]
    assert list((tmp_path / "tmp").iterdir()) == []  # the spool is gone
    assert "<stdin>" in done.stdout.decode()


def test_dash_on_validate_names_stdin_in_rejects(tmp_path: Path) -> None:
    data = _console_csv().replace(b"2025-11-03 05:01:05", b"2025-11-03 5 past 5")
    out = tmp_path / "out"
    done = subprocess.run(
        [*AUDITOR, "validate", "-", "--tz", "America/New_York", "--out", str(out)],
        input=data,
        capture_output=True,
        env=_env(tmp_path / "tmp"),
        check=False,
    )
    assert done.returncode == 1, done.stderr.decode()  # the one bad row
    rejects = pl.read_csv(out / "rejects.csv", infer_schema=False)
    assert rejects["source_file"].unique().to_list() == ["<stdin>"]
    assert rejects["column"].to_list() == ["end_time"]
    assert list((tmp_path / "tmp").iterdir()) == []


def test_dash_twice_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = run_cli(
        "audit", "-", "--records", "-", "--records-format", "notification_log", "--out", str(out)
    )
    assert proc.returncode == 2
    assert (
        proc.stderr == "auditor: error: - (standard input) given twice: it can be read only once\n"
    )
    assert not out.exists()


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """The clean month, with an unrelated invoice beside it and one in a sub-folder."""
    folder = tmp_path / "exports"
    _month(folder)
    (folder / "sub").mkdir()
    for where in (folder, folder / "sub"):
        (where / "invoice.csv").write_text("Invoice,Amount\n1001,12.50\n")
    return folder


def test_an_unrelated_file_stops_the_run_without_exclude(folder: Path, tmp_path: Path) -> None:
    proc = run_cli("audit", str(folder), "--out", str(tmp_path / "out"), cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.startswith(f"auditor: error: {folder / 'invoice.csv'}: unsupported format")


@pytest.mark.parametrize("command", ["audit", "validate"])
def test_exclude_leaves_files_out(folder: Path, tmp_path: Path, command: str) -> None:
    out = tmp_path / "out"
    proc = run_cli(command, str(folder), "--exclude", "invoice.csv", "--out", str(out))
    assert proc.returncode == 0, proc.stderr  # by name: both invoices left out
    manifest = json.loads((out / "manifest.json").read_text())
    assert [i["path"] for i in manifest["inputs"]] == [
        str(folder / "calls.json"),
        str(folder / "usage.json"),
    ]
    assert manifest["options"]["ingest"]["read"]["exclude"] == ["invoice.csv"]


def test_exclude_by_relative_path_and_repeated(folder: Path, tmp_path: Path) -> None:
    # `sub/*` leaves out the sub-folder's invoice only: the top one still stops the run
    proc = run_cli("audit", str(folder), "--exclude", "sub/*", "--out", str(tmp_path / "a"))
    assert proc.returncode == 2
    assert f"{folder / 'invoice.csv'}: unsupported format" in proc.stderr
    proc = run_cli(
        "audit",
        str(folder),
        "--exclude",
        "sub/*",
        "--exclude",
        "invoice.*",
        "--out",
        str(tmp_path / "b"),
    )
    assert proc.returncode == 0, proc.stderr
    # a file named on its own is read, whatever --exclude says
    one = str(folder / "invoice.csv")
    proc = run_cli("validate", one, "--exclude", "invoice.csv", "--out", str(tmp_path / "c"))
    assert proc.returncode == 2 and f"{one}: unsupported format" in proc.stderr


def test_exclude_from_the_config_file(folder: Path, tmp_path: Path) -> None:
    (tmp_path / "auditor.toml").write_text('exclude = ["invoice.csv"]\n')
    proc = run_cli("audit", str(folder), "--out", str(tmp_path / "out"), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
