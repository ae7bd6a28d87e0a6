"""A key seen twice (issue 18, point 4): an identical repeat is `duplicate of FILE:ROW`, a repeat
whose canonical values differ is `conflicting duplicate of FILE:ROW (name KEPT vs THIS, ...)`,
counted apart in summary.json and on the terminal; between a final and a non-final call status
the final one is kept, whichever comes first, and the reason says so.

The fixtures (tests/fixtures/twilio/duplicate_*) are small enough to read by eye: the expected
reasons below are what their lines say, field by field."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from conftest import run_cli

from auditor.pipeline.engine import PartitionedEngine
from auditor.pipeline.ingest import ingest
from auditor.pipeline.options import IngestOptions
from auditor.pipeline.runner import THREADS

FIXTURES = Path(__file__).parent / "fixtures" / "twilio"
IDENTICAL = FIXTURES / "duplicate_identical.csv"
CONFLICTING = FIXTURES / "duplicate_conflicting.json"
IN_PROGRESS = FIXTURES / "duplicate_in_progress_then_completed.json"


def _validate(out: Path, *paths: Path) -> tuple[dict, pl.DataFrame, str]:
    """validate --json: its document, rejects.csv and the exit code checked (1: rejects)."""
    done = run_cli("validate", *map(str, paths), "--out", str(out), "--json")
    assert done.returncode == 1, done.stderr
    doc = json.loads(done.stdout)
    for f in doc["inputs"]:  # conservation
        assert f["rows_read"] == f["rows_accepted"] + f["rows_rejected"], f
    rejects = pl.read_csv(out / "rejects.csv", infer_schema=False)
    return doc, rejects, done.stdout


def test_identical_repeat_is_a_duplicate(tmp_path: Path) -> None:
    # line 4 repeats line 2 cell for cell
    doc, rejects, _ = _validate(tmp_path / "o", IDENTICAL)
    assert rejects.select("source_row", "column", "value", "reason").rows() == [
        ("4", "sid", "CA" + "0" * 31 + "1", f"duplicate of {IDENTICAL}:2")
    ]
    assert doc["rejects"] == {"rows": 1, "cells": 1, "duplicates": 1, "conflicting_duplicates": 0}
    [f] = doc["inputs"]
    assert (f["rows_read"], f["rows_accepted"], f["rows_rejected"]) == (3, 2, 1)


def test_conflicting_repeat_lists_each_differing_field(tmp_path: Path) -> None:
    # record 3 repeats record 1's SID as busy, 0 s, ending as it starts, priced 0
    doc, rejects, _ = _validate(tmp_path / "o", CONFLICTING)
    assert rejects.select("source_row", "reason").rows() == [
        (
            "3",
            f"conflicting duplicate of {CONFLICTING}:1 (status completed vs busy, "
            "end_time 2025-11-03T10:00:30Z vs 2025-11-03T10:00:00Z, duration 30 vs 0, "
            "price -0.0085 vs 0)",
        )
    ]
    assert doc["rejects"] == {"rows": 1, "cells": 1, "duplicates": 0, "conflicting_duplicates": 1}
    calls = pl.read_parquet(tmp_path / "o" / "calls.parquet")
    assert calls.select("source_row", "status").rows() == [(1, "completed"), (2, "completed")]


def test_final_status_is_kept_even_when_it_comes_second(tmp_path: Path) -> None:
    # record 1: the call in progress (no end, duration or price yet); record 2: it completed
    done = run_cli("validate", str(IN_PROGRESS), "--out", str(tmp_path / "o"))
    assert done.returncode == 1, done.stderr
    assert "1 row(s) rejected (of which 0 duplicate(s), 1 conflicting duplicate(s))" in done.stdout
    rejects = pl.read_csv(tmp_path / "o" / "rejects.csv", infer_schema=False)
    assert rejects.select("source_row", "reason").rows() == [
        (
            "1",
            f"conflicting duplicate of {IN_PROGRESS}:2 (status completed vs in-progress, "
            "end_time 2025-11-03T10:00:30Z vs (empty), duration 30 vs (empty), "
            "price -0.0085 vs (empty); kept the final status)",
        )
    ]
    calls = pl.read_parquet(tmp_path / "o" / "calls.parquet")
    assert calls.select("source_row", "status", "duration_s").rows() == [(2, "completed", 30)]


def test_final_status_first_is_kept_and_said(tmp_path: Path) -> None:
    doc = json.loads(IN_PROGRESS.read_text(encoding="utf-8"))
    doc["calls"].reverse()  # completed first, in-progress second
    path = tmp_path / "completed_then_in_progress.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    _, rejects, _ = _validate(tmp_path / "o", path)
    [(row, reason)] = rejects.select("source_row", "reason").rows()
    assert row == "2"
    assert reason.startswith(f"conflicting duplicate of {path}:1 (status completed vs in-progress")
    assert reason.endswith("; kept the final status)")


def test_audit_counts_conflicting_duplicates_apart(tmp_path: Path) -> None:
    out = tmp_path / "audit"
    account = ("--account", "AC" + "a" * 32)  # the Console CSV carries none
    done = run_cli("audit", str(IN_PROGRESS), str(IDENTICAL), *account, "--out", str(out))
    assert done.returncode == 1, done.stderr
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    # IN_PROGRESS record 1 (conflicting), IDENTICAL line 4 (identical)
    assert summary["rejects"] == {
        "rows": 2,
        "cells": 2,
        "duplicates": 1,
        "conflicting_duplicates": 1,
    }
    assert "2 input row(s) rejected (of which 1 duplicate(s), 1 conflicting duplicate(s))" in (
        done.stdout
    )


def test_a_field_another_format_does_not_carry_is_no_conflict(tmp_path: Path) -> None:
    """A Console CSV has no account SID: its repeat of a Calls page's call differs only there,
    so it is identical; one that differs in price is not."""
    doc = json.loads(CONFLICTING.read_text(encoding="utf-8"))
    doc["calls"] = doc["calls"][1:2]  # CA...2: as on line 3 of IDENTICAL, but for the price
    doc["calls"][0]["price"] = "-0.0280"  # now but for the account SID
    page = tmp_path / "page.json"
    page.write_text(json.dumps(doc), encoding="utf-8")
    _, rejects, _ = _validate(tmp_path / "o", page, IDENTICAL)
    reasons = dict(rejects.select("source_row", "reason").iter_rows())
    # IDENTICAL line 3 repeats the page's call (the page is read first: input order)
    assert reasons["3"] == f"duplicate of {page}:1"
    # line 4 repeats line 2 (same file, same values)
    assert reasons["4"] == f"duplicate of {IDENTICAL}:2"
    doc["calls"][0]["price"] = "-0.0171"
    page.write_text(json.dumps(doc), encoding="utf-8")
    _, rejects, _ = _validate(tmp_path / "o2", page, IDENTICAL)
    reasons = dict(rejects.select("source_row", "reason").iter_rows())
    assert reasons["3"] == f"conflicting duplicate of {page}:1 (price -0.0171 vs -0.028)"


@pytest.mark.parametrize("order", ["as given", "reversed"])
def test_partitioned_engine_gives_the_same_duplicates(order: str) -> None:
    """The Ray engine's duplicate search (per file, then per SID bucket, then the candidates'
    values per file), on this process's threads: the local engine's rejects and calls."""
    paths = [str(IDENTICAL), str(CONFLICTING), str(IN_PROGRESS)]
    if order == "reversed":
        paths.reverse()
    local = ingest(paths, IngestOptions())
    parts = ingest(paths, IngestOptions(), engine=PartitionedEngine(THREADS))
    assert parts.rejects.equals(local.rejects)
    assert parts.calls.collect().equals(local.calls.collect())
    # CA...1 is in IDENTICAL (twice) and in CONFLICTING (twice, once as busy)
    reasons = local.rejects.filter(pl.col("value") == "CA" + "0" * 31 + "1")["reason"]
    assert reasons.len() == 3
    assert sum(r.startswith("conflicting duplicate of") for r in reasons) >= 1
