"""Asterisk `cdr_csv` (Master.csv): no header, one CDR per line, 16, 17, 18 or 21 columns.

Strings are quoted (a quote inside is doubled), integers bare, and an unanswered call's answer field
is empty (`,,`). Columns 0-15 never move; `loguniqueid` / `loguserfield` append uniqueid and
userfield, `newcdrcolumns` then appends peeraccount, linkedid and sequence, so the width says which
are there. Times are the server's local time unless `usegmtime=yes`; the file does not say which,
so `--pbx-tz` decides (give `UTC` for usegmtime).

One call may be several lines (transfers, queues, dialled legs). linkedid (21 columns) ties them,
and the line whose uniqueid equals the linkedid is the originating (trunk) leg (`origin`); without
it, lines sharing the A channel that follow on in time are one call (the normaliser chains them),
which is what uniqueid would group, and the `;1` / `;2` halves of one Local channel are one call
(chained as one channel). Answered means disposition `ANSWERED` (the normaliser also counts a
line with billsec > 0 as connected: Asterisk logs `NO ANSWER` on a dialled leg whose caller was
answered, with AnswerTime = the record's start; on an outbound call only a Dial to the trunk that
was not BUSY / CONGESTION / NO ANSWER / FAILED is). Caller-ID names are raw bytes, so a line that
is not UTF-8 is decoded with `--encoding-fallback` and marked.
"""

from __future__ import annotations

from typing import ClassVar

import polars as pl

from auditor.errors import InputError
from auditor.ingest.base import Kind, conform
from auditor.ingest.files import InputFile
from auditor.ingest.options import ReadOptions
from auditor.ingest.pbx_lines import (
    bool_text,
    csv_records,
    head_records,
    is_datetime,
    is_integer,
)

BASE = (
    "accountcode",
    "src",
    "dst",
    "dcontext",
    "clid",
    "channel",
    "dstchannel",
    "lastapp",
    "lastdata",
    "start",
    "answer",
    "end",
    "duration",
    "billsec",
    "disposition",
    "amaflags",
)
LAYOUTS: dict[int, tuple[str, ...]] = {
    16: BASE,
    17: (*BASE, "uniqueid_or_userfield"),
    18: (*BASE, "uniqueid", "userfield"),
    21: (*BASE, "uniqueid", "userfield", "peeraccount", "linkedid", "sequence"),
}
DISPOSITIONS = {"ANSWERED", "NO ANSWER", "BUSY", "FAILED", "CONGESTION", "CANCEL", "UNKNOWN"}
BROKEN = "broken CSV quoting (Asterisk doubles a quote inside a value)"


def looks_like_cdr(row: list[str]) -> bool:
    """A Master.csv record: known width, start/end date-times, bare integer durations, a
    disposition from ast_cdr_disp2str."""
    return (
        len(row) in LAYOUTS
        and is_datetime(row[9])
        and is_datetime(row[11])
        and (row[10] == "" or is_datetime(row[10]))
        and is_integer(row[12])
        and is_integer(row[13])
        and row[14] in DISPOSITIONS
    )


class AsteriskCdrCsv:
    name: ClassVar[str] = "asterisk-cdr-csv"
    kind: ClassVar[Kind] = "cdr"

    def sniff(self, file: InputFile, head: str) -> bool:
        rows = head_records(head)
        return bool(rows) and 2 * sum(looks_like_cdr(r) for r in rows) > len(rows)

    def read(self, file: InputFile, options: ReadOptions) -> pl.LazyFrame:
        records = csv_records(file, options.encoding_fallback, tuple(LAYOUTS), BROKEN)
        if records is None:
            raise InputError(
                file.name, "not Asterisk cdr_csv: no record of 16, 17, 18 or 21 fields"
            )
        width, raw = records
        raw = raw.rename({f"c{i}": name for i, name in enumerate(LAYOUTS[width])})
        answered = pl.col("disposition").str.strip_chars().str.to_uppercase() == "ANSWERED"
        origin = (
            pl.col("uniqueid") == pl.col("linkedid") if width == 21 else pl.lit(None, pl.Boolean)
        )
        raw = raw.with_columns(
            (pl.col("linkedid") if width == 21 else pl.lit(None, pl.String)).alias("call_key"),
            bool_text(answered).alias("answered"),
            bool_text(origin).alias("origin"),
        )
        return conform(raw, self.kind, file)
