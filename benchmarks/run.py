#!/usr/bin/env python3
"""Benchmark `auditor audit` against the floor and a plain pandas script, on the same files, and
check that all of them give the same answer.

One run: generate (or reuse) a seeded account with `generate.py`, then time three contestants,
each in its own process, measuring wall time and the peak RSS of its whole process tree (psutil,
polled every 50 ms, and the kernel's own peak for the process when it ends):

- floor: `floor.py`, a bare polars script (explicit schema, UTC start -> period, billed minutes
  by the 60/60 rule, one Parquet row per call, streaming: `scan_*` + `sink_parquet`);
- auditor: `auditor audit CALLS USAGE --out ...` through its command line (it exits 1 because
  the planted discrepancies are unexplained: that is the expected answer);
- pandas: `pandas_rollup.py`, the roll-up of logs vs usage per category and period a user would
  otherwise write.

Checks (run.py exits 1 if any fails): the three agree with the generator on the billable calls
and billed minutes of every period; the auditor's headline `unexplained` rows of
`usage_reconciliation.csv` are exactly the planted discrepancies, with their figures; it rejected
nothing; pandas sees the planted count and minute differences and no others.

`--pbx`: an account whose calls all cross the SIP trunk, with an Asterisk Master.csv (one PBX call
per trunk leg): `auditor audit CALLS pbx/asterisk` against the floor reading both inputs; checks
that summary.json's `cdr_matching` and the non-matched / mismatched rows of `cdr_matches.csv` are
exactly the planted cases. pandas does not take part.

`--records`: your own records of the calls, one CRM record per leg (`records/calls.csv`, about 10 %
without the CallSid), against the legs: `auditor audit CALLS --records records/calls.csv
--records-format records/format.toml` beside the floor reading the legs; checks that summary.json's
`records` and the rows of `records_matches.csv` with a finding are exactly the planted cases.
pandas does not take part.

Data go to benchmarks/data/<spec>/ (git-ignored) and are reused by a later run with the same
spec; a folder this run made is deleted at the end unless `--keep` (outputs likewise).
`--repeat K` runs each contestant K times, interleaved (fastest wall time, largest peak);
`--timeout` / `--max-rss-gib` kill a contestant's tree past those bounds (the run then fails);
`--auditor-src DIR` measures the `auditor` package found in DIR, e.g. a snapshot of an older
commit (`git archive COMMIT auditor | tar -x -C DIR`), for before/after figures. `--ray` also
times `auditor audit --engine ray` (a local Ray with the machine's cores, started by the run) and
checks that its outputs are the local engine's byte for byte.

Usage: python benchmarks/run.py [--legs N] [--months M] [--input bulk|parquet|csv] [--pbx]
       [--records] [--period month|day] [--keep] [--json FILE] [--skip pandas,...] [--repeat K]
       [--timeout S] [--max-rss-gib G] [--auditor-src DIR] [--ray]
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any

import polars as pl
import psutil

HERE = Path(__file__).resolve().parent


def _load_generate() -> ModuleType:
    """benchmarks/generate.py as a module (benchmarks/ is not a package; no sys.path change)."""
    name = "benchmarks_generate"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, HERE / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the file runs
    spec.loader.exec_module(module)
    return module


generate = _load_generate()

POLL_S = 0.05
CALL_DIRS = {"bulk": "bulk_export", "parquet": "parquet", "csv": "csv"}
TOP_LEVEL = ("calls", "calls-client", "calls-sip", "trunking-origination", "trunking-termination")


@dataclass
class Run:
    """One process run: its wall time, peak RSS, exit, and the 1-minute load average before it
    started (other work on the machine shows there)."""

    wall_s: float
    peak_rss_mib: float
    exit_code: int
    load_before: float
    timed_out: bool = False
    over_memory: bool = False


@dataclass
class Measurement:
    """One contestant over its `--repeat` runs: the fastest wall time (the least disturbed by
    other work), the largest peak RSS."""

    name: str
    command: list[str]
    log: str
    runs: list[Run] = field(default_factory=list)
    wall_s: float = 0.0
    peak_rss_mib: float = 0.0
    exit_code: int | None = None
    timed_out: bool = False
    over_memory: bool = False

    def add(self, run: Run) -> None:
        self.runs.append(run)
        self.wall_s = min(r.wall_s for r in self.runs)
        self.peak_rss_mib = max(r.peak_rss_mib for r in self.runs)
        self.exit_code = run.exit_code if self.exit_code in (None, run.exit_code) else -1
        self.timed_out |= run.timed_out
        self.over_memory |= run.over_memory


@dataclass
class Report:
    """Everything a run measured and checked (`--json` writes it)."""

    spec: dict[str, Any]
    auditor: str
    input: str
    period: str
    pbx: bool
    rows: int
    data: str
    machine: dict[str, Any]
    date: str
    measurements: list[Measurement] = field(default_factory=list)
    checks: list[tuple[str, bool, str]] = field(default_factory=list)
    generate_s: float | None = None
    records: bool = False  # --records: own records vs legs

    @property
    def ok(self) -> bool:
        return all(passed for _, passed, _ in self.checks)

    def check(self, name: str, passed: bool, detail: str = "") -> None:
        self.checks.append((name, passed, detail))


# Measuring ---------------------------------------------------------------------------------------
def _tree_rss(proc: psutil.Process) -> int:
    """RSS of a process and all its descendants, in bytes (0 for any that just ended)."""
    total = 0
    try:
        members = [proc, *proc.children(recursive=True)]
    except (psutil.NoSuchProcess, psutil.ZombieProcess):
        return 0
    for p in members:
        with contextlib.suppress(psutil.NoSuchProcess, psutil.ZombieProcess, psutil.AccessDenied):
            total += p.memory_info().rss
    return total


def _kill_tree(proc: psutil.Process) -> None:
    try:
        members = [*proc.children(recursive=True), proc]
    except psutil.NoSuchProcess:
        return
    for p in members:
        with contextlib.suppress(psutil.NoSuchProcess):
            p.kill()


def measure(
    command: list[str],
    log: Path,
    timeout_s: float | None,
    max_rss_gib: float | None,
    env: dict[str, str] | None = None,
) -> Run:
    """Run `command`, polling its process tree's RSS; wall time from start to exit. The tree is
    killed past `timeout_s` or `max_rss_gib` (so a doomed run cannot take the machine down)."""
    m = Run(0.0, 0.0, 0, os.getloadavg()[0])
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as out:
        t0 = time.perf_counter()
        child = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
        proc = psutil.Process(child.pid)
        peak = 0
        while True:
            pid, status, usage = os.wait4(child.pid, os.WNOHANG)
            if pid:
                break
            peak = max(peak, _tree_rss(proc))
            if timeout_s and time.perf_counter() - t0 > timeout_s and not m.timed_out:
                m.timed_out = True
                _kill_tree(proc)
            if max_rss_gib and peak > max_rss_gib * 2**30 and not m.over_memory:
                m.over_memory = True
                _kill_tree(proc)
            time.sleep(POLL_S)
        m.wall_s = time.perf_counter() - t0
    child.returncode = m.exit_code = os.waitstatus_to_exitcode(status)  # reaped: tell Popen
    # ru_maxrss (KiB): the largest single process of the tree, sampled by the kernel.
    m.peak_rss_mib = max(peak, usage.ru_maxrss * 1024) / 2**20
    return m


def machine() -> dict[str, Any]:
    return {
        "cpus": os.cpu_count(),
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "polars": pl.__version__,
    }


# Data --------------------------------------------------------------------------------------------
def spec_for(args: argparse.Namespace) -> generate.Spec:
    formats = ["bulk", "parquet"] + (["csv"] if args.input == "csv" else [])
    return generate.Spec(
        legs=args.legs,
        months=args.months,
        start=args.start,
        seed=args.seed,
        trunk_share=1.0 if args.pbx else args.trunk_share,
        formats=tuple(formats),
        pbx=args.pbx,
        pbx_tz=args.pbx_tz,
        records=args.records,
    )


def reusable(folder: Path, spec: generate.Spec) -> dict[str, Any] | None:
    """The folder's expected.json if it was generated from `spec` (formats: at least these)."""
    try:
        exp = json.loads((folder / "expected.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    made = dict(exp.get("generator", {}))
    if exp.get("schema_version") != generate.SCHEMA_VERSION:
        return None
    want = spec.as_dict()
    have_formats = set(made.pop("formats", []))
    made.pop("command", None)
    if not set(want.pop("formats")) <= have_formats or made != want:
        return None
    return exp


def ensure_data(folder: Path, spec: generate.Spec, report: Report) -> tuple[dict[str, Any], bool]:
    """(expected.json, made now): reuse a matching folder, else generate it in a subprocess."""
    exp = reusable(folder, spec)
    if exp is not None:
        print(f"reusing {folder}")
        return exp, False
    cmd = [sys.executable, str(HERE / "generate.py"), "--legs", str(spec.legs)]
    cmd += ["--months", str(spec.months), "--start", spec.start, "--seed", str(spec.seed)]
    cmd += ["--formats", ",".join(spec.formats), "--trunk-share", str(spec.trunk_share)]
    cmd += ["--pbx-tz", spec.pbx_tz, "--out", str(folder)] + (["--pbx"] if spec.pbx else [])
    cmd += ["--records"] if spec.records else []
    print(f"generating {spec.legs:,} legs into {folder} ...", flush=True)
    t0 = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"generate.py failed:\n{done.stderr}")
    report.generate_s = time.perf_counter() - t0
    print(f"generated in {report.generate_s:.1f} s")
    return json.loads((folder / "expected.json").read_text(encoding="utf-8")), True


# Contestants -------------------------------------------------------------------------------------
def auditor_command(src: Path | None) -> list[str]:
    """The installed `auditor` script, or `python -m auditor` run from a source tree `src` (a
    snapshot of another commit: see `auditor_env`)."""
    script = Path(sys.executable).with_name("auditor")
    if src is None and script.exists():
        return [str(script)]
    return [sys.executable, "-P", "-m", "auditor"]  # -P: the working folder is not on sys.path


def auditor_env(src: Path | None) -> dict[str, str] | None:
    """With `--auditor-src DIR`, DIR (holding an `auditor/` package) comes first on PYTHONPATH."""
    if src is None:
        return None
    if not (src / "auditor" / "__main__.py").exists():
        raise SystemExit(f"--auditor-src {src}: no auditor/__main__.py there")
    return os.environ | {
        "PYTHONPATH": os.pathsep.join([str(src), os.environ.get("PYTHONPATH", "")])
    }


def commands(args: argparse.Namespace, data: Path, out: Path) -> dict[str, list[str]]:
    calls = str(data / CALL_DIRS[args.input])
    usage = str(data / "usage" / ("monthly" if args.period == "month" else "daily"))
    py = sys.executable
    floor = [py, str(HERE / "floor.py"), "--calls", calls, "--input", args.input]
    floor += ["--out", str(out / "floor"), "--period", args.period]
    if args.pbx:
        pbx = data / "pbx" / "asterisk"
        floor += ["--pbx", str(pbx / "Master.csv"), "--pbx-tz", args.pbx_tz]
        audit = [*auditor_command(args.auditor_src), "audit", calls, str(pbx)]
        audit += ["--out", str(out / "audit")]
        return {"floor": floor, "auditor": [*audit, "--pbx-tz", args.pbx_tz]}
    if args.records:
        own = data / "records"
        audit = [*auditor_command(args.auditor_src), "audit", calls, "--out", str(out / "audit")]
        audit += ["--records", str(own / "calls.csv"), "--records-format", str(own / "format.toml")]
        return {"floor": floor, "auditor": audit}
    audit = [*auditor_command(args.auditor_src), "audit", calls, usage, "--out", str(out / "audit")]
    audit += ["--period", args.period]
    rollup = [py, str(HERE / "pandas_rollup.py"), "--calls", calls, "--input", args.input]
    rollup += ["--usage", usage, "--period", args.period, "--out", str(out / "pandas.csv")]
    todo = {"floor": floor, "auditor": audit, "pandas": rollup}
    if args.ray:  # the same audit as Ray tasks on a local Ray (started by the run itself)
        ray = [*auditor_command(args.auditor_src), "audit", calls, usage, "--out"]
        ray += [str(out / "audit-ray"), "--period", args.period, "--engine", "ray"]
        todo["auditor-ray"] = ray
    return todo


def check_same_as_local(report: Report, out: Path, ran: set[str]) -> None:
    """`--ray`: the Ray engine's outputs are the local engine's, byte for byte (summary.json
    but for its `engine` key; manifest.json names the options)."""
    if not {"auditor", "auditor-ray"} <= ran:
        return
    local, ray = out / "audit", out / "audit-ray"
    differ = []
    for path in sorted(local.iterdir()):
        if path.name == "manifest.json":
            continue
        a, b = path.read_bytes(), (ray / path.name).read_bytes()
        if path.name == "summary.json":
            a = a.replace(b'"engine": "local"', b'"engine": "ray"')
        if a != b:
            differ.append(path.name)
    report.check("auditor-ray outputs = auditor outputs", not differ, ", ".join(differ) or "all")


# Checks ------------------------------------------------------------------------------------------
Totals = dict[str, tuple[int, int]]  # period -> (billable calls, billed minutes)


def expected_totals(exp: dict[str, Any], period: str) -> Totals:
    return {p: (t["billable_calls"], t["billed_minutes"]) for p, t in exp["totals"][period].items()}


def floor_totals(out: Path) -> Totals:
    agg = (
        pl.scan_parquet(out / "floor" / "floor_calls.parquet")
        .group_by("period")
        .agg(pl.col("billable").sum(), pl.col("billed_minutes").sum())
        .collect()
    )
    return {r[0]: (int(r[1]), int(r[2])) for r in agg.iter_rows() if r[0] is not None}


def reconciliation(out: Path) -> pl.DataFrame:
    return pl.read_csv(out / "audit" / "usage_reconciliation.csv", infer_schema=False)


def auditor_totals(recon: pl.DataFrame) -> Totals:
    """Sum of the top-level categories' logged billable calls and expected minutes per period."""
    agg = (
        recon.filter(pl.col("category").is_in(TOP_LEVEL))
        .group_by("period")
        .agg(
            pl.col("billable_calls").cast(pl.Int64).sum(),
            pl.col("expected_minutes").cast(pl.Float64).sum(),
        )
    )
    return {r[0]: (int(r[1]), round(r[2])) for r in agg.iter_rows()}


def pandas_totals(out: Path) -> Totals:
    df = pl.read_csv(out / "pandas.csv")
    agg = df.group_by("period").agg(pl.col("billable_calls").sum(), pl.col("billed_minutes").sum())
    return {str(r[0]): (round(r[1]), round(r[2])) for r in agg.iter_rows()}


Finding = tuple[str, str, int, Decimal, Decimal]  # period, category, count, minutes, price


def auditor_findings(recon: pl.DataFrame) -> set[Finding]:
    """The headline `unexplained` rows: the finest level compared, each difference once."""
    rows = recon.filter((pl.col("headline") == "true") & (pl.col("status") == "unexplained"))
    return {
        (
            r["period"],
            r["category"],
            int(r["unexplained_count"]),
            Decimal(r["unexplained_minutes"]).normalize(),
            Decimal(r["unexplained_price"]).normalize(),
        )
        for r in rows.iter_rows(named=True)
    }


def planted_findings(exp: dict[str, Any], period: str) -> set[Finding]:
    return {
        (
            r["period"],
            r["category"],
            int(r["count"]),
            Decimal(r["minutes"]).normalize(),
            Decimal(r["price"]).normalize(),
        )
        for r in exp["expected_unexplained"][period]
    }


def pandas_findings(out: Path) -> set[tuple[str, str, int, int]]:
    """Rows where pandas sees a count or minutes difference (its price differences include
    legs whose price is still pending, which it cannot tell apart)."""
    df = pl.read_csv(out / "pandas.csv").filter(
        (pl.col("diff_count") != 0) | (pl.col("diff_minutes") != 0)
    )
    return {
        (str(r["period"]), r["category"], round(r["diff_count"]), round(r["diff_minutes"]))
        for r in df.iter_rows(named=True)
    }


def check_usage(report: Report, exp: dict[str, Any], out: Path, ran: set[str]) -> None:
    period = report.period
    want = expected_totals(exp, period)
    if "floor" in ran:
        got = floor_totals(out)
        report.check("floor totals = generator", got == want, _diff(want, got))
    if "auditor" in ran:
        recon = reconciliation(out)
        got = auditor_totals(recon)
        report.check("auditor totals = generator", got == want, _diff(want, got))
        found, planted = auditor_findings(recon), planted_findings(exp, period)
        detail = f"{len(found & planted)} of {len(planted)} found"
        if found != planted:
            detail += f"; missed {sorted(planted - found)}; extra {sorted(found - planted)}"
        report.check("auditor finds exactly the planted discrepancies", found == planted, detail)
        summary = json.loads((out / "audit" / "summary.json").read_text(encoding="utf-8"))
        rejected = summary["rejects"]["rows"]
        report.check("auditor rejects nothing", rejected == 0, f"{rejected} row(s) rejected")
    if "pandas" in ran:
        got = pandas_totals(out)
        report.check("pandas totals = generator", got == want, _diff(want, got))
        seen = pandas_findings(out)
        planted_cm = {
            (r["period"], r["category"], r["count"], r["minutes"])
            for r in exp["expected_unexplained"][period]
            if r["count"] or r["minutes"]
        }
        report.check(
            "pandas sees the planted count/minute differences only",
            seen == planted_cm,
            f"saw {sorted(seen)}",
        )


def check_pbx(report: Report, exp: dict[str, Any], out: Path, ran: set[str]) -> None:
    pbx = exp["pbx"]
    if "floor" in ran:
        lines = pl.scan_parquet(out / "floor" / "floor_cdrs.parquet").select(pl.len()).collect()
        legs = pl.scan_parquet(out / "floor" / "floor_calls.parquet").select(pl.len()).collect()
        got = (lines.item(), legs.item())
        want = (pbx["lines"], exp["legs"])
        report.check("floor reads every CDR line and leg", got == want, f"{got} vs {want}")
    if "auditor" not in ran:
        return
    summary = json.loads((out / "audit" / "summary.json").read_text(encoding="utf-8"))
    got_summary = summary.get("cdr_matching")
    report.check(
        "auditor cdr_matching = planted",
        got_summary == pbx["cdr_matching"],
        f"got {got_summary}, want {pbx['cdr_matching']}",
    )
    rows = pl.read_csv(out / "audit" / "cdr_matches.csv", infer_schema=False).filter(
        ~pl.col("match_status").is_in(["matched", "internal"]) | pl.col("mismatch").is_not_null()
    )
    found = {
        (r["match_status"], r["mismatch"], r["call_sid"], r["pbx_source_rows"])
        for r in rows.iter_rows(named=True)
    }
    planted = {
        (c["match_status"], c["mismatch"], c["call_sid"], c["pbx_source_rows"])
        for c in pbx["planted"]
    }
    detail = f"{len(found & planted)} of {len(planted)}"
    if found != planted:
        detail += (
            f"; missed {sorted(planted - found, key=str)}; extra {sorted(found - planted, key=str)}"
        )
    report.check("auditor finds exactly the planted PBX cases", found == planted, detail)
    rejected = summary["rejects"]["rows"]
    report.check("auditor rejects nothing", rejected == 0, f"{rejected} row(s) rejected")


def check_records(report: Report, exp: dict[str, Any], out: Path, ran: set[str]) -> None:
    """The auditor's `records` summary and its rows with a finding are the planted ones."""
    own = exp["records"]
    if "auditor" not in ran:
        return
    summary = json.loads((out / "audit" / "summary.json").read_text(encoding="utf-8"))
    got_summary = summary.get("records")
    report.check(
        "auditor records = planted",
        got_summary == own["summary"],
        f"got {got_summary}, want {own['summary']}",
    )
    rows = (
        pl.scan_csv(out / "audit" / "records_matches.csv", infer_schema=False)
        .filter(pl.col("finding").is_not_null())
        .select("records_source_row", "call_sid", "match_status", "finding")
        .collect()
    )
    found = {(int(r[0]) if r[0] else None, r[1], r[2], r[3]) for r in rows.iter_rows()}
    planted = {
        (c["records_source_row"], c["call_sid"], c["match_status"], c["finding"])
        for c in own["planted"]
    }
    detail = f"{len(found & planted)} of {len(planted)}"
    if found != planted:
        detail += (
            f"; missed {sorted(planted - found, key=str)[:5]}; "
            f"extra {sorted(found - planted, key=str)[:5]}"
        )
    report.check("auditor finds exactly the planted record cases", found == planted, detail)
    rejected = summary["rejects"]["rows"]
    report.check("auditor rejects nothing", rejected == 0, f"{rejected} row(s) rejected")


def _diff(want: Totals, got: Totals) -> str:
    bad = {
        p: (want.get(p), got.get(p))
        for p in sorted(set(want) | set(got))
        if want.get(p) != got.get(p)
    }
    if not bad:
        return f"{len(want)} period(s), {sum(v[0] for v in want.values()):,} billable calls"
    return "differ (want, got): " + "; ".join(
        f"{p}: {w} vs {g}" for p, (w, g) in list(bad.items())[:5]
    )


# Printing ----------------------------------------------------------------------------------------
LABELS = {
    "floor": "floor (polars, streaming)",
    "auditor": "auditor audit",
    "auditor-ray": "auditor audit --engine ray",
    "pandas": "pandas roll-up",
}


def table(report: Report) -> str:
    by = {m.name: m for m in report.measurements}
    floor = by.get("floor")
    head = f"{'contestant':<27}{'wall s':>9}{'rows/s':>12}{'peak MiB':>10}"
    head += f"{'x floor t':>11}{'x floor mem':>13}{'runs':>6}{'load':>6}"
    lines = [head, "-" * len(head)]
    for m in report.measurements:
        if m.timed_out or m.over_memory:
            why = "timeout" if m.timed_out else f"over {m.peak_rss_mib:,.0f} MiB"
            lines.append(f"{LABELS[m.name]:<27}  killed at {m.wall_s:.0f} s: {why}")
            continue
        ratio_t = ratio_m = "-"
        if floor and m is not floor and floor.wall_s and floor.exit_code == 0:
            ratio_t = f"{m.wall_s / floor.wall_s:.1f}x"
            ratio_m = f"{m.peak_rss_mib / floor.peak_rss_mib:.1f}x"
        rate = report.rows / m.wall_s if m.wall_s else 0
        load = max(r.load_before for r in m.runs)
        lines.append(
            f"{LABELS[m.name]:<27}{m.wall_s:>9.2f}{rate:>12,.0f}{m.peak_rss_mib:>10,.0f}"
            f"{ratio_t:>11}{ratio_m:>13}{len(m.runs):>6}{load:>6.1f}"
        )
    return "\n".join(lines)


def print_report(report: Report) -> None:
    spec = report.spec
    what = f"{spec['legs']:,} legs, {spec['months']} month(s) from {spec['start']}"
    mode = "PBX CDRs vs trunk legs" if report.pbx else f"logs vs usage per {report.period}"
    mode = "own records vs legs" if report.records else mode
    print(f"\n{what}; input {report.input}; {mode}; rows = {report.rows:,}")
    box = report.machine
    print(f"machine: {box['cpus']} cores, {box['memory_gib']} GiB; {report.date}")
    print(f"auditor: {report.auditor}")
    print(table(report))
    print("(wall: fastest run; peak: largest; load: highest 1-min load average before a run)\n")
    for name, passed, detail in report.checks:
        print(f"{'ok  ' if passed else 'FAIL'} {name}: {detail}")
    print("all checks passed" if report.ok else "SOME CHECKS FAILED")


# Main --------------------------------------------------------------------------------------------
def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--legs", type=int, default=1_000_000)
    ap.add_argument("--months", type=int, default=1)
    ap.add_argument("--start", default="2025-01")
    ap.add_argument("--seed", type=int, default=20250101)
    ap.add_argument("--input", choices=tuple(CALL_DIRS), default="bulk")
    ap.add_argument("--period", choices=("month", "day"), default="month")
    ap.add_argument("--pbx", action="store_true", help="PBX CDRs vs trunk legs instead")
    ap.add_argument("--records", action="store_true", help="your own records vs legs instead")
    ap.add_argument("--pbx-tz", default="America/New_York")
    ap.add_argument("--trunk-share", type=float, default=0.2)
    ap.add_argument("--data", type=Path, help="data folder (default benchmarks/data/<spec>)")
    ap.add_argument("--keep", action="store_true", help="keep generated data and outputs")
    ap.add_argument("--skip", default="", help="contestants to leave out: floor,auditor,pandas")
    ap.add_argument("--timeout", type=float, default=0, help="seconds per contestant (0: none)")
    ap.add_argument("--max-rss-gib", type=float, default=0, help="kill a tree above (0: none)")
    ap.add_argument("--repeat", type=int, default=1, help="runs per contestant (fastest wins)")
    ap.add_argument(
        "--auditor-src", type=Path, help="run the auditor package found in DIR (e.g. a snapshot)"
    )
    ap.add_argument("--json", type=Path, help="also write the report as JSON here")
    ap.add_argument(
        "--ray", action="store_true", help="also time `--engine ray` (a local Ray; needs [ray])"
    )
    return ap.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    spec = spec_for(args)
    data = args.data or generate.default_out(spec)
    suffix = f"{args.input}-{args.period}" + ("-pbx" if args.pbx else "")
    suffix += "-records" if args.records else ""
    out = data.parent / f"{data.name}.run-{suffix}"
    report = Report(
        spec=spec.as_dict(),
        auditor=str(args.auditor_src or "installed"),
        input=args.input,
        period=args.period,
        pbx=args.pbx,
        rows=0,
        records=args.records,
        data=str(data),
        machine=machine(),
        date=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    )
    exp, made = ensure_data(data, spec, report)
    report.rows = exp["legs"] + (exp["pbx"]["lines"] if args.pbx else 0)
    report.rows += exp["records"]["records"] if args.records else 0
    if out.exists():
        shutil.rmtree(out)
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    ran: set[str] = set()
    todo = {n: c for n, c in commands(args, data, out).items() if n not in skip}
    try:
        for name, cmd in todo.items():
            report.measurements.append(Measurement(name, cmd, str(out / f"{name}.log")))
        for round_ in range(args.repeat):  # rounds interleave, so a disturbance hits all alike
            for m in report.measurements:
                if m.timed_out or m.over_memory:
                    continue
                print(f"running {m.name} ({round_ + 1}/{args.repeat}) ...", flush=True)
                is_auditor = m.name.startswith("auditor")
                env = auditor_env(args.auditor_src) if is_auditor else None
                if is_auditor:  # it refuses a non-empty --out (a --repeat run)
                    shutil.rmtree(out / m.name.replace("auditor", "audit"), ignore_errors=True)
                m.add(measure(m.command, Path(m.log), args.timeout or None, args.max_rss_gib, env))
        for m in report.measurements:
            name = m.name
            expected_codes = {1} if name.startswith("auditor") else {0}
            if m.timed_out or m.over_memory:
                limit = f"{args.timeout:g} s" if m.timed_out else f"{args.max_rss_gib:g} GiB"
                report.check(f"{name} finishes within {limit}", False, "killed")
                continue
            report.check(
                f"{name} exit code",
                m.exit_code in expected_codes,
                f"{m.exit_code} (expected {sorted(expected_codes)}); log {m.log}",
            )
            if m.exit_code in expected_codes:
                ran.add(name)
        check = check_records if args.records else check_pbx if args.pbx else check_usage
        check(report, exp, out, ran)
        check_same_as_local(report, out, ran)
        print_report(report)
        if args.json:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            payload = asdict(report) | {"ok": report.ok}
            args.json.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    finally:
        if not args.keep:
            shutil.rmtree(out, ignore_errors=True)
            if made:
                shutil.rmtree(data, ignore_errors=True)
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
