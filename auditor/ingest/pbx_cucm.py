"""Cisco CUCM CDR flat files (`cdr_<cluster>_<node>_<yyyymmddhhmm>_<seq>`, no extension).

Line 1 names the fields (quoted), line 2 gives their types, records follow, one per line. The
column count grows by version (123 to 129 and more) and names change case between exporters, so
columns are found by name, case-insensitively, never by position. Times are epoch seconds UTC;
`dateTimeConnect` 0 means the call never connected (answered is connect != 0: a cause of 16 alone
does not mean answered). Rows of one call share `globalCallID_callId` (with its call manager and
cluster). The numbers sent to the trunk (`outpulsed*`) are preferred to the dialled ones when set,
as they are what a carrier such as Twilio sees. Only `cdrRecordType` 1 (end of call) rows are calls.
"""

from __future__ import annotations

from typing import ClassVar

import polars as pl

from auditor.errors import InputError
from auditor.ingest.base import (
    ENCODING,
    ERROR,
    ERROR_COLUMN,
    SOURCE_ROW,
    Kind,
    conform,
)
from auditor.ingest.files import InputFile
from auditor.ingest.options import ReadOptions
from auditor.ingest.pbx_lines import (
    LINE,
    bool_text,
    head_records,
    physical_lines,
    split_csv,
    to_columns,
)

REQUIRED = (
    "cdrRecordType",
    "globalCallID_callId",
    "dateTimeOrigination",
    "dateTimeConnect",
    "dateTimeDisconnect",
    "duration",
    "callingPartyNumber",
    "originalCalledPartyNumber",
)
BROKEN = "broken CSV quoting"


def _names(head: str) -> list[str]:
    """The field names of line 1 (empty when it does not start with cdrRecordType)."""
    first = head_records(head, limit=1)
    names = [n.strip() for n in first[0]] if first else []
    return names if names and names[0].lower() == "cdrrecordtype" else []


class CucmCdr:
    name: ClassVar[str] = "cucm-cdr"
    kind: ClassVar[Kind] = "cdr"

    def sniff(self, file: InputFile, head: str) -> bool:
        names = {n.lower() for n in _names(head)}
        return {"globalcallid_callid", "datetimeorigination"} <= names

    def read(self, file: InputFile, options: ReadOptions) -> pl.LazyFrame:
        lines = physical_lines(file, options.encoding_fallback)
        names = _names(lines[LINE][0])
        if not names:
            raise InputError(
                file.name, "not a CUCM CDR file: line 1 must name cdrRecordType", row=1
            )
        # First spelling wins when an exporter repeats a name in another case.
        position = {n.lower(): i for i, n in reversed(list(enumerate(names)))}
        missing = [f for f in REQUIRED if f.lower() not in position]
        if missing:
            raise InputError(file.name, f"required column(s) missing: {', '.join(missing)}", row=1)
        # Line 1 names, line 2 types (INTEGER, VARCHAR(n), UNIQUEIDENTIFIER); records follow.
        types = lines.height > 1 and lines[LINE][1].lstrip('"').upper().startswith(
            ("INTEGER", "VARCHAR", "UNIQUEIDENTIFIER")
        )
        data = split_csv(lines.slice(2 if types else 1))
        cols = to_columns(data, [f"c{i}" for i in range(len(names))], BROKEN)

        def col(field: str) -> pl.Expr:
            key = field.lower()
            if key not in position:
                return pl.lit(None, pl.String)
            return pl.col(f"c{position[key]}").str.strip_chars()

        def blank(field: str) -> pl.Expr:
            value = col(field)
            return pl.when(value != "").then(value)

        connect = col("dateTimeConnect")
        connected = connect.cast(pl.Int64, strict=False) != 0
        record_type = col("cdrRecordType")
        not_a_call = cols[ERROR].is_null() & (record_type != "1")
        cause = pl.concat_str(
            pl.lit("origCause "),
            col("origCause_value"),
            pl.lit(" / destCause "),
            col("destCause_value"),
        )
        raw = cols.select(
            SOURCE_ROW,
            pl.concat_str(
                [
                    blank("globalCallId_ClusterID").fill_null(""),
                    blank("globalCallID_callManagerId").fill_null(""),
                    col("globalCallID_callId"),
                ],
                separator=":",
            ).alias("call_key"),
            pl.coalesce(blank("outpulsedCallingPartyNumber"), blank("callingPartyNumber")).alias(
                "src"
            ),
            pl.coalesce(
                blank("outpulsedCalledPartyNumber"),
                blank("originalCalledPartyNumber"),
                blank("finalCalledPartyNumber"),
            ).alias("dst"),
            col("dateTimeOrigination").alias("start"),
            pl.when(connected.fill_null(True)).then(connect).alias("answer"),
            col("dateTimeDisconnect").alias("end"),
            col("duration").alias("billsec"),
            cause.alias("disposition"),
            bool_text(connected).alias("answered"),
            blank("origDeviceName").alias("channel"),
            blank("destDeviceName").alias("dstchannel"),
            pl.lit("epoch").alias("time_format"),
            pl.when(not_a_call)
            .then(
                pl.concat_str(
                    pl.lit("cdrRecordType "),
                    record_type,
                    pl.lit(" is not an end-of-call record (1)"),
                )
            )
            .otherwise(pl.col(ERROR))
            .alias(ERROR),
            pl.when(not_a_call).then(pl.lit("cdrRecordType")).alias(ERROR_COLUMN),
            ENCODING,
        )
        return conform(raw, self.kind, file)
