"""Audit throughput on synthetic Bulk Export day files, beside a baseline in the same run.

Baseline: polars reading the same gzipped JSON lines with no validation (the floor any reader
pays). Figures: wall seconds and peak RSS for `auditor audit` on N calls (default 1,000,000).

    python benchmarks/bench_audit.py [--calls N] [--keep DIR]
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ACCOUNT = "AC" + "b" * 32
STATUSES = ["completed"] * 8 + ["busy", "no-answer", "failed", "canceled"]


def make_inputs(folder: Path, calls: int, seed: int = 7) -> None:
    """One gzipped JSON-lines file per UTC day of November 2025, and a monthly usage page."""
    rng = random.Random(seed)
    start = datetime(2025, 11, 1, tzinfo=UTC)
    per_day = calls // 30
    billed = {"calls-outbound": [0, 0], "calls-inbound-local": [0, 0]}
    for day in range(30):
        lines = []
        for i in range(per_day):
            n = day * per_day + i
            t = start + timedelta(days=day, seconds=rng.randrange(86_000))
            dur = rng.randrange(0, 900)
            status = rng.choice(STATUSES)
            inbound = n % 3 == 0
            cat = "calls-inbound-local" if inbound else "calls-outbound"
            if status == "completed":
                billed[cat][0] += 1
                billed[cat][1] += max(1, -(-dur // 60))
            lines.append(
                json.dumps(
                    {
                        "sid": f"CA{n:032x}",
                        "account_sid": ACCOUNT,
                        "direction": "inbound" if inbound else "outbound-api",
                        "from": "+16175550123",
                        "to": "+12125550100",
                        "status": status,
                        "start_time": t.strftime("%Y-%m-%dT%H:%M:%SZ"),
                        "end_time": (t + timedelta(seconds=dur)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                        "duration": str(dur if status == "completed" else 0),
                        "price": None,
                        "price_unit": "USD",
                    }
                )
            )
        path = folder / f"2025-11-{day + 1:02d}.json.gz"
        path.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode(), mtime=0))
    records = [
        {
            "account_sid": ACCOUNT,
            "category": c,
            "count": str(n),
            "usage": str(m),
            "price": "0",
            "price_unit": "usd",
            "start_date": "2025-11-01",
            "end_date": "2025-11-30",
        }
        for c, (n, m) in billed.items()
    ]
    (folder / "usage.json").write_text(json.dumps({"usage_records": records}))


def timed(cmd: list[str]) -> tuple[float, float]:
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t0
    if proc.returncode not in (0, 1):
        sys.exit(f"failed: {' '.join(cmd)}\n{proc.stderr}")
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return wall, peak_mb


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=1_000_000)
    ap.add_argument("--keep", type=Path)
    args = ap.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="auditor-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    make_inputs(folder, args.calls)
    print(f"inputs: {args.calls:,} calls in {folder} ({time.perf_counter() - t0:.1f} s to make)")
    baseline = [
        sys.executable,
        "-c",
        "import polars as pl,glob,gzip,io;"
        "[pl.read_ndjson(io.BytesIO(gzip.open(f).read()))"
        f" for f in sorted(glob.glob('{folder}/*.gz'))]",
    ]
    b_wall, b_mem = timed(baseline)
    a_wall, a_mem = timed(
        [sys.executable, "-m", "auditor", "audit", str(folder), "--out", str(folder / "out")]
    )
    print(f"{'step':<34}{'wall s':>10}{'calls/s':>14}{'peak RSS MB':>14}")
    print(
        f"{'baseline: polars read_ndjson':<34}{b_wall:>10.1f}{args.calls / b_wall:>14,.0f}"
        f"{b_mem:>14,.0f}"
    )
    print(
        f"{'auditor audit (ingest..outputs)':<34}{a_wall:>10.1f}{args.calls / a_wall:>14,.0f}"
        f"{a_mem:>14,.0f}"
    )
    print(f"audit / baseline: {a_wall / b_wall:.1f}x")


if __name__ == "__main__":
    main()
