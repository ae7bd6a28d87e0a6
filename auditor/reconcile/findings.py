"""The findings of a reconciliation, totalled: what no rule explains and what was not compared.

Totals are taken at each finding's finest level (`headline`), so a call missing from
`calls-inbound-local` is counted once, not again at `calls-inbound` and `calls`; prices are
totalled per currency, never across currencies.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import polars as pl

from auditor.result import NotComparedTotals, UnexplainedTotals, headline
from auditor.statuses import ReconStatus

NOT_COMPARED_COLUMNS = (
    "account_sid",
    "period",
    "category",
    "headline",
    "logged_calls",
    "billable_calls",
    "expected_minutes",
    "logged_price",
    "usage_count",
    "usage_minutes",
    "usage_price",
    "currency",
    "notes",
    "next_check",
)


def plain(value: Any) -> Any:
    """A value as summary.json writes it: Decimals as plain text, dates ISO 8601."""
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def records(frame: pl.DataFrame) -> list[dict[str, Any]]:
    return [{k: plain(v) for k, v in row.items()} for row in frame.iter_rows(named=True)]


def unexplained_totals(recon: pl.DataFrame) -> UnexplainedTotals:
    head = headline(recon, ReconStatus.UNEXPLAINED.value)
    per = (
        head.filter(pl.col("unexplained_price").is_not_null())
        .group_by("currency")
        .agg(pl.col("unexplained_price").abs().sum())
        .sort("currency", nulls_last=True)
    )
    by_currency = {(cur or "unknown"): plain(price) for cur, price in per.iter_rows()}
    not_compared = head.filter(pl.col("unexplained_price").is_null()).height
    price, currency = None, None
    if len(by_currency) == 1:
        currency, price = next(iter(by_currency.items()))
    elif not by_currency and not not_compared:
        price = "0"
    return UnexplainedTotals(
        rows=head.height,
        calls=int(head["unexplained_count"].fill_null(0).abs().sum()),
        minutes=plain(head["unexplained_minutes"].fill_null(0).abs().sum()),
        price=price,
        currency=currency,
        price_by_currency=by_currency,
        price_not_compared_rows=not_compared,
    )


def not_compared_totals(recon: pl.DataFrame) -> NotComparedTotals:
    rows = recon.filter(pl.col("status") == ReconStatus.NOT_COMPARED.value)
    head = headline(recon, ReconStatus.NOT_COMPARED.value)
    return NotComparedTotals(
        count=rows.height,
        logged_calls=int(head["logged_calls"].sum()),
        billable_calls=int(head["billable_calls"].sum()),
        usage_count=int(head["usage_count"].fill_null(0).sum()),
        rows=records(rows.select(NOT_COMPARED_COLUMNS)),
    )
