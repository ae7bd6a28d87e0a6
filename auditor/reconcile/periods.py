"""Periods are computed from the UTC start: a month is [1st 00:00 UTC, next 1st 00:00 UTC)."""

from __future__ import annotations

from enum import StrEnum

import polars as pl


class Period(StrEnum):
    MONTH = "month"
    DAY = "day"


FORMATS = {Period.MONTH: "%Y-%m", Period.DAY: "%Y-%m-%d"}


def period_of(expr: pl.Expr, period: Period) -> pl.Expr:
    """'YYYY-MM' or 'YYYY-MM-DD' of a datetime (its own clock: UTC for UTC instants)."""
    return expr.dt.strftime(FORMATS[period])


def after_midnight_on_last_day(expr: pl.Expr) -> pl.Expr:
    """Starts on the last day of its month, after 00:00:00: what a query ending `<= last day`
    (read as midnight) misses."""
    return (expr.dt.month_end().dt.date() == expr.dt.date()) & (expr != expr.dt.truncate("1d"))


def usage_period(start: pl.Expr, end: pl.Expr, period: Period) -> pl.Expr:
    """The period a usage record's inclusive [start_date, end_date] span covers exactly, else null.

    A record that covers part of a period, or more than one, is not split by guess.
    """
    if period is Period.DAY:
        return pl.when(start == end).then(start.dt.strftime(FORMATS[period]))
    whole_month = (start.dt.day() == 1) & (end == start.dt.month_end())
    return pl.when(whole_month).then(start.dt.strftime(FORMATS[period]))
