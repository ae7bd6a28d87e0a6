"""The three shipped records formats on their samples (`sample_exports/records/`): every planted
case found, and nothing else; the generator rewrites the samples byte-identically; auditing
`sample_exports/` as a folder leaves the records out (they are read with --records only)."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
from conftest import SAMPLES, audit_samples, run_cli, top_level_imports

from auditor.ingest.files import expand_paths

RECORDS = SAMPLES / "records"
GENERATOR = RECORDS / "generate.py"
CLEAN = ""

# format -> (file, extra options, expected rows: (records line, call SID, match status, finding),
# expected rejects: (line, column, reason), summary.json `records`)
CASES = {
    "notification_log": (
        "notifications_2025-11.csv",
        (),
        {
            ("2", "CA4554c4a8655046b617f270f342a26eb6", "matched", CLEAN),
            ("", "CAbf154fa16475c16848e811aa0a5ddc77", "twilio-only", "twilio-only"),
            ("3", "CA43aa37de958f75da787e6f5a6f3c9793", "matched", "slow"),
            ("4", "CA235f2cd0621fc4d35802b5019b2a8734", "matched", "undelivered"),
            ("5", "CA013caec8d3c55ff1bafc79db63cd7fa9", "matched", "duration"),
            ("6", "CA117acdb48cd78e790fa2c0dd60a209c5", "matched", "machine-answered"),
            ("7", "CA9e2b7c41d05a4f6b8e3d2c1b0a987654", "records-only", "undelivered;records-only"),
            ("9", "", "ambiguous", "ambiguous"),
            ("10", "", "ambiguous", "ambiguous"),
            ("", "CA9d64b44ce3c7eb0cb8681e978629c363", "ambiguous", "ambiguous"),
            ("11", "CA23870baa8de0d54c6ff84ee754c0f7cb", "matched", "status"),
        },
        {(8, "sent_at", "unparseable time")},
        {
            "records": 9,
            "matched": 6,
            "records_only": 1,
            "twilio_only": 1,
            "ambiguous": 3,
            "undelivered": 2,
            "machine_answered": 1,
            "slow": 1,
            "duration": 1,
            "status": 1,
            "billed_minutes_at_stake": 1.0,
        },
    ),
    "salesforce_task": (
        "salesforce_tasks_2025-11.csv",
        ("--records-from", "+12125550101", "--records-direction", "outbound-api"),
        {
            ("2", "CAff8cefadf1c82d4643915e1fa3852acd", "matched", CLEAN),
            ("3", "CA5dcb3b99a94dd24b4c69d236283a548f", "matched", CLEAN),
            ("4", "CA73985c7ed2f33119d8417caaef7ffb9a", "matched", CLEAN),
            ("5", "CA7f48ca68d0a6ef55aef6a7f6f2e84e10", "matched", "duration"),
            ("6", "CA6bfcbf11b0d24acf68249fe000635c15", "matched", CLEAN),
            ("7", "CAf7c11626b53315a78b921a4f8067be3f", "matched", "undelivered"),
            ("8", "CA06e3e290693dacce1f339123482014fc", "matched", CLEAN),
            ("9", "CAe4f3dca1a39052e5224c36667dd5f525", "matched", "status"),
            ("11", "CAcff1b7642551b25ca7bcc439155ba9a7", "matched", CLEAN),
            ("12", "CAe31fb3ab31928c12da32cb60381f6f4d", "matched", CLEAN),
            ("13", "CAdfdc8ffa14c35576da11862a99f5ac97", "matched", "slow"),
            ("14", "", "records-only", "undelivered;records-only"),
            ("", "CA891ef0bb641e09f4f559f1519ab7faff", "twilio-only", "twilio-only"),
            ("15", "CA4ff1c381dd642eaeff4548ea7a1d536c", "matched", CLEAN),
        },
        {(10, "CallObject", "not a call SID")},
        {
            "records": 13,
            "matched": 12,
            "records_only": 1,
            "twilio_only": 1,
            "ambiguous": 0,
            "undelivered": 2,
            "machine_answered": 0,
            "slow": 1,
            "duration": 1,
            "status": 1,
            "billed_minutes_at_stake": 1.0,
        },
    ),
    "ai_agent_sessions": (
        "ai_sessions_2025-11.jsonl.gz",
        ("--records-direction", "outbound-api"),
        {
            ("1", "CA3795892a0714fecf9debc70fc55d07e5", "matched", "status"),
            ("2", "CA5bb3277d4bc5e3f3fccb03e84f0fe2fd", "matched", CLEAN),
            ("3", "CA5bb3277d4bc5e3f3fccb03e84f0fe2fd", "ambiguous", "ambiguous"),
            ("4", "CA3c8e48fe33b59761c5939df68e874127", "matched", "duration"),
            ("", "CAd2b1fcb3ba0e4e013b74e55a7e265e3b", "twilio-only", "twilio-only"),
            ("6", "CA0c1d2e3f405162738495a6b7c8d9e0f1", "records-only", "undelivered;records-only"),
            ("7", "CA5baec762b69a1699ae6e24b6d5242463", "matched", "machine-answered"),
            ("8", "CAa5e669cf09b2829e7ca313406f6e301d", "matched", CLEAN),
            ("10", "CAd1c48f066f0ebe1cff19a942c1e69547", "matched", "undelivered"),
            ("11", "CA7ef677f291c9a44eea2106155ece6d0f", "matched", "slow"),
        },
        {(5, "call_sid", "not a call SID"), (9, "session_end", "ends before it starts")},
        {
            "records": 9,
            "matched": 7,
            "records_only": 1,
            "twilio_only": 1,
            "ambiguous": 1,
            "undelivered": 2,
            "machine_answered": 1,
            "slow": 1,
            "duration": 1,
            "status": 1,
            "billed_minutes_at_stake": 3.0,
        },
    ),
}


@pytest.fixture(scope="module", params=list(CASES))
def sample_run(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    name = request.param
    file, extra, *_ = CASES[name]
    out = tmp_path_factory.mktemp(name) / "audit"
    path = f"sample_exports/records/{file}"
    done = audit_samples(out, "--records", path, "--records-format", name, *extra)
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    assert done.returncode == 1, done.stderr
    return name, path, out, done


def test_every_planted_case_and_nothing_else(sample_run) -> None:
    name, _, out, _ = sample_run
    with (out / "records_matches.csv").open(newline="", encoding="utf-8") as fh:
        found = {
            (r["records_source_row"], r["call_sid"], r["match_status"], r["finding"])
            for r in csv.DictReader(fh)
        }
    assert found == CASES[name][2]


def test_bad_records_are_rejected_with_line_and_column(sample_run) -> None:
    name, path, out, _ = sample_run
    with (out / "rejects.csv").open(newline="", encoding="utf-8") as fh:
        mine = [r for r in csv.DictReader(fh) if r["source_file"] == path]
    got = {(int(r["source_row"]), r["column"]) for r in mine}
    assert got == {(row, column) for row, column, _ in CASES[name][3]}
    for row, column, reason in CASES[name][3]:
        [r] = [r for r in mine if (int(r["source_row"]), r["column"]) == (row, column)]
        assert reason in r["reason"]


def test_summary_counts_and_conservation(sample_run) -> None:
    name, path, out, done = sample_run
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["records"] == CASES[name][4]
    [inp] = [i for i in summary["inputs"] if i["file"] == path]
    assert inp["kind"] == "records"
    assert inp["rows_read"] == inp["rows_accepted"] + inp["rows_rejected"]
    assert inp["rows_accepted"] == CASES[name][4]["records"]
    assert inp["rows_rejected"] == len({row for row, _, _ in CASES[name][3]})
    assert "Your records vs Twilio" in done.stdout


def test_the_samples_regenerate_byte_identically(tmp_path: Path) -> None:
    assert "auditor" not in top_level_imports(GENERATOR)
    done = subprocess.run(
        [sys.executable, str(GENERATOR), "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    made = sorted(p.name for p in tmp_path.iterdir())
    committed = sorted(
        p.name for p in RECORDS.iterdir() if p.is_file() and p.suffix not in (".py", ".md")
    )
    assert made == committed
    for name in made:
        assert (tmp_path / name).read_bytes() == (RECORDS / name).read_bytes(), name


def test_auditing_the_sample_folder_leaves_the_records_out() -> None:
    names = [str(f.path) for f in expand_paths([str(SAMPLES)])]
    assert names and not any("/records/" in n for n in names)
    assert (RECORDS / ".auditor-skip").is_file()
    # named on its own, the folder is read (as --records does)
    assert {Path(f.path).name for f in expand_paths([str(RECORDS)])} == {
        "notifications_2025-11.csv",
        "salesforce_tasks_2025-11.csv",
        "ai_sessions_2025-11.jsonl.gz",
    }


def test_validate_reads_and_checks_records_too(tmp_path: Path) -> None:
    """`validate --records`: the records are read under their format and checked like any
    input: records.parquet holds the accepted ones, rejects.csv the others (file, row,
    column), the manifest hashes the records file; nothing is matched."""
    path = RECORDS / "notifications_2025-11.csv"
    out = tmp_path / "o"
    proc = run_cli(
        "validate", str(SAMPLES / "api_calls_2025-11_page0.json"), "--out", str(out),
        "--records", str(path), "--records-format", "notification_log", "--json",
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(proc.stdout)
    report = next(f for f in doc["inputs"] if f["kind"] == "records")
    assert report["file"] == str(path)
    assert report["rows_read"] == report["rows_accepted"] + report["rows_rejected"]
    with path.open(newline="", encoding="utf-8") as fh:
        assert report["rows_read"] == sum(1 for _ in csv.DictReader(fh))
    assert pl.read_parquet(out / "records.parquet").height == report["rows_accepted"]
    rejects = pl.read_csv(out / "rejects.csv", infer_schema=False)
    mine = rejects.filter(pl.col("source_file") == str(path))
    assert mine.select("source_row").unique().height == report["rows_rejected"] > 0
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert {"path": str(path), "kind": "records"}.items() <= next(
        i for i in manifest["inputs"] if i["kind"] == "records"
    ).items()
    alone = run_cli("validate", str(path), "--out", str(tmp_path / "x"), "--records", str(path))
    assert alone.returncode == 2
    assert alone.stderr.splitlines() == [
        "auditor: error: --records needs --records-format FORMAT (a shipped name or a file)"
    ]
