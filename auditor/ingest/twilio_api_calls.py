"""Twilio REST API v2010 Calls list pages: `{"calls": [...], "next_page_uri": ..., ...}`.

One file per page; `source_row` is the record's 1-based index in the page's `calls` array.
"""

from __future__ import annotations

import re
from typing import ClassVar

import polars as pl

from auditor.ingest.base import CALL_FIELDS, Kind, conform
from auditor.ingest.files import InputFile
from auditor.ingest.json_source import document_records
from auditor.ingest.options import ReadOptions


class TwilioApiCalls:
    name: ClassVar[str] = "twilio-api-calls"
    kind: ClassVar[Kind] = "calls"

    def sniff(self, file: InputFile, head: str) -> bool:
        return head.lstrip().startswith("{") and re.search(r'"calls"\s*:\s*\[', head) is not None

    def read(self, file: InputFile, options: ReadOptions) -> pl.LazyFrame:
        return conform(document_records(file, "calls", CALL_FIELDS, "call record"), self.kind, file)
