"""Every output table of the audit: its columns, in order, with their polars types, named for the
file it is written to (`calls.parquet` is CALLS). The modules that build a table select or cast
to these; tests/test_output_tables.py holds every file the sample audit writes to them.

A CSV twin (`usage_reconciliation.csv` beside `.parquet`) has the same columns; its cells are
the Parquet values as text (report/tables.py).
"""

from __future__ import annotations

import polars as pl

from auditor.schemas.dtypes import DT_UTC, MINUTES, MONEY
from auditor.statuses import (
    ROW_FINDINGS,
    MatchStatus,
    ReconStatus,
    RecordsMatch,
    UsedAs,
    count_key,
    enum_dtype,
)

# calls.parquet / calls.csv: the itemized audit, one row per call-log leg (reconcile/classify.py).
CALLS = pl.Schema(
    {
        "source_file": pl.String(),
        "source_row": pl.Int64(),
        "account_sid": pl.String(),
        "call_sid": pl.String(),
        "parent_call_sid": pl.String(),
        "direction": pl.String(),
        "from": pl.String(),
        "to": pl.String(),
        "status": pl.String(),
        "category": pl.String(),
        "start_time_utc": DT_UTC,
        "end_time_utc": DT_UTC,
        "period": pl.String(),
        "duration_s": pl.Int64(),
        "billable": pl.Boolean(),
        "billed_seconds": pl.Int64(),
        "billed_minutes": MINUTES,
        "price": MONEY,
        "rules": pl.String(),  # the rules that touched the leg (statuses.Rule, ;-separated)
    }
)

# usage_reconciliation.parquet / .csv: one row per account x period x category
# (reconcile/usage.py).
USAGE_RECONCILIATION = pl.Schema(
    {
        "account_sid": pl.String(),
        "period": pl.String(),
        "category": pl.String(),
        "logged_calls": pl.Int64(),
        "billable_calls": pl.Int64(),
        "log_seconds": pl.Int64(),
        "expected_minutes": MINUTES,
        "logged_price": MONEY,
        "usage_count": pl.Int64(),
        "usage_minutes": MINUTES,
        "usage_price": MONEY,
        "unexplained_count": pl.Int64(),
        "unexplained_minutes": MINUTES,
        "unexplained_price": MONEY,
        "status": enum_dtype(ReconStatus),
        # Beyond the contract, for the auditor:
        "parent_category": pl.String(),
        "headline": pl.Boolean(),
        "explained_by": pl.String(),
        "next_check": pl.String(),
        "notes": pl.String(),
        "currency": pl.String(),
        "usage_source_file": pl.String(),
        "usage_source_row": pl.Int64(),
    }
)

# bridge.parquet / .csv: one row per account x period x category x step (reconcile/bridge.py).
BRIDGE = pl.Schema(
    {
        "account_sid": pl.String(),
        "period": pl.String(),
        "category": pl.String(),
        "step": pl.Int64(),
        "rule": pl.String(),  # statuses.BridgeStep
        "count_delta": pl.Int64(),
        "seconds_delta": pl.Int64(),
        "minutes_delta": MINUTES,
        "count_after": pl.Int64(),
        "minutes_after": MINUTES,
        "own_count_delta": pl.Int64(),
        "own_minutes_delta": MINUTES,
        "own_count_after": pl.Int64(),
        "own_minutes_after": MINUTES,
    }
)

# usage_records.parquet / .csv: every accepted usage record (the usage contract's columns) with
# its period and how it was used (reconcile/usage.py).
USAGE_RECORDS = pl.Schema(
    {
        "source_file": pl.String(),
        "source_row": pl.Int64(),
        "account_sid": pl.String(),
        "category": pl.String(),
        "description": pl.String(),
        "count": pl.Int64(),
        "count_unit": pl.String(),
        "usage": MONEY,
        "usage_unit": pl.String(),
        "price": MONEY,
        "price_unit": pl.String(),
        "start_date": pl.Date(),
        "end_date": pl.Date(),
        "as_of": DT_UTC,
        "period": pl.String(),
        "used_as": enum_dtype(UsedAs),
    }
)

# rejects.csv: one row per (bad row, bad column) (normalize/rejects.py).
REJECTS = pl.Schema(
    {
        "source_file": pl.String(),
        "source_row": pl.Int64(),
        "column": pl.String(),
        "value": pl.String(),
        "reason": pl.String(),
    }
)

# cdr_matches.parquet / .csv: one row per PBX call and per Twilio leg (reconcile/cdr.py).
CDR_MATCHES = pl.Schema(
    {
        "pbx_source_file": pl.String(),
        "pbx_source_rows": pl.String(),
        "twilio_source_file": pl.String(),
        "twilio_source_row": pl.Int64(),
        "call_sid": pl.String(),
        "from_e164": pl.String(),
        "to_e164": pl.String(),
        "from_raw": pl.String(),  # as written: the leg's from where a leg, else the PBX's src
        "to_raw": pl.String(),
        "pbx_start_utc": DT_UTC,
        "twilio_start_utc": DT_UTC,
        "start_delta_s": pl.Int64(),
        "pbx_billsec": pl.Int64(),
        "twilio_duration_s": pl.Int64(),
        "duration_delta_s": pl.Int64(),
        "billed_minutes_delta": pl.Float64(),
        "match_status": enum_dtype(MatchStatus),
        "mismatch": pl.String(),
    }
)

# records_matches.parquet / .csv (`--records`): one row per record and per Twilio leg no record
# claims (reconcile/records.py). The format's group columns follow, by their own names, as text.
RECORDS_MATCHES = pl.Schema(
    {
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
        "finding": pl.String(),  # statuses.RecordsFinding, ;-separated
    }
)

# The match statuses records_groups counts: a record's (a twilio-only leg belongs to no group).
GROUP_STATUSES = tuple(m for m in RecordsMatch if m is not RecordsMatch.TWILIO_ONLY)

# records_groups.csv (`--records` with group columns): one row per group column x value.

RECORDS_GROUPS = pl.Schema(
    {
        "group": pl.String(),
        "value": pl.String(),
        "records": pl.Int64(),
        **{count_key(m): pl.Int64() for m in (*GROUP_STATUSES, *ROW_FINDINGS)},
        "billed_minutes": MINUTES,
        "price": MONEY,
        "currency": pl.String(),
        "billed_minutes_at_stake": pl.Float64(),
    }
)

# The daily table report.html charts (and no file holds): per account x period x category x UTC
# day, the logs' and the daily usage's figures (reconcile/daily.py).
DAILY_VOLUMES = pl.Schema(
    {
        "account_sid": pl.String(),
        "period": pl.String(),
        "category": pl.String(),
        "day": pl.Date(),
        "logged_calls": pl.Int64(),
        "billable_calls": pl.Int64(),
        "billed_minutes": MINUTES,
        "usage_count": pl.Int64(),
        "usage_minutes": MINUTES,
    }
)

# summary.json `not_compared.rows`: the not-compared rows of usage_reconciliation, these columns
# (reconcile/findings.py).
NOT_COMPARED = pl.Schema(
    {
        c: USAGE_RECONCILIATION[c]
        for c in (
            "account_sid",
            "period",
            "category",
            "headline",
            "logged_calls",
            "billable_calls",
            "expected_minutes",
            "logged_price",
            "usage_count",
            "usage_minutes",
            "usage_price",
            "currency",
            "notes",
            "next_check",
        )
    }
)

# Output file stem -> its table, for every table written to a file (`.parquet` and `.csv`, or
# `.csv` alone: rejects, records_groups).
FILES: dict[str, pl.Schema] = {
    "calls": CALLS,
    "usage_reconciliation": USAGE_RECONCILIATION,
    "bridge": BRIDGE,
    "usage_records": USAGE_RECORDS,
    "rejects": REJECTS,
    "cdr_matches": CDR_MATCHES,
    "records_matches": RECORDS_MATCHES,
    "records_groups": RECORDS_GROUPS,
}
