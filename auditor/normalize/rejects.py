"""The rejects frame: one row per (bad row, bad column), the contract of `rejects.csv`."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from auditor.ingest.base import ERROR, ERROR_COLUMN, SOURCE_FILE, SOURCE_ROW
from auditor.normalize.times import LEAP_SECOND_REASON, leap_second
from auditor.normalize.values import present

REJECT_SCHEMA = pl.Schema(
    {
        SOURCE_FILE: pl.String,
        SOURCE_ROW: pl.Int64,
        "column": pl.String,
        "value": pl.String,
        "reason": pl.String,
    }
)
KEY = [SOURCE_FILE, SOURCE_ROW]

DST_REASON = "local time falls in a DST "  # then `gap` or `overlap`: rows --dst reject sets aside


@dataclass(frozen=True)
class Problem:
    """A row-level test: rows where `bad` holds are rejected, naming `column` and `value`."""

    column: str
    bad: pl.Expr
    value: pl.Expr
    reason: pl.Expr | str


def time_problems(
    field: str, reason: pl.Expr | str, dst_zone: pl.Expr | str | None, column: str | None = None
) -> list[Problem]:
    """The problems of a time column parsed by `normalize.times` (its `{field}__utc` and
    `{field}__dst` twins): text that is no time (`reason`), and, when `dst_zone` is given (the
    zone, under `--dst reject`), a naive time in one of its DST gaps or overlaps. `column`: the
    name the user knows the column by, when not `field`."""
    raw = pl.col(field)
    problems = [
        Problem(
            column or field,
            present(field) & pl.col(f"{field}__utc").is_null() & pl.col(f"{field}__dst").is_null(),
            raw,
            pl.when(leap_second(raw))
            .then(pl.lit(LEAP_SECOND_REASON))
            .otherwise(reason if isinstance(reason, pl.Expr) else pl.lit(reason)),
        )
    ]
    if dst_zone is not None:
        zone = pl.lit(dst_zone) if isinstance(dst_zone, str) else dst_zone
        problems.append(
            Problem(
                column or field,
                pl.col(f"{field}__dst").is_not_null(),
                raw,
                # concat_str, not pl.format: polars 2.1 panics on pl.format over a
                # multi-chunk frame here (two Console CSVs in one run).
                pl.concat_str(
                    pl.lit(DST_REASON),
                    pl.col(f"{field}__dst"),
                    pl.lit(" in "),
                    zone,
                    pl.lit(" (--dst reject)"),
                ),
            )
        )
    return problems


def unparsed(column: str, reason: str) -> Problem:
    """`column` holds text but its parsed twin `__{column}` is null: the text is not a value."""
    return Problem(
        column, present(column) & pl.col(f"__{column}").is_null(), pl.col(column), reason
    )


def empty_rejects() -> pl.LazyFrame:
    return pl.LazyFrame(schema=REJECT_SCHEMA)


def find_problems(lf: pl.LazyFrame, problems: list[Problem]) -> pl.LazyFrame:
    """Every (row, problem) where the problem holds, as reject rows."""
    frames = [
        lf.filter(p.bad).select(
            pl.col(SOURCE_FILE),
            pl.col(SOURCE_ROW),
            pl.lit(p.column).alias("column"),
            p.value.cast(pl.String).alias("value"),
            (pl.lit(p.reason) if isinstance(p.reason, str) else p.reason)
            .cast(pl.String)
            .alias("reason"),
        )
        for p in problems
    ]
    return pl.concat(frames, how="vertical") if frames else empty_rejects()


def reader_errors(lf: pl.LazyFrame) -> Problem:
    """Records the reader could not split into fields."""
    return Problem(
        column="(record)",
        bad=pl.col(ERROR).is_not_null(),
        value=pl.coalesce(pl.col(ERROR_COLUMN), pl.lit("")),
        reason=pl.col(ERROR),
    )


def drop_rejected(lf: pl.LazyFrame, rejects: pl.LazyFrame) -> pl.LazyFrame:
    return lf.join(rejects.select(KEY).unique(), on=KEY, how="anti", maintain_order="left")


def sort_rejects(rejects: pl.LazyFrame) -> pl.LazyFrame:
    return rejects.unique().sort([SOURCE_FILE, SOURCE_ROW, "column", "reason"])
