"""Raw usage-record rows -> the canonical usage frame, plus rejects for what cannot be parsed."""

from __future__ import annotations

import polars as pl

from auditor.ingest.base import SOURCE_FILE, SOURCE_ROW
from auditor.normalize.rejects import find_problems, reader_errors, unparsed
from auditor.normalize.values import blank_to_null, iso_date, money, whole_number

DECIMAL_FIELDS = ("usage", "price")
DATE_FIELDS = ("start_date", "end_date")


def normalize_usage(raw: pl.LazyFrame) -> tuple[pl.LazyFrame, pl.LazyFrame]:
    """(canonical usage records, parse rejects)."""
    parsed = raw.with_columns(
        whole_number("count").alias("__count"),
        *(money(c).alias(f"__{c}") for c in DECIMAL_FIELDS),
        *(iso_date(c).alias(f"__{c}") for c in DATE_FIELDS),
        blank_to_null("as_of")
        .str.to_datetime("%+", strict=False, time_unit="us", time_zone="UTC")
        .alias("__as_of"),
    )
    problems = [
        reader_errors(parsed),
        unparsed("count", "not a whole number"),
        *(unparsed(c, "not a decimal amount") for c in DECIMAL_FIELDS),
        *(unparsed(c, "not a date (YYYY-MM-DD)") for c in DATE_FIELDS),
    ]
    canonical = parsed.select(
        SOURCE_FILE,
        SOURCE_ROW,
        blank_to_null("account_sid").alias("account_sid"),
        blank_to_null("category").str.to_lowercase().alias("category"),
        blank_to_null("description").alias("description"),
        pl.col("__count").alias("count"),
        blank_to_null("count_unit").alias("count_unit"),
        pl.col("__usage").alias("usage"),
        blank_to_null("usage_unit").alias("usage_unit"),
        pl.col("__price").alias("price"),
        blank_to_null("price_unit").str.to_uppercase().alias("price_unit"),
        pl.col("__start_date").alias("start_date"),
        pl.col("__end_date").alias("end_date"),
        pl.col("__as_of").alias("as_of"),
    )
    return canonical, find_problems(parsed, problems)
