"""PBX calls against Twilio legs: golden cases, each expected figure worked out by hand beside it.

Pricing throughout: the default 60 s minimum / 60 s increment (61 s bills 120 s = 2 minutes).
The account's DID is +18005550100; the PBX's extensions are 4 digits.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

import auditor.normalize.numbers as numbers
from auditor.pipeline.ingest import ingest
from auditor.pipeline.options import IngestOptions
from auditor.reconcile.cdr import (
    MATCH_COLUMNS,
    TrunkLegs,
    account_dids,
    billed_seconds,
    match_cdrs,
    normalise_numbers,
)
from auditor.rules.model import RuleDates
from auditor.schemas.calls import CALLS
from auditor.schemas.cdr import CDR_CALLS

DID = "+18005550100"


def at(hms: str, day: int = 2) -> datetime:
    h, m, s = (int(x) for x in hms.split(":"))
    return datetime(2026, 3, day, h, m, s, tzinfo=UTC)


def pbx(
    row: int,
    src: str,
    dst: str,
    start: str,
    answer: str | None = None,
    billsec: int = 0,
    file: str = "Master.csv",
) -> dict:
    """A canonical CDR call; it ends at answer + billsec (at its start when unanswered)."""
    end = at(answer) + timedelta(seconds=billsec) if answer else at(start)
    return {
        "source_file": file,
        "source_row": row,
        "source_rows": str(row),
        "row_count": 1,
        "call_key": None,
        "src": src,
        "dst": dst,
        "start_utc": at(start),
        "answer_utc": at(answer) if answer else None,
        "end_utc": end,
        "start_local": None,
        "time_naive": False,
        "dst_note": None,
        "duration_s": int((end - at(start)).total_seconds()),
        "billsec": billsec,
        "answered": answer is not None,
        "disposition": None,
        "channel": None,
        "dstchannel": None,
    }


def leg(
    row: int,
    sid: str,
    frm: str,
    to: str,
    start: str | None,
    duration: int | None,
    status: str = "completed",
    direction: str = "trunking-terminating",
    parent: str | None = None,
    day: int = 2,
) -> dict:
    return {
        "source_file": "calls.json",
        "source_row": row,
        "account_sid": None,
        "call_sid": sid,
        "parent_call_sid": parent,
        "direction": direction,
        "from": frm,
        "to": to,
        "status": status,
        "start_time_utc": at(start, day) if start else None,
        "end_time_utc": None,
        "start_time_local": None,
        "time_naive": False,
        "dst": None,
        "duration_s": duration,
        "price": None,
        "price_unit": None,
        "answered_by": None,
        "trunk_sid": None,
    }


def cdr_frame(*rows: dict) -> pl.DataFrame:
    return pl.DataFrame(list(rows), schema=CDR_CALLS.dtypes())


def calls_frame(*rows: dict) -> pl.DataFrame:
    return pl.DataFrame(list(rows), schema=CALLS.dtypes())


def run(cdr: pl.DataFrame, calls: pl.DataFrame, **kw: object) -> tuple[pl.DataFrame, dict]:
    return match_cdrs(cdr, calls, dids=[DID], **kw)


def by_status(frame: pl.DataFrame) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for row in frame.iter_rows(named=True):
        out.setdefault(row["match_status"], []).append(row)
    return out


def test_outbound_did_substitution_matched() -> None:
    # The PBX writes extension 1001 as the caller; Twilio sees the DID the trunk presented.
    cdr = cdr_frame(pbx(1, "1001", "+14155550123", "14:14:05", "14:14:12", 275))
    calls = calls_frame(leg(7, "CA01", DID, "+14155550123", "14:14:06", 276))
    frame, summary = run(cdr, calls)
    assert frame.columns == list(MATCH_COLUMNS)
    row = frame.row(0, named=True)
    assert row == {
        "pbx_source_file": "Master.csv",
        "pbx_source_rows": "1",
        "twilio_source_file": "calls.json",
        "twilio_source_row": 7,
        "call_sid": "CA01",
        "from_e164": DID,  # Twilio's view of the caller
        "to_e164": "+14155550123",
        "from_raw": DID,  # as the leg wrote it (a leg is there)
        "to_raw": "+14155550123",
        "pbx_start_utc": at("14:14:05"),
        "twilio_start_utc": at("14:14:06"),
        "start_delta_s": 1,
        "pbx_billsec": 275,
        "twilio_duration_s": 276,
        "duration_delta_s": 1,  # within the 2 s tolerance
        "billed_minutes_delta": 0.0,  # 275 s and 276 s both bill 5 minutes
        "match_status": "matched",
        "mismatch": None,
    }
    assert asdict(summary) == {
        "pbx_calls": 1,
        "matched": 1,
        "pbx_only": 0,
        "twilio_only": 0,
        "internal": 0,
        "ambiguous": 0,
        "not_compared": 0,
        "duration_mismatch": 0,
        "status_mismatch": 0,
        "billed_minutes_at_stake": 0.0,
    }


def test_inbound_matched_on_the_caller_whatever_the_pbx_destination() -> None:
    # Inbound: the PBX destination is the extension it rang (or the DID); the caller is shared.
    cdr = cdr_frame(
        pbx(1, "+16465550199", "1004", "11:05:03", "11:05:09", 451),
        pbx(2, "(212) 555-0187", DID, "11:30:00", "11:30:04", 30),  # national, formatted
    )
    calls = calls_frame(
        leg(1, "CA01", "+16465550199", DID, "11:05:02", 452, direction="trunking-originating"),
        leg(2, "CA02", "+12125550187", DID, "11:29:59", 30, direction="trunking-originating"),
    )
    frame, summary = run(cdr, calls)
    assert frame.select("pbx_source_rows", "call_sid", "from_e164", "start_delta_s").rows() == [
        ("1", "CA01", "+16465550199", -1),
        ("2", "CA02", "+12125550187", -1),
    ]
    assert summary.matched == 2


def test_forty_second_gap_costs_a_minute() -> None:
    # PBX billsec 100 s bills 120 s (2 min); Twilio 140 s bills 180 s (3 min): +1 minute.
    cdr = cdr_frame(pbx(1, "1002", "+12125550187", "15:00:00", "15:00:05", 100))
    calls = calls_frame(leg(1, "CA02", DID, "+12125550187", "15:00:02", 140))
    frame, summary = run(cdr, calls)
    row = frame.row(0, named=True)
    assert (row["duration_delta_s"], row["billed_minutes_delta"], row["mismatch"]) == (
        40,
        1.0,
        "duration",
    )
    assert (summary.duration_mismatch, summary.billed_minutes_at_stake) == (1, 1.0)


def test_pbx_unanswered_twilio_completed() -> None:
    # The PBX says nobody answered (billsec 0, bills 0); Twilio completed 30 s (bills 60 s).
    cdr = cdr_frame(pbx(1, "1001", "+13035550111", "16:00:00"))
    calls = calls_frame(leg(1, "CA03", DID, "+13035550111", "16:00:01", 30))
    frame, summary = run(cdr, calls)
    row = frame.row(0, named=True)
    assert row["mismatch"] == "duration;answered-vs-status"
    assert row["billed_minutes_delta"] == 1.0
    assert (summary.status_mismatch, summary.duration_mismatch) == (1, 1)


def test_both_unanswered_agree() -> None:
    cdr = cdr_frame(pbx(1, "1001", "+13035550111", "16:00:00"))
    calls = calls_frame(leg(1, "CA03", DID, "+13035550111", "16:00:01", 0, status="no-answer"))
    frame, _ = run(cdr, calls)
    assert frame.select("match_status", "mismatch", "billed_minutes_delta").row(0) == (
        "matched",
        None,
        0.0,
    )


def test_pbx_only_twilio_only_and_internal() -> None:
    cdr = cdr_frame(
        pbx(1, "1003", "+4420795550100", "17:00:00"),  # failed out: nothing on Twilio
        pbx(2, "+16465550199", DID, "18:00:00", "18:00:06", 451),  # answered, no Twilio leg
        pbx(3, "1005", "1002", "17:30:00", "17:30:02", 40),  # extension to extension
        pbx(4, "1001", DID, "17:40:00", "17:40:01", 10),  # an extension dialling the DID
    )
    calls = calls_frame(
        # The logs begin at 16:30 (an API call between numbers that are not the PBX's): every PBX
        # call here is in their span, so the unmatched ones are missing from Twilio (pbx-only).
        leg(0, "CA04", "+15005550006", "+16175550199", "16:30:00", 30, direction="outbound-api"),
        # Inbound over the trunk with no PBX record: Twilio bills 65 s -> 2 minutes.
        leg(1, "CA05", "+19175550133", DID, "17:50:00", 65, direction="trunking-originating"),
        # Not trunk traffic: an API call between numbers that are not the PBX's.
        leg(2, "CA06", "+15005550006", "+16175550199", "17:10:00", 65, direction="outbound-api"),
        # A trunk leg the day after the PBX file ends: outside its span.
        leg(3, "CA07", DID, "+16175550199", "09:00:00", 30, day=3),
    )
    frame, summary = run(cdr, calls)
    got = frame.select(
        "pbx_source_rows", "call_sid", "from_e164", "to_e164", "billed_minutes_delta",
        "match_status",
    ).rows()  # fmt: skip
    assert got == [
        ("1", None, "1003", "+4420795550100", 0.0, "pbx-only"),
        ("3", None, "1005", "1002", None, "internal"),
        ("4", None, "1001", DID, None, "internal"),
        (None, "CA05", "+19175550133", DID, 2.0, "twilio-only"),
        ("2", None, "+16465550199", DID, -8.0, "pbx-only"),  # 451 s bills 8 minutes
    ]
    assert asdict(summary) == {
        "pbx_calls": 4,
        "matched": 0,
        "pbx_only": 2,
        "twilio_only": 1,
        "internal": 2,
        "ambiguous": 0,
        "not_compared": 0,
        "duration_mismatch": 0,
        "status_mismatch": 0,
        "billed_minutes_at_stake": 10.0,
    }


def test_tie_is_ambiguous() -> None:
    # Two legs 5 s either side of the PBX start, same duration: nothing tells them apart.
    cdr = cdr_frame(pbx(1, "1004", "+15125550177", "20:00:10", "20:00:15", 100))
    calls = calls_frame(
        leg(1, "CA6a", DID, "+15125550177", "20:00:05", 100),
        leg(2, "CA6b", DID, "+15125550177", "20:00:15", 100),
    )
    frame, summary = run(cdr, calls)
    assert frame.select("pbx_source_rows", "call_sid", "match_status").rows() == [
        (None, "CA6a", "ambiguous"),
        ("1", None, "ambiguous"),
        (None, "CA6b", "ambiguous"),
    ]
    assert frame["billed_minutes_delta"].null_count() == 3
    assert (summary.ambiguous, summary.matched, summary.twilio_only) == (3, 0, 0)


def test_equal_start_gap_settled_by_duration() -> None:
    # Same 5 s start gap both ways, but only CA6b lasts as long as the PBX says.
    cdr = cdr_frame(pbx(1, "1004", "+15125550177", "20:00:10", "20:00:15", 100))
    calls = calls_frame(
        leg(1, "CA6a", DID, "+15125550177", "20:00:05", 160),
        leg(2, "CA6b", DID, "+15125550177", "20:00:15", 101),
    )
    frame, _ = run(cdr, calls)
    assert frame.select("call_sid", "match_status").rows() == [
        ("CA6a", "twilio-only"),
        ("CA6b", "matched"),
    ]


def test_one_to_one_never_many_to_many() -> None:
    # A (23:00:00, 30 s) and B (23:00:30, 60 s) both call +13125550166; legs X (23:00:20, 30 s)
    # and Y (23:00:40, 60 s). X is closest to B (10 s) and B to X and Y alike (10 s), but B-Y
    # also agrees on duration, so B-Y pair first; A then takes X (20 s). Nearest-only would give
    # X to both A and B.
    cdr = cdr_frame(
        pbx(1, "1001", "+13125550166", "23:00:00", "23:00:01", 30),
        pbx(2, "1002", "+13125550166", "23:00:30", "23:00:31", 60),
    )
    calls = calls_frame(
        leg(1, "CAx", DID, "+13125550166", "23:00:20", 30),
        leg(2, "CAy", DID, "+13125550166", "23:00:40", 60),
    )
    frame, _ = run(cdr, calls)
    assert frame.select("pbx_source_rows", "call_sid", "start_delta_s").rows() == [
        ("1", "CAx", 20),
        ("2", "CAy", 10),
    ]


def test_window_edge() -> None:
    cdr = cdr_frame(
        pbx(1, "1006", "+16175550190", "21:00:00"),  # Twilio 60 s before: in
        pbx(2, "1007", "+16175550191", "21:10:00"),  # Twilio 61 s before: out
        pbx(3, "1001", "+17735550110", "22:00:00", "22:00:10", 50),  # rang 10 s: +70 s is in
        pbx(4, "1001", "+17735550111", "22:30:00", "22:30:10", 50),  # ... and +71 s is out
    )
    calls = calls_frame(
        leg(1, "CA1", DID, "+16175550190", "20:59:00", 0, status="no-answer"),
        leg(2, "CA2", DID, "+16175550191", "21:08:59", 0, status="no-answer"),
        leg(3, "CA3", DID, "+17735550110", "22:01:10", 50),
        leg(4, "CA4", DID, "+17735550111", "22:31:11", 50),
    )
    frame, _ = run(cdr, calls)
    assert frame.select("pbx_source_rows", "call_sid", "start_delta_s", "match_status").rows() == [
        ("1", "CA1", -60, "matched"),
        (None, "CA2", None, "twilio-only"),
        ("2", None, None, "pbx-only"),
        ("3", "CA3", 70, "matched"),
        ("4", None, None, "pbx-only"),
        (None, "CA4", None, "twilio-only"),
    ]
    # A 59 s window takes both edges out: -60 s, and 10 s of ring + 60 s.
    narrow, _ = run(cdr, calls, window_s=59)
    assert narrow.filter(pl.col("match_status") == "matched").height == 0


def test_trunk_leg_rule_is_a_parameter() -> None:
    cdr = cdr_frame(pbx(1, "1001", "+14155550123", "14:00:00", "14:00:05", 60))
    calls = calls_frame(
        # Programmable Voice: <Dial><Sip> to the PBX's domain, no DID on either side.
        leg(1, "CAs", "+19175550133", "sip:1003@pbx.example.com", "14:01:00", 30,
            direction="outbound-dial"),
        # A DID leg that is not trunking.
        leg(2, "CAd", DID, "+16175550199", "14:01:30", 30, direction="outbound-api"),
    )  # fmt: skip
    default, _ = run(cdr, calls)
    assert default.filter(pl.col("match_status") == "twilio-only")["call_sid"].to_list() == ["CAd"]
    rule = TrunkLegs(did_legs=False, sip_domains=("example.com",))
    custom, _ = run(cdr, calls, trunk_legs=rule)
    assert custom.filter(pl.col("match_status") == "twilio-only")["call_sid"].to_list() == ["CAs"]


def test_related_leg_of_a_matched_call_is_not_twilio_only() -> None:
    # Inbound to the DID, then <Dial> to the PBX: the child leg matches (closer start), the parent
    # leg belongs to the same call.
    cdr = cdr_frame(pbx(1, "+19175550133", "1003", "10:00:02", "10:00:05", 40))
    calls = calls_frame(
        leg(1, "CAparent", "+19175550133", DID, "10:00:00", 45, direction="inbound"),
        leg(2, "CAchild", "+19175550133", "sip:1003@pbx.example.com", "10:00:01", 41,
            direction="outbound-dial", parent="CAparent"),
    )  # fmt: skip
    frame, summary = run(cdr, calls)
    assert frame.select("call_sid", "match_status").rows() == [("CAchild", "matched")]
    assert summary.twilio_only == 0


def test_pricing_model_is_a_parameter() -> None:
    # 6 s increments, 6 s minimum: 100 s bills 102 s, 140 s bills 144 s: +42 s = 0.7 minutes.
    cdr = cdr_frame(pbx(1, "1002", "+12125550187", "15:00:00", "15:00:05", 100))
    calls = calls_frame(leg(1, "CA02", DID, "+12125550187", "15:00:02", 140))
    frame, summary = run(cdr, calls, minimum_s=6, increment_s=6)
    assert frame["billed_minutes_delta"][0] == pytest.approx(0.7)
    assert summary.billed_minutes_at_stake == pytest.approx(0.7)


def test_billed_seconds() -> None:
    frame = pl.DataFrame({"s": [0, 1, 60, 61, 125, None], "ok": [True] * 5 + [True]})
    got = frame.select(
        billed_seconds(pl.col("s"), pl.col("ok"), minimum_s=60, increment_s=60)
    ).to_series()
    assert got.to_list() == [60, 60, 60, 120, 180, 60]
    unbilled = frame.select(
        billed_seconds(pl.col("s"), pl.lit(False), minimum_s=60, increment_s=60)
    ).to_series()
    assert unbilled.to_list() == [0] * 6


def test_normalise_numbers_once_per_distinct_value(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str] = []
    real = numbers._classify

    def counting(value: str, region: str, extension_max_digits: int) -> tuple[str | None, str]:
        seen.append(value)
        return real(value, region, extension_max_digits)

    monkeypatch.setattr(numbers, "_classify", counting)
    values = ["4155550123", "+1 (415) 555-0123", "1001", "s", "sip:+14155550100@pbx.example.com"]
    frame = pl.DataFrame({"a": values * 200, "b": ["020 7946 0018", None] * 500})
    out = normalise_numbers(frame, ["a", "b"], region="GB", dids=["+14155550100"])
    # Each distinct value once, plus the DID list (normalised the same way).
    assert sorted(seen) == sorted([*values, "020 7946 0018", "+14155550100"])
    assert out.head(6).select("a_e164", "a_kind", "b_e164", "b_kind").rows() == [
        ("+444155550123", "number", "+442079460018", "number"),  # national: the region's
        ("+14155550123", "number", None, "unknown"),
        ("1001", "extension", "+442079460018", "number"),
        (None, "unknown", None, "unknown"),
        ("+14155550100", "did", "+442079460018", "number"),
        ("+444155550123", "number", None, "unknown"),
    ]


def test_account_dids_from_the_logs() -> None:
    calls = calls_frame(
        leg(1, "CA1", "+19175550133", DID, "10:00:00", 10, direction="inbound"),
        leg(2, "CA2", "+18005550101", "+16175550199", "10:00:00", 10, direction="outbound-api"),
        leg(3, "CA3", "+19175550133", "client:bob", "10:00:00", 10, direction="outbound-dial"),
    )
    assert account_dids(calls) == [DID, "+18005550101"]


def test_end_to_end_from_the_asterisk_fixture(fixtures: Path) -> None:
    ing = ingest(
        [str(fixtures / "pbx" / "asterisk_Master.csv")],
        IngestOptions(pbx_tz="America/New_York"),
    )
    # Line 1: 09:14:05 EST = 14:14:05 UTC, 1001 -> +14155550123, billsec 275. The API leg of the
    # next day (not the PBX's numbers) stretches the logs' span over the whole file.
    calls = calls_frame(
        leg(1, "CA01", DID, "+14155550123", "14:14:07", 277),
        leg(2, "CA02", "+15005550006", "+16175550199", "14:00:00", 30, "completed",
            "outbound-api", day=3),
    )  # fmt: skip
    frame, summary = match_cdrs(ing.cdrs, calls, dids=[DID])
    first = frame.row(0, named=True)
    assert (first["pbx_source_rows"], first["call_sid"], first["start_delta_s"]) == ("1", "CA01", 2)
    assert (first["duration_delta_s"], first["mismatch"]) == (2, None)  # 2 s: within tolerance
    # Line 8 is 1005 -> 1002; lines 6;7 are one call: 10 PBX calls.
    assert (summary.pbx_calls, summary.matched, summary.internal) == (10, 1, 1)
    assert summary.pbx_only == 8
    assert frame.filter(pl.col("pbx_source_rows") == "6;7")["match_status"][0] == "pbx-only"


def test_pbx_calls_outside_the_legs_span_are_not_compared() -> None:
    # The logs hold one trunk leg, 14:00:00 for 300 s: it ends 14:05:00, so with the 60 s window
    # they cover 13:59:00 to 14:06:00, both included. PBX calls to numbers no leg has:
    cdr = cdr_frame(
        pbx(1, "1001", "+13035550111", "12:00:00", "12:00:05", 100),  # long before: not compared
        pbx(2, "1001", "+13035550112", "13:59:00", "13:59:04", 30),  # first edge: pbx-only
        pbx(3, "1001", "+13035550113", "14:06:00", "14:06:02", 61),  # last edge: pbx-only
        pbx(4, "1001", "+13035550114", "14:06:01", "14:06:03", 61),  # a second after: not
        pbx(5, "1001", "1002", "09:00:00", "09:00:05", 40),  # internal wherever it lies
        pbx(6, "1001", "+14155550123", "14:00:02", "14:00:03", 299),  # the leg's call
    )
    calls = calls_frame(leg(1, "CA01", DID, "+14155550123", "14:00:00", 300))
    frame, summary = run(cdr, calls)
    got = frame.select("pbx_source_rows", "match_status", "billed_minutes_delta").rows()
    assert got == [
        ("5", "internal", None),
        ("1", "not-compared", None),  # never priced: nothing says Twilio missed it
        ("2", "pbx-only", -1.0),  # 30 s bills 1 minute
        ("6", "matched", 0.0),
        ("3", "pbx-only", -2.0),  # 61 s bills 2 minutes
        ("4", "not-compared", None),
    ]
    assert (summary.not_compared, summary.pbx_only, summary.billed_minutes_at_stake) == (2, 2, 3.0)
    assert summary.findings == 4  # not-compared calls are findings: the exit code is 1
    # A wider window widens the span: 14:06:01 is then in it (to 14:07:00), 12:00:00 still not.
    wide, _ = run(cdr, calls, window_s=120)
    assert wide.filter(pl.col("match_status") == "not-compared")["pbx_source_rows"].to_list() == [
        "1"
    ]


def test_pbx_calls_with_no_legs_at_all_are_not_compared() -> None:
    cdr = cdr_frame(pbx(1, "1001", "+13035550111", "12:00:00", "12:00:05", 100))
    frame, summary = run(cdr, calls_frame())
    assert frame["match_status"].to_list() == ["not-compared"]
    assert (summary.not_compared, summary.pbx_only, summary.billed_minutes_at_stake) == (1, 0, 0.0)


def with_channels(row: dict, channel: str | None, dstchannel: str | None = None) -> dict:
    return row | {"channel": channel, "dstchannel": dstchannel}


def test_only_calls_that_crossed_the_trunk_are_expected_on_twilio() -> None:
    # The logs cover the day (a non-PBX API leg at 00:00 and one at 23:59). No PBX call below
    # has an external number: each is internal unless one of its channels is on the trunk.
    cdr = cdr_frame(
        with_channels(pbx(1, "anonymous", "99", "10:00:00", "10:00:01", 20), "SIP/50.112.48.21-0a"),
        with_channels(pbx(2, "1000", "s", "10:10:00", "10:10:00", 5), "SIP/1000-0b"),
        with_channels(
            pbx(3, "sip:alice@pbx.example.com", "3501", "10:20:00", "10:20:02", 9), "sofia/int/a"
        ),
        with_channels(pbx(4, "1001", DID, "10:30:00", "10:30:01", 10), "PJSIP/1001-0c"),
        with_channels(
            pbx(5, "1001", "s", "10:40:00", "10:40:01", 30), "PJSIP/1001-0d", "PJSIP/Twilio-0e"
        ),
        # An external number crosses the trunk whatever the channels say.
        with_channels(pbx(6, "1001", "+13035550111", "10:50:00"), "PJSIP/1001-0f"),
    )
    calls = calls_frame(
        leg(1, "CA1", "+15005550006", "+16175550199", "00:00:00", 1, direction="outbound-api"),
        leg(2, "CA2", "+15005550006", "+16175550199", "23:59:00", 1, direction="outbound-api"),
    )
    plain, counts = run(cdr, calls)
    assert plain["match_status"].to_list() == ["internal"] * 5 + ["pbx-only"]
    assert (counts.internal, counts.pbx_only) == (5, 1)
    # --trunk: prefixes of channel or dstchannel, compared without case.
    trunked, counts = run(cdr, calls, trunks=("SIP/50.112.48.21", "pjsip/twilio"))
    assert trunked.select("pbx_source_rows", "match_status").rows() == [
        ("1", "pbx-only"),  # anonymous over the provider's channel: no number to match on
        ("2", "internal"),
        ("3", "internal"),
        ("4", "internal"),
        ("5", "pbx-only"),  # dialled out over PJSIP/Twilio-0e
        ("6", "pbx-only"),
    ]
    assert (counts.internal, counts.pbx_only) == (3, 3)
    # Internal and pbx-only rows keep the numbers as written, E.164 or not.
    assert trunked.select("from_raw", "to_raw").rows()[:3] == [
        ("anonymous", "99"),
        ("1000", "s"),
        ("sip:alice@pbx.example.com", "3501"),
    ]


def in_2016(row: dict) -> dict:
    """The same PBX call, or leg, ten years earlier (before Twilio billed 0 s calls)."""
    return {k: v.replace(year=2016) if isinstance(v, datetime) else v for k, v in row.items()}


def test_zero_second_calls_are_priced_by_the_rules_of_their_day() -> None:
    # bill_zero_duration since 2021-07-08: an answered 0 s PBX call of 2026 bills the 60 s
    # minimum (pbx-only: -1 minute), the same call of 2016 bills nothing (0 minutes). The
    # same holds on Twilio's side for a 0 s completed trunk leg left alone (twilio-only).
    rules = {"bill_zero_dates": RuleDates(since=date(2021, 7, 8))}
    for year, shift, minutes in ((2026, lambda r: r, 1.0), (2016, in_2016, 0.0)):
        cdr = cdr_frame(
            shift(pbx(1, "1001", "+13035550111", "10:00:00", "10:00:00", 0)),
            shift(pbx(2, "1001", "+13035550112", "11:00:00", "11:00:01", 20)),
        )
        calls = calls_frame(
            shift(leg(1, "CA1", DID, "+13035550119", "10:30:00", 0)),
            # API legs between other numbers: the logs cover 09:00 to 12:00.
            shift(leg(2, "CA2", "+15005550006", "+16175550199", "09:00:00", 1, "completed",
                      "outbound-api")),
            shift(leg(3, "CA3", "+15005550006", "+16175550199", "12:00:00", 1, "completed",
                      "outbound-api")),
        )  # fmt: skip
        frame, summary = run(cdr, calls, **rules)
        got = frame.select("pbx_source_rows", "call_sid", "billed_minutes_delta").rows()
        assert got == [
            ("1", None, -minutes),
            (None, "CA1", minutes),
            ("2", None, -1.0),  # 20 s bills the minimum in any year
        ], year
        assert summary.billed_minutes_at_stake == 2 * minutes + 1.0
    # Without dates (the rule as it was), 2016's 0 s calls bill the minimum too.
    frame, _ = run(cdr, calls)
    assert frame["billed_minutes_delta"].to_list() == [-1.0, 1.0, -1.0]


def test_numbers_phonenumbers_cannot_read_are_kept_as_written() -> None:
    # An IDD prefix the NANP does not use (9011...), a Swiss number with 00 and no plus read as
    # a US one, and `default`: no E.164 form, but cdr_matches keeps the value written.
    cdr = cdr_frame(
        pbx(1, "1001", "9011441622371154", "10:00:00"),
        pbx(2, "0041245085789", "1001", "10:05:00"),
    )
    calls = calls_frame(
        leg(1, "CA1", "default", DID, "10:02:00", 30, direction="trunking-originating"),
        leg(2, "CA2", "+15005550006", "+16175550199", "10:10:00", 1, direction="outbound-api"),
    )
    frame, _ = run(cdr, calls)
    got = frame.select("pbx_source_rows", "call_sid", "from_e164", "from_raw", "to_raw").rows()
    assert got == [
        ("1", None, "1001", "1001", "9011441622371154"),
        (None, "CA1", None, "default", DID),
        ("2", None, None, "0041245085789", "1001"),
    ]


def test_a_number_phonenumbers_cannot_read_is_never_taken_for_internal() -> None:
    # Russian numbers under --region US have no E.164 form; they are still numbers as written
    # (digits, longer than an extension), so the call crossed the trunk: pbx-only, not internal.
    # A digit string that is the peer of one of the file's channels is a SIP device instead.
    cdr = cdr_frame(
        with_channels(pbx(1, "89245555937", "211474", "10:00:00", "10:00:00", 27), "SIP/211474-00"),
        with_channels(pbx(2, "123654987", "1001", "10:10:00", "10:10:01", 5), "SIP/123654987-01"),
        with_channels(pbx(3, "1500", "123654987", "10:20:00", "10:20:01", 5), "SIP/1500-02"),
    )
    calls = calls_frame(
        leg(1, "CA1", "+15005550006", "+16175550199", "09:00:00", 1, direction="outbound-api"),
        leg(2, "CA2", "+15005550006", "+16175550199", "11:00:00", 1, direction="outbound-api"),
    )
    frame, counts = run(cdr, calls)
    assert frame.select("pbx_source_rows", "from_e164", "from_raw", "match_status").rows() == [
        ("1", None, "89245555937", "pbx-only"),
        ("2", None, "123654987", "internal"),
        ("3", "1500", "1500", "internal"),  # to the device 123654987 (SIP/123654987-01)
    ]
    assert (counts.pbx_only, counts.internal) == (1, 2)
    # Under its own region the number reads, and the call is pbx-only as before.
    ru, _ = run(cdr, calls, region="RU")
    assert ru.row(0, named=True)["from_e164"] == "+79245555937"
