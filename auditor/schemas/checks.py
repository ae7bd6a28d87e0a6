"""Row checks of the canonical frames as polars expressions (`RowCheck`, `FrameContract`): the
audit evaluates them in its own passes, and the pandera schemas are built from them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import polars as pl

if TYPE_CHECKING:  # pandera costs half a second to import: only where a schema is built
    import pandera.polars as pa

ACCOUNT_SID = r"^AC[0-9a-f]{32}$"
CURRENCY = r"^[A-Z]{3}$"


def sid(prefix: str) -> str:
    return rf"^{re.escape(prefix)}[0-9a-f]{{32}}$"


@dataclass(frozen=True)
class RowCheck:
    """One row-level rule of a canonical frame, as a polars expression: the single source of the
    rule for both the streaming pass (`fails`, evaluated with the other row checks in one pass)
    and the pandera schema (`as_pandera`, the contract applied to small frames and in tests).

    `ok` is true where the row passes; null counts as passing (nullability is its own check)."""

    column: str
    ok: pl.Expr
    message: str

    def fails(self) -> pl.Expr:
        return ~self.ok.fill_null(True)

    def as_pandera(self) -> pa.Check:
        import pandera.polars as pa

        ok = self.ok.fill_null(True)
        return pa.Check(lambda data: data.lazyframe.select(ok), ignore_na=False, error=self.message)


NOT_NULLABLE = "not_nullable"  # pandera's own word for a null in a non-nullable column


@dataclass(frozen=True)
class FrameContract:
    """A canonical frame: its columns (dtype, nullable) in order and its row checks."""

    name: str
    columns: dict[str, tuple[pl.DataType, bool]]
    checks: tuple[RowCheck, ...]
    strict: bool = True  # exactly these columns, in order; else working columns may ride along

    def row_checks(self) -> list[RowCheck]:
        """Every row check, non-nullable columns' not-null checks first."""
        not_null = [
            RowCheck(c, pl.col(c).is_not_null(), NOT_NULLABLE)
            for c, (_, nullable) in self.columns.items()
            if not nullable
        ]
        return [*not_null, *self.checks]

    def schema(self) -> pa.DataFrameSchema:
        """The contract as a pandera schema (pandera is imported only when one is asked for)."""
        import pandera.polars as pa

        return pa.DataFrameSchema(
            {
                c: pa.Column(
                    dtype,
                    [k.as_pandera() for k in self.checks if k.column == c],
                    nullable=nullable,
                )
                for c, (dtype, nullable) in self.columns.items()
            },
            strict=self.strict,
            ordered=self.strict,
            name=self.name,
        )

    def dtypes(self) -> dict[str, pl.DataType]:
        return {c: dtype for c, (dtype, _) in self.columns.items()}


def matches(column: str, pattern: str, message: str) -> RowCheck:
    return RowCheck(column, pl.col(column).str.contains(pattern), message)


def one_of(column: str, values: tuple[str, ...], message: str) -> RowCheck:
    return RowCheck(column, pl.col(column).is_in(list(values)), message)


# The times a telephony record can plausibly carry: a bound, not a rule of billing. Outside it a
# time is a broken clock or a broken export (year 0, year -144169), and no Python datetime, Excel
# cell or chart could even show it.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)
OUT_OF_RANGE = "time out of range (1970 to 2099)"


def plausible_time(column: str) -> RowCheck:
    """`column` (a UTC datetime, or a date) lies in [EARLIEST, LATEST)."""
    col = pl.col(column)
    return RowCheck(column, (col >= EARLIEST) & (col < LATEST), OUT_OF_RANGE)


def plausible_date(column: str) -> RowCheck:
    """`column` (a date) lies in [EARLIEST, LATEST)."""
    col = pl.col(column)
    return RowCheck(column, (col >= EARLIEST.date()) & (col < LATEST.date()), OUT_OF_RANGE)


def at_least(column: str, bound: object, message: str) -> RowCheck:
    return RowCheck(column, pl.col(column) >= bound, message)


def at_most_value(column: str, bound: object, message: str) -> RowCheck:
    return RowCheck(column, pl.col(column) <= bound, message)


def not_before_row(column: str, other: str, message: str) -> RowCheck:
    """`column` >= `other` where both are present."""
    return RowCheck(column, pl.col(column) >= pl.col(other), message)


def required_when_row(column: str, condition: pl.Expr, message: str) -> RowCheck:
    """`column` is not null on rows where `condition` holds."""
    return RowCheck(column, ~condition.fill_null(False) | pl.col(column).is_not_null(), message)
