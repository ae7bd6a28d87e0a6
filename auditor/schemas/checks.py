"""Checks shared by the schemas: ones that look at more than the column they report on."""

from __future__ import annotations

import re

import pandera.polars as pa
import polars as pl
from pandera.api.polars.types import PolarsData

ACCOUNT_SID = r"^AC[0-9a-f]{32}$"
CURRENCY = r"^[A-Z]{3}$"


def sid(prefix: str) -> str:
    return rf"^{re.escape(prefix)}[0-9a-f]{{32}}$"


def not_before(other: str, message: str) -> pa.Check:
    """This column, when present, is >= `other` when that is present."""

    def check(data: PolarsData) -> pl.LazyFrame:
        col = pl.col(data.key)
        return data.lazyframe.select(
            col.is_null() | pl.col(other).is_null() | (col >= pl.col(other))
        )

    return pa.Check(check, error=message)


def required_when(condition: pl.Expr, message: str) -> pa.Check:
    """This column must not be null on rows where `condition` holds."""

    def check(data: PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(~condition.fill_null(False) | pl.col(data.key).is_not_null())

    return pa.Check(check, ignore_na=False, error=message)


def non_blank() -> pa.Check:
    return pa.Check.str_length(min_value=1, error="empty")
