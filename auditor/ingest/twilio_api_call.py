"""One Twilio REST API v2010 Call resource: the JSON of fetching a single call
(`GET .../Calls/CA....json`), `{"sid": "CA...", "status": ..., ...}` with no `calls` array.

Read as a one-row call log; `source_row` is 1 (the record's index, as in a Calls page).
"""

from __future__ import annotations

import json
from typing import ClassVar

import polars as pl

from auditor.ingest.base import CALL_FIELDS, Kind, conform
from auditor.ingest.files import InputFile
from auditor.ingest.json_source import load_document, loads, records_frame
from auditor.ingest.options import ReadOptions


def is_call_resource(doc: object) -> bool:
    """A JSON object shaped like one Call: a CA sid, a status, no list of calls."""
    return (
        isinstance(doc, dict)
        and str(doc.get("sid", "")).startswith("CA")
        and "status" in doc
        and "calls" not in doc
    )


class TwilioApiCall:
    name: ClassVar[str] = "twilio-api-call"
    kind: ClassVar[Kind] = "calls"

    def sniff(self, file: InputFile, head: str) -> bool:
        # A fetched Call is small: the head holds the whole document (a longer file is not one).
        if not head.lstrip().startswith("{"):
            return False
        try:
            return is_call_resource(loads(head))
        except (json.JSONDecodeError, RecursionError):  # RecursionError: nested absurdly deep
            return False

    def read(self, file: InputFile, options: ReadOptions) -> pl.LazyFrame:
        return conform(
            records_frame([load_document(file)], CALL_FIELDS, first_row=1), self.kind, file
        )
