"""Per UTC day, all voice categories together: what the logs hold and bill, and what daily usage
records (a record whose span is one day) bill, side by side. report.html charts it per period.

Logs: every leg of calls.parquet with a period, dated by its UTC start: `logged_calls`, the
billable ones (`billable_calls`) and their `billed_minutes`. Usage: daily records of the top-level
voice categories only (a parent's record already counts its children's calls), summed per day;
null where the usage holds no daily record for that day (monthly usage: logs only).
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from auditor.reconcile.classify import MINUTES
from auditor.reconcile.periods import Period, period_of
from auditor.rules.model import Rules
from auditor.statuses import UsedAs

DAILY_COLUMNS = (
    "account_sid",
    "period",
    "day",
    "logged_calls",
    "billable_calls",
    "billed_minutes",
    "usage_count",
    "usage_minutes",
)
KEY = ["account_sid", "period", "day"]


def daily_volumes(
    calls: Path, usage_records: pl.DataFrame, rules: Rules, period: Period
) -> pl.DataFrame:
    """One row per (account, period, UTC day) that has logged legs or daily usage, sorted.
    `calls` is the itemized audit (calls.parquet), scanned lazily: only the summed days are
    collected."""
    billable = pl.col("billable").fill_null(False)
    logs = (
        pl.scan_parquet(calls, glob=False)
        .filter(pl.col("period").is_not_null())
        .group_by("account_sid", "period", pl.col("start_time_utc").dt.date().alias("day"))
        .agg(
            pl.len().cast(pl.Int64).alias("logged_calls"),
            billable.sum().cast(pl.Int64).alias("billable_calls"),
            pl.col("billed_minutes").filter(billable).sum().cast(MINUTES).alias("billed_minutes"),
        )
    )
    roots = [c for c, parent in rules.parents.items() if parent is None]
    usage = (
        usage_records.lazy()
        .filter(
            (pl.col("start_date") == pl.col("end_date"))
            & (pl.col("used_as").cast(pl.String) != UsedAs.NOT_VOICE.value)
            & pl.col("category").is_in(roots)
        )
        .group_by(
            "account_sid",
            period_of(pl.col("start_date"), period).alias("period"),
            pl.col("start_date").alias("day"),
        )
        .agg(
            pl.col("count").sum().cast(pl.Int64).alias("usage_count"),
            pl.col("usage").sum().cast(MINUTES).alias("usage_minutes"),
        )
    )
    return (
        logs.join(usage, on=KEY, how="full", coalesce=True)
        .with_columns(
            pl.col("logged_calls", "billable_calls").fill_null(0),
            pl.col("billed_minutes").fill_null(pl.lit(0).cast(MINUTES)),
        )
        .select(DAILY_COLUMNS)
        .sort(KEY, nulls_last=True)
        .collect()
    )
