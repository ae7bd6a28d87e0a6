"""Twilio Bulk Export Calls day files: JSON lines (usually gzipped), one call per line, ISO 8601
UTC times, v2010 field names; `source_row` is the physical line.
"""

from __future__ import annotations

import json
from typing import ClassVar

import polars as pl

from auditor.ingest.base import CALL_FIELDS, Kind, conform
from auditor.ingest.files import InputFile
from auditor.ingest.json_source import json_lines, loads, scan_json_lines
from auditor.ingest.options import ReadOptions


def first_json_line(head: str) -> dict | None:
    """The first non-blank line of `head` as a JSON object, or None."""
    for line in head.splitlines():
        if line.strip():
            try:
                value = loads(line)
            except (json.JSONDecodeError, RecursionError):  # RecursionError: nested absurdly deep
                return None
            return value if isinstance(value, dict) else None
    return None


class TwilioBulkExport:
    name: ClassVar[str] = "twilio-bulk-export"
    kind: ClassVar[Kind] = "calls"

    def sniff(self, file: InputFile, head: str) -> bool:
        rec = first_json_line(head)
        return rec is not None and "sid" in rec and "status" in rec and "calls" not in rec

    def read(self, file: InputFile, options: ReadOptions) -> pl.LazyFrame:
        """A lazy scan: day files are read once, streamed, when the calls are staged."""
        return conform(scan_json_lines(file, CALL_FIELDS), self.kind, file)

    def read_fallback(self, file: InputFile, options: ReadOptions) -> pl.LazyFrame:
        """For a file the scan cannot read (a line that is not JSON): every line kept, a bad one
        as an error row, or the one-line error for a file that is not UTF-8."""
        return conform(json_lines(file, CALL_FIELDS), self.kind, file)
