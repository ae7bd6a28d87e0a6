"""Repeats of a key (a call SID, a usage record's account, category and dates) are rejects: one
row of each key is kept, the others are `duplicate of FILE:ROW` when their canonical values are
the kept row's, `conflicting duplicate of FILE:ROW (name KEPT vs THIS, ...)` when they differ.
The row kept is the first in input order, except that a call in a final status wins over one in a
non-final status (the call as it ended, not a snapshot of it ringing), which the reason says.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import polars as pl

from auditor.ingest.base import SOURCE_FILE, SOURCE_ROW
from auditor.normalize.rejects import KEY, REJECT_SCHEMA, empty_rejects
from auditor.schemas import calls as calls_schema
from auditor.schemas import usage as usage_schema
from auditor.statuses import Duplicate

MAX_DIFFS = 4  # differing fields a conflicting duplicate's reason lists, then "+N more"
MAX_VALUE = 40  # characters of one value in that list
EMPTY = "(empty)"  # a value that is null, in that list


@dataclass(frozen=True)
class Duplicates:
    """What makes rows the same record, and how a repeat is told apart.

    `key`: the columns that identify a record; `column`, `value`: the reject's column name and
    the canonical column its value comes from; `compare`: the canonical columns compared between
    repeats (canonical name, the name the reason uses), in the reason's order: every value but
    the key and provenance (source file and row, and how a time was written); `final`: a column
    and the values in it that win over the others whatever comes first, or None."""

    key: tuple[str, ...]
    column: str
    value: str
    compare: tuple[tuple[str, str], ...]
    final: tuple[str, tuple[str, ...]] | None = None

    def columns(self) -> list[str]:
        """The columns a repeat's verdict reads."""
        names = [SOURCE_FILE, SOURCE_ROW, *self.key, self.value, *(c for c, _ in self.compare)]
        if self.final is not None:
            names.append(self.final[0])
        return list(dict.fromkeys(names))


# How a time was written (local wall time, naive or not, DST note) is provenance, not a value:
# the same call in a Console CSV (local times) and a Calls page (UTC) is the same call.
_CALL_PROVENANCE = {SOURCE_FILE, SOURCE_ROW, "call_sid", "start_time_local", "time_naive", "dst"}
CALL_DUPLICATES = Duplicates(
    key=("call_sid",),
    column="sid",
    value="call_sid",
    compare=tuple(
        (c, calls_schema.SOURCE_NAMES.get(c, c))
        for c in calls_schema.CALLS.dtypes()
        if c not in _CALL_PROVENANCE
    ),
    final=("status", calls_schema.FINAL_STATUSES),
)
USAGE_KEY = ("account_sid", "category", "start_date", "end_date")
# `as_of` is when the figures were fetched: provenance, like the file they came in.
USAGE_DUPLICATES = Duplicates(
    key=USAGE_KEY,
    column="category",
    value="category",
    compare=tuple(
        (c, c)
        for c in usage_schema.USAGE.dtypes()
        if c not in {SOURCE_FILE, SOURCE_ROW, *USAGE_KEY, "as_of"}
    ),
)


def _shown(expr: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    """A canonical value as a reason shows it: UTC times in ISO 8601, amounts without trailing
    zeros, null as EMPTY, cut to MAX_VALUE characters."""
    if isinstance(dtype, pl.Datetime) and dtype.time_zone == "UTC":
        text = expr.dt.to_string("%Y-%m-%dT%H:%M:%S%.fZ")
    elif isinstance(dtype, pl.Decimal) and (dtype.scale or 0) > 0:
        text = expr.cast(pl.String).str.replace(r"\.?0+$", "")
    else:
        text = expr.cast(pl.String)
    long = text.str.len_chars() > MAX_VALUE
    cut = pl.when(long).then(text.str.slice(0, MAX_VALUE - 1) + "…").otherwise(text)
    return cut.fill_null(EMPTY)


def _verdicts(
    rows: pl.DataFrame, dups: Duplicates, order: list[pl.Expr], formats: Mapping[str, str]
) -> pl.DataFrame:
    """The reject of every row of `rows` but the one kept of its key. `rows`: every row of each
    repeated key (at least the columns of `dups`), `order`: input order. Values are compared
    null included between rows of one format (`formats`: file -> format; a file not in it is
    its own format); across formats a null is a field that format does not carry, not a
    difference (a Console CSV has no account SID, the Calls page has)."""
    key = list(dups.key)
    fmt = pl.col(SOURCE_FILE).replace_strict(dict(formats), default=pl.col(SOURCE_FILE))
    if dups.final is None:
        final = pl.lit(False)
    else:
        final = pl.col(dups.final[0]).is_in(list(dups.final[1])).fill_null(False)
    ranked = (
        rows.sort(order)
        .with_row_index("__pos")
        .with_columns(fmt.alias("__fmt"), final.alias("__final"))
    )
    kept_columns = [SOURCE_FILE, SOURCE_ROW, "__pos", "__fmt", "__final"]
    kept_columns += [c for c, _ in dups.compare]
    kept = (
        ranked.sort("__final", "__pos", descending=[True, False])
        .group_by(key, maintain_order=True)
        .first()
        .select(*key, *(pl.col(c).alias(f"__k{c}") for c in kept_columns))
    )
    repeats = ranked.join(kept, on=key, how="inner").filter(pl.col("__pos") != pl.col("__k__pos"))
    one_format = pl.col("__fmt") == pl.col("__k__fmt")
    parts = []
    for column, name in dups.compare:
        mine, theirs = pl.col(column), pl.col(f"__k{column}")
        both = mine.is_not_null() & theirs.is_not_null()
        differs = (
            pl.when(one_format).then(theirs.ne_missing(mine)).otherwise(both & (theirs != mine))
        )
        dtype = rows.schema[column]
        text = pl.concat_str(
            pl.lit(f"{name} "), _shown(theirs, dtype), pl.lit(" vs "), _shown(mine, dtype)
        )
        parts.append(pl.when(differs).then(text))
    diffs = pl.concat_list(parts).list.drop_nulls() if parts else pl.lit([], pl.List(pl.String))
    n = diffs.list.len().cast(pl.Int64)
    listed = diffs.list.head(MAX_DIFFS).list.join(", ")
    more = pl.when(n > MAX_DIFFS).then(pl.format(", +{} more", n - MAX_DIFFS)).otherwise(pl.lit(""))
    note = (
        pl.when(pl.col("__k__final") & ~pl.col("__final"))
        .then(pl.lit(f"; {Duplicate.KEPT_FINAL}"))
        .otherwise(pl.lit(""))
    )
    kept_at = pl.concat_str(pl.col(f"__k{SOURCE_FILE}"), pl.lit(":"), pl.col(f"__k{SOURCE_ROW}"))
    reason = (
        pl.when(n == 0)
        .then(pl.concat_str(pl.lit(f"{Duplicate.IDENTICAL} "), kept_at))
        .otherwise(
            pl.concat_str(
                pl.lit(f"{Duplicate.CONFLICTING} "),
                kept_at,
                pl.lit(" ("),
                listed,
                more,
                note,
                pl.lit(")"),
            )
        )
    )
    return (
        repeats.sort("__pos")
        .select(
            pl.col(SOURCE_FILE),
            pl.col(SOURCE_ROW),
            pl.lit(dups.column).alias("column"),
            pl.col(dups.value).cast(pl.String).alias("value"),
            reason.alias("reason"),
        )
        .cast(REJECT_SCHEMA)
    )


def drop_duplicates(
    frame: pl.DataFrame, dups: Duplicates, formats: Mapping[str, str] | None = None
) -> tuple[pl.DataFrame, pl.LazyFrame]:
    """(`frame` less its repeats, in input order; the repeats as rejects): see `Duplicates`.
    For a frame in memory (usage records); `duplicate_rejects` finds call SIDs at any size."""
    key = list(dups.key)
    indexed = frame.with_row_index("__in")
    repeated = indexed.filter(
        pl.all_horizontal(pl.col(k).is_not_null() for k in key) & (pl.len().over(key) > 1)
    )
    if not repeated.height:
        return frame, empty_rejects()
    rejects = _verdicts(repeated, dups, [pl.col("__in")], formats or {})
    accepted = frame.join(rejects.select(KEY), on=KEY, how="anti", maintain_order="left")
    return accepted, rejects.lazy()


def repeated_rows(lf: pl.LazyFrame, key: tuple[str, ...], columns: list[str]) -> pl.DataFrame:
    """`columns` of every row whose `key` another row also has. Within the memory bound at any
    size: the repeats are found on a 64-bit hash of the key, then confirmed exactly on those
    candidates, whose columns only are read."""
    keys = list(key)
    hashed = (pl.col(keys[0]) if len(keys) == 1 else pl.struct(keys)).hash(seed=0).alias("__h")
    present = lf.filter(pl.all_horizontal(pl.col(k).is_not_null() for k in keys))
    # 8 bytes a row, sorted: a repeat is a hash equal to its neighbour (no hash table of them all)
    hashes = present.select(hashed).collect()["__h"].sort()
    repeated = hashes.filter(hashes == hashes.shift(1)).unique()
    del hashes
    candidates = present.filter(hashed.is_in(repeated.implode())).select(columns).collect()
    return candidates.filter(pl.len().over(keys) > 1)  # a hash collision is no repeat


def duplicate_verdicts(
    rows: pl.DataFrame, dups: Duplicates, ranks: dict[str, int], formats: Mapping[str, str]
) -> pl.DataFrame:
    """The rejects of `rows` (every row of each repeated key, `dups.columns()`), in input order:
    by the file's input rank in `ranks`, then row."""
    if not rows.height:
        return pl.DataFrame(schema=REJECT_SCHEMA)
    rank = pl.col(SOURCE_FILE).replace_strict(ranks, return_dtype=pl.Int64)
    return _verdicts(rows, dups, [rank, pl.col(SOURCE_ROW)], formats)


def duplicate_rejects(
    lf: pl.LazyFrame, dups: Duplicates, ranks: dict[str, int], formats: Mapping[str, str]
) -> pl.DataFrame:
    """Rows whose key another row also has, as rejects (see `Duplicates`; earlier: by the
    file's input rank in `ranks`, then row). The repeats are found on a hash of the key
    (`repeated_rows`), so only they are read whole and compared."""
    return duplicate_verdicts(repeated_rows(lf, dups.key, dups.columns()), dups, ranks, formats)
