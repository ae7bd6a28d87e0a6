#!/usr/bin/env python3
"""The floor: what reading the same files costs with nothing but polars, streaming.

Calls (default): read the call logs with an explicit all-text schema (native gzip for Bulk
Export), parse the UTC start, derive the period and the billed minutes (60 s minimum, 60 s
increment, `completed` legs only), and write one Parquet row per call with `sink_parquet`: the
least any auditor must do. `--pbx FILE` also reads an Asterisk Master.csv (21 columns, no header),
places its local times in `--pbx-tz`, and writes one Parquet row per CDR line.

run.py starts this script as its own process to time it; it imports nothing from the auditor.

Usage: python benchmarks/floor.py --calls PATH... --input bulk|parquet|csv --out DIR
       [--period month|day] [--pbx FILE --pbx-tz ZONE]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import polars as pl

TEXT_FIELDS = (
    "sid",
    "account_sid",
    "parent_call_sid",
    "direction",
    "from",
    "to",
    "status",
    "start_time",
    "end_time",
    "duration",
    "price",
    "price_unit",
)
CONSOLE = {
    "Call Sid": "sid",
    "Parent Call Sid": "parent_call_sid",
    "Direction": "direction",
    "From": "from",
    "To": "to",
    "Status": "status",
    "Start Time": "start_time",
    "End Time": "end_time",
    "Duration": "duration",
    "Price": "price",
    "Price Unit": "price_unit",
}
ASTERISK = (
    "accountcode", "src", "dst", "dcontext", "clid", "channel", "dstchannel", "lastapp",
    "lastdata", "start", "answer", "end", "duration", "billsec", "disposition", "amaflags",
    "uniqueid", "userfield", "peeraccount", "linkedid", "sequence",
)  # fmt: skip
PERIOD_FORMATS = {"month": "%Y-%m", "day": "%Y-%m-%d"}
MONEY = pl.Decimal(38, 10)


def files_of(paths: Sequence[str], suffix: str) -> list[str]:
    """Every file under `paths` (files or folders) whose name ends with `suffix`, sorted."""
    out: list[str] = []
    for p in map(Path, paths):
        out += [str(f) for f in sorted(p.rglob(f"*{suffix}"))] if p.is_dir() else [str(p)]
    if not out:
        raise SystemExit(f"floor: no *{suffix} file under {', '.join(paths)}")
    return out


def scan_calls(paths: Sequence[str], fmt: str) -> pl.LazyFrame:
    """The call logs as text columns (Parquet keeps its typed times), lazily."""
    if fmt == "bulk":
        schema = dict.fromkeys(TEXT_FIELDS, pl.String)
        return pl.scan_ndjson(files_of(paths, ".json.gz"), schema=schema)
    if fmt == "parquet":
        lf = pl.scan_parquet(files_of(paths, ".parquet"))
        return lf.select(TEXT_FIELDS)
    if fmt == "csv":
        lf = pl.scan_csv(files_of(paths, ".csv"), infer_schema=False)
        cols = [pl.col(k).alias(v) for k, v in CONSOLE.items()]
        return lf.select(*cols, pl.lit(None, pl.String).alias("account_sid"))  # not in the CSV
    raise SystemExit(f"floor: unknown input {fmt!r}")


def utc(col: str) -> pl.Expr:
    """ISO 8601 text with an offset (or a typed timestamp) -> UTC instant."""
    return pl.col(col).str.to_datetime("%+", time_unit="us", time_zone="UTC", strict=False)


def per_call(lf: pl.LazyFrame, typed_times: bool, period: str) -> pl.LazyFrame:
    """One row per call: UTC times, period of the start, billed minutes by the 60/60 rule."""
    start = pl.col("start_time") if typed_times else utc("start_time")
    end = pl.col("end_time") if typed_times else utc("end_time")
    seconds = pl.col("duration").cast(pl.String).cast(pl.Int64, strict=False)
    return (
        lf.select(
            "sid",
            "account_sid",
            "parent_call_sid",
            "direction",
            "from",
            "to",
            "status",
            start.alias("start_utc"),
            end.alias("end_utc"),
            seconds.alias("duration_s"),
            pl.col("price").cast(MONEY, strict=False).alias("price"),
            "price_unit",
        )
        .with_columns(
            pl.coalesce("start_utc", "end_utc").dt.strftime(PERIOD_FORMATS[period]).alias("period"),
            (pl.col("status") == "completed").alias("billable"),
        )
        .with_columns(
            pl.when("billable")
            .then(pl.max_horizontal(1, (pl.col("duration_s").fill_null(0).clip(0) + 59) // 60))
            .otherwise(0)
            .cast(pl.Int64)
            .alias("billed_minutes"),
        )
    )


def scan_asterisk(path: str, tz: str) -> pl.LazyFrame:
    """Master.csv lines with their times in UTC (local `tz`, the earlier reading in an overlap)."""
    lf = pl.scan_csv(
        path,
        has_header=False,
        new_columns=list(ASTERISK),
        schema=dict.fromkeys(ASTERISK, pl.String),
    )

    def local(col: str) -> pl.Expr:
        wall = pl.col(col).str.to_datetime("%Y-%m-%d %H:%M:%S", time_unit="us", strict=False)
        return wall.dt.replace_time_zone(
            tz, ambiguous="earliest", non_existent="null"
        ).dt.convert_time_zone("UTC")

    return lf.select(
        "src",
        "dst",
        "linkedid",
        local("start").alias("start_utc"),
        local("answer").alias("answer_utc"),
        local("end").alias("end_utc"),
        pl.col("duration").cast(pl.Int64, strict=False).alias("duration_s"),
        pl.col("billsec").cast(pl.Int64, strict=False).alias("billsec"),
        (pl.col("disposition") == "ANSWERED").alias("answered"),
    )


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--calls", nargs="+", required=True, help="call-log files or folders")
    ap.add_argument("--input", choices=("bulk", "parquet", "csv"), default="bulk")
    ap.add_argument("--out", type=Path, required=True, help="folder for the Parquet outputs")
    ap.add_argument("--period", choices=tuple(PERIOD_FORMATS), default="month")
    ap.add_argument("--pbx", help="an Asterisk Master.csv to read as well")
    ap.add_argument("--pbx-tz", default="America/New_York")
    a = ap.parse_args(argv)
    a.out.mkdir(parents=True, exist_ok=True)
    calls = per_call(scan_calls(a.calls, a.input), a.input == "parquet", a.period)
    calls.sink_parquet(a.out / "floor_calls.parquet")
    if a.pbx:
        scan_asterisk(a.pbx, a.pbx_tz).sink_parquet(a.out / "floor_cdrs.parquet")
    return 0


if __name__ == "__main__":
    sys.exit(main())
