"""The canonical usage-record frame: one row per (account, category, start_date, end_date)."""

from __future__ import annotations

import polars as pl

from auditor.schemas.checks import (
    ACCOUNT_SID,
    CURRENCY,
    MAX_USAGE_AMOUNT,
    MAX_USAGE_COUNT,
    FrameContract,
    RowCheck,
    at_least,
    at_most_value,
    matches,
    not_before_row,
    plausible_date,
)
from auditor.schemas.dtypes import MONEY

USAGE = FrameContract(
    name="usage_record",
    columns={
        "source_file": (pl.String(), False),
        "source_row": (pl.Int64(), False),
        "account_sid": (pl.String(), False),
        "category": (pl.String(), False),
        "description": (pl.String(), True),
        "count": (pl.Int64(), True),
        "count_unit": (pl.String(), True),
        "usage": (MONEY, True),
        "usage_unit": (pl.String(), True),
        "price": (MONEY, True),
        "price_unit": (pl.String(), True),
        "start_date": (pl.Date(), False),
        "end_date": (pl.Date(), False),
        "as_of": (pl.Datetime("us", "UTC"), True),
    },
    checks=(
        at_least("source_row", 1, "not a row number"),
        matches("account_sid", ACCOUNT_SID, "not an account SID (AC + 32 hex)"),
        RowCheck("category", pl.col("category").str.len_chars() >= 1, "empty"),
        at_least("count", 0, "negative count"),
        at_most_value("count", MAX_USAGE_COUNT, "count over 10^12: not a usage count"),
        at_least("usage", 0, "negative usage"),
        at_most_value("usage", MAX_USAGE_AMOUNT, "usage over 10^13: not a usage amount"),
        at_least("price", 0, "usage price must be positive or zero"),
        matches("price_unit", CURRENCY, "not a currency code"),
        not_before_row("end_date", "start_date", "end_date before start_date"),
        plausible_date("start_date"),
        plausible_date("end_date"),
    ),
    nul_free=True,
)

SOURCE_NAMES: dict[str, str] = {}
