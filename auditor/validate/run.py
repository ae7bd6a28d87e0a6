"""Row checks over a canonical frame, every failure collected as rejects naming file, row and
column: `check_rows` evaluates a FrameContract's checks as polars expressions (one pass, no
pandera at run time); `validate` runs the contract's pandera schema instead (the reference the
tests hold `check_rows` to), mapping pandera's row positions back to source file and row.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

from auditor.ingest.base import SOURCE_FILE, SOURCE_ROW
from auditor.normalize.rejects import (
    KEY,
    REJECT_SCHEMA,
    Problem,
    drop_rejected,
    empty_rejects,
    find_problems,
)
from auditor.schemas.checks import FrameContract

if TYPE_CHECKING:
    import pandera.polars as pa


def check_rows(
    frame: pl.DataFrame, contract: FrameContract, source_names: dict[str, str]
) -> tuple[pl.DataFrame, pl.LazyFrame]:
    """(rows that pass every check of `contract`, reject rows for the others)."""
    dtypes = contract.dtypes()
    fits = (
        frame.schema == pl.Schema(dtypes)
        if contract.strict
        else all(frame.schema.get(c) == t for c, t in dtypes.items())
    )
    if not fits:
        raise RuntimeError(f"canonical frame does not fit {contract.name}: {frame.schema}")
    problems = [
        Problem(source_names.get(c.column, c.column), c.fails(), pl.col(c.column), c.reason())
        for c in contract.row_checks()
    ]
    rejects = find_problems(frame.lazy(), problems).collect()
    if not rejects.height:
        return frame, empty_rejects()
    return drop_rejected(frame.lazy(), rejects.lazy()).collect(), rejects.lazy()


def validate(
    frame: pl.DataFrame, schema: pa.DataFrameSchema, source_names: dict[str, str]
) -> tuple[pl.DataFrame, pl.LazyFrame]:
    """(rows that pass every check, reject rows for the others)."""
    from pandera.errors import SchemaError, SchemaErrors

    try:
        schema.validate(frame, lazy=True)
    except SchemaErrors as exc:
        failures = exc.failure_cases
    except SchemaError as exc:  # a schema-level fault is ours, not the user's data
        raise RuntimeError(f"canonical frame does not fit {schema.name}: {exc}") from exc
    else:
        return frame, empty_rejects()
    located = failures.filter(pl.col("index").is_not_null())
    if located.height < failures.height:
        unlocated = failures.filter(pl.col("index").is_null()).to_dicts()
        raise RuntimeError(f"schema {schema.name} failed without row positions: {unlocated}")
    positions = frame.select(KEY).with_row_index("index")
    rejects = (
        located.lazy()
        .with_columns(pl.col("index").cast(pl.UInt32))
        .join(positions.lazy(), on="index", how="left")
        .select(
            pl.col(SOURCE_FILE),
            pl.col(SOURCE_ROW),
            pl.col("column").replace(source_names).alias("column"),
            pl.col("failure_case").alias("value"),
            pl.col("check").alias("reason"),
        )
        .cast(REJECT_SCHEMA)
    )
    accepted = drop_rejected(frame.lazy(), rejects).collect()
    return accepted, rejects


def drop_duplicates(
    frame: pl.DataFrame, key: list[str], column: str
) -> tuple[pl.DataFrame, pl.LazyFrame]:
    """Keep the first row (input order) of each `key`; the others are rejects `duplicate of F:R`."""
    lf = frame.lazy().with_row_index("__pos")
    first = lf.group_by(key).agg(
        pl.col("__pos").min().alias("__first"),
        pl.col(SOURCE_FILE).sort_by("__pos").first().alias("__file"),
        pl.col(SOURCE_ROW).sort_by("__pos").first().alias("__row"),
    )
    marked = lf.join(first, on=key, how="left", nulls_equal=False)
    dup = pl.col("__first").is_not_null() & (pl.col("__pos") != pl.col("__first"))
    rejects = marked.filter(dup).select(
        pl.col(SOURCE_FILE),
        pl.col(SOURCE_ROW),
        pl.lit(column).alias("column"),
        pl.col(key[0]).cast(pl.String).alias("value"),
        pl.format("duplicate of {}:{}", pl.col("__file"), pl.col("__row")).alias("reason"),
    )
    accepted = marked.filter(~dup).sort("__pos").drop("__pos", "__first", "__file", "__row")
    return accepted.collect(), rejects


def duplicate_rejects(
    lf: pl.LazyFrame, key: str, column: str, ranks: dict[str, int]
) -> pl.DataFrame:
    """Rows whose `key` an earlier row already has, as rejects `duplicate of FILE:ROW` (earlier:
    by the file's input rank in `ranks`, then row). Within the memory bound at any size: the
    repeats are found on a 64-bit hash of the key, then confirmed exactly on those candidates."""
    hashed = pl.col(key).hash(seed=0).alias("__h")
    present = lf.filter(pl.col(key).is_not_null())
    # 8 bytes a row, sorted: a repeat is a hash equal to its neighbour (no hash table of them all)
    hashes = present.select(hashed).collect()["__h"].sort()
    repeated = hashes.filter(hashes == hashes.shift(1)).unique()
    del hashes
    candidates = (
        present.filter(hashed.is_in(repeated.implode()))
        .select(key, SOURCE_FILE, SOURCE_ROW)
        .collect()
    )
    rank = pl.col(SOURCE_FILE).replace_strict(ranks, return_dtype=pl.Int64)
    ordered = candidates.sort(rank, SOURCE_ROW)
    first = ordered.group_by(key, maintain_order=True).agg(
        pl.col(SOURCE_FILE).first().alias("__file"), pl.col(SOURCE_ROW).first().alias("__row")
    )
    return (
        ordered.join(first, on=key, how="left")
        .filter((pl.col(SOURCE_FILE) != pl.col("__file")) | (pl.col(SOURCE_ROW) != pl.col("__row")))
        .select(
            pl.col(SOURCE_FILE),
            pl.col(SOURCE_ROW),
            pl.lit(column).alias("column"),
            pl.col(key).cast(pl.String).alias("value"),
            pl.format("duplicate of {}:{}", pl.col("__file"), pl.col("__row")).alias("reason"),
        )
        .cast(REJECT_SCHEMA)
    )
