"""The canonical frame of a user's own records (`--records`), one row per record, and the columns
of `records_matches` (a contract: the issue names them in this order, group columns follow)."""

from __future__ import annotations

import polars as pl

from auditor.schemas.calls import SID_MESSAGE
from auditor.schemas.checks import (
    FrameContract,
    RowCheck,
    at_least,
    matches,
    not_before_row,
    plausible_seconds,
    plausible_time,
    sid,
)
from auditor.schemas.dtypes import DT_UTC, MINUTES, MONEY
from auditor.statuses import ROW_FINDINGS, RecordsMatch, count_key, enum_dtype

GROUP_PREFIX = "group:"  # a group column `campaign` rides along as `group:campaign`

_HAS_SID = pl.col("call_sid").is_not_null()

# One record, typed. Group columns ride along (not strict).
RECORDS = FrameContract(
    name="records",
    columns={
        "source_file": (pl.String(), False),
        "source_row": (pl.Int64(), False),
        "call_sid": (pl.String(), True),
        "to": (pl.String(), True),  # as written
        "to_e164": (pl.String(), True),
        "from": (pl.String(), True),
        "from_e164": (pl.String(), True),
        "time_utc": (DT_UTC, True),
        "end_utc": (DT_UTC, True),
        "duration_s": (pl.Int64(), True),
        "outcome": (pl.String(), True),  # as written
        "status": (pl.String(), True),  # the outcome mapped to a Twilio status
        "answered_by": (pl.String(), True),  # the record's own verdict, as written
    },
    checks=(
        at_least("source_row", 1, "not a row number"),
        matches("call_sid", sid("CA"), SID_MESSAGE),
        RowCheck(
            "to",
            _HAS_SID | pl.col("to_e164").is_not_null(),
            "no call SID, and no phone number to match the record by",
        ),
        RowCheck(
            "time_utc",
            _HAS_SID | pl.col("time_utc").is_not_null(),
            "no call SID, and no time to match the record by",
        ),
        not_before_row("end_utc", "time_utc", "ends before it starts"),
        plausible_time("time_utc"),
        plausible_time("end_utc"),
        at_least("duration_s", 0, "negative duration"),
        plausible_seconds("duration_s"),
    ),
    strict=False,
    nul_free=True,
)

# records_matches: one row per record and per Twilio leg no record claims.
MATCH_SCHEMA: dict[str, pl.DataType] = {
    "records_source_file": pl.String(),
    "records_source_row": pl.Int64(),
    "twilio_source_file": pl.String(),
    "twilio_source_row": pl.Int64(),
    "call_sid": pl.String(),
    "to_e164": pl.String(),
    "record_time_utc": DT_UTC,
    "twilio_start_utc": DT_UTC,
    "delay_s": pl.Int64(),
    "record_duration_s": pl.Int64(),
    "twilio_duration_s": pl.Int64(),
    "duration_delta_s": pl.Int64(),
    "billed_minutes": MINUTES,
    "price": MONEY,
    "twilio_status": pl.String(),
    "answered_by": pl.String(),
    "match_status": enum_dtype(RecordsMatch),
    "finding": pl.String(),
}
OUTPUT_COLUMNS = tuple(MATCH_SCHEMA)

# The match statuses records_groups counts: a record's (a twilio-only leg belongs to no group).
GROUP_STATUSES = tuple(m for m in RecordsMatch if m is not RecordsMatch.TWILIO_ONLY)

# records_groups: one row per group column x value; rows per status, then per other finding.
GROUP_SCHEMA: dict[str, pl.DataType] = {
    "group": pl.String(),
    "value": pl.String(),
    "records": pl.Int64(),
    **{count_key(m): pl.Int64() for m in (*GROUP_STATUSES, *ROW_FINDINGS)},
    "billed_minutes": MINUTES,
    "price": MONEY,
    "currency": pl.String(),
    "billed_minutes_at_stake": pl.Float64(),
}
