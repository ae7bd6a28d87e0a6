"""Parsers for the scalar fields exports carry as text: counts, seconds, money, dates."""

from __future__ import annotations

import polars as pl

from auditor.schemas.dtypes import MONEY


def blank_to_null(col: str) -> pl.Expr:
    s = pl.col(col).str.strip_chars()
    return pl.when(s == "").then(None).otherwise(s)


def present(col: str) -> pl.Expr:
    return blank_to_null(col).is_not_null()


INT64_MAX = 2**63 - 1


def whole_number(col: str) -> pl.Expr:
    """'61' -> 61, '-3' -> -3 (a validation matter), '61.0' -> 61, '5e18' -> 5e18; a whole
    number past the Int64 range ('1e19', 25 digits) -> the range's end, for the contract's
    bounds to reject as too large (never a wrap, never "not a number"); anything else -> null."""
    s = blank_to_null(col)
    as_float = s.cast(pl.Float64, strict=False)
    whole = as_float.is_finite() & (as_float == as_float.round(0))
    return pl.coalesce(
        s.cast(pl.Int64, strict=False),
        pl.when(whole & (as_float >= 2.0**63)).then(pl.lit(INT64_MAX, pl.Int64)),
        pl.when(whole & (as_float < -(2.0**63))).then(pl.lit(-INT64_MAX - 1, pl.Int64)),
        pl.when(whole).then(as_float.cast(pl.Int64, strict=False)),
    )


def money(col: str) -> pl.Expr:
    """Decimal text (any number of decimals, optional sign) -> Decimal; anything else -> null."""
    s = blank_to_null(col)
    ok = s.str.contains(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
    return pl.when(ok).then(s.cast(MONEY, strict=False))


def iso_date(col: str) -> pl.Expr:
    return blank_to_null(col).str.strptime(pl.Date, "%Y-%m-%d", strict=False)
