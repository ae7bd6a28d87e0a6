"""The one small interface every export reader implements.

A reader recognises its format from content (`sniff`) and returns a *raw* LazyFrame: string columns
named by canonical field (Twilio API names for calls and usage), plus `source_file` (str) and
`source_row` (Int64, 1-based physical line for CSV / JSON lines, record index for JSON documents).
A record the reader could not even split into fields is still a row: it carries the reason in
`_error` (and the column in `_error_column`), so that every row read ends in the audit or in
rejects. Readers know nothing of validation or reconciliation.
"""

from __future__ import annotations

from typing import ClassVar, Literal, Protocol

import polars as pl

from auditor.ingest.files import InputFile
from auditor.ingest.options import ReadOptions

Kind = Literal["calls", "usage", "cdr"]

ENCODING = "encoding"  # raw CDR column: the fallback encoding of a line that was not UTF-8
ERROR = "_error"
ERROR_COLUMN = "_error_column"
SOURCE_FILE = "source_file"
SOURCE_ROW = "source_row"

CALL_FIELDS: tuple[str, ...] = (
    "sid",
    "account_sid",
    "parent_call_sid",
    "direction",
    "from",
    "to",
    "status",
    "start_time",
    "end_time",
    "duration",
    "price",
    "price_unit",
    "answered_by",
    "trunk_sid",
)
USAGE_FIELDS: tuple[str, ...] = (
    "account_sid",
    "category",
    "description",
    "count",
    "count_unit",
    "usage",
    "usage_unit",
    "price",
    "price_unit",
    "start_date",
    "end_date",
    "as_of",
)
# PBX CDRs: what every PBX reader gives, as text. `call_key` groups the rows the PBX wrote for one
# call (Asterisk linkedid, FreeSWITCH uuid, CUCM globalCallID); `link_key` names the row whose call
# this row joins (FreeSWITCH bleg_uuid); `answered` is "true"/"false" by the format's own rule;
# `time_format` is "epoch" (seconds UTC) or a strptime format (null: the usual shapes);
# `time_zone` is the zone of naive times when the format says it (null: --pbx-tz);
# `origin` is "true" on the line the format itself names as the call's originating leg (Asterisk:
# uniqueid = linkedid), "false" on the others, null when the format does not say;
# `encoding` names the fallback encoding a line was decoded with (null: it was UTF-8);
# `billsec_derived` is "true" when the file has no billsec: the line's is end - answer.
CDR_FIELDS: tuple[str, ...] = (
    "call_key",
    "link_key",
    "src",
    "dst",
    "start",
    "answer",
    "end",
    "duration",
    "billsec",
    "billsec_derived",
    "disposition",
    "answered",
    "channel",
    "dstchannel",
    "time_format",
    "time_zone",
    "origin",
    "encoding",
)
FIELDS: dict[str, tuple[str, ...]] = {
    "calls": CALL_FIELDS,
    "usage": USAGE_FIELDS,
    "cdr": CDR_FIELDS,
}


class Reader(Protocol):
    """One export format. `name` is what `--format NAME` takes and what the per-file line prints."""

    name: ClassVar[str]
    kind: ClassVar[Kind]

    def sniff(self, file: InputFile, head: str) -> bool:
        """True when `head` (the first decoded bytes of the file) is this format."""
        ...

    def read(self, file: InputFile, options: ReadOptions) -> pl.LazyFrame:
        """The raw frame (see module docstring). Raise InputError only when nothing can be read.

        A reader whose frame is a lazy scan that can fail when collected (a malformed line) also
        has `read_fallback(file, options)`, the slower read that keeps every line; the pipeline
        uses it when collecting the scan fails."""
        ...


def conform(frame: pl.DataFrame | pl.LazyFrame, kind: Kind, file: InputFile) -> pl.LazyFrame:
    """Give a raw frame exactly the canonical string columns of `kind`, in order, plus provenance.

    Missing fields become null; extra columns are dropped; `_error` columns are added if absent.
    Expects `source_row` already present.
    """
    lf = frame.lazy()
    names = lf.collect_schema().names()
    cols = [pl.lit(file.name).alias(SOURCE_FILE), pl.col(SOURCE_ROW).cast(pl.Int64)]
    for name in FIELDS[kind]:
        cols.append(
            pl.col(name).cast(pl.String) if name in names else pl.lit(None, pl.String).alias(name)
        )
    for name in (ERROR, ERROR_COLUMN):
        cols.append(pl.col(name) if name in names else pl.lit(None, pl.String).alias(name))
    return lf.select(cols)
