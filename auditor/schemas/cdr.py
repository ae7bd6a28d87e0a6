"""The canonical PBX CDR frames: one row per input line (`CDR_LINES`, checked first so a
failure names the line) and one row per call once the lines the PBX wrote for it are grouped
(`CDR_CALLS`, the frame the rest of the auditor uses). Both are FrameContracts, validated by the
same `check_rows` as calls and usage."""

from __future__ import annotations

import polars as pl

from auditor.schemas.checks import (
    FrameContract,
    RowCheck,
    at_least,
    matches,
    not_before_row,
    one_of,
    plausible_seconds,
    plausible_time,
)
from auditor.schemas.dtypes import DST_NOTES, DT_UTC


def not_after_row(column: str, other: str, message: str) -> RowCheck:
    """`column` <= `other` where both are present (a time, or a number of seconds)."""
    return RowCheck(column, pl.col(column) <= pl.col(other), message)


# The text of a line the auditor keeps (none may hold a NUL character).
LINE_TEXT = ("call_key", "link_key", "src", "dst", "disposition", "channel", "dstchannel")

# One input line, typed. Other working columns ride along (not strict).
CDR_LINES = FrameContract(
    name="cdr_line",
    columns={
        "source_file": (pl.String(), False),
        "source_row": (pl.Int64(), False),
        "start_utc": (DT_UTC, False),
        "answer_utc": (DT_UTC, True),
        "end_utc": (DT_UTC, True),
        "duration_s": (pl.Int64(), True),
        "billsec": (pl.Int64(), False),
        "answered": (pl.Boolean(), False),
        **{c: (pl.String(), True) for c in LINE_TEXT},
    },
    checks=(
        at_least("source_row", 1, "not a row number"),
        not_before_row("answer_utc", "start_utc", "answered before it started"),
        not_after_row("answer_utc", "end_utc", "answered after it ended"),
        not_before_row("end_utc", "start_utc", "ends before it starts"),
        at_least("duration_s", 0, "negative duration"),
        at_least("billsec", 0, "negative billsec"),
        plausible_seconds("duration_s"),
        plausible_seconds("billsec", "billsec"),
        plausible_time("start_utc"),
        plausible_time("answer_utc"),
        plausible_time("end_utc"),
        not_after_row("billsec", "duration_s", "billsec longer than the call's duration"),
    ),
    strict=False,
    nul_free=True,
)

# One call: the grouped lines of one PBX call (a single line when the PBX wrote one).
CDR_CALLS = FrameContract(
    name="cdr_call",
    columns={
        "source_file": (pl.String(), False),
        "source_row": (pl.Int64(), False),  # the call's first line
        "source_rows": (pl.String(), False),
        "row_count": (pl.Int64(), False),
        "call_key": (pl.String(), True),
        "src": (pl.String(), True),
        "dst": (pl.String(), True),
        "start_utc": (DT_UTC, False),
        "answer_utc": (DT_UTC, True),
        "end_utc": (DT_UTC, True),
        "start_local": (pl.Datetime("us"), True),
        "time_naive": (pl.Boolean(), False),
        "dst_note": (pl.String(), True),
        # "decoded as NAME": a line of the call was not UTF-8 (read with --encoding-fallback)
        "encoding_note": (pl.String(), True),
        # "line 326 repeats line 325": a line identical to an earlier one, merged into its call
        "repeat_note": (pl.String(), True),
        "duration_s": (pl.Int64(), True),
        "billsec": (pl.Int64(), False),
        "answered": (pl.Boolean(), False),
        "disposition": (pl.String(), True),
        "channel": (pl.String(), True),
        "dstchannel": (pl.String(), True),
    },
    checks=(
        at_least("source_row", 1, "not a row number"),
        matches("source_rows", r"^\d+(;\d+)*$", "not a ;-list of lines"),
        at_least("row_count", 1, "not a line count"),
        not_before_row("answer_utc", "start_utc", "answered before it started"),
        not_before_row("end_utc", "start_utc", "ends before it starts"),
        one_of("dst_note", DST_NOTES, "not a DST note"),
        RowCheck(
            "encoding_note", pl.col("encoding_note").str.starts_with("decoded as "), "not a note"
        ),
        matches(
            "repeat_note",
            r"^line \d+ repeats line \d+(; line \d+ repeats line \d+)*$",
            "not a note",
        ),
        at_least("duration_s", 0, "negative duration"),
        at_least("billsec", 0, "negative billsec"),
    ),
)
CDR_COLUMNS = tuple(CDR_CALLS.columns)

# Canonical column -> the field name an auditor sees in the export (for rejects.csv).
SOURCE_NAMES = {
    "start_utc": "start",
    "answer_utc": "answer",
    "end_utc": "end",
    "start_local": "start",
    "duration_s": "duration",
}
