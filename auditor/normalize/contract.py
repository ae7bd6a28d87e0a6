"""Row checks over a canonical frame, every failure collected as rejects naming file, row and
column: `check_rows` evaluates a FrameContract's checks as polars expressions (one pass, no
pandera at run time); `validate` runs the contract's pandera schema instead (the reference the
tests hold `check_rows` to), mapping pandera's row positions back to source file and row.
The contracts themselves live in `schemas/`; repeats of a key are `duplicates.py`'s."""

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
