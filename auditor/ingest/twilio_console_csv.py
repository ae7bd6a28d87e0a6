"""Twilio Console call-log CSV (or any CSV with the API's call fields as headers).

No official header list is public, so headers are matched to API field names case- and
separator-insensitively (`Call Sid`, `Start Time`, `Price Unit` ...). A file lacking a required
field is refused, naming what is missing. Console times are often naive local times: they need
`--tz`. Such an export has no account column; the pipeline supplies the account.
"""

from __future__ import annotations

import csv
import io
from typing import ClassVar

import polars as pl

from auditor.ingest.base import CALL_FIELDS, Kind, conform
from auditor.ingest.columns import map_headers, require
from auditor.ingest.csv_source import read_delimited
from auditor.ingest.files import InputFile
from auditor.ingest.options import ReadOptions

REQUIRED = ("sid", "from", "to", "direction", "status", "start_time", "end_time", "duration")


def csv_header(head: str) -> list[str]:
    line = head.splitlines()[0] if head.strip() else ""
    try:
        return next(csv.reader(io.StringIO(line)))
    except (StopIteration, csv.Error):
        return []


def read_mapped_csv(
    file: InputFile, fields: tuple[str, ...], required: tuple[str, ...], kind: Kind
) -> pl.LazyFrame:
    df = read_delimited(file)
    mapping = map_headers(df.columns, fields)
    require(mapping, required, file.name)
    return conform(df.rename(mapping), kind, file)


class TwilioConsoleCsv:
    name: ClassVar[str] = "twilio-console-csv"
    kind: ClassVar[Kind] = "calls"

    def sniff(self, file: InputFile, head: str) -> bool:
        mapped = set(map_headers(csv_header(head), CALL_FIELDS).values())
        return {"sid", "status"} <= mapped

    def read(self, file: InputFile, options: ReadOptions) -> pl.LazyFrame:
        return read_mapped_csv(file, CALL_FIELDS, REQUIRED, self.kind)
