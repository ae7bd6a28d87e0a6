"""`--json` (one JSON document on stdout and nothing else: for `audit` exactly summary.json) and
`--quiet` (nothing on stdout; the exit code and the output folder tell the result)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import SAMPLES, run_cli

# Usage records and one page of call logs: a small audit with findings (exit 1).
INPUTS = (str(SAMPLES / "usage"), str(SAMPLES / "api_calls_2025-11_page0.json"))


@pytest.fixture(scope="module")
def audited(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    out = tmp_path_factory.mktemp("json") / "audit"
    return out, run_cli("audit", *INPUTS, "--out", str(out), "--json")


def test_audit_json_is_summary_json_byte_for_byte(audited: tuple[Path, object]) -> None:
    out, done = audited
    assert done.returncode == 1, done.stderr
    assert done.stderr == ""
    assert done.stdout == (out / "summary.json").read_text(encoding="utf-8")
    doc = json.loads(done.stdout)
    assert doc["exit_code"] == done.returncode
    assert doc["unexplained"]["price_by_currency"]  # money with its currency in it


def test_audit_json_with_quiet_still_prints_the_document(tmp_path: Path) -> None:
    out = tmp_path / "o"
    done = run_cli("audit", *INPUTS, "--out", str(out), "--json", "--quiet")
    assert json.loads(done.stdout) == json.loads((out / "summary.json").read_text())
    assert done.stderr == ""


def test_quiet_prints_nothing(tmp_path: Path) -> None:
    done = run_cli("audit", *INPUTS, "--out", str(tmp_path / "o"), "--quiet")
    assert (done.returncode, done.stdout, done.stderr) == (1, "", "")
    assert (tmp_path / "o" / "summary.json").is_file()


def test_quiet_still_reports_errors(tmp_path: Path) -> None:
    done = run_cli("audit", str(tmp_path / "missing"), "--out", str(tmp_path / "o"), "-q")
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.startswith("auditor: error: ")


def test_validate_json(tmp_path: Path) -> None:
    done = run_cli("validate", *INPUTS, "--out", str(tmp_path / "o"), "--json")
    assert done.returncode == 1, done.stderr  # page 0 holds a planted bad row
    doc = json.loads(done.stdout)
    assert list(doc) == ["inputs", "dst", "rejects", "exit_code"]
    assert doc["exit_code"] == 1
    assert doc["rejects"]["rows"] == 1
    # as summary.json's: rows, cells, and among the rows the repeats of a key
    assert list(doc["rejects"]) == ["rows", "cells", "duplicates", "conflicting_duplicates"]
    assert sum(f["rows_read"] for f in doc["inputs"]) == sum(
        f["rows_accepted"] + f["rows_rejected"] for f in doc["inputs"]
    )


def test_verify_json_and_quiet(audited: tuple[Path, object]) -> None:
    out, _ = audited
    done = run_cli("verify", str(out), "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    doc = json.loads(done.stdout)
    assert doc["command"] == "audit" and doc["exit_code"] == 0
    assert doc["counts"] == {"OK": len(doc["files"]), "changed": 0, "missing": 0}
    assert {f["status"] for f in doc["files"]} == {"OK"}
    quiet = run_cli("verify", str(out), "--quiet")
    assert (quiet.returncode, quiet.stdout, quiet.stderr) == (0, "", "")


def test_terminal_money_has_its_currency(tmp_path: Path) -> None:
    done = run_cli("audit", *INPUTS, "--out", str(tmp_path / "o"))
    sides = ("  billed above the logs:", "  billed below the logs:", "  net:")
    lines = [line for line in done.stdout.splitlines() if line.startswith(sides)]
    assert len(lines) == 3, done.stdout
    assert all(" USD" in line for line in lines)
