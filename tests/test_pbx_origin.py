"""Issue 8 point 4: a grouped PBX call keeps its originating leg's numbers and billsec.

The originating leg is the line the reader names (Asterisk 21 columns: uniqueid = linkedid), else
a line not brought in through a link (not a FreeSWITCH B-leg) and not the `;2` half of an Asterisk
Local channel. A line with billsec > 0 was connected whatever its disposition, and the call bills
as its originating leg.

The real files are read from ../shared/real/ (CI has ../shared beside the checkout); their tests
skip where it is absent.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest
from conftest import ROOT, run_cli
from test_pbx_readers import ast_line

from auditor.pipeline.ingest import ingest
from auditor.pipeline.options import IngestOptions

REAL = ROOT.parent / "shared" / "real"
DID = "+12125550150"
CALLER = "+17185550142"


def real_file(relative: str) -> Path:
    path = REAL / relative
    if not path.is_file():
        pytest.skip(f"real export {path} not found (CI has ../shared beside the checkout)")
    return path


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _validate(path: Path, out: Path, tz: str) -> pl.DataFrame:
    """`auditor validate` as a user runs it; the calls of cdrs.parquet by call_key."""
    proc = run_cli("validate", str(path), "--pbx-tz", tz, "--out", str(out))
    assert proc.returncode == 0, (proc.stdout, proc.stderr)
    return pl.read_parquet(out / "cdrs.parquet")


def _calls(lines: list[str], tmp_path: Path) -> dict[str, dict]:
    path = tmp_path / "Master.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    ing = ingest([str(path)], IngestOptions(pbx_tz="UTC"))
    assert ing.rejects.height == 0, ing.rejects
    return {r["call_key"]: r for r in ing.cdrs.iter_rows(named=True)}


# --- the real files -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def dj(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    path = real_file("asterisk/dj-asterisk-cdr_Master.csv")
    cdr = _validate(path, tmp_path_factory.mktemp("dj"), "Asia/Irkutsk")
    return {r["call_key"]: r for r in cdr.iter_rows(named=True)}


def test_real_asterisk_trunk_calls_keep_the_did(dj: dict[str, dict]) -> None:
    # Each of these calls starts with a `Local/ch1@TimeDelay-...;2` line whose dst is `ch1`; the
    # trunk leg (uniqueid = linkedid) was dialled on the DID 211553.
    expected = {
        "1706372196.12": ("7;8;9;10;11;12;13", "89245555937", "SIP/211553-00000006"),
        "1706401101.30": ("14;15;16;17;18;19;20", "89937383217", "SIP/211553-0000000b"),
        "1706407446.50": ("22;23;24;25;26", "89025348783", "SIP/211553-00000011"),
        "1706412022.63": ("27;28;29;30;31", "214943", "SIP/211553-00000013"),
        "1706412893.79": ("34;35;36;37;38", "89024577388", "SIP/211553-00000017"),
    }
    for key, (rows, src, channel) in expected.items():
        call = dj[key]
        assert (call["source_rows"], call["src"], call["dst"], call["channel"]) == (
            rows,
            src,
            "211553",
            channel,
        ), key
    assert not [k for k, c in dj.items() if c["dst"] in ("ch1", "ch2", "ch3")]
    # Their billsec is the trunk leg's own: unanswered twice, then 17, 23 and 79 s.
    assert [dj[k]["billsec"] for k in expected] == [0, 0, 17, 23, 79]
    assert [dj[k]["answered"] for k in expected] == [False, False, True, True, True]


def test_real_asterisk_no_answer_legs_with_billsec_are_connected(dj: dict[str, dict]) -> None:
    # Lines 4-6: NO ANSWER 60 s and 30 s with AnswerTime = start (15:33:20 Irkutsk, UTC+8), then
    # a 0 s ANSWERED line. Was: answered with billsec 0.
    call = dj["1706369600.6"]
    assert call["source_rows"] == "4;5;6"
    assert (call["answered"], call["billsec"], call["duration_s"]) == (True, 60, 60)
    assert (call["src"], call["dst"]) == ("89245555937", "211553")
    assert call["answer_utc"] == _utc("2024-01-27T07:33:20")
    assert call["disposition"] == "ANSWERED"


def test_real_freeswitch_a_leg_numbers(tmp_path: Path) -> None:
    path = real_file("freeswitch/VoIP-related-codes_cdr_basic_Master_legs-ab.csv")
    calls = {r["source_rows"]: r for r in _validate(path, tmp_path, "UTC").iter_rows(named=True)}
    # Line 1 is the B-leg (uuid 02132a5c..., destination 1001); line 2 the A-leg naming it in
    # bleg_uuid, dialled as *1003. Was: dst 1001.
    first = calls["1;2"]
    assert (first["src"], first["dst"]) == ("91342657", "*1003")
    assert first["call_key"] == "99205d8f-5ec4-402e-b174-7a8bb8c23a61"
    assert (first["answered"], first["billsec"]) == (True, 7)
    second = calls["3;4"]
    assert (second["src"], second["dst"], second["billsec"]) == ("1001", "1002", 6)
    assert second["call_key"] == "a03307a6-3658-4dde-a25b-bb6aecb96945"


def test_real_freeswitch_callcenter_a_leg_numbers(tmp_path: Path) -> None:
    path = real_file("freeswitch/VoIP-related-codes_cdr_callcenter_Master.csv")
    cdr = _validate(path, tmp_path, "UTC")
    # Line 1: the agent's B-leg (destination 1001); line 3: the caller's A-leg to queue 3000.
    assert cdr.select("source_rows", "call_key", "src", "dst", "billsec").rows() == [
        ("1;3", "d26a29f9-60e7-4df5-9eed-e42bac8c7096", "19083426", "3000", 9)
    ]


# --- small files built here (UTC times) ---------------------------------------------------------


def test_asterisk_local_half_written_first(tmp_path: Path) -> None:
    trunk, half = "SIP/trunk-00000001", "Local/ch1@TimeDelay-00000000"
    origin = {"width": 21, "uniqueid": "100.0", "linkedid": "100.0"}
    lines = [
        # The dialplan side of the Local channel, first in the file, dst = the Local extension.
        ast_line(CALLER, "ch1", f"{half};2", "2026-03-02 10:00:00", "2026-03-02 10:00:06",
                 "2026-03-02 10:00:06", 6, 0, "ANSWERED", dstchannel="SIP/301-00000002",
                 width=21, uniqueid="100.2", linkedid="100.0", sequence=2),
        ast_line(CALLER, DID, trunk, "2026-03-02 10:00:00", "2026-03-02 10:00:06",
                 "2026-03-02 10:00:06", 6, 0, "ANSWERED", dstchannel=f"{half};1", sequence=1,
                 **origin),
        ast_line(CALLER, DID, trunk, "2026-03-02 10:00:06", "2026-03-02 10:00:06",
                 "2026-03-02 10:01:36", 90, 90, "ANSWERED", dstchannel="SIP/301-00000002",
                 sequence=3, **origin),
    ]  # fmt: skip
    call = _calls(lines, tmp_path)["100.0"]
    assert (call["src"], call["dst"]) == (CALLER, DID)
    assert (call["channel"], call["dstchannel"]) == (trunk, f"{half};1")
    # Trunk leg: answered 10:00:06, last answer + billsec 10:00:06 + 90 s; lasts 10:00:00-10:01:36.
    assert (call["answered"], call["billsec"], call["duration_s"]) == (True, 90, 96)
    assert call["answer_utc"] == _utc("2026-03-02T10:00:06")


def test_asterisk_without_the_origin_line_skips_the_local_half(tmp_path: Path) -> None:
    # linkedid 200.0 names a line that is not in the file: the earliest line that is not a
    # Local ;2 half gives the numbers.
    common = {"width": 21, "linkedid": "200.0"}
    lines = [
        ast_line(CALLER, "ch2", "Local/ch2@TimeDelay-00000001;2", "2026-03-02 11:00:00", None,
                 "2026-03-02 11:00:40", 40, 0, "NO ANSWER", uniqueid="200.2", **common),
        ast_line(CALLER, DID, "SIP/trunk-00000003", "2026-03-02 11:00:01", None,
                 "2026-03-02 11:00:40", 39, 0, "NO ANSWER", uniqueid="200.1", **common),
    ]  # fmt: skip
    call = _calls(lines, tmp_path)["200.0"]
    assert (call["src"], call["dst"], call["channel"]) == (CALLER, DID, "SIP/trunk-00000003")
    assert (call["answered"], call["billsec"], call["duration_s"]) == (False, 0, 40)


def test_asterisk_no_answer_legs_with_billsec_bill_the_call(tmp_path: Path) -> None:
    # The shape of real call 1706369600.6: party A answered at the start, two dialled legs logged
    # NO ANSWER with billsec 45 and 20, then a 0 s ANSWERED Hangup line.
    origin = {"width": 21, "uniqueid": "300.0", "linkedid": "300.0"}
    trunk = "SIP/trunk-00000003"
    lines = [
        ast_line(CALLER, DID, trunk, "2026-03-02 12:00:00", "2026-03-02 12:00:00",
                 "2026-03-02 12:00:45", 45, 45, "NO ANSWER", dstchannel="SIP/301-00000004",
                 sequence=3, **origin),
        ast_line(CALLER, DID, trunk, "2026-03-02 12:00:00", "2026-03-02 12:00:00",
                 "2026-03-02 12:00:20", 20, 20, "NO ANSWER", dstchannel="SIP/pbx-00000005",
                 sequence=6, **origin),
        ast_line(CALLER, DID, trunk, "2026-03-02 12:00:45", "2026-03-02 12:00:45",
                 "2026-03-02 12:00:45", 0, 0, "ANSWERED", sequence=7, **origin),
    ]  # fmt: skip
    call = _calls(lines, tmp_path)["300.0"]
    # Answered 12:00:00; bills to max(12:00:00 + 45, 12:00:00 + 20, 12:00:45 + 0) = 12:00:45.
    assert (call["answered"], call["billsec"], call["duration_s"]) == (True, 45, 45)
    assert call["answer_utc"] == _utc("2026-03-02T12:00:00")
    assert call["disposition"] == "ANSWERED"


def test_asterisk_origin_never_connected_bills_the_connected_lines(tmp_path: Path) -> None:
    lines = [
        ast_line(CALLER, DID, "SIP/trunk-00000006", "2026-03-02 13:00:00", None,
                 "2026-03-02 13:00:30", 30, 0, "NO ANSWER", width=21, uniqueid="400.0",
                 linkedid="400.0"),
        ast_line(CALLER, "ch2", "Local/ch2@TimeDelay-00000002;2", "2026-03-02 13:00:00",
                 "2026-03-02 13:00:10", "2026-03-02 13:00:30", 30, 20, "ANSWERED", width=21,
                 uniqueid="400.1", linkedid="400.0"),
    ]  # fmt: skip
    call = _calls(lines, tmp_path)["400.0"]
    # No line of the best rank connected: every connected line bills (13:00:10 + 20 s).
    assert (call["dst"], call["answered"], call["billsec"]) == (DID, True, 20)
    assert call["answer_utc"] == _utc("2026-03-02T13:00:10")


def test_freeswitch_b_leg_written_first(tmp_path: Path) -> None:
    a_uuid, b_uuid = "0f6b1e4c-1111-4b2a-9c3d-5e6f7a8b9c0d", "7d8e9f00-2222-4c3b-8d4e-6f7a8b9c0d1e"

    def fs(dst: str, answer: str, end: str, dur: int, bill: int, uuid: str, bleg: str) -> str:
        values = [
            "Alice", CALLER, dst, "public", "2026-03-02 10:00:00", answer, end, str(dur),
            str(bill), "NORMAL_CLEARING", uuid, bleg, "", "PCMU", "PCMU",
        ]  # fmt: skip
        return ",".join(f'"{v}"' for v in values)

    lines = [
        fs("1001", "2026-03-02 10:00:04", "2026-03-02 10:00:12", 12, 8, b_uuid, ""),
        fs(DID, "2026-03-02 10:00:02", "2026-03-02 10:00:11", 11, 9, a_uuid, b_uuid),
    ]
    call = _calls(lines, tmp_path)[a_uuid]
    assert (call["source_rows"], call["src"], call["dst"]) == ("1;2", CALLER, DID)
    # The A-leg's own billing: answered 10:00:02, 9 s (both legs spanned would give 10 s).
    assert (call["billsec"], call["duration_s"]) == (9, 12)
    assert call["answer_utc"] == _utc("2026-03-02T10:00:02")
