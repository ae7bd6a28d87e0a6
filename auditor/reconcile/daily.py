"""Per UTC day and category: what the logs bill, and what daily usage records (a record whose
span is one day) bill, side by side, like with like. report.html charts it per period and
category.

Which categories: per account and period, those the daily usage holds a record of (any level:
the logs are rolled up to it, each leaf to every ancestor, as `reconcile.usage` does), so a
daily `calls` record is held against calls-inbound-local + calls-outbound + ..., never against
`calls-client` or trunking legs it does not hold. A period with no daily usage record (monthly
usage): the top-level categories together, logs only (category and usage null).

Logs: every leg of calls.parquet with a period, dated by its UTC start: `logged_calls`, the
billable ones (`billable_calls`) and their `billed_minutes`. Usage: the day's records of the
category summed; null where it holds none for that day.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from auditor.reconcile.periods import Period, period_of
from auditor.reconcile.usage import ancestor_map
from auditor.rules.model import Rules
from auditor.schemas import outputs
from auditor.schemas.dtypes import MINUTES
from auditor.statuses import UsedAs

DAILY_COLUMNS = tuple(outputs.DAILY_VOLUMES)
KEY = ["account_sid", "period", "category", "day"]
SCOPE = ["account_sid", "period"]


def daily_volumes(
    calls: Path, usage_records: pl.DataFrame, rules: Rules, period: Period
) -> pl.DataFrame:
    """One row per (account, period, category, UTC day) that has logged legs or daily usage of
    that category, sorted. `calls` is the itemized audit (calls.parquet), scanned lazily: only
    the summed days are collected."""
    billable = pl.col("billable").fill_null(False)
    leaves = (
        pl.scan_parquet(calls, glob=False)
        .filter(pl.col("period").is_not_null())
        .group_by(
            "account_sid",
            "period",
            pl.col("category").alias("leaf"),
            pl.col("start_time_utc").dt.date().alias("day"),
        )
        .agg(
            pl.len().cast(pl.Int64).alias("logged_calls"),
            billable.sum().cast(pl.Int64).alias("billable_calls"),
            pl.col("billed_minutes").filter(billable).sum().cast(MINUTES).alias("billed_minutes"),
        )
    )
    logs = (
        leaves.join(ancestor_map(rules).lazy(), on="leaf", how="inner")
        .group_by(KEY)
        .agg(pl.col("logged_calls", "billable_calls", "billed_minutes").sum())
    )
    usage = (
        usage_records.lazy()
        .filter(
            (pl.col("start_date") == pl.col("end_date"))
            & (pl.col("used_as").cast(pl.String) != UsedAs.NOT_VOICE.value)
            & pl.col("category").is_in(list(rules.parents))
        )
        .group_by(
            "account_sid",
            period_of(pl.col("start_date"), period).alias("period"),
            "category",
            pl.col("start_date").alias("day"),
        )
        .agg(
            pl.col("count").sum().cast(pl.Int64).alias("usage_count"),
            pl.col("usage").sum().cast(MINUTES).alias("usage_minutes"),
        )
    )
    compared = usage.select(*SCOPE, "category").unique()
    roots = [c for c, parent in rules.parents.items() if parent is None]
    logs_only = (  # nothing to compare: every top-level category together, category null
        logs.filter(pl.col("category").is_in(roots))
        .join(compared.select(SCOPE).unique(), on=SCOPE, how="anti")
        .group_by(*SCOPE, "day")
        .agg(pl.col("logged_calls", "billable_calls", "billed_minutes").sum())
        .with_columns(pl.lit(None, pl.String).alias("category"))
    )
    both = logs.join(compared, on=[*SCOPE, "category"], how="semi")
    return (
        pl.concat([both, logs_only.select(both.collect_schema().names())])
        .join(usage, on=KEY, how="full", coalesce=True, nulls_equal=False)
        .with_columns(
            pl.col("logged_calls", "billable_calls").fill_null(0),
            pl.col("billed_minutes").fill_null(pl.lit(0).cast(MINUTES)),
        )
        .select(DAILY_COLUMNS)
        .sort(KEY, nulls_last=True)
        .collect()
    )
