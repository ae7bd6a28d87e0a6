"""A user's own records (`--records FILE`): CSV, JSON lines or Parquet, plain or gzipped, read
into string columns named by the format file (`--records-format`).

The shape is told from the content: Parquet by its magic bytes (inside gzip too), JSON lines when
the first non-blank character is `{`, CSV otherwise (the format's `delimiter`, a header line).
Only the columns the format names are kept, each under its canonical field name (`call_sid`,
`to`, `time`, ...) and each group column as `group:NAME`; a column the format names that the
file lacks stops the run naming the file, the column and the format key. Provenance as for every
input: `source_file` (as named), `source_row` (the physical line for CSV and JSON lines, header =
line 1; the row number in Parquet); a record that cannot be split into fields is a row with
`_error`, rejected later with its line.

Parquet columns keep their meaning: a timestamp column is written back as text in the format's
own time format (ISO 8601, epoch seconds or milliseconds, or its strftime pattern), so it is read
the way the format says; numbers become their decimal text.
"""

from __future__ import annotations

import gzip
import io
import json

import polars as pl

from auditor.errors import InputError
from auditor.ingest.base import ERROR, ERROR_COLUMN, SOURCE_FILE, SOURCE_ROW
from auditor.ingest.csv_source import read_delimited
from auditor.ingest.files import PARQUET_MAGIC, InputFile
from auditor.ingest.json_source import json_lines, loads
from auditor.ingest.records_format_file import EPOCH, ISO8601, RecordsFormat
from auditor.ingest.units import EPOCH_MS
from auditor.schemas.records import GROUP_PREFIX

HEAD_LINES = 1000  # JSON lines: the keys of this many first records name the file's columns


def _is_parquet(file: InputFile) -> bool:
    if file.is_parquet:
        return True
    if not file.is_gzip:
        return False
    try:
        with gzip.open(file.path, "rb") as fh:
            return fh.read(4) == PARQUET_MAGIC
    except (OSError, EOFError):
        return False


def _resolve(names: list[str], fmt: RecordsFormat, file: InputFile) -> dict[str, str]:
    """{column the format names: the file's column}: the exact name, else the one name equal to
    it in any case and surrounding blanks; InputError naming the first one missing."""
    by_folded: dict[str, list[str]] = {}
    for n in names:
        by_folded.setdefault(n.strip().lower(), []).append(n)
    found: dict[str, str] = {}
    for column in fmt.referenced():
        if column in names:
            found[column] = column
        elif len(by_folded.get(column.strip().lower(), [])) == 1:
            found[column] = by_folded[column.strip().lower()][0]
        else:
            raise InputError(
                file.name,
                f"column {column!r} ({fmt.where(column)} of {fmt.source}) is not in the file",
                row=1,
            )
    return found


def _canonical(frame: pl.LazyFrame, found: dict[str, str], fmt: RecordsFormat) -> pl.LazyFrame:
    names = frame.collect_schema().names()
    error = [pl.col(ERROR)] if ERROR in names else [pl.lit(None, pl.String).alias(ERROR)]
    return frame.select(
        pl.col(SOURCE_ROW).cast(pl.Int64),
        *(pl.col(found[col]).cast(pl.String).alias(key) for key, col in fmt.columns.items()),
        *(pl.col(found[g]).cast(pl.String).alias(GROUP_PREFIX + g) for g in fmt.group),
        *error,
        pl.lit(None, pl.String).alias(ERROR_COLUMN),
    )


def _csv(file: InputFile, fmt: RecordsFormat) -> pl.LazyFrame:
    frame = read_delimited(file, separator=fmt.delimiter)
    names = [c for c in frame.columns if c not in (SOURCE_ROW, ERROR)]
    return _canonical(frame.lazy(), _resolve(names, fmt, file), fmt)


def _head_keys(file: InputFile) -> list[str]:
    """The keys of the first records of a JSON-lines file, in order of appearance."""
    keys: dict[str, None] = {}
    for line in file.head_text().splitlines()[:HEAD_LINES]:
        try:
            record = loads(line)
        except (json.JSONDecodeError, RecursionError):
            continue  # a bad or cut line: it is an error row when the file is read
        if isinstance(record, dict):
            keys.update(dict.fromkeys(str(k) for k in record))
    return list(keys)


def _json_lines(file: InputFile, fmt: RecordsFormat) -> pl.LazyFrame:
    found = _resolve(_head_keys(file), fmt, file)
    frame = json_lines(file, tuple(dict.fromkeys(found.values())))
    return _canonical(frame.lazy(), found, fmt)


def _temporal_text(name: str, dtype: pl.DataType, fmt: RecordsFormat) -> pl.Expr:
    """A Parquet timestamp or date column as the text the format's time format reads."""
    col = pl.col(name)
    if isinstance(dtype, pl.Date):
        col = col.cast(pl.Datetime("us"))
    aware = isinstance(dtype, pl.Datetime) and dtype.time_zone is not None
    if fmt.time_format == ISO8601:
        if aware:
            return col.dt.convert_time_zone("UTC").dt.strftime("%Y-%m-%dT%H:%M:%S%.fZ")
        return col.dt.strftime("%Y-%m-%d %H:%M:%S%.f")
    if fmt.time_format in (EPOCH, EPOCH_MS):
        if not aware:  # a naive timestamp is a wall time in the format's zone (else UTC)
            col = col.dt.replace_time_zone(fmt.time_zone or "UTC", non_existent="null")
        per_unit = 1e6 if fmt.time_format == EPOCH else 1e3  # microseconds
        return (col.dt.epoch("us").cast(pl.Float64) / per_unit).cast(pl.String)
    if aware:
        col = col.dt.convert_time_zone(fmt.time_zone or "UTC")
        if "%z" not in fmt.time_format:
            col = col.dt.replace_time_zone(None)
    return col.dt.strftime(fmt.time_format)


def _parquet(file: InputFile, fmt: RecordsFormat) -> pl.LazyFrame:
    source: object = file.path
    if file.is_gzip:
        source = io.BytesIO(file.read_bytes())
    else:
        file.check_parquet_inflate()
    try:
        schema = pl.scan_parquet(source, glob=False).collect_schema()  # type: ignore[arg-type]
        if isinstance(source, io.BytesIO):
            source.seek(0)
        lf = pl.scan_parquet(source, glob=False)  # type: ignore[arg-type]
    except Exception as exc:  # polars raises several types for a broken file
        raise InputError(file.name, f"unreadable Parquet ({exc})") from None
    found = _resolve(list(schema), fmt, file)
    time_columns = {found[fmt.columns[k]] for k in ("time", "end") if k in fmt.columns}
    columns = list(dict.fromkeys(found.values()))
    as_text = [
        (
            _temporal_text(c, schema[c], fmt)
            if c in time_columns and schema[c].is_temporal()
            else pl.col(c).cast(pl.String)
        ).alias(c)
        for c in columns
    ]
    frame = lf.select(as_text).with_row_index(SOURCE_ROW, offset=1)
    return _canonical(frame, found, fmt)


def read_records(file: InputFile, fmt: RecordsFormat) -> pl.DataFrame:
    """The file's records (see the module docstring): `source_file`, `source_row`, one string
    column per field the format maps, `group:NAME` per group column, `_error`, `_error_column`."""
    if _is_parquet(file):
        frame = _parquet(file, fmt)
    else:
        head = file.head_text()
        first = head.lstrip("\ufeff \t\r\n")[:1]
        if not first:
            raise InputError(file.name, "file is empty")
        if first == "[":
            raise InputError(file.name, "a JSON array: records are read as JSON lines (one a line)")
        frame = _json_lines(file, fmt) if first == "{" else _csv(file, fmt)
    try:
        out = frame.collect()
    except pl.exceptions.PolarsError as exc:
        raise InputError(file.name, f"unreadable ({exc})") from None
    return out.select(pl.lit(file.name).alias(SOURCE_FILE), pl.all())
