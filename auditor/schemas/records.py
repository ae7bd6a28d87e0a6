"""The canonical frame of a user's own records (`--records`), one row per record (the columns of
`records_matches` and `records_groups` are in schemas/outputs.py)."""

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
from auditor.schemas.dtypes import DT_UTC

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
