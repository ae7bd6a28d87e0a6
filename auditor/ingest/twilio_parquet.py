"""Parquet files carrying the API field names: call logs or usage records, told apart by columns.

Typed columns are turned back into the text the other formats carry: timestamps with a zone become
ISO 8601 UTC, naive timestamps stay naive (so `--tz` applies), numbers become their decimal text.
`source_row` is the 1-based row number in the file.
"""

from __future__ import annotations

from typing import ClassVar

import polars as pl

from auditor.errors import InputError
from auditor.ingest.base import CALL_FIELDS, SOURCE_ROW, USAGE_FIELDS, Kind, conform
from auditor.ingest.columns import map_headers, require
from auditor.ingest.files import InputFile
from auditor.ingest.options import ReadOptions
from auditor.ingest.twilio_console_csv import REQUIRED as CALL_REQUIRED
from auditor.ingest.twilio_usage_csv import REQUIRED as USAGE_REQUIRED


def _columns(file: InputFile) -> list[str]:
    try:
        return pl.scan_parquet(file.path, glob=False).collect_schema().names()
    except Exception as exc:  # polars raises several types for a broken file
        raise InputError(file.name, f"unreadable Parquet ({exc})") from None


def _as_text(name: str, dtype: pl.DataType) -> pl.Expr:
    col = pl.col(name)
    if isinstance(dtype, pl.Datetime):
        if dtype.time_zone is not None:
            col = col.dt.convert_time_zone("UTC").dt.strftime("%Y-%m-%dT%H:%M:%S%.fZ")
        else:
            col = col.dt.strftime("%Y-%m-%d %H:%M:%S%.f")
    elif isinstance(dtype, pl.Date):
        col = col.dt.strftime("%Y-%m-%d")
    return col.cast(pl.String).alias(name)


def _read(
    file: InputFile, fields: tuple[str, ...], required: tuple[str, ...], kind: Kind
) -> pl.LazyFrame:
    mapping = map_headers(_columns(file), fields)
    require(mapping, required, file.name)
    file.check_parquet_inflate()
    lf = pl.scan_parquet(file.path, glob=False).select(list(mapping))
    schema = lf.collect_schema()
    lf = lf.select(_as_text(n, schema[n]) for n in mapping).rename(mapping)
    lf = lf.with_row_index(SOURCE_ROW, offset=1)
    return conform(lf, kind, file)


def _kind_of(file: InputFile) -> Kind | None:
    if not file.is_parquet:
        return None
    names = _columns(file)
    if {"sid", "status"} <= set(map_headers(names, CALL_FIELDS).values()):
        return "calls"
    if {"category", "usage"} <= set(map_headers(names, USAGE_FIELDS).values()):
        return "usage"
    return None


class TwilioCallsParquet:
    name: ClassVar[str] = "twilio-calls-parquet"
    kind: ClassVar[Kind] = "calls"

    def sniff(self, file: InputFile, head: str) -> bool:
        return _kind_of(file) == "calls"

    def read(self, file: InputFile, options: ReadOptions) -> pl.LazyFrame:
        return _read(file, CALL_FIELDS, CALL_REQUIRED, self.kind)


class TwilioUsageParquet:
    name: ClassVar[str] = "twilio-usage-parquet"
    kind: ClassVar[Kind] = "usage"

    def sniff(self, file: InputFile, head: str) -> bool:
        return _kind_of(file) == "usage"

    def read(self, file: InputFile, options: ReadOptions) -> pl.LazyFrame:
        return _read(file, USAGE_FIELDS, USAGE_REQUIRED, self.kind)
