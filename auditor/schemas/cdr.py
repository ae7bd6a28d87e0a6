"""The canonical PBX CDR frames: one row per input line (`CDR_ROW_SCHEMA`, checked first so a
failure names the line) and one row per call once the lines the PBX wrote for it are grouped
(`CDR_SCHEMA`, the frame the rest of the auditor uses)."""

from __future__ import annotations

import pandera.polars as pa
import polars as pl
from pandera.api.polars.types import PolarsData

from auditor.schemas.checks import not_before

DT_UTC = pl.Datetime("us", "UTC")
DST_NOTES = ("dst-gap", "dst-overlap")


def at_most(other: str, message: str) -> pa.Check:
    """This column <= `other` where both are present (a time, or a number of seconds)."""

    def check(data: PolarsData) -> pl.LazyFrame:
        col = pl.col(data.key)
        return data.lazyframe.select(
            col.is_null() | pl.col(other).is_null() | (col <= pl.col(other))
        )

    return pa.Check(check, error=message)


# One input line, typed. Other working columns may ride along (strict=False).
CDR_ROW_SCHEMA = pa.DataFrameSchema(
    {
        "source_file": pa.Column(pl.String),
        "source_row": pa.Column(pl.Int64, pa.Check.ge(1)),
        "start_utc": pa.Column(DT_UTC),
        "answer_utc": pa.Column(
            DT_UTC,
            [
                not_before("start_utc", "answered before it started"),
                at_most("end_utc", "answered after it ended"),
            ],
            nullable=True,
        ),
        "end_utc": pa.Column(
            DT_UTC, not_before("start_utc", "ends before it starts"), nullable=True
        ),
        "duration_s": pa.Column(pl.Int64, pa.Check.ge(0, error="negative duration"), nullable=True),
        "billsec": pa.Column(
            pl.Int64,
            [
                pa.Check.ge(0, error="negative billsec"),
                at_most("duration_s", "billsec longer than the call's duration"),
            ],
        ),
        "answered": pa.Column(pl.Boolean),
    },
    strict=False,
    name="cdr_line",
)

# One call: the grouped lines of one PBX call (a single line when the PBX wrote one).
CDR_SCHEMA = pa.DataFrameSchema(
    {
        "source_file": pa.Column(pl.String),
        "source_row": pa.Column(pl.Int64, pa.Check.ge(1)),  # the call's first line
        "source_rows": pa.Column(
            pl.String, pa.Check.str_matches(r"^\d+(;\d+)*$", error="not a ;-list of lines")
        ),
        "row_count": pa.Column(pl.Int64, pa.Check.ge(1)),
        "call_key": pa.Column(pl.String, nullable=True),
        "src": pa.Column(pl.String, nullable=True),
        "dst": pa.Column(pl.String, nullable=True),
        "start_utc": pa.Column(DT_UTC),
        "answer_utc": pa.Column(
            DT_UTC, not_before("start_utc", "answered before it started"), nullable=True
        ),
        "end_utc": pa.Column(
            DT_UTC, not_before("start_utc", "ends before it starts"), nullable=True
        ),
        "start_local": pa.Column(pl.Datetime("us"), nullable=True),
        "time_naive": pa.Column(pl.Boolean),
        "dst_note": pa.Column(pl.String, pa.Check.isin(DST_NOTES), nullable=True),
        # "decoded as NAME": a line of the call was not UTF-8 (read with --encoding-fallback)
        "encoding_note": pa.Column(
            pl.String, pa.Check.str_startswith("decoded as "), nullable=True
        ),
        "duration_s": pa.Column(pl.Int64, pa.Check.ge(0, error="negative duration"), nullable=True),
        "billsec": pa.Column(pl.Int64, pa.Check.ge(0, error="negative billsec")),
        "answered": pa.Column(pl.Boolean),
        "disposition": pa.Column(pl.String, nullable=True),
        "channel": pa.Column(pl.String, nullable=True),
        "dstchannel": pa.Column(pl.String, nullable=True),
    },
    strict=True,
    ordered=True,
    name="cdr_call",
)

# Canonical column -> the field name an auditor sees in the export (for rejects.csv).
SOURCE_NAMES = {
    "start_utc": "start",
    "answer_utc": "answer",
    "end_utc": "end",
    "start_local": "start",
    "duration_s": "duration",
}
