"""The one billed-seconds formula, for call legs (per category) and PBX calls alike."""

from __future__ import annotations

import polars as pl


def billed_seconds(
    seconds: pl.Expr,
    billable: pl.Expr,
    *,
    minimum_s: int | pl.Expr,
    increment_s: int | pl.Expr,
    bill_zero_duration: bool = True,
) -> pl.Expr:
    """max(minimum, ceil(s / increment) * increment) where `billable`, else 0.

    A negative or missing duration counts as 0 s; with `bill_zero_duration` (Twilio since
    2021-07-08) a 0 s billable call still bills the minimum."""
    s = seconds.fill_null(0).clip(lower_bound=0)
    minimum = pl.lit(minimum_s) if isinstance(minimum_s, int) else minimum_s
    increment = pl.lit(increment_s) if isinstance(increment_s, int) else increment_s
    billed = pl.max_horizontal(minimum, ((s + increment - 1) // increment) * increment)
    if not bill_zero_duration:
        billed = pl.when(s == 0).then(0).otherwise(billed)
    return pl.when(billable.fill_null(False)).then(billed).otherwise(0).cast(pl.Int64)
