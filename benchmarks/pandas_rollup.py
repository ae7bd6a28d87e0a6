#!/usr/bin/env python3
"""What a user would otherwise write: a plain pandas roll-up of call logs against usage records.

Read every call-log file into one DataFrame, put each leg in a usage category with hand-written
rules (trunking, `client:`, `sip:`, toll-free prefixes), bill completed legs whole minutes (at
least one), group by period and category, and subtract that from the usage records' figures.
No validation, no explanations, no provenance: just the numbers. Writes `rollup.csv` (one row per
period x leaf category) with the differences (usage minus logs).

run.py starts this script as its own process to time it; it imports nothing from the auditor.

Usage: python benchmarks/pandas_rollup.py --calls PATH... --input bulk|parquet|csv
       --usage PATH... --out FILE [--period month|day]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

LEAVES = [
    "calls-inbound-local",
    "calls-inbound-tollfree",
    "calls-inbound-mobile",
    "calls-outbound",
    "calls-client",
    "calls-sip-inbound",
    "calls-sip-outbound",
    "trunking-origination",
    "trunking-termination",
]
TOLLFREE = r"^\+18(?:00|33|44|55|66|77|88)"
CONSOLE = {
    "Call Sid": "sid",
    "Direction": "direction",
    "From": "from",
    "To": "to",
    "Status": "status",
    "Start Time": "start_time",
    "Duration": "duration",
    "Price": "price",
}


def files(paths: Sequence[str], suffix: str) -> list[Path]:
    out: list[Path] = []
    for p in map(Path, paths):
        out += sorted(p.rglob(f"*{suffix}")) if p.is_dir() else [p]
    return out


def read_calls(paths: Sequence[str], fmt: str) -> pd.DataFrame:
    if fmt == "bulk":
        frames = [
            pd.read_json(f, lines=True, compression="gzip", dtype=False)
            for f in files(paths, ".json.gz")
        ]
    elif fmt == "parquet":
        frames = [pd.read_parquet(f) for f in files(paths, ".parquet")]
    else:
        frames = [pd.read_csv(f, dtype=str).rename(columns=CONSOLE) for f in files(paths, ".csv")]
    return pd.concat(frames, ignore_index=True)


def categorise(df: pd.DataFrame) -> np.ndarray:
    d = df["direction"]
    frm, to = df["from"].fillna(""), df["to"].fillna("")
    client = frm.str.startswith("client:") | to.str.startswith("client:")
    sip = frm.str.startswith("sip:") | to.str.startswith("sip:")
    inbound = d == "inbound"
    return np.select(
        [
            d == "trunking-originating",
            d == "trunking-terminating",
            client,
            sip & inbound,
            sip,
            inbound & to.str.contains(TOLLFREE),
            inbound,
        ],
        [
            "trunking-origination",
            "trunking-termination",
            "calls-client",
            "calls-sip-inbound",
            "calls-sip-outbound",
            "calls-inbound-tollfree",
            "calls-inbound-local",
        ],
        "calls-outbound",
    )


def read_usage(paths: Sequence[str]) -> pd.DataFrame:
    records = []
    for f in files(paths, ".json"):
        records += json.loads(f.read_text())["usage_records"]
    return pd.DataFrame(records)


def rollup(calls: pd.DataFrame, usage: pd.DataFrame, period: str) -> pd.DataFrame:
    fmt = "%Y-%m" if period == "month" else "%Y-%m-%d"
    start = pd.to_datetime(calls["start_time"], utc=True, format="ISO8601")
    calls["period"] = start.dt.strftime(fmt)
    calls["category"] = categorise(calls)
    seconds = pd.to_numeric(calls["duration"], errors="coerce").fillna(0)
    calls["billable"] = calls["status"] == "completed"
    calls["minutes"] = np.where(calls["billable"], np.maximum(1, np.ceil(seconds / 60)), 0)
    calls["cost"] = pd.to_numeric(calls["price"], errors="coerce").abs()
    logs = calls.groupby(["period", "category"]).agg(
        logged_calls=("sid", "size"),
        billable_calls=("billable", "sum"),
        billed_minutes=("minutes", "sum"),
        logged_price=("cost", "sum"),
    )
    usage = usage[usage["category"].isin(LEAVES)].copy()
    usage["period"] = usage["start_date"].str.slice(0, 7 if period == "month" else 10)
    usage["usage_count"] = pd.to_numeric(usage["count"])
    usage["usage_minutes"] = pd.to_numeric(usage["usage"])
    usage["usage_price"] = pd.to_numeric(usage["price"])
    billed = usage.groupby(["period", "category"])[["usage_count", "usage_minutes", "usage_price"]]
    out = logs.join(billed.sum(), how="outer").fillna(0).reset_index()
    out["diff_count"] = out["usage_count"] - out["billable_calls"]
    out["diff_minutes"] = out["usage_minutes"] - out["billed_minutes"]
    out["diff_price"] = (out["usage_price"] - out["logged_price"]).round(5)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--calls", nargs="+", required=True)
    ap.add_argument("--input", choices=("bulk", "parquet", "csv"), default="bulk")
    ap.add_argument("--usage", nargs="+", required=True)
    ap.add_argument("--period", choices=("month", "day"), default="month")
    ap.add_argument("--out", type=Path, required=True)
    a = ap.parse_args(argv)
    out = rollup(read_calls(a.calls, a.input), read_usage(a.usage), a.period)
    a.out.parent.mkdir(parents=True, exist_ok=True)
    out.to_csv(a.out, index=False)
    off = out[(out["diff_count"] != 0) | (out["diff_minutes"] != 0) | (out["diff_price"] != 0)]
    print(off.to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
