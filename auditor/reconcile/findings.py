"""The findings of a reconciliation, totalled: what no rule explains and what was not compared.

Totals are taken at each finding's finest level (`headline`), so a call missing from
`calls-inbound-local` is counted once, not again at `calls-inbound` and `calls`; prices are
totalled per currency, never across currencies.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import polars as pl

from auditor.result import NotComparedTotals, SideTotals, UnexplainedTotals, headline
from auditor.schemas import outputs
from auditor.statuses import DiffersIn, FindingLevel, ReconStatus

NOT_COMPARED_COLUMNS = tuple(outputs.NOT_COMPARED)  # summary.json not_compared.rows


def plain(value: Any) -> Any:
    """A value as summary.json writes it: Decimals as plain text, dates ISO 8601."""
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def records(frame: pl.DataFrame) -> list[dict[str, Any]]:
    return [{k: plain(v) for k, v in row.items()} for row in frame.iter_rows(named=True)]


def _side_totals(head: pl.DataFrame, sign: int | None) -> SideTotals:
    """`head`'s residuals on one side: the positive ones (`sign` 1), the negative ones (-1),
    or all of them (None, the net). Prices per currency, every currency of `head` named (0
    where none is on that side); rows whose price is not compared are left out of prices."""
    figures = ("unexplained_count", "unexplained_minutes", "unexplained_price")

    def part(name: str) -> pl.Expr:
        col = pl.col(name)
        if sign is None:
            return col
        keep = col > 0 if sign > 0 else col < 0
        return pl.when(keep).then(col).otherwise(pl.lit(0).cast(head.schema[name]))

    parts = head.select(
        "currency",
        *(part(f).alias(f) for f in figures),
        pl.col("unexplained_price").is_null().alias("_no_price"),
    )
    on_side = pl.any_horizontal((pl.col(f).fill_null(0) != 0) for f in figures)
    per = (
        parts.filter(~pl.col("_no_price"))
        .group_by("currency")
        .agg(pl.col("unexplained_price").sum())
        .sort("currency", nulls_last=True)
    )
    return SideTotals(
        rows=parts.height if sign is None else parts.filter(on_side).height,
        calls=int(parts["unexplained_count"].fill_null(0).sum()),
        minutes=plain(parts["unexplained_minutes"].fill_null(0).sum()),
        price_by_currency={(cur or "unknown"): plain(price) for cur, price in per.iter_rows()},
    )


def unexplained_totals(recon: pl.DataFrame) -> UnexplainedTotals:
    """The headline unexplained rows totalled: gross (absolute values, today's keys), and
    signed per side (billed above the logs, below them) and net."""
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
        above=_side_totals(head, 1),
        below=_side_totals(head, -1),
        net=_side_totals(head, None),
    )


def differs_in() -> pl.Expr:
    """What an unexplained row differs in, for the row tables: `calls, minutes, price`, or
    `price only` when only the price does (so a row showing 0 calls and 0 minutes reads
    right). Empty for rows of other statuses."""
    names = {
        DiffersIn.CALLS: "unexplained_count",
        DiffersIn.MINUTES: "unexplained_minutes",
        DiffersIn.PRICE: "unexplained_price",
    }
    nonzero = {k: (pl.col(c).fill_null(0) != 0) for k, c in names.items()}
    price_only = nonzero[DiffersIn.PRICE] & ~nonzero[DiffersIn.CALLS] & ~nonzero[DiffersIn.MINUTES]
    listed = (
        pl.concat_list(
            pl.when(cond).then(pl.lit(str(k))).otherwise(pl.lit(None, pl.String))
            for k, cond in nonzero.items()
        )
        .list.drop_nulls()
        .list.join(", ")
    )
    return (
        pl.when(pl.col("status").cast(pl.String) != ReconStatus.UNEXPLAINED.value)
        .then(pl.lit(""))
        .when(price_only)
        .then(pl.lit(str(DiffersIn.PRICE_ONLY)))
        .otherwise(listed)
        .alias("differs_in")
    )


def finding_level() -> pl.Expr:
    """`finding` for a finding's headline row (what every count counts), `roll-up` for a
    parent row that sums findings below it; empty for rows that are not findings."""
    finding = (
        pl.col("status")
        .cast(pl.String)
        .is_in([ReconStatus.UNEXPLAINED.value, ReconStatus.NOT_COMPARED.value])
    )
    return (
        pl.when(~finding)
        .then(pl.lit(""))
        .when(pl.col("headline"))
        .then(pl.lit(str(FindingLevel.FINDING)))
        .otherwise(pl.lit(str(FindingLevel.ROLL_UP)))
        .alias("level")
    )


def findings_table(recon: pl.DataFrame) -> pl.DataFrame:
    """The unexplained and not-compared rows, findings first then roll-ups, each marked with
    its `level` and what it `differs_in` (the first columns)."""
    statuses = [ReconStatus.UNEXPLAINED.value, ReconStatus.NOT_COMPARED.value]
    rows = recon.filter(pl.col("status").cast(pl.String).is_in(statuses))
    return (
        rows.with_columns(finding_level(), differs_in())
        .sort(~pl.col("headline"), maintain_order=True)
        .select("level", "differs_in", *recon.columns)
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
