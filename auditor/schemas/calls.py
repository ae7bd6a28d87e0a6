"""The canonical call-log frame: one row per call leg as the export listed it."""

from __future__ import annotations

import pandera.polars as pa
import polars as pl

from auditor.normalize.values import MONEY
from auditor.schemas.checks import ACCOUNT_SID, CURRENCY, non_blank, not_before, required_when, sid

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
DST_NOTES = ("dst-gap", "dst-overlap")
DT_UTC = pl.Datetime("us", "UTC")

CALL_SCHEMA = pa.DataFrameSchema(
    {
        "source_file": pa.Column(pl.String),
        "source_row": pa.Column(pl.Int64, pa.Check.ge(1)),
        "account_sid": pa.Column(
            pl.String,
            pa.Check.str_matches(ACCOUNT_SID, error="not an account SID (AC + 32 hex)"),
            nullable=True,
        ),
        "call_sid": pa.Column(
            pl.String, pa.Check.str_matches(sid("CA"), error="not a call SID (CA + 32 hex)")
        ),
        "parent_call_sid": pa.Column(
            pl.String,
            pa.Check.str_matches(sid("CA"), error="not a call SID (CA + 32 hex)"),
            nullable=True,
        ),
        "direction": pa.Column(pl.String, non_blank()),
        "from": pa.Column(pl.String, nullable=True),
        "to": pa.Column(pl.String, nullable=True),
        "status": pa.Column(
            pl.String,
            pa.Check.isin(CALL_STATUSES, error=f"not a call status ({', '.join(CALL_STATUSES)})"),
        ),
        "start_time_utc": pa.Column(
            DT_UTC,
            required_when(pl.col("status") == "completed", "completed call without a start time"),
            nullable=True,
        ),
        "end_time_utc": pa.Column(
            DT_UTC, not_before("start_time_utc", "ends before it starts"), nullable=True
        ),
        "start_time_local": pa.Column(pl.Datetime("us"), nullable=True),
        "time_naive": pa.Column(pl.Boolean, nullable=True),
        "dst": pa.Column(pl.String, pa.Check.isin(DST_NOTES), nullable=True),
        "duration_s": pa.Column(pl.Int64, pa.Check.ge(0, error="negative duration"), nullable=True),
        "price": pa.Column(
            MONEY, pa.Check.le(0, error="call price must be negative or zero"), nullable=True
        ),
        "price_unit": pa.Column(
            pl.String, pa.Check.str_matches(CURRENCY, error="not a currency code"), nullable=True
        ),
        "answered_by": pa.Column(pl.String, nullable=True),
        "trunk_sid": pa.Column(pl.String, nullable=True),
    },
    strict=True,
    ordered=True,
    name="call_log",
)

# Canonical column -> the API field name an auditor sees in the export (for rejects.csv).
SOURCE_NAMES = {
    "call_sid": "sid",
    "start_time_utc": "start_time",
    "end_time_utc": "end_time",
    "start_time_local": "start_time",
    "duration_s": "duration",
}
