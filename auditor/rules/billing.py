"""The one billed-seconds formula, for call legs (per category) and PBX calls alike."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl

from auditor.rules.model import RuleDates, Rules


def in_dates(start: pl.Expr, dates: RuleDates) -> pl.Expr:
    """Whether a call started at `start` (UTC) is one a rule of `dates` applies to: from
    `since` (included) to `until` (excluded), UTC midnights. A call with no start is one it
    applies to (as before rules had dates)."""
    if dates.always:
        return pl.lit(True)
    inside: pl.Expr = pl.lit(True)
    for day, keep in ((dates.since, start.__ge__), (dates.until, start.__lt__)):
        if day is not None:
            moment = datetime(day.year, day.month, day.day, tzinfo=UTC)
            inside = inside & keep(pl.lit(moment, pl.Datetime("us", "UTC")))
    return inside.fill_null(True)


def zero_bills(rules: Rules, start: pl.Expr) -> bool | pl.Expr:
    """Whether a 0 s billable call started at `start` bills the minimum (`bill_zero_duration`,
    with its dates): a plain bool when the rule has no dates."""
    if not rules.bill_zero_duration or rules.bill_zero_dates.always:
        return rules.bill_zero_duration
    return in_dates(start, rules.bill_zero_dates)


def billed_seconds(
    seconds: pl.Expr,
    billable: pl.Expr,
    *,
    minimum_s: int | pl.Expr,
    increment_s: int | pl.Expr,
    bill_zero_duration: bool | pl.Expr = True,
) -> pl.Expr:
    """max(minimum, ceil(s / increment) * increment) where `billable`, else 0.

    A negative or missing duration counts as 0 s; with `bill_zero_duration` (Twilio since
    2021-07-08; an expression: per row, see `zero_bills`) a 0 s billable call still bills the
    minimum."""
    s = seconds.fill_null(0).clip(lower_bound=0)
    minimum = pl.lit(minimum_s) if isinstance(minimum_s, int) else minimum_s
    increment = pl.lit(increment_s) if isinstance(increment_s, int) else increment_s
    billed = pl.max_horizontal(minimum, ((s + increment - 1) // increment) * increment)
    if isinstance(bill_zero_duration, pl.Expr):
        billed = pl.when((s == 0) & ~bill_zero_duration).then(0).otherwise(billed)
    elif not bill_zero_duration:
        billed = pl.when(s == 0).then(0).otherwise(billed)
    return pl.when(billable.fill_null(False)).then(billed).otherwise(0).cast(pl.Int64)
