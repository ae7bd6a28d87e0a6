"""Issue 18 points 6, 8 and 10: how PBX CDR lines become calls.

- The `;1` and `;2` halves of one Asterisk Local channel are one call (16-18 columns: no linkedid,
  each half has a uniqueid of its own); the half that dialled the trunk gives the numbers.
- On an outbound call (the trunk is party B, `dstchannel`) the disposition of the Dial to the trunk
  decides: BUSY / CONGESTION / NO ANSWER / FAILED did not connect, whatever their billsec, and a
  line with no dstchannel (Congestion) carries no trunk seconds. On an inbound call (the trunk is
  party A, `channel`) billsec > 0 is connected whatever the disposition.
- A FreeSWITCH line written twice joins its first writing's call (`repeat_note`, counted in
  summary.json `repeats`); of two differing lines under one uuid, the A-leg gives the parties.

Small files in tests/fixtures/pbx hold each shape (numbers made up, lines as the real files write
them); the real files are read from ../shared/real/ and skipped where it is absent.
"""

from __future__ import annotations

import csv
import json
import re
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
from conftest import ROOT, run_cli
from test_pbx_readers import ast_line

from auditor.pipeline.ingest import Ingested, ingest
from auditor.pipeline.options import IngestOptions

FIXTURES = ROOT / "tests" / "fixtures" / "pbx"
REAL = ROOT.parent / "shared" / "real"


def real_file(relative: str) -> Path:
    path = REAL / relative
    if not path.is_file():
        pytest.skip(f"real export {path} not found (CI has ../shared beside the checkout)")
    return path


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _ingest(path: Path, tz: str = "UTC", trunks: tuple[str, ...] = ()) -> Ingested:
    ing = ingest([str(path)], IngestOptions(pbx_tz=tz, trunks=trunks))
    assert ing.rejects.height == 0, ing.rejects
    return ing


def _calls(path: Path, tz: str = "UTC", trunks: tuple[str, ...] = ()) -> dict[str, dict]:
    """The accepted calls by `source_rows` (rows read = rows accepted is checked too)."""
    ing = _ingest(path, tz, trunks)
    report = ing.files[0]
    assert report.rows_read == report.rows_accepted
    return {r["source_rows"]: r for r in ing.cdrs.iter_rows(named=True)}


# --- point 6: the two halves of a Local channel ----------------------------------------------


def test_local_pair_halves_are_one_call() -> None:
    calls = _calls(FIXTURES / "asterisk_local_pair.csv")
    # Six lines, three calls: lines 1-3 (one Local channel, ;1 twice and ;2 once, overlapping
    # 15:42:26-15:42:46), lines 4-5 (;1 and ;2 of -00000005), line 6 (the name of lines 1-3
    # again the next day, after a restart: it overlaps neither, so it is a call of its own).
    # Was: five calls (1;2, 3, 4, 5, 6).
    assert sorted(calls) == ["1;2;3", "4;5", "6"]

    first = calls["1;2;3"]
    # The ;2 half dialled the trunk first (SIP/sipus1-00000012, ANSWERED 11 s): it gives the
    # call's numbers and channels; the ;1 half's BUSY Dial to sipus1-00000013 and its Congestion
    # line carry no trunk seconds (point 8). Bills 15:42:35 + 11 s; lasts 15:42:26-15:42:46.
    assert (first["src"], first["dst"]) == (None, "13135550147")
    assert (first["channel"], first["dstchannel"]) == (
        "Local/13135550147@LocalSets-00000001;2",
        "SIP/sipus1-00000012",
    )
    assert (first["answered"], first["billsec"], first["duration_s"]) == (True, 11, 20)
    assert first["answer_utc"] == _utc("2016-09-16T15:42:35")
    assert (first["disposition"], first["row_count"]) == ("ANSWERED", 3)

    pair = calls["4;5"]
    # The ;1 half's dst is the call file's extension 123654987; the ;2 half dialled 12485550123
    # over the trunk. Was: two calls, the first to 123654987.
    assert (pair["dst"], pair["channel"], pair["dstchannel"]) == (
        "12485550123",
        "Local/12485550123@LocalSets-00000005;2",
        "SIP/sipus1-00000018",
    )
    assert (pair["answered"], pair["billsec"], pair["duration_s"]) == (True, 12, 14)

    alone = calls["6"]  # no trunk on either side: the PBX's own figures
    assert (alone["dst"], alone["answered"], alone["billsec"]) == ("123654987", True, 20)


def _local_sessions(path: Path) -> list[list[str]]:
    """The halves (`1`/`2`) of each Local channel session of a Master.csv, worked out here
    line by line: the lines of one Local name (suffix dropped), by start, are one session while
    each starts at most 2 s after the latest end so far."""
    by_name: dict[str, list[tuple[datetime, int, datetime, str]]] = defaultdict(list)
    with path.open(encoding="latin-1", newline="") as f:
        for i, row in enumerate(csv.reader(f), 1):
            m = re.match(r"^(Local/.*);([12])$", row[5])
            if m:
                start, end = datetime.fromisoformat(row[9]), datetime.fromisoformat(row[11])
                by_name[m.group(1)].append((start, i, end, m.group(2)))
    sessions: list[list[str]] = []
    for lines in by_name.values():
        latest = None
        for start, _, end, half in sorted(lines):
            if latest is None or start > latest + timedelta(seconds=2):
                sessions.append([])
                latest = end
            sessions[-1].append(half)
            latest = max(latest, end)
    return sessions


def test_real_local_pairs_are_one_call_each() -> None:
    path = real_file("asterisk/asterisk-for-speech-to-text_Master.csv")
    ing = _ingest(path, "America/Detroit")
    cdr = ing.cdrs
    calls = {r["source_rows"]: r for r in cdr.iter_rows(named=True)}
    sessions = _local_sessions(path)
    both = [s for s in sessions if set(s) == {"1", "2"}]
    # 97 sessions hold both halves (105 sessions of 88 names: the counter restarts): each was
    # two calls, so 266 calls become 169, and no call is a Local ;1 half alone any more.
    assert (len(sessions), len(both)) == (105, 97)
    assert cdr.height == 266 - len(both) == 169
    assert not [s for s in sessions if set(s) == {"1"}]
    assert cdr.filter(pl.col("channel").str.ends_with(";1")).height == 0

    # Lines 75/76: `Local/13137572470@LocalSets-00000005;1` / `;2`, one call to 13137572470.
    pair = calls["75;76"]
    assert (pair["dst"], pair["dstchannel"]) == ("13137572470", "SIP/sipus1-00000018")
    # Lines 66-68: uniqueid 1474040546.32 (;1, two lines) and .33 (;2) of -00000001.
    call = calls["66;67;68"]
    assert (call["dst"], call["channel"], call["dstchannel"]) == (
        "12489398620",
        "Local/12489398620@LocalSets-00000001;2",
        "SIP/sipus1-00000012",
    )
    # Only the ;2 half's Dial to sipus1-00000012 connected: 15:42:35 + 11 s (Detroit, UTC-4).
    assert (call["answered"], call["billsec"]) == (True, 11)
    assert call["answer_utc"] == _utc("2016-09-16T19:42:35")


# --- point 8: busy plus congestion -------------------------------------------------------------


@pytest.mark.parametrize("trunks", [(), ("SIP/sipus1",)], ids=["fallback", "trunk-prefix"])
def test_outbound_dial_disposition_decides(trunks: tuple[str, ...]) -> None:
    calls = _calls(FIXTURES / "asterisk_busy_congestion.csv", trunks=trunks)
    assert sorted(calls) == ["1;2", "3", "4;5", "6"]
    busy = calls["1;2"]
    # SIP/201 dialled the trunk: BUSY with billsec 7 (billsec counts from party A's answer),
    # then Congestion (no dstchannel) ANSWERED 4 s. Was: answered, billsec 11, ANSWERED.
    assert (busy["answered"], busy["billsec"], busy["answer_utc"]) == (False, 0, None)
    assert (busy["disposition"], busy["dstchannel"]) == ("BUSY", "SIP/sipus1-00000002")
    # An answered Dial to the trunk bills its own billsec.
    assert (calls["3"]["answered"], calls["3"]["billsec"]) == (True, 30)
    # Inbound (the trunk is party A): NO ANSWER with billsec 9 is connected, as the PBX answered
    # the trunk at 17:00:00 (real call 1706369600.6's shape).
    inbound = calls["4;5"]
    assert (inbound["answered"], inbound["billsec"]) == (True, 9)
    assert inbound["answer_utc"] == _utc("2016-09-16T17:00:00")
    # Outbound NO ANSWER with billsec 15: not connected. Was: answered, billsec 15.
    assert (calls["6"]["answered"], calls["6"]["billsec"], calls["6"]["disposition"]) == (
        False,
        0,
        "NO ANSWER",
    )


def test_trunk_prefixes_name_the_trunk(tmp_path: Path) -> None:
    # A trunk to a short number (4420) is not found by the fallback rule (no external number):
    # the line keeps billsec > 0 = connected; naming the trunk makes it an outbound BUSY Dial.
    path = tmp_path / "Master.csv"
    line = ast_line("201", "4420", "SIP/201-00000001", "2026-03-02 10:00:00",
                    "2026-03-02 10:00:00", "2026-03-02 10:00:07", 7, 7, "BUSY",
                    dstchannel="PJSIP/twilio-00000002")  # fmt: skip
    path.write_text(line + "\n", encoding="utf-8")
    fallback = _calls(path)["1"]
    assert (fallback["answered"], fallback["billsec"]) == (True, 7)
    named = _calls(path, trunks=("PJSIP/twilio",))["1"]
    assert (named["answered"], named["billsec"]) == (False, 0)
    # With --trunk given, only its prefixes are the trunk: sipus1 is then not one, and the busy
    # call of the fixture reads as the PBX wrote it.
    other = _calls(FIXTURES / "asterisk_busy_congestion.csv", trunks=("PJSIP/twilio",))
    assert (other["1;2"]["answered"], other["1;2"]["billsec"]) == (True, 11)


@pytest.mark.parametrize("trunks", [(), ("SIP/211553",)], ids=["fallback", "trunk-prefix"])
def test_real_inbound_no_answer_with_billsec_stays_connected(trunks: tuple[str, ...]) -> None:
    # dj-asterisk call 1706369600.6 (lines 4-6): the trunk SIP/211553 is party A; two NO ANSWER
    # lines with billsec 60 and 30 from AnswerTime = start, then a 0 s ANSWERED line.
    path = real_file("asterisk/dj-asterisk-cdr_Master.csv")
    ing = _ingest(path, "Asia/Irkutsk", trunks)
    call = ing.cdrs.filter(pl.col("call_key") == "1706369600.6").row(0, named=True)
    assert call["source_rows"] == "4;5;6"
    assert (call["answered"], call["billsec"], call["disposition"]) == (True, 60, "ANSWERED")


# --- point 10: FreeSWITCH lines written twice -----------------------------------------------------


def test_lines_written_twice_are_merged_with_a_note() -> None:
    ing = _ingest(FIXTURES / "freeswitch_written_twice.csv")
    calls = {r["source_rows"]: r for r in ing.cdrs.iter_rows(named=True)}
    # Nine lines: 2 repeats line 1, 9 repeats line 7 (line 8 between): five calls.
    assert sorted(calls) == ["1;2", "3;4", "5;6", "7;9", "8"]
    assert ing.repeated_rows == 2
    assert calls["1;2"]["repeat_note"] == "line 2 repeats line 1"
    assert calls["7;9"]["repeat_note"] == "line 9 repeats line 7"
    assert (calls["7;9"]["dst"], calls["7;9"]["billsec"], calls["7;9"]["row_count"]) == (
        "999",
        17,
        2,
    )
    assert [calls[k]["repeat_note"] for k in ("3;4", "5;6", "8")] == [None, None, None]
    # Lines 3/4: one uuid, the B-leg ("Outbound Call" 1905 -> 1905) first. Was: 1905 -> 1905.
    b_first = calls["3;4"]
    assert (b_first["src"], b_first["dst"], b_first["billsec"]) == ("1902", "1905", 2)
    # Lines 5/6: the A-leg (1906 -> 1905, billsec 20 to 09:14:19) first, the B-leg 1 s longer.
    # The call bills as its A-leg: 09:13:59 + 20 s (was 21: both legs spanned).
    a_first = calls["5;6"]
    assert (a_first["src"], a_first["dst"], a_first["billsec"]) == ("1906", "1905", 20)
    assert a_first["duration_s"] == 54  # 09:13:26 until the B-leg's end, 09:14:20


def test_lines_written_twice_are_counted(tmp_path: Path) -> None:
    path = FIXTURES / "freeswitch_written_twice.csv"
    proc = run_cli("validate", str(path), "--pbx-tz", "UTC", "--out", str(tmp_path / "v"))
    assert proc.returncode == 0, (proc.stdout, proc.stderr)
    assert "2 PBX line(s) repeat an earlier line: merged into its call (marked repeat_note)" in (
        proc.stdout
    )
    cdr = pl.read_parquet(tmp_path / "v" / "cdrs.parquet")
    assert cdr["repeat_note"].drop_nulls().to_list() == [
        "line 2 repeats line 1",
        "line 9 repeats line 7",
    ]
    proc = run_cli("validate", str(path), "--pbx-tz", "UTC", "--out", str(tmp_path / "j"), "--json")
    assert json.loads(proc.stdout)["repeats"] == {"rows": 2}


def _uuid_lines(path: Path) -> dict[str, list[tuple[int, list[str]]]]:
    by_uuid: dict[str, list[tuple[int, list[str]]]] = defaultdict(list)
    with path.open(encoding="utf-8", newline="") as f:
        for i, row in enumerate(csv.reader(f), 1):
            by_uuid[row[10]].append((i, row))
    return by_uuid


def test_real_freeswitch_lines_written_twice() -> None:
    path = real_file("freeswitch/powermedia_FreeSwitch_Master.csv")
    ing = _ingest(path, "Europe/Rome")
    calls = {r["source_rows"]: r for r in ing.cdrs.iter_rows(named=True)}
    # Worked out here from the file with the csv module: uuids on two lines, identical or not.
    by_uuid = _uuid_lines(path)
    twice = {u: v for u, v in by_uuid.items() if len(v) == 2}
    identical = {u: v for u, v in twice.items() if v[0][1] == v[1][1]}
    differing = {u: v for u, v in twice.items() if u not in identical}
    assert (len(by_uuid), len(twice), len(identical), len(differing)) == (1411, 1275, 1254, 21)
    assert all(len(v) <= 2 for v in by_uuid.values())
    # One call per uuid; each identical second line noted and counted.
    assert ing.cdrs.height == len(by_uuid)
    assert ing.repeated_rows == len(identical)
    for (first, _), (second, _) in identical.values():
        assert calls[f"{first};{second}"]["repeat_note"] == f"line {second} repeats line {first}"
    assert ing.cdrs["repeat_note"].is_not_null().sum() == len(identical)
    # Of the 21 differing pairs, 17 are an "Outbound Call" line calling its own destination (the
    # B-leg) beside the caller's line: the call keeps the caller's parties. The other 4 differ in
    # start and duration only.
    b_legs = 0
    for (first, a), (second, b) in differing.values():
        call = calls[f"{first};{second}"]
        assert call["repeat_note"] is None
        selfish = [r for r in (a, b) if r[1] == r[2]]
        if selfish:
            b_legs += 1
            (caller,) = [r for r in (a, b) if r[1] != r[2]]
            assert selfish[0][0] == "Outbound Call"
            assert (call["src"], call["dst"]) == (caller[1], caller[2]), first
        else:
            assert (a[1], a[2]) == (b[1], b[2]) == (call["src"], call["dst"])
    assert b_legs == 17
    # Rows 325/326: 1902 -> 1905 (was 1905 -> 1905, the B-leg written first).
    call = calls["325;326"]
    assert (call["src"], call["dst"], call["billsec"]) == ("1902", "1905", 2)
