"""PBX CDR files line by line: one physical line is one record, split into fields by polars regex.

PBXs write one CDR per line, so the physical line is both the record and the `source_row` an auditor
opens. Splitting here (rather than with a CSV parser) keeps every line a row: a line with broken
quoting, or with more or fewer fields than the file's records, is kept with `_error` and ends in
rejects with its line number, instead of being padded with nulls or failing the whole file.

Text: a line that is not UTF-8 (caller-ID names written as raw Latin-1 / CP1251 bytes) is decoded
with the fallback encoding and keeps its name in the `encoding` column; the others are null.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence

import polars as pl

from auditor.errors import InputError
from auditor.ingest.base import ENCODING, ERROR, SOURCE_ROW
from auditor.ingest.files import InputFile

LINE = "__line"
FIELDS = "__fields"
OK = "__ok"
DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")
INTEGER = re.compile(r"^-?\d+$")


def physical_lines(file: InputFile, fallback: str | None) -> pl.DataFrame:
    """(`source_row`, `__line`, `encoding`) for every non-blank line, 1-based; a CR before the LF
    is dropped. A line that is not UTF-8 is decoded with `fallback`, named in `encoding`."""
    decoded = file.read_text_by_line(fallback)
    if not decoded.text.strip():
        raise InputError(file.name, "file is empty")
    encoding = (
        pl.when(pl.col(SOURCE_ROW).is_in(list(decoded.fallback_lines)))
        .then(pl.lit(fallback, pl.String))
        .otherwise(pl.lit(None, pl.String))
        if decoded.fallback_lines
        else pl.lit(None, pl.String)
    )
    return (
        pl.DataFrame({LINE: [decoded.text]})
        .select(pl.col(LINE).str.split("\n").explode())
        .with_row_index(SOURCE_ROW, offset=1)
        .with_columns(pl.col(SOURCE_ROW).cast(pl.Int64), pl.col(LINE).str.strip_suffix("\r"))
        .with_columns(encoding.alias(ENCODING))
        .filter(pl.col(LINE).str.strip_chars() != "")
    )


def split_csv(lines: pl.DataFrame, separator: str = ",") -> pl.DataFrame:
    """Add `__fields` (values, outer quotes removed, `""` read as `"`, an empty bare field null)
    and `__ok` (the line is well-formed CSV: each field bare without quotes, or fully quoted)."""
    sep = re.escape(separator)
    field = rf'"(?:[^"]|"")*"|[^{sep}"\n]*'
    valid = rf"^(?:{field})(?:{sep}(?:{field}))*$"
    e = pl.element()
    unquoted = (
        pl.when(e.str.starts_with('"'))
        .then(e.str.slice(1, e.str.len_chars() - 2).str.replace_all('""', '"', literal=True))
        .when(e == "")
        .then(None)
        .otherwise(e)
    )
    # Every field is read as "separator, then a field": prefixing one separator makes the first
    # field look like the others, and an empty field is then never a zero-width match.
    fields = (
        (pl.lit(separator) + pl.col(LINE))
        .str.extract_all(rf"{sep}(?:{field})")
        .list.eval(e.str.slice(len(separator)))
        .list.eval(unquoted)
    )
    return lines.with_columns(pl.col(LINE).str.contains(valid).alias(OK), fields.alias(FIELDS))


def to_columns(lines: pl.DataFrame, names: Sequence[str], broken: str) -> pl.DataFrame:
    """Named string columns from `__fields`; a line not `__ok`, or not `len(names)` wide, has all
    fields null and `_error` set (`broken` says why its quoting failed). `encoding` rides along."""
    width = len(names)
    n = pl.col(FIELDS).list.len()
    error = (
        pl.when(~pl.col(OK))
        .then(pl.lit(broken))
        .when(n != width)
        .then(pl.concat_str(pl.lit("record has "), n, pl.lit(f" fields, expected {width}")))
        .otherwise(None)
    )
    cols = [
        pl.when(error.is_null())
        .then(pl.col(FIELDS).list.get(i, null_on_oob=True))
        .otherwise(None)
        .alias(name)
        for i, name in enumerate(names)
    ]
    return lines.select(SOURCE_ROW, *cols, error.cast(pl.String).alias(ERROR), ENCODING)


def common_width(lines: pl.DataFrame, allowed: Sequence[int] | None = None) -> int | None:
    """The most frequent field count of the well-formed lines (among `allowed` when given; ties:
    the wider), or None when there is none."""
    widths = lines.filter(pl.col(OK)).select(pl.col(FIELDS).list.len().alias("n"))
    if allowed is not None:
        widths = widths.filter(pl.col("n").is_in(list(allowed)))
    counts = widths.group_by("n").len().sort(["len", "n"], descending=True)
    return int(counts["n"][0]) if counts.height else None


def head_records(head: str, limit: int = 5, delimiter: str = ",") -> list[list[str]]:
    """The first non-blank lines of a file's head, parsed as CSV (for sniffing only)."""
    picked = [ln.rstrip("\r") for ln in head.split("\n") if ln.strip()][:limit]
    try:
        return [next(csv.reader(io.StringIO(ln), delimiter=delimiter)) for ln in picked]
    except (csv.Error, StopIteration):
        return []


def is_datetime(value: str) -> bool:
    return DATETIME.match(value) is not None


def is_integer(value: str) -> bool:
    return INTEGER.match(value) is not None


def bool_text(condition: pl.Expr) -> pl.Expr:
    """True/False/null -> "true"/"false"/null: the raw frame carries text only."""
    return (
        pl.when(condition)
        .then(pl.lit("true"))
        .when(~condition)
        .then(pl.lit("false"))
        .otherwise(pl.lit(None, pl.String))
    )
