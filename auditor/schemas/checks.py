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

    `ok` is true where the row passes; null counts as passing (nullability is its own check).
    `detail`, when given, is the reason per row with the row's own figures (`duration disagrees
    with end - start (562 s vs 262 s)`); pandera, which takes one message, says `message`."""

    column: str
    ok: pl.Expr
    message: str
    detail: pl.Expr | None = None

    def fails(self) -> pl.Expr:
        return ~self.ok.fill_null(True)

    def reason(self) -> pl.Expr | str:
        """What rejects.csv says of a failing row."""
        return self.message if self.detail is None else self.detail

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
    # Every text column read from an input (all but `source_file`, the name the user gave) holds
    # no NUL (`no_nul`): set on the contracts of input rows, so a new text column is checked too.
    nul_free: bool = False

    def all_checks(self) -> list[RowCheck]:
        """`checks`, then the NUL checks of the text columns when `nul_free`."""
        text = [
            c for c, (dtype, _) in self.columns.items() if dtype == pl.String and c != "source_file"
        ]
        return [*self.checks, *(no_nul(c) for c in text if self.nul_free)]

    def row_checks(self) -> list[RowCheck]:
        """Every row check, non-nullable columns' not-null checks first."""
        not_null = [
            RowCheck(c, pl.col(c).is_not_null(), NOT_NULLABLE)
            for c, (_, nullable) in self.columns.items()
            if not nullable
        ]
        return [*not_null, *self.all_checks()]

    def schema(self) -> pa.DataFrameSchema:
        """The contract as a pandera schema (pandera is imported only when one is asked for)."""
        import pandera.polars as pa

        return pa.DataFrameSchema(
            {
                c: pa.Column(
                    dtype,
                    [k.as_pandera() for k in self.all_checks() if k.column == c],
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


# What one call can last: Twilio ends a call at 4 hours by default and at 24 hours at most, so
# a week is no call at all (a clock or an export gone wrong, or a 2^63 - 1 written to overflow).
# The same bound holds for PBX durations and billsec and for your own records' durations; with
# it, no sum of seconds can wrap an Int64 (2^63 s / 604,800 s is 1.5e13 legs).
MAX_CALL_SECONDS = 7 * 24 * 3600
TOO_LONG = f"over 7 days ({MAX_CALL_SECONDS} s): not a call"
# A usage record's `count` (calls) and `usage` (minutes, or an amount for price categories): a
# trillion calls and ten trillion minutes are past any account; summed over a million records
# they still fit an Int64 and a Decimal(38, 10).
MAX_USAGE_COUNT = 10**12
MAX_USAGE_AMOUNT = 10**13
NUL_MESSAGE = "NUL character in text"


def plausible_seconds(column: str, what: str = "duration") -> RowCheck:
    """`column` (whole seconds) is at most MAX_CALL_SECONDS."""
    return RowCheck(column, pl.col(column) <= MAX_CALL_SECONDS, f"{what} {TOO_LONG}")


def no_nul(column: str) -> RowCheck:
    """`column` (text) holds no NUL character: no export writes one, and it cuts text short in
    C-based tools (a spreadsheet, a database) that read the outputs."""
    return RowCheck(column, ~pl.col(column).str.contains("\x00", literal=True), NUL_MESSAGE)


def at_least(column: str, bound: int, message: str) -> RowCheck:
    return RowCheck(column, pl.col(column) >= bound, message)


def at_most_value(column: str, bound: int, message: str) -> RowCheck:
    return RowCheck(column, pl.col(column) <= bound, message)


def not_before_row(column: str, other: str, message: str) -> RowCheck:
    """`column` >= `other` where both are present."""
    return RowCheck(column, pl.col(column) >= pl.col(other), message)


def required_when_row(column: str, condition: pl.Expr, message: str) -> RowCheck:
    """`column` is not null on rows where `condition` holds."""
    return RowCheck(column, ~condition.fill_null(False) | pl.col(column).is_not_null(), message)
