"""Raw call-log rows -> the canonical call frame, plus rejects for what cannot be parsed.

Times become UTC instants (the export's own wall time is kept, for the `timezone` rule and the
bridge), durations whole seconds, prices Decimals. What is parseable but wrong (a negative duration,
a bad SID) is left for the contract's row checks (schemas/calls.py) to judge.
"""

from __future__ import annotations

import polars as pl

from auditor.errors import InputError
from auditor.ingest.base import ERROR, SOURCE_FILE, SOURCE_ROW
from auditor.normalize.rejects import (
    Problem,
    find_problems,
    reader_errors,
    time_problems,
    unparsed,
)
from auditor.normalize.times import DstPolicy, first_naive_cell, parse_time, parse_time_fast
from auditor.normalize.values import blank_to_null, money, present, whole_number
from auditor.schemas.calls import CALLS
from auditor.statuses import CALL_DIRECTIONS, DstNote, enum_dtype

TIME_COLUMNS = ("start_time", "end_time")


def require_zone_for_naive(raw: pl.LazyFrame, tz: str | None) -> None:
    """Naive wall times cannot be placed in UTC without `--tz`: stop with the first such cell."""
    if tz is not None:
        return
    row = first_naive_cell(raw, [(c, c) for c in TIME_COLUMNS])
    if row is not None:
        raise InputError(
            row[SOURCE_FILE],
            f"naive local time {row['value']!r} needs --tz ZONE (an IANA name)",
            row=row[SOURCE_ROW],
            column=row["column"],
        )


def _time_problems(col: str, tz: str | None, dst: DstPolicy) -> list[Problem]:
    reject_dst = dst is DstPolicy.REJECT and tz is not None
    reason = "unparseable time (expected RFC 2822, ISO 8601 or a local date-time)"
    return time_problems(col, reason, tz if reject_dst else None)


def normalize_calls(
    raw: pl.LazyFrame,
    tz: str | None,
    dst: DstPolicy,
    account: str | None = None,
    currency: str | None = None,
) -> tuple[pl.LazyFrame, pl.LazyFrame]:
    """(canonical calls, parse rejects). Rows with a parse problem are in both, for the caller to
    drop once all rejects are known. `currency` (`--currency`) fills a missing `price_unit`."""
    parsed = raw.with_columns(
        *parse_time("start_time", tz, dst),
        *parse_time("end_time", tz, dst),
        whole_number("duration").alias("__duration"),
        money("price").alias("__price"),
    )
    problems = [
        reader_errors(parsed),
        *_time_problems("start_time", tz, dst),
        *_time_problems("end_time", tz, dst),
        unparsed("duration", "not a whole number of seconds"),
        unparsed("price", "not a decimal amount"),
    ]
    rejects = find_problems(parsed, problems)
    canonical = parsed.select(SOURCE_FILE, SOURCE_ROW, *_canonical(account, currency))
    return canonical, rejects


def _canonical(account: str | None, currency: str | None = None) -> list[pl.Expr]:
    """The canonical call columns from a frame carrying the parsed `__` columns; `account`
    (`--account`) stands in for a missing account SID, `currency` (`--currency`) for a missing
    `price_unit` (never for one that is there)."""
    dst_note = pl.coalesce(pl.col("start_time__dst"), pl.col("end_time__dst"))
    return [
        pl.coalesce(blank_to_null("account_sid"), pl.lit(account, pl.String)).alias("account_sid"),
        blank_to_null("sid").alias("call_sid"),
        blank_to_null("parent_call_sid").alias("parent_call_sid"),
        blank_to_null("direction").str.to_lowercase().alias("direction"),
        blank_to_null("from").alias("from"),
        blank_to_null("to").alias("to"),
        blank_to_null("status").str.to_lowercase().alias("status"),
        pl.col("start_time__utc").alias("start_time_utc"),
        pl.col("end_time__utc").alias("end_time_utc"),
        pl.col("start_time__wall").alias("start_time_local"),
        (pl.col("start_time__naive") | pl.col("end_time__naive")).alias("time_naive"),
        pl.when(dst_note.is_not_null())
        .then(pl.concat_str(pl.lit("dst-"), dst_note))
        .otherwise(None)
        .cast(enum_dtype(DstNote))
        .alias("dst"),
        pl.col("__duration").alias("duration_s"),
        pl.col("__price").alias("price"),
        pl.coalesce(
            blank_to_null("price_unit").str.to_uppercase(), pl.lit(currency, pl.String)
        ).alias("price_unit"),
        blank_to_null("answered_by").alias("answered_by"),
        blank_to_null("trunk_sid").alias("trunk_sid"),
    ]


BAD = "__bad"
RAW = "__raw"


def stage_calls(
    raw: pl.LazyFrame,
    tz: str | None,
    shapes: dict[str, str | None],
    account: str | None = None,
    currency: str | None = None,
) -> pl.LazyFrame:
    """The fast pass over raw rows: source columns, the canonical columns (times parsed in the
    file's one shape, `shapes`), `__raw` (the raw text, as a struct) and `__bad`: the row needs a
    second look (a reader error, a time not in the file's shape or in a DST gap or overlap, a
    value that does not parse, a failed row check). Good rows are final; bad rows (few) go through
    `normalize_calls`, the full parse, which says what is wrong with them or accepts them."""
    raw_columns = [c for c in raw.collect_schema().names() if c not in (SOURCE_FILE, SOURCE_ROW)]
    parsed = raw.with_columns(
        *parse_time_fast("start_time", shapes.get("start_time"), tz),
        *parse_time_fast("end_time", shapes.get("end_time"), tz),
        pl.col("duration").cast(pl.Int64, strict=False).alias("__duration"),
        money("price").alias("__price"),
    )
    written = [pl.col(c).is_not_null() & pl.col(f"{c}__utc").is_null() for c in TIME_COLUMNS]
    # The fast pass takes text as written. Where the full parse would change it (a blank or
    # padded value, a direction not in the API's own lowercase), the row takes the slow way;
    # the other columns' row checks already fail on such text.
    padded = [pl.col(c).str.contains(r"^\s|\s$|^$").fill_null(False) for c in AS_WRITTEN]
    bad = pl.any_horizontal(
        pl.col(ERROR).is_not_null(),
        *written,
        pl.col("duration").is_not_null() & pl.col("__duration").is_null(),
        present("price") & pl.col("__price").is_null(),
        # directions as the API writes them (statuses.CALL_DIRECTIONS) are taken as written
        ~pl.col("direction").is_in(CALL_DIRECTIONS).fill_null(False),
        *padded,
    )
    canonical = parsed.select(
        SOURCE_FILE,
        SOURCE_ROW,
        *_canonical_as_written(account, currency),
        pl.struct(raw_columns).alias(RAW),
        bad.alias(BAD),
    )
    check_bad = pl.any_horizontal(c.fails() for c in CALLS.row_checks())
    return canonical.with_columns((pl.col(BAD) | check_bad).alias(BAD))


# Text the fast pass takes as written and no row check looks at.
AS_WRITTEN = ("from", "to", "answered_by", "trunk_sid")


def _canonical_as_written(account: str | None, currency: str | None = None) -> list[pl.Expr]:
    """`_canonical` for text that needs no cleaning (see `stage_calls`)."""
    cleaned = {c.meta.output_name(): c for c in _canonical(account, currency)}
    plain = {
        "call_sid": pl.col("sid"),
        **{c: pl.col(c) for c in ("parent_call_sid", "direction", "status")},
        "price_unit": pl.coalesce(pl.col("price_unit"), pl.lit(currency, pl.String)),
        **{c: pl.col(c) for c in AS_WRITTEN},
        "account_sid": pl.coalesce(pl.col("account_sid"), pl.lit(account, pl.String)),
    }
    return [plain[name].alias(name) if name in plain else e for name, e in cleaned.items()]
