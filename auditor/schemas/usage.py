"""The canonical usage-record frame: one row per (account, category, start_date, end_date)."""

from __future__ import annotations

import pandera.polars as pa
import polars as pl

from auditor.normalize.values import MONEY
from auditor.schemas.checks import ACCOUNT_SID, CURRENCY, non_blank, not_before

USAGE_SCHEMA = pa.DataFrameSchema(
    {
        "source_file": pa.Column(pl.String),
        "source_row": pa.Column(pl.Int64, pa.Check.ge(1)),
        "account_sid": pa.Column(
            pl.String, pa.Check.str_matches(ACCOUNT_SID, error="not an account SID (AC + 32 hex)")
        ),
        "category": pa.Column(pl.String, non_blank()),
        "description": pa.Column(pl.String, nullable=True),
        "count": pa.Column(pl.Int64, pa.Check.ge(0, error="negative count"), nullable=True),
        "count_unit": pa.Column(pl.String, nullable=True),
        "usage": pa.Column(MONEY, pa.Check.ge(0, error="negative usage"), nullable=True),
        "usage_unit": pa.Column(pl.String, nullable=True),
        "price": pa.Column(
            MONEY, pa.Check.ge(0, error="usage price must be positive or zero"), nullable=True
        ),
        "price_unit": pa.Column(
            pl.String, pa.Check.str_matches(CURRENCY, error="not a currency code"), nullable=True
        ),
        "start_date": pa.Column(pl.Date),
        "end_date": pa.Column(pl.Date, not_before("start_date", "end_date before start_date")),
        "as_of": pa.Column(pl.Datetime("us", "UTC"), nullable=True),
    },
    strict=True,
    ordered=True,
    name="usage_record",
)

SOURCE_NAMES: dict[str, str] = {}
