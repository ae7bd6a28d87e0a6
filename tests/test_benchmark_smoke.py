"""The scale benchmark cannot rot: benchmarks/run.py end to end at a small size.

At 10 k legs the floor, `auditor audit` and the pandas roll-up must agree with the generator on
every month's totals and the auditor must report exactly the planted discrepancies; in the PBX mode
(2 k trunk legs) the call-by-call matching must be exactly the planted cases. A negative control
shows the checks fail when the auditor's answer is off. No timing is asserted: the figures belong in
benchmarks/RESULTS.md, not in a test.
"""

from __future__ import annotations

import gzip
import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import polars as pl
import pytest
from conftest import ROOT, SAMPLES, top_level_imports

BENCH = ROOT / "benchmarks"


def load(name: str) -> ModuleType:
    """A benchmarks/ script as a module (benchmarks/ is not a package)."""
    key = f"benchmarks_{name}"
    if key not in sys.modules:
        spec = importlib.util.spec_from_file_location(key, BENCH / f"{name}.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[key] = module
        spec.loader.exec_module(module)
    return sys.modules[key]


def bench(tmp: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    """`python benchmarks/run.py ARGS --data tmp/data --keep --json tmp/report.json`."""
    cmd = [sys.executable, str(BENCH / "run.py"), *args, "--data", str(tmp / "data")]
    cmd += ["--keep", "--json", str(tmp / "report.json")]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    assert (tmp / "report.json").exists(), done.stdout + done.stderr
    return done, json.loads((tmp / "report.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def usage_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("bench")
    done, report = bench(tmp, "--legs", "10000")
    assert done.returncode == 0, done.stdout + done.stderr
    return tmp, report


def test_scripts_do_not_import_the_auditor() -> None:
    for script in ("generate", "run", "floor", "pandas_rollup"):
        assert "auditor" not in top_level_imports(BENCH / f"{script}.py"), script


def test_three_contestants_agree_and_the_planted_answer_is_found(
    usage_run: tuple[Path, dict[str, Any]],
) -> None:
    tmp, report = usage_run
    assert report["ok"]
    ran = {m["name"]: m for m in report["measurements"]}
    assert set(ran) == {"floor", "auditor", "pandas"}
    assert ran["auditor"]["exit_code"] == 1  # the planted discrepancies are unexplained
    assert all(m["wall_s"] > 0 and m["peak_rss_mib"] > 0 for m in ran.values())
    checks = {name: (passed, detail) for name, passed, detail in report["checks"]}
    for name in (
        "floor totals = generator",
        "auditor totals = generator",
        "pandas totals = generator",
        "auditor finds exactly the planted discrepancies",
        "pandas sees the planted count/minute differences only",
        "auditor rejects nothing",
    ):
        assert checks[name][0], (name, checks[name][1])
    assert checks["auditor finds exactly the planted discrepancies"][1] == "4 of 4 found"

    exp = json.loads((tmp / "data" / "expected.json").read_text(encoding="utf-8"))
    recon = pl.read_csv(next(tmp.glob("data.run-*")) / "audit" / "usage_reconciliation.csv")
    head = recon.filter(pl.col("headline") & (pl.col("status") == "unexplained"))
    assert sorted(head["category"]) == sorted(p["category"] for p in exp["planted"])
    billable = recon.filter(pl.col("parent_category").is_null())["billable_calls"].sum()
    assert billable == exp["totals"]["month"]["2025-01"]["billable_calls"]


def test_checks_fail_when_the_auditor_is_off(
    usage_run: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    """Negative control: one planted minute less, or one billable call lost, fails the run."""
    run = load("run")
    tmp, _ = usage_run
    exp = json.loads((tmp / "data" / "expected.json").read_text(encoding="utf-8"))
    out = tmp_path / "out"
    shutil.copytree(next(tmp.glob("data.run-*")), out)
    path = out / "audit" / "usage_reconciliation.csv"
    recon = pl.read_csv(path, infer_schema=False)
    minutes, calls = pl.col("unexplained_minutes"), pl.col("billable_calls")
    outbound, client = pl.col("category") == "calls-outbound", pl.col("category") == "calls-client"
    recon.with_columns(
        pl.when(outbound).then(pl.lit("6.000000")).otherwise(minutes).alias("unexplained_minutes"),
        pl.when(client).then((calls.cast(pl.Int64) - 1).cast(pl.String)).otherwise(calls),
    ).write_csv(path)
    report = run.Report(
        spec={}, auditor="", input="bulk", period="month", pbx=False, rows=0, data="",
        machine={}, date="",
    )  # fmt: skip
    run.check_usage(report, exp, out, {"auditor"})
    failed = {name for name, passed, _ in report.checks if not passed}
    assert failed == {
        "auditor totals = generator",
        "auditor finds exactly the planted discrepancies",
    }


def test_generated_files_have_the_sample_shapes(usage_run: tuple[Path, dict[str, Any]]) -> None:
    """Bulk Export lines carry the sample's fields, Parquet its column types; every status,
    direction and kind of party occurs; SIDs are unique."""
    data = usage_run[0] / "data"
    sample = next((SAMPLES / "bulk_export").glob("*.json.gz"))
    sample_fields = list(json.loads(gzip.decompress(sample.read_bytes()).splitlines()[0]))
    first = next((data / "bulk_export").glob("*.json.gz"))
    assert list(json.loads(gzip.decompress(first.read_bytes()).splitlines()[0])) == sample_fields
    sample_pq = pl.read_parquet_schema(next(SAMPLES.glob("calls_*.parquet")))
    assert pl.read_parquet_schema(data / "parquet" / "calls_2025-01.parquet") == sample_pq

    calls = pl.read_parquet(data / "parquet" / "calls_2025-01.parquet")
    assert calls.height == 10_000
    assert calls["sid"].n_unique() == calls.height
    assert calls["sid"].str.contains(r"^CA[0-9a-f]{32}$").all()
    assert set(calls["status"]) == {
        "completed", "busy", "no-answer", "failed", "canceled", "in-progress", "ringing", "queued",
    }  # fmt: skip
    assert set(calls["direction"]) == {
        "inbound", "outbound-api", "outbound-dial", "trunking-originating", "trunking-terminating",
    }  # fmt: skip
    parties = pl.concat([calls["from"], calls["to"]])
    assert parties.str.starts_with("client:").any() and parties.str.starts_with("sip:").any()
    assert calls["parent_call_sid"].is_in(calls["sid"].implode()).sum() > 1_000
    external = parties.filter(parties.str.starts_with("+") & ~parties.str.contains("555"))
    assert external.n_unique() > 5_000  # many distinct callers and callees
    assert (external.str.starts_with("+1").mean() or 0) > 0.9  # mostly NANP


def test_generator_is_deterministic(tmp_path: Path) -> None:
    gen = load("generate")
    spec = gen.Spec(legs=1_500, formats=("bulk", "parquet", "csv"), pbx=True, trunk_share=0.5)
    gen.generate(spec, tmp_path / "a")
    gen.generate(spec, tmp_path / "b")
    files = sorted(
        p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file()
    )
    assert len(files) > 30
    for rel in files:
        assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes(), rel


def test_pbx_mode_finds_the_planted_cases(tmp_path: Path) -> None:
    done, report = bench(tmp_path, "--legs", "2000", "--pbx")
    assert done.returncode == 0, done.stdout + done.stderr
    checks = {name: passed for name, passed, _ in report["checks"]}
    assert checks["auditor cdr_matching = planted"]
    assert checks["auditor finds exactly the planted PBX cases"]
    assert checks["floor reads every CDR line and leg"]
    exp = json.loads((tmp_path / "data" / "expected.json").read_text(encoding="utf-8"))
    matching = exp["pbx"]["cdr_matching"]
    assert matching["matched"] == 1_998 and matching["pbx_only"] == 3
    assert matching["twilio_only"] == 2 and matching["duration_mismatch"] == 3
