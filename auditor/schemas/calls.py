"""The canonical call-log frame: one row per call leg as the export listed it."""

from __future__ import annotations

import polars as pl

from auditor.schemas.checks import (
    ACCOUNT_SID,
    CURRENCY,
    MAX_CALL_SECONDS,
    FrameContract,
    RowCheck,
    at_least,
    at_most_value,
    matches,
    not_before_row,
    one_of,
    plausible_seconds,
    plausible_time,
    required_when_row,
    sid,
)
from auditor.schemas.dtypes import DST_NOTES, DT_UTC, MONEY
from auditor.statuses import CALL_DIRECTIONS, DstNote, enum_dtype

# The 8 values of call_enum_status in Twilio's OpenAPI spec (note `canceled`, `no-answer`).
CALL_STATUSES = (
    "queued",
    "ringing",
    "in-progress",
    "completed",
    "busy",
    "failed",
    "no-answer",
    "canceled",
)
# The statuses a call ends in; queued, ringing and in-progress are a call not over yet (a repeat
# of a call in a final status wins over one in a non-final status: normalize/duplicates.py).
FINAL_STATUSES = ("completed", "busy", "failed", "no-answer", "canceled")

SID_MESSAGE = "not a call SID (CA + 32 hex)"

# How far a leg's duration may run past its end - start: times and durations are whole seconds,
# each rounded on its own (a 61.6 s leg from 10:00:00.7 can read 62 s over 10:00:00 - 10:01:01),
# and Twilio stamps the end when the last party hangs up, a moment after the media stops.
# A duration longer than that was not measured between these times (a log edited to 562 s with
# end - start = 262 s). Shorter is normal: start_time is when the leg was dialled, so a leg
# that rang before it was answered (or never was: duration 0) spans more than its duration.
DURATION_SLACK_S = 5
_SPAN_S = (pl.col("end_time_utc") - pl.col("start_time_utc")).dt.total_seconds()
_DURATION_AGREES = RowCheck(
    "duration_s",
    (pl.col("duration_s") <= _SPAN_S + DURATION_SLACK_S)
    # a duration past the bound, or an end before the start, is that problem, said once
    | (pl.col("duration_s") > MAX_CALL_SECONDS)
    | (_SPAN_S < 0)
    # a naive time in a DST gap or overlap placed by --dst earliest|latest may be an hour off:
    # the leg is marked `dst` and its duration, not its span, is what is billed
    | pl.col("dst").is_not_null(),
    "duration disagrees with end - start",
    pl.concat_str(
        pl.lit("duration disagrees with end - start ("),
        pl.col("duration_s").cast(pl.String),
        pl.lit(" s vs "),
        _SPAN_S.cast(pl.String),
        pl.lit(" s)"),
    ),
)

CALLS = FrameContract(
    name="call_log",
    columns={
        "source_file": (pl.String(), False),
        "source_row": (pl.Int64(), False),
        "account_sid": (pl.String(), True),
        "call_sid": (pl.String(), False),
        "parent_call_sid": (pl.String(), True),
        "direction": (pl.String(), False),
        "from": (pl.String(), True),
        "to": (pl.String(), True),
        "status": (pl.String(), False),
        "start_time_utc": (DT_UTC, True),
        "end_time_utc": (DT_UTC, True),
        "start_time_local": (pl.Datetime("us"), True),
        "time_naive": (pl.Boolean(), True),
        "dst": (enum_dtype(DstNote), True),
        "duration_s": (pl.Int64(), True),
        "price": (MONEY, True),
        "price_unit": (pl.String(), True),
        "answered_by": (pl.String(), True),
        "trunk_sid": (pl.String(), True),
    },
    checks=(
        at_least("source_row", 1, "not a row number"),
        matches("account_sid", ACCOUNT_SID, "not an account SID (AC + 32 hex)"),
        matches("call_sid", sid("CA"), SID_MESSAGE),
        matches("parent_call_sid", sid("CA"), SID_MESSAGE),
        RowCheck("direction", pl.col("direction").str.len_chars() >= 1, "empty"),
        one_of(
            "direction",
            CALL_DIRECTIONS,
            f"not a call direction ({', '.join(CALL_DIRECTIONS)})",
        ),
        one_of("status", CALL_STATUSES, f"not a call status ({', '.join(CALL_STATUSES)})"),
        required_when_row(
            "start_time_utc", pl.col("status") == "completed", "completed call without a start time"
        ),
        not_before_row("end_time_utc", "start_time_utc", "ends before it starts"),
        plausible_time("start_time_utc"),
        plausible_time("end_time_utc"),
        one_of("dst", DST_NOTES, "not a DST note"),
        at_least("duration_s", 0, "negative duration"),
        plausible_seconds("duration_s"),
        _DURATION_AGREES,
        at_most_value("price", 0, "call price must be negative or zero"),
        matches("price_unit", CURRENCY, "not a currency code"),
    ),
    nul_free=True,
)

# Canonical column -> the API field name an auditor sees in the export (for rejects.csv).
SOURCE_NAMES = {
    "call_sid": "sid",
    "start_time_utc": "start_time",
    "end_time_utc": "end_time",
    "start_time_local": "start_time",
    "duration_s": "duration",
}
