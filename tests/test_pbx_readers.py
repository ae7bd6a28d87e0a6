"""Each PBX CDR reader on tests/fixtures/pbx and on small files built here, through the real
ingest path (detect -> read -> normalize_cdr -> validation -> conservation)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

from auditor.errors import InputError
from auditor.ingest.detect import detect
from auditor.ingest.files import InputFile
from auditor.ingest.options import ReadOptions
from auditor.ingest.pbx_format_file import load_cdr_format, parse_cdr_format
from auditor.normalize.times import DstPolicy
from auditor.pipeline.ingest import ingest
from auditor.pipeline.options import IngestOptions

NY = "America/New_York"


def _ingest(paths: list[Path], **opts: object):
    return ingest([str(p) for p in paths], IngestOptions(**opts))


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _q(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


def ast_line(
    src: str,
    dst: str,
    channel: str,
    start: str,
    answer: str | None,
    end: str,
    duration: int | str,
    billsec: int | str,
    disposition: str,
    *,
    dstchannel: str = "",
    width: int = 18,
    uniqueid: str = "",
    linkedid: str = "",
    sequence: int = 0,
) -> str:
    """One Master.csv line as cdr_csv writes it: strings quoted, integers bare, `,,` for no
    answer; uniqueid/userfield and peeraccount/linkedid/sequence appended by width."""
    fields = [
        _q(""),
        _q(src),
        _q(dst),
        _q("from-internal"),
        _q(f'"Someone" <{src}>'),
        _q(channel),
        _q(dstchannel),
        _q("Dial"),
        _q(f"PJSIP/{dst}@twilio-trunk,60,T"),  # commas inside a quoted field
        _q(start),
        _q(answer) if answer else "",
        _q(end),
        str(duration),
        str(billsec),
        _q(disposition),
        _q("DOCUMENTATION"),
    ]
    if width >= 17:
        fields.append(_q(uniqueid))
    if width >= 18:
        fields.append(_q(""))
    if width == 21:
        fields += [_q(""), _q(linkedid), str(sequence)]
    return ",".join(fields)


def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# --- detection -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "reader"),
    [
        ("asterisk_Master.csv", "asterisk-cdr-csv"),
        ("freeswitch_cdr.csv", "freeswitch-cdr-csv"),
        ("cucm_cdr.csv", "cucm-cdr"),
    ],
)
def test_pbx_files_detected_by_content(fixtures: Path, name: str, reader: str) -> None:
    path = fixtures / "pbx" / name
    found = detect(InputFile(path, str(path)))
    assert (found.name, found.kind) == (reader, "cdr")


def test_twilio_files_are_not_taken_for_cdrs(fixtures: Path) -> None:
    for path in sorted((fixtures / "twilio").glob("*.json")):
        assert detect(InputFile(path, str(path))).kind != "cdr", path.name


# --- Asterisk --------------------------------------------------------------------------------


def test_asterisk_fixture_18_columns(fixtures: Path) -> None:
    path = fixtures / "pbx" / "asterisk_Master.csv"
    ing = _ingest([path], pbx_tz=NY)
    cdr = ing.cdrs
    # 11 lines; lines 6 and 7 are one inbound call (IVR, then the queue) on one trunk channel.
    assert cdr.height == 10
    assert cdr["source_rows"].to_list() == ["1", "2", "3", "4", "5", "6;7", "8", "9", "10", "11"]
    first = cdr.row(0, named=True)
    # 09:14:05 in New York on 2 March 2026 (EST, UTC-5); uniqueid 1772460845 is the same instant.
    assert first["start_utc"] == _utc("2026-03-02T14:14:05")
    assert int(first["start_utc"].timestamp()) == 1772460845
    assert (first["answered"], first["billsec"], first["duration_s"]) == (True, 275, 282)
    assert first["answer_utc"] == _utc("2026-03-02T14:14:12")
    # Line 2: the answer field is empty (`,,`): not answered.
    second = cdr.row(1, named=True)
    assert (second["answer_utc"], second["answered"], second["billsec"]) == (None, False, 0)
    assert second["disposition"] == "NO ANSWER"
    queue = cdr.row(5, named=True)
    # IVR 13:45:00 answered, 21 s; queue 13:45:21, answered 13:45:38, 384 s -> ends 13:52:02.
    assert queue["row_count"] == 2
    assert (queue["src"], queue["dst"]) == ("+17185550142", "s")
    assert queue["answer_utc"] == _utc("2026-03-02T18:45:00")
    assert (queue["billsec"], queue["duration_s"]) == (7 * 60 + 2, 7 * 60 + 2)
    assert queue["call_key"] == "PJSIP/twilio-trunk-0000001c"
    report = ing.files[0]
    assert (report.rows_read, report.rows_accepted, report.rows_rejected) == (11, 11, 0)


def test_asterisk_naive_times_need_pbx_tz(fixtures: Path) -> None:
    path = fixtures / "pbx" / "asterisk_Master.csv"
    with pytest.raises(InputError) as err:
        _ingest([path])
    assert (err.value.file, err.value.row, err.value.column) == (str(path), 1, "start")
    assert "--pbx-tz" in str(err.value)


def test_asterisk_21_columns_grouped_by_linkedid(tmp_path: Path) -> None:
    trunk = "PJSIP/twilio-trunk-00000001"
    first = {"width": 21, "uniqueid": "1772445600.1", "linkedid": "1772445600.1"}
    lines = [
        # A queue rang 1001 (no answer) and 1002 (answered); 1002 then transferred to 1003.
        ast_line("+17185550142", "2000", trunk, "2026-03-02 10:00:00", None,
                 "2026-03-02 10:00:20", 20, 0, "NO ANSWER", dstchannel="PJSIP/1001-00000002",
                 sequence=1, **first),
        ast_line("+17185550142", "2000", trunk, "2026-03-02 10:00:00", "2026-03-02 10:00:20",
                 "2026-03-02 10:05:00", 300, 280, "ANSWERED", dstchannel="PJSIP/1002-00000003",
                 sequence=2, **first),
        ast_line("1002", "1003", "PJSIP/1002-00000003", "2026-03-02 10:05:00",
                 "2026-03-02 10:05:05", "2026-03-02 10:07:00", 120, 115, "ANSWERED",
                 dstchannel="PJSIP/1003-00000004", width=21, uniqueid="1772445620.3",
                 linkedid="1772445600.1", sequence=3),
        # Another call, with its own linkedid.
        ast_line("1001", "+14155550123", "PJSIP/1001-00000009", "2026-03-02 11:00:00",
                 "2026-03-02 11:00:07", "2026-03-02 11:01:07", 67, 60, "ANSWERED", width=21,
                 uniqueid="1772449200.9", linkedid="1772449200.9", sequence=9),
        # A value with an undoubled quote: the line cannot be split.
        '"","1001",""Bad" quote","from-internal"',
        "",
    ]  # fmt: skip
    path = _write(tmp_path / "Master.csv", lines)
    ing = _ingest([path], pbx_tz="UTC")
    cdr = ing.cdrs
    assert cdr["source_rows"].to_list() == ["1;2;3", "4"]
    call = cdr.row(0, named=True)
    # The call bills as its originating (trunk) leg, lines 1-2 (uniqueid = linkedid): answered
    # 10:00:20 + 280 s. Line 3 (1002 -> 1003, its own uniqueid) is not the trunk's leg, so it no
    # longer adds to billsec (issue 8: was 400, to 10:05:05 + 115 s); the call still lasts 420 s.
    assert (call["billsec"], call["duration_s"]) == (280, 420)
    assert call["answer_utc"] == _utc("2026-03-02T10:00:20")
    assert call["end_utc"] == _utc("2026-03-02T10:07:00")
    assert (call["src"], call["dst"], call["call_key"]) == ("+17185550142", "2000", "1772445600.1")
    assert (call["answered"], call["disposition"]) == (True, "ANSWERED")
    assert ing.rejects.select("source_row", "column").rows() == [(5, "(record)")]
    assert "quoting" in ing.rejects["reason"][0]
    report = ing.files[0]
    assert (report.rows_read, report.rows_accepted, report.rows_rejected) == (5, 4, 1)


def test_asterisk_one_bad_line_rejects_its_whole_call(tmp_path: Path) -> None:
    common = {"width": 21, "linkedid": "1772445600.1"}
    lines = [
        ast_line("+17185550142", "2000", "PJSIP/t-1", "2026-03-02 10:00:00", None,
                 "2026-03-02 10:00:20", 20, 0, "NO ANSWER", sequence=1, **common),
        ast_line("+17185550142", "2000", "PJSIP/t-1", "2026-03-02 10:00:00",
                 "2026-03-02 10:00:20", "2026-03-02 10:05:00", 300, "2x0", "ANSWERED",
                 sequence=2, **common),
        ast_line("1002", "1003", "PJSIP/1002-3", "2026-03-02 10:05:00", "2026-03-02 10:05:05",
                 "2026-03-02 10:07:00", 120, 115, "ANSWERED", sequence=3, **common),
    ]  # fmt: skip
    path = _write(tmp_path / "Master.csv", lines)
    ing = _ingest([path], pbx_tz="UTC")
    assert ing.cdrs.height == 0
    assert ing.rejects.select("source_row", "column", "value", "reason").rows() == [
        (1, "(call)", "1772445600.1", "line 2 of the same call was rejected"),
        (2, "billsec", "2x0", "not a whole number of seconds"),
        (3, "(call)", "1772445600.1", "line 2 of the same call was rejected"),
    ]
    report = ing.files[0]
    assert (report.rows_read, report.rows_accepted, report.rows_rejected) == (3, 0, 3)


def test_asterisk_16_columns_chained_by_channel(tmp_path: Path) -> None:
    lines = [
        # IVR then Dial on one trunk channel: one call.
        ast_line("+19175550133", "s", "SIP/trunk-0000001a", "2026-03-02 09:00:00",
                 "2026-03-02 09:00:00", "2026-03-02 09:00:15", 15, 15, "ANSWERED", width=16),
        ast_line("+19175550133", "1003", "SIP/trunk-0000001a", "2026-03-02 09:00:15",
                 "2026-03-02 09:00:20", "2026-03-02 09:02:00", 105, 100, "ANSWERED", width=16),
        # The same channel name days later (the counter restarts with Asterisk): its own call.
        ast_line("+19175550133", "1003", "SIP/trunk-0000001a", "2026-03-05 09:00:00", None,
                 "2026-03-05 09:00:30", 30, 0, "NO ANSWER", width=16),
    ]  # fmt: skip
    path = _write(tmp_path / "Master.csv", lines)
    assert detect(InputFile(path, str(path))).name == "asterisk-cdr-csv"
    cdr = _ingest([path], pbx_tz="UTC").cdrs
    assert cdr["source_rows"].to_list() == ["1;2", "3"]
    # Answered at 09:00:00; last answered line bills to 09:00:20 + 100 s = 09:02:00.
    assert cdr["billsec"].to_list() == [120, 0]
    assert cdr["answered"].to_list() == [True, False]


def test_asterisk_dst_gap_follows_the_policy(tmp_path: Path) -> None:
    # 2026-03-08 02:30 does not exist in New York (clocks jump 02:00 -> 03:00).
    gap = ast_line("1001", "+14155550123", "PJSIP/1001-1", "2026-03-08 02:30:00", None,
                   "2026-03-08 03:30:10", 10, 0, "NO ANSWER")  # fmt: skip
    fine = ast_line("1001", "+14155550123", "PJSIP/1001-2", "2026-03-08 04:00:00", None,
                    "2026-03-08 04:00:10", 10, 0, "NO ANSWER")  # fmt: skip
    a = _write(tmp_path / "a.csv", [fine, gap])
    b = _write(tmp_path / "b.csv", [gap, fine])
    rejected = _ingest([a, b], pbx_tz=NY)
    assert rejected.rejects.select("source_file", "source_row", "column").rows() == [
        (str(a), 2, "start"),
        (str(b), 1, "start"),
    ]
    assert set(rejected.rejects["reason"]) == {
        "local time falls in a DST gap in America/New_York (--dst reject)"
    }
    kept = _ingest([a], pbx_tz=NY, dst=DstPolicy.EARLIEST).cdrs
    assert kept["dst_note"].to_list() == [None, "dst-gap"]
    # Earliest reading of 02:30 in the gap: with the offset after the jump (EDT, -4) = 06:30 UTC.
    assert kept["start_utc"][1] == _utc("2026-03-08T06:30:00")


# --- FreeSWITCH ------------------------------------------------------------------------------


def test_freeswitch_fixture_example_template(fixtures: Path) -> None:
    ing = _ingest([fixtures / "pbx" / "freeswitch_cdr.csv"], pbx_tz=NY)
    cdr = ing.cdrs
    assert cdr.height == 12 and ing.rejects.height == 0
    by_line = {r["source_row"]: r for r in cdr.iter_rows(named=True)}
    # Line 2: answer_stamp "" and billsec "0": not answered.
    assert (by_line[2]["answered"], by_line[2]["answer_utc"], by_line[2]["billsec"]) == (
        False,
        None,
        0,
    )
    # Line 8: the caller hung up while ringing (ORIGINATOR_CANCEL), 9 s.
    assert (by_line[8]["answered"], by_line[8]["duration_s"]) == (False, 9)
    assert (by_line[6]["answered"], by_line[6]["billsec"]) == (True, 422)
    assert by_line[6]["call_key"] == "a170b338-3926-4059-b28c-105d1fb17c23"
    assert by_line[1]["start_utc"] == _utc("2026-03-02T14:14:05")


def test_freeswitch_stray_quote_is_a_reject_with_its_line(tmp_path: Path, fixtures: Path) -> None:
    lines = (fixtures / "pbx" / "freeswitch_cdr.csv").read_text().splitlines()[:3]
    broken = lines[0].replace('"Alice Smith"', '"Alice "Al" Smith"')
    # NORMAL_CLEARING with no answer_stamp and billsec 0: hangup cause is not "answered".
    cleared = lines[1].replace('"NO_ANSWER"', '"NORMAL_CLEARING"')
    path = _write(tmp_path / "Master.csv", [lines[0], broken, cleared, lines[2]])
    ing = _ingest([path], pbx_tz=NY)
    assert ing.rejects.select("source_row", "column").rows() == [(2, "(record)")]
    assert "quote inside a value" in ing.rejects["reason"][0]
    cdr = ing.cdrs
    assert cdr["source_rows"].to_list() == ["1", "3", "4"]
    assert cdr["answered"].to_list() == [True, False, False]
    report = ing.files[0]
    assert (report.rows_read, report.rows_accepted, report.rows_rejected) == (4, 3, 1)


def test_freeswitch_default_and_sql_templates(tmp_path: Path) -> None:
    values = [
        "Alice Smith", "1001", "+14155550123", "default", "2026-03-02 09:14:05",
        "2026-03-02 09:14:12", "2026-03-02 09:18:47", "282", "275", "NORMAL_CLEARING",
        "6513270e-269e-4d37-b2a7-4de452e6b438", "", "sales",
    ]  # fmt: skip
    quoted = [f'"{v}"' for v in values]
    default = ",".join(quoted[:12]) + ", " + quoted[12]  # the built-in template's space
    sql = "INSERT INTO cdr VALUES (" + ",".join(quoted) + ");"
    for name, line in (("default.csv", default), ("sql.csv", sql)):
        path = _write(tmp_path / name, [line])
        assert detect(InputFile(path, str(path))).name == "freeswitch-cdr-csv"
        row = _ingest([path], pbx_tz=NY).cdrs.row(0, named=True)
        assert (row["src"], row["dst"], row["billsec"], row["answered"]) == (
            "1001",
            "+14155550123",
            275,
            True,
        )


# --- CUCM ------------------------------------------------------------------------------------


def test_cucm_fixture(fixtures: Path) -> None:
    ing = _ingest([fixtures / "pbx" / "cucm_cdr.csv"])  # epoch seconds: no zone needed
    cdr = ing.cdrs
    assert cdr["source_rows"].to_list() == ["3", "4", "5", "6", "7", "8"]
    by_key = {r["call_key"]: r for r in cdr.iter_rows(named=True)}
    # callId 23002: origCause 16 (normal clearing) but dateTimeConnect 0: never answered.
    rang = by_key["StandAloneCluster:1:23002"]
    assert (rang["answered"], rang["answer_utc"], rang["billsec"]) == (False, None, 0)
    assert rang["start_utc"] == datetime.fromtimestamp(1457280212, UTC)
    assert rang["duration_s"] == 1457280219 - 1457280212
    assert rang["disposition"] == "origCause 16 / destCause 0"
    assert (rang["src"], rang["dst"]) == ("911", "42101")
    talked = by_key["StandAloneCluster:1:22020"]
    assert (talked["answered"], talked["billsec"]) == (True, 1)
    assert talked["answer_utc"] == datetime.fromtimestamp(1456900626, UTC)
    report = ing.files[0]
    assert (report.rows_read, report.rows_accepted, report.rows_rejected) == (6, 6, 0)


def test_cucm_names_any_case_rows_grouped_by_call_id(tmp_path: Path, fixtures: Path) -> None:
    text = (fixtures / "pbx" / "cucm_cdr.csv").read_text().splitlines()
    names = next(csv.reader([text[0]]))
    rows = [next(csv.reader([line])) for line in text[2:4]]
    col = {n: i for i, n in enumerate(names)}
    names[col["globalCallID_callId"]] = "GLOBALCALLID_CALLID"
    names[col["dateTimeOrigination"]] = "datetimeorigination"
    # A forward: the second record of callId 22004 is answered and talks 30 s.
    second = list(rows[0])
    second[col["globalCallID_callId"]] = rows[1][col["globalCallID_callId"]]
    second[col["dateTimeOrigination"]] = "1456898586"
    second[col["dateTimeConnect"]] = "1456898590"
    second[col["dateTimeDisconnect"]] = "1456898620"
    second[col["duration"]] = "30"
    cmr = list(rows[0])
    cmr[col["cdrRecordType"]] = "2"
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(names)
    out.write(text[1] + "\n")
    writer.writerows([rows[1], second, cmr])
    path = tmp_path / "cdr_StandAloneCluster_01_201603020600_1"
    path.write_text(out.getvalue())
    assert detect(InputFile(path, str(path))).name == "cucm-cdr"
    ing = _ingest([path])
    cdr = ing.cdrs
    assert cdr["source_rows"].to_list() == ["3;4"]
    call = cdr.row(0, named=True)
    assert (call["answered"], call["billsec"]) == (True, 30)
    assert call["start_utc"] == datetime.fromtimestamp(1456898585, UTC)
    assert ing.rejects.select("source_row", "column").rows() == [(5, "(record)")]
    assert ing.rejects["reason"][0] == "cdrRecordType 2 is not an end-of-call record (1)"


# --- a user's own CSV (format file) ----------------------------------------------------------

FREEPBX_HEADER = (
    "calldate,clid,src,dst,dcontext,channel,dstchannel,lastapp,lastdata,duration,billsec,"
    "disposition,amaflags,accountcode,uniqueid,userfield,did,recordingfile,cnum,cnam,"
    "outbound_cnum,outbound_cnam,dst_cnam,linkedid,peeraccount,sequence"
)


def test_custom_reader_with_shipped_freepbx_format(tmp_path: Path) -> None:
    rows = [
        # Outbound from 1001: the trunk presented +18005550100 (outbound_cnum).
        '2026-03-02 09:14:05,"""Alice"" <1001>",1001,+14155550123,from-internal,PJSIP/1001-1,'
        'PJSIP/twilio-2,Dial,"PJSIP/+14155550123@twilio,60",282,275,ANSWERED,3,,1772460845.1,,'
        ",,1001,Alice,+18005550100,ACME,,1772460845.1,,1",
        # Inbound to the DID: IVR, then ext 1004 (same linkedid); `\N` is a MySQL null.
        "2026-03-02 11:05:03,<+16465550199>,+16465550199,s,from-trunk,PJSIP/twilio-3,,"
        "BackGround,menu,10,10,ANSWERED,3,,1772467503.3,,+18005550100,\\N,+16465550199,,,,,"
        "1772467503.3,,1",
        "2026-03-02 11:05:13,<+16465550199>,+16465550199,1004,ext-local,PJSIP/twilio-3,"
        "PJSIP/1004-4,Dial,PJSIP/1004,447,441,ANSWERED,3,,1772467503.3,,+18005550100,,"
        "+16465550199,,,,,1772467503.3,,2",
        "2026-03-02 12:00:00,<1002>,1002,+12125550187,from-internal,PJSIP/1002-5,,Dial,x,"
        "45,0,NO ANSWER,3,,1772470800.5,,,,1002,,,,,1772470800.5,,1",
    ]
    path = _write(tmp_path / "cdr.csv", [FREEPBX_HEADER, *rows])
    opts = {
        "format": "pbx-custom-csv",
        "read": ReadOptions(cdr_format="freepbx_cdr"),
        "pbx_tz": NY,
    }
    ing = _ingest([path], **opts)
    cdr = ing.cdrs
    assert cdr["source_rows"].to_list() == ["2", "3;4", "5"]
    out, inbound, missed = cdr.iter_rows(named=True)
    assert (out["src"], out["dst"], out["billsec"]) == ("+18005550100", "+14155550123", 275)
    # No answer column: answered at calldate + (duration - billsec) = 09:14:12 EST.
    assert out["answer_utc"] == _utc("2026-03-02T14:14:12")
    # IVR answered 11:05:03 (10 s); ext 1004 answered 11:05:19, 441 s -> 11:12:40.
    assert (inbound["src"], inbound["dst"], inbound["row_count"]) == ("+16465550199", "s", 2)
    assert (inbound["billsec"], inbound["duration_s"]) == (457, 457)
    assert (missed["answered"], missed["billsec"]) == (False, 0)
    report = ing.files[0]
    assert (report.rows_read, report.rows_accepted, report.rows_rejected) == (4, 4, 0)


def test_custom_reader_positions_time_format_and_zone(tmp_path: Path) -> None:
    fmt = tmp_path / "pbx.toml"
    fmt.write_text(
        'delimiter = ";"\nheader = false\n'
        "[columns]\nstart = 1\nsrc = 2\ndst = 3\nbillsec = 4\nduration = 5\n"
        '[time]\nformat = "%d/%m/%Y %H:%M:%S"\nzone = "Europe/Berlin"\n'
        '[answered]\nrule = "billsec"\n'
    )
    path = _write(
        tmp_path / "calls.txt",
        [
            "02/03/2026 10:00:00;1001;+4930123456;61;70",
            "31/02/2026 10:00:00;1001;+4930123456;0;5",  # no 31 February
            "02/03/2026 11:00:00;1002;+4930123457;0;12",
        ],
    )
    opts = {"format": "pbx-custom-csv", "read": ReadOptions(cdr_format=str(fmt))}
    ing = _ingest([path], **opts)  # the zone comes from the format file: no --pbx-tz
    cdr = ing.cdrs
    assert cdr["source_rows"].to_list() == ["1", "3"]
    assert cdr["start_utc"].to_list() == [_utc("2026-03-02T09:00:00"), _utc("2026-03-02T10:00:00")]
    assert cdr["answered"].to_list() == [True, False]
    assert ing.rejects.select("source_row", "column", "value", "reason").rows() == [
        (2, "start", "31/02/2026 10:00:00", "does not match the format file's time format "
         "%d/%m/%Y %H:%M:%S"),
    ]  # fmt: skip


def test_format_files_are_checked() -> None:
    shipped = load_cdr_format("freepbx_cdr")
    assert shipped.columns["src"] == ("outbound_cnum", "src")
    assert shipped.answered_values == ("ANSWERED",)
    with pytest.raises(InputError, match="must map billsec"):
        parse_cdr_format({"columns": {"start": "a", "src": "b", "dst": "c"}}, "f.toml")
    with pytest.raises(InputError, match="1-based column position"):
        parse_cdr_format(
            {"header": False, "columns": {"start": "a", "src": 2, "dst": 3, "billsec": 4}},
            "f.toml",
        )
    with pytest.raises(InputError, match="not an IANA"):
        parse_cdr_format(
            {
                "columns": {"start": "a", "src": "b", "dst": "c", "billsec": "d"},
                "time": {"zone": "Mars/Olympus"},
            },
            "f.toml",
        )


# --- units a format file declares (issue 18, point 12) ------------------------------------------


def test_duration_units_parse_their_own_shape_only() -> None:
    from auditor.ingest.units import duration_seconds, epoch_ms_as_seconds

    def read(unit: str, values: list[str | None]) -> list[int | None]:
        frame = pl.DataFrame({"v": values}, schema={"v": pl.String})
        return frame.select(duration_seconds(pl.col("v"), unit))["v"].to_list()

    # 5 min 15 s = 315 s; 125 h = 450000 s; 62.5 s rounds half up to 63, 62.4 s down to 62.
    hms = ["00:05:15", "0:05:15", "125:00:00", "05:15", "315", "00:60:00", "00:05:15.5", None]
    assert read("hh:mm:ss", hms) == [315, 315, 450000, None, None, None, None, None]
    assert read("mm:ss", ["05:15", "125:00", "00:05:15", "5:75"]) == [315, 7500, None, None]
    assert read("milliseconds", ["62500", "62400.0", "999", "-3000", "62 s"]) == [
        63,
        62,
        1,
        -3,  # negative: a validation matter, rejected as every negative duration is
        None,
    ]
    frame = pl.DataFrame({"v": ["1588582423123", "1588582423000", "1588582423.1", "x"]})
    assert frame.select(epoch_ms_as_seconds(pl.col("v")))["v"].to_list() == [
        "1588582423.123",
        "1588582423.000",
        None,
        None,
    ]


def test_custom_format_reads_hh_mm_ss_and_epoch_ms_and_names_bad_cells(tmp_path: Path) -> None:
    fmt = tmp_path / "agent.toml"
    fmt.write_text(
        'header = true\nduration_unit = "hh:mm:ss"\nextension_prefixes = ["Ext."]\n'
        '[columns]\nstart = "started"\nsrc = "from"\ndst = "to"\nbillsec = "talk"\n'
        '[time]\nformat = "epoch_ms"\n'
        '[answered]\ncolumn = "result"\nvalues = ["answered"]\n'
    )
    path = _write(
        tmp_path / "calls.csv",
        [
            "started,from,to,talk,result",
            "1772460845250,+14155550100,+14155550123,00:09:50,answered",  # 590 s
            "1772460900000,ext.1001,+14155550124,,no-answer",  # empty talk: 0; extension 1001
            "1772461000000,+14155550100,+14155550125,9:50,answered",  # not hh:mm:ss
            "2026-03-02 14:20:00,+14155550100,+14155550126,00:00:10,answered",  # not epoch ms
            "1772461100000,+14155550100,+14155550127,,answered",  # answered, no billsec
        ],
    )
    ing = _ingest([path], format="pbx-custom-csv", read=ReadOptions(cdr_format=str(fmt)))
    cdr = ing.cdrs
    assert cdr["source_rows"].to_list() == ["2", "3"]
    # 1772460845.250 = 2026-03-02 14:14:05.250 UTC; epoch ms need no --pbx-tz.
    assert cdr["start_utc"].to_list() == [
        datetime(2026, 3, 2, 14, 14, 5, 250000, tzinfo=UTC),
        _utc("2026-03-02T14:15:00"),
    ]
    assert cdr.select("src", "answered", "billsec").rows() == [
        ("+14155550100", True, 590),
        ("1001", False, 0),
    ]
    assert ing.rejects.select("source_row", "column", "value", "reason").rows() == [
        (4, "(record)", "talk (billsec)", "'9:50' is not a duration in hh:mm:ss (duration_unit)"),
        (5, "(record)", "started (start)",
         "'2026-03-02 14:20:00' is not epoch milliseconds (time.format)"),
        (6, "billsec", "", "missing billsec"),
    ]  # fmt: skip
    report = ing.files[0]
    assert (report.rows_read, report.rows_accepted, report.rows_rejected) == (5, 2, 3)


def test_custom_format_without_billsec_derives_it_from_answer_and_end(tmp_path: Path) -> None:
    fmt = tmp_path / "crm.toml"
    fmt.write_text(
        'header = false\nduration_unit = "milliseconds"\n'
        "[columns]\nstart = 1\nanswer = 2\nend = 3\nsrc = 4\ndst = 5\nduration = 6\n"
        '[time]\nformat = "%Y-%m-%d %H:%M:%S"\nzone = "UTC"\n'
    )
    path = _write(
        tmp_path / "calls.txt",
        [
            # answered 10:00:07, ended 10:02:02: billsec 115; duration_ms 122000 = 122 s
            "2026-03-02 10:00:00,2026-03-02 10:00:07,2026-03-02 10:02:02,1001,+14155550123,122000",
            # never answered: billsec 0 (the answer-time rule, as no billsec column)
            "2026-03-02 11:00:00,,2026-03-02 11:00:30,1001,+14155550124,30000",
            # ends before it was answered: rejected for that, and for the negative billsec
            "2026-03-02 12:00:00,2026-03-02 12:00:09,2026-03-02 12:00:05,1001,+14155550125,5000",
        ],
    )
    ing = _ingest([path], format="pbx-custom-csv", read=ReadOptions(cdr_format=str(fmt)))
    cdr = ing.cdrs
    assert cdr.select("source_row", "answered", "billsec", "duration_s").rows() == [
        (1, True, 115, 122),
        (2, False, 0, 30),
    ]
    assert cdr["answer_utc"].to_list() == [_utc("2026-03-02T10:00:07"), None]
    assert ing.rejects.select("source_row", "column", "reason").rows() == [
        (3, "answer", "answered after it ended"),
        (3, "billsec", "negative billsec"),
    ]


def test_format_file_units_are_checked() -> None:
    cols = {"start": "a", "src": "b", "dst": "c"}
    with pytest.raises(InputError, match="must map billsec \\(or answer and end"):
        parse_cdr_format({"columns": {**cols, "answer": "d"}}, "f.toml")
    derived = parse_cdr_format({"columns": {**cols, "answer": "d", "end": "e"}}, "f.toml")
    assert (derived.derives_billsec, derived.answered_rule) == (True, "answer-time")
    with pytest.raises(InputError, match=r'answered\.rule = "billsec" needs columns\.billsec'):
        parse_cdr_format(
            {"columns": {**cols, "answer": "d", "end": "e"}, "answered": {"rule": "billsec"}},
            "f.toml",
        )
    with pytest.raises(InputError, match="duration_unit must be one of seconds, milliseconds"):
        parse_cdr_format({"columns": {**cols, "billsec": "d"}, "duration_unit": "h:m"}, "f.toml")
    with pytest.raises(InputError, match="extension_prefixes must be a list"):
        parse_cdr_format(
            {"columns": {**cols, "billsec": "d"}, "extension_prefixes": "Ext."}, "f.toml"
        )
    iso = parse_cdr_format({"columns": {**cols, "billsec": "d"}, "time": {"format": "iso8601"}}, "")
    assert iso.time_format is None  # the usual shapes, ISO 8601 among them
    shipped = load_cdr_format("3cx")
    assert (shipped.duration_unit, shipped.extension_prefixes) == ("hh:mm:ss", ("Ext.",))
    assert shipped.columns["dst"] == (12, 9)
