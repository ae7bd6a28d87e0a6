"""The streaming fast pass accepts exactly what the full parse accepts, with the same values, and
sends everything else to the second look, which rejects it with the same reasons.

Reference: the full parse (`normalize_calls`) and the pandera schema over every raw row at once,
as ingest did before it streamed. The input mixes rows the fast pass takes as written with rows
it must not (other time shapes, padded or blank text, upper-case values, `61.0` durations, bad
values, duplicates), in a real Bulk Export day file (gzipped JSON lines).
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import polars as pl
from audit_inputs import ACCOUNT, sid

from auditor.ingest.base import CALL_FIELDS, conform
from auditor.ingest.files import InputFile
from auditor.ingest.json_source import json_lines
from auditor.normalize.calls import normalize_calls
from auditor.normalize.contract import validate
from auditor.normalize.duplicates import CALL_DUPLICATES, drop_duplicates
from auditor.normalize.rejects import drop_rejected, sort_rejects
from auditor.normalize.times import DstPolicy
from auditor.pipeline.ingest import ingest
from auditor.pipeline.options import IngestOptions
from auditor.schemas.calls import CALLS, SOURCE_NAMES


def _leg(n: int, **over: object) -> dict:
    leg = {
        "sid": sid(n),
        "account_sid": ACCOUNT,
        "parent_call_sid": None,
        "direction": "outbound-api",
        "from": "+12125550100",
        "to": "+16175550123",
        "status": "completed",
        "start_time": f"2025-11-03T10:{n % 60:02d}:00Z",
        "end_time": f"2025-11-03T10:{n % 60:02d}:45Z",
        "duration": "45",
        "price": "-0.0140",
        "price_unit": "USD",
    }
    return leg | over


ODD = [
    _leg(101, start_time="2025-11-03T11:00:00+01:00", end_time="2025-11-03T10:00:50+00:00"),
    _leg(102, start_time="Mon, 03 Nov 2025 10:00:00 +0000", end_time=None, status="failed"),
    _leg(103, start_time="2025-11-03T10:00:00.250Z", end_time="2025-11-03T10:01:00.750Z"),
    _leg(104, to=" +16175550199 "),
    _leg(115, direction="Inbound"),
    # 61 s legs end 61 s after they start (a longer duration than end - start is rejected)
    _leg(
        105, status="Completed", price_unit="usd", duration="61.0", end_time="2025-11-03T10:46:01Z"
    ),
    _leg(106, duration=61, price=-0.014, end_time="2025-11-03T10:47:01Z"),  # numbers, not strings
    _leg(107, **{"from": ""}, answered_by="machine_start"),
    _leg(116, trunk_sid=""),
    _leg(108, start_time="not a time"),
    _leg(109, duration="-5"),
    _leg(110, sid="CA123"),
    _leg(111, end_time="2025-11-03T09:00:00Z"),
    _leg(112, price="abc"),
    _leg(113, direction="outbound-dial", account_sid=None),
    _leg(2),  # a duplicate of an earlier plain row
    _leg(114, status="queued", start_time=None, end_time=None, duration=None, price=None),
]


def _write(path: Path) -> Path:
    rows = [_leg(n) for n in range(1, 40)]
    rows[5:5] = ODD
    text = "\n".join(json.dumps(r) for r in rows) + "\n"
    path.write_bytes(gzip.compress(text.encode(), mtime=0))
    return path


def _reference(path: Path, opts: IngestOptions) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Accepted calls and rejects the full parse gives, every row through every step."""
    raw = conform(
        json_lines(InputFile(path, str(path)), CALL_FIELDS), "calls", InputFile(path, str(path))
    )
    canonical, parse_rejects = normalize_calls(raw, opts.tz, opts.dst, opts.account)
    frame = drop_rejected(canonical, parse_rejects).collect()
    accepted, schema_rejects = validate(frame, CALLS.schema(), SOURCE_NAMES)  # pandera
    accepted, dup_rejects = drop_duplicates(accepted, CALL_DUPLICATES)
    rejects = pl.concat([parse_rejects.collect(), schema_rejects.collect(), dup_rejects.collect()])
    return accepted, sort_rejects(rejects.lazy()).collect()


def test_fast_pass_agrees_with_the_full_parse(tmp_path: Path) -> None:
    path = _write(tmp_path / "2025-11-03.json.gz")
    opts = IngestOptions(tz="America/New_York", dst=DstPolicy.EARLIEST, account=ACCOUNT)
    want_calls, want_rejects = _reference(path, opts)
    ing = ingest([str(path)], opts)
    got_calls = ing.calls.collect()
    assert got_calls.equals(want_calls.sort("source_row"))
    assert ing.rejects.equals(want_rejects)
    # the planted cases landed where they should
    rejected = set(ing.rejects["source_row"].to_list())
    odd_rows = {r["sid"]: 6 + i for i, r in enumerate(ODD)}  # line numbers in the file
    for n in (108, 109, 111, 112):
        assert odd_rows[sid(n)] in rejected, n
    assert odd_rows["CA123"] in rejected
    accepted = {r["call_sid"]: r for r in got_calls.iter_rows(named=True)}
    assert accepted[sid(104)]["to"] == "+16175550199"
    assert accepted[sid(115)]["direction"] == "inbound"
    assert (accepted[sid(105)]["status"], accepted[sid(105)]["duration_s"]) == ("completed", 61)
    assert accepted[sid(105)]["price_unit"] == "USD"
    assert accepted[sid(107)]["from"] is None and accepted[sid(116)]["trunk_sid"] is None
    assert accepted[sid(101)]["start_time_utc"].isoformat() == "2025-11-03T10:00:00+00:00"
    assert accepted[sid(113)]["account_sid"] == ACCOUNT
    (report,) = ing.files
    assert report.rows_read == 39 + len(ODD) == report.rows_accepted + report.rows_rejected
