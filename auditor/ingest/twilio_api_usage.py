"""Twilio REST API v2010 Usage Records pages (Records, Daily, Monthly, ... share one shape):
`{"usage_records": [...], "next_page_uri": ..., ...}`; `source_row` is the record index.
"""

from __future__ import annotations

import re
from typing import ClassVar

import polars as pl

from auditor.ingest.base import USAGE_FIELDS, Kind, conform
from auditor.ingest.files import InputFile
from auditor.ingest.json_source import document_records
from auditor.ingest.options import ReadOptions


class TwilioApiUsage:
    name: ClassVar[str] = "twilio-api-usage"
    kind: ClassVar[Kind] = "usage"

    def sniff(self, file: InputFile, head: str) -> bool:
        text = head.lstrip()
        return text.startswith("{") and re.search(r'"usage_records"\s*:\s*\[', text) is not None

    def read(self, file: InputFile, options: ReadOptions) -> pl.LazyFrame:
        return conform(
            document_records(file, "usage_records", USAGE_FIELDS, "usage record"), self.kind, file
        )
