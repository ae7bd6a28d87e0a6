"""Read a delimited text file into string columns with the physical line of each record.

polars does the parsing. Its record index maps to the physical line (header = line 1) except where
a quoted field spans lines; those newlines are counted and added back, so `source_row` is always the
line an auditor's editor shows. A file polars cannot parse (ragged or broken quoting) is read again
with Python's csv module, which keeps every record and marks a record of the wrong width with
`_error` instead of failing the whole file.

Hostile input: a file wider than `MAX_COLUMNS` is refused before it is parsed (an export has tens
of columns); a record with a field longer than `MAX_FIELD_BYTES` is an error row, its values
dropped, so that no such value travels on to rejects.csv.
"""

from __future__ import annotations

import csv
import io

import polars as pl

from auditor.errors import InputError, NotUtf8Error
from auditor.ingest.base import ERROR, SOURCE_ROW
from auditor.ingest.files import InputFile, decode_utf8
from auditor.ingest.line_ends import Squeezed, drop_empty_lines, restore_lines, unix_line_ends

MAX_COLUMNS = 1000
MAX_FIELD_BYTES = 64 * 1024  # a real value is under 1 KiB
TOO_LONG = f"a field longer than {MAX_FIELD_BYTES} bytes"


def read_delimited(
    file: InputFile,
    *,
    has_header: bool = True,
    separator: str = ",",
    skip_lines: int = 0,
    names: list[str] | None = None,
) -> pl.DataFrame:
    """All-string frame of the file's records plus `source_row`; blank lines are not records.

    Lines end in LF, CRLF or CR alike (see `line_ends`). Only an empty line is blank: a line of
    spaces or of delimiters only is a record (rejected later). Empty lines are removed before
    polars parses the file, so that they cost nothing (polars would read each as a record of
    nulls, gigabytes for a few MiB of newlines), and `source_row` still counts them.

    `skip_lines` drops that many lines after the header (CUCM's types line). With
    `has_header=False` the columns are named `names`, or `column_0..n-1` (polars' names).
    """
    data = unix_line_ends(file.read_bytes())
    squeezed = drop_empty_lines(data, quote=b'"')
    try:
        text = decode_utf8(squeezed.data, file.name)  # what was removed is LF bytes
    except NotUtf8Error:
        decode_utf8(data, file.name)  # the error with the physical line
        raise
    if not text.strip():
        raise InputError(file.name, "file is empty")
    first_line = (1 if has_header else 0) + skip_lines + 1
    _check_width(text, file, separator, names)
    try:
        df = pl.read_csv(
            io.BytesIO(squeezed.data),
            has_header=has_header,
            separator=separator,
            infer_schema=False,
            skip_rows_after_header=skip_lines if has_header else 0,
            skip_lines=0 if has_header else skip_lines,
            new_columns=names,
            raise_if_empty=False,
            truncate_ragged_lines=False,
        )
    except (pl.exceptions.ComputeError, pl.exceptions.NoDataError, pl.exceptions.ShapeError):
        original = text if not squeezed.before else data.decode("utf-8-sig")
        return _read_with_python(original, file, has_header, separator, skip_lines, names)
    return _drop_long_fields(_with_lines(df, first_line, squeezed))


def _check_width(text: str, file: InputFile, separator: str, names: list[str] | None) -> None:
    """InputError when the first line is wider than `MAX_COLUMNS` (separators outside quotes, read
    before polars parses the file: thousands of columns cost seconds)."""
    end = text.find("\n")
    first = text[: end if end >= 0 else len(text)]
    if names is not None or first.count(separator) < MAX_COLUMNS:
        return
    width = sum(part.count(separator) for part in first.split('"')[::2]) + 1
    if width > MAX_COLUMNS:
        raise InputError(
            file.name, f"{width} columns, more than {MAX_COLUMNS}: not an export", row=1
        )


def _drop_long_fields(df: pl.DataFrame) -> pl.DataFrame:
    """A record with a field longer than `MAX_FIELD_BYTES`: every value null, `_error` set."""
    cols = [c for c in df.columns if c not in (SOURCE_ROW, ERROR)]
    long = df.select(
        pl.any_horizontal(pl.col(c).str.len_bytes() > MAX_FIELD_BYTES for c in cols).fill_null(
            False
        )
    ).to_series()
    if not long.any():
        return df
    return df.with_columns(
        *(pl.when(long).then(pl.lit(None, pl.String)).otherwise(pl.col(c)).alias(c) for c in cols),
        pl.when(long).then(pl.lit(TOO_LONG)).otherwise(pl.col(ERROR)).alias(ERROR),
    )


def _with_lines(df: pl.DataFrame, first_line: int, squeezed: Squeezed) -> pl.DataFrame:
    """Add `source_row`, counting newlines inside quoted fields and the empty lines removed
    before parsing. Every record is a row: with the empty lines gone, a record of nulls is a line
    of delimiters only."""
    cols = df.columns
    extra = pl.sum_horizontal([pl.col(c).str.count_matches("\n").fill_null(0) for c in cols]).cast(
        pl.Int64
    )
    lines = df.select(
        (pl.int_range(pl.len(), dtype=pl.Int64) + first_line + extra.cum_sum() - extra).alias(
            SOURCE_ROW
        )
    ).to_series()
    return df.with_columns(restore_lines(lines, squeezed), pl.lit(None, pl.String).alias(ERROR))


def _polars_names(columns: list[str]) -> list[str]:
    """Header names as polars' reader gives them: a repeated name becomes `NAME_duplicated_N`
    (N from 0), so that both readers agree and no two columns share a name."""
    seen: dict[str, int] = {}
    out = []
    for name in columns:
        if name in seen:
            out.append(f"{name}_duplicated_{seen[name]}")
            seen[name] += 1
        else:
            out.append(name)
            seen[name] = 0
    return out


def _read_with_python(
    text: str,
    file: InputFile,
    has_header: bool,
    separator: str,
    skip_lines: int,
    names: list[str] | None,
) -> pl.DataFrame:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator)
    # the header: the first record that is not an empty line
    header: list[str] | None = next((r for r in reader if r), []) if has_header else None
    for _ in range(skip_lines):
        next(reader, None)
    rows: list[list[str | None]] = []
    lines: list[int] = []
    errors: list[str | None] = []
    width = len(names or header or [])
    start = reader.line_num + 1
    try:
        for record in reader:
            line, start = start, reader.line_num + 1
            if not record:  # an empty line (a line of delimiters only is a record of "")
                continue
            if not width:
                width = len(record)
            lines.append(line)
            if len(record) != width:
                rows.append([None] * width)
                errors.append(f"record has {len(record)} fields, expected {width}")
            else:
                rows.append([v if v != "" else None for v in record])
                errors.append(None)
    except csv.Error as exc:
        raise InputError(file.name, f"unreadable CSV ({exc})", row=reader.line_num) from None
    columns = _polars_names(names or header or [f"column_{i}" for i in range(width)])
    df = pl.DataFrame(rows, schema=dict.fromkeys(columns, pl.String), orient="row")
    return df.with_columns(
        pl.Series(SOURCE_ROW, lines, dtype=pl.Int64), pl.Series(ERROR, errors, dtype=pl.String)
    )
