"""Spreadsheet formula injection: text cells made inert before any CSV is written.

A spreadsheet opening a CSV runs a cell starting with `=`, `+`, `-`, `@`, tab or CR as a formula,
so a caller name `=HYPERLINK("http://evil.example","x")` from an input would become live in the
auditor's own output. Every text cell that starts so is prefixed with `'` (the cell then shows
as text), unless the whole cell is

- a plain number: optional `-`, digits with an optional fraction (or a bare fraction), optional
  exponent: `-0.0085`, `12`, `1.5e3`, `-3`, `-.5` (a spreadsheet reads it as that number anyway);
- an E.164 number: `+`, then 1 to 15 digits, the first 1-9: `+15551234567`.

Only text columns (String, and Categorical / Enum as their text) are touched: numbers, Decimals,
dates and booleans are not text cells. Digits are ASCII (`[0-9]`: the regex crate's `\\d` is
Unicode) and `$` is the end of the text, so `-1\\n=cmd` is not a number. Parquet outputs are
written from the raw values, never through this.
"""

from __future__ import annotations

from typing import TypeVar

import polars as pl

# A cell a spreadsheet would evaluate: its first character.
FORMULA_START = r"^[=+\-@\t\r]"
# What may start so and stay as written: a plain number or an E.164 number, the whole cell.
PLAIN_NUMBER = r"-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
E164 = r"\+[1-9][0-9]{0,14}"
KEEP = rf"^(?:{PLAIN_NUMBER}|{E164})$"

Frame = TypeVar("Frame", pl.DataFrame, pl.LazyFrame)


def neutralise(col: pl.Expr) -> pl.Expr:
    """`col` (text) with every formula-like cell prefixed by `'`; nulls stay null."""
    live = col.str.contains(FORMULA_START) & ~col.str.contains(KEEP)
    return pl.when(live).then(pl.concat_str(pl.lit("'"), col)).otherwise(col)


def is_text(dtype: pl.DataType) -> bool:
    """A column whose cells are text: String, Categorical, Enum."""
    return isinstance(dtype, (pl.String, pl.Categorical, pl.Enum))


def neutralise_formulas(frame: Frame) -> Frame:
    """`frame` with every text column neutralised (see the module doc); other columns as they
    are. Lazy in, lazy out: one vectorised pass, fit for a streamed `sink_csv`."""
    text = [name for name, dtype in frame.collect_schema().items() if is_text(dtype)]
    if not text:
        return frame
    return frame.with_columns(neutralise(pl.col(name).cast(pl.String)).alias(name) for name in text)
