"""Usage records as CSV with the API's field names (a Console download or a script's dump)."""

from __future__ import annotations

from typing import ClassVar

import polars as pl

from auditor.ingest.base import USAGE_FIELDS, Kind
from auditor.ingest.columns import map_headers
from auditor.ingest.files import InputFile
from auditor.ingest.options import ReadOptions
from auditor.ingest.twilio_console_csv import csv_header, read_mapped_csv

REQUIRED = ("category", "count", "usage", "price", "start_date", "end_date")


class TwilioUsageCsv:
    name: ClassVar[str] = "twilio-usage-csv"
    kind: ClassVar[Kind] = "usage"

    def sniff(self, file: InputFile, head: str) -> bool:
        mapped = set(map_headers(csv_header(head), USAGE_FIELDS).values())
        return {"category", "usage", "start_date"} <= mapped

    def read(self, file: InputFile, options: ReadOptions) -> pl.LazyFrame:
        return read_mapped_csv(file, USAGE_FIELDS, REQUIRED, self.kind)
