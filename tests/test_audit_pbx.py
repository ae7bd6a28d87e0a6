"""`auditor audit` with PBX CDRs among the inputs: cdr_matches and summary, golden by hand.

Asterisk Master.csv (18 columns, New York local time) against a Twilio Calls page of trunking legs.
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
from audit_inputs import call, calls_page, sid
from conftest import run_cli

DID = "+12125550150"


def asterisk_row(
    src: str, dst: str, start: str, answer: str, end: str, dur: int, bill: int, disp: str, uid: str
) -> str:
    answer_field = f'"{answer}"' if answer else ""
    return (
        f'"","{src}","{dst}","from-internal","""Alice"" <{src}>","PJSIP/{src}-01",'
        f'"PJSIP/twilio-trunk-02","Dial","PJSIP/{dst}@twilio-trunk,60,T","{start}",'
        f'{answer_field},"{end}",{dur},{bill},"{disp}","DOCUMENTATION","{uid}",""'
    )


def test_pbx_vs_twilio_call_by_call(tmp_path: Path) -> None:
    # EST (UTC-5) in November after the 2nd: 10:00 local = 15:00 UTC
    rows = [
        # 1. matched: outbound from ext 1001 to +16175550123, 125 s both sides
        asterisk_row(
            "1001",
            "+16175550123",
            "2025-11-10 09:59:58",
            "2025-11-10 10:00:01",
            "2025-11-10 10:02:06",
            128,
            125,
            "ANSWERED",
            "1762786798.1",
        ),
        # 2. 40 s duration gap: PBX 85 s, Twilio 125 s (2 min vs 3 min billed)
        asterisk_row(
            "1002",
            "+13125550111",
            "2025-11-10 11:00:00",
            "2025-11-10 11:00:02",
            "2025-11-10 11:01:27",
            87,
            85,
            "ANSWERED",
            "1762790400.2",
        ),
        # 3. PBX only: no Twilio leg to this number
        asterisk_row(
            "1003",
            "+14155550199",
            "2025-11-10 12:00:00",
            "2025-11-10 12:00:03",
            "2025-11-10 12:01:03",
            63,
            60,
            "ANSWERED",
            "1762794000.3",
        ),
        # 4. internal: extension to extension
        asterisk_row(
            "1001",
            "1002",
            "2025-11-10 13:00:00",
            "2025-11-10 13:00:02",
            "2025-11-10 13:05:00",
            300,
            298,
            "ANSWERED",
            "1762797600.4",
        ),
    ]
    (tmp_path / "Master.csv").write_text("\n".join(rows) + "\n")
    legs = [
        call(
            1,
            "2025-11-10 15:00:01",
            "2025-11-10 15:02:06",
            "125",
            direction="trunking-terminating",
            frm=f"sip:{DID}@pbx.example.com",
            to="+16175550123",
            price="-0.015",
        ),
        call(
            2,
            "2025-11-10 16:00:02",
            "2025-11-10 16:02:07",
            "125",
            direction="trunking-terminating",
            frm=f"sip:{DID}@pbx.example.com",
            to="+13125550111",
            price="-0.015",
        ),
        # 5. Twilio only: a trunk leg in the PBX file's span with no PBX record
        call(
            3,
            "2025-11-10 17:30:00",
            "2025-11-10 17:31:00",
            "60",
            direction="trunking-originating",
            frm="+19175550100",
            to=f"sip:{DID}@pbx.example.com",
            price="-0.005",
        ),
    ]
    calls_page(tmp_path / "calls.json", legs)
    out = tmp_path / "out"
    proc = run_cli(
        "audit",
        str(tmp_path / "Master.csv"),
        str(tmp_path / "calls.json"),
        "--out",
        str(out),
        "--pbx-tz",
        "America/New_York",
    )
    assert proc.returncode == 1, proc.stderr  # pbx-only, twilio-only and a duration gap
    matches = pl.read_csv(out / "cdr_matches.csv", infer_schema=False)
    got = {
        (r["pbx_source_rows"], r["call_sid"]): (r["match_status"], r["mismatch"])
        for r in matches.iter_rows(named=True)
    }
    assert got == {
        ("1", sid(1)): ("matched", None),
        ("2", sid(2)): ("matched", "duration"),
        ("3", None): ("pbx-only", None),
        ("4", None): ("internal", None),
        (None, sid(3)): ("twilio-only", None),
    }
    gap = matches.filter(pl.col("call_sid") == sid(2)).row(0, named=True)
    assert (gap["pbx_billsec"], gap["twilio_duration_s"], gap["duration_delta_s"]) == (
        "85",
        "125",
        "40",
    )
    assert float(gap["billed_minutes_delta"]) == 1.0  # 3 min billed by Twilio vs 2 by the PBX
    first = matches.filter(pl.col("call_sid") == sid(1)).row(0, named=True)
    assert first["pbx_start_utc"] == "2025-11-10T14:59:58Z" and first["start_delta_s"] == "3"
    summary = json.loads((out / "summary.json").read_text())["cdr_matching"]
    assert {
        k: summary[k]
        for k in (
            "pbx_calls",
            "matched",
            "pbx_only",
            "twilio_only",
            "internal",
            "duration_mismatch",
            "status_mismatch",
        )
    } == {
        "pbx_calls": 4,
        "matched": 2,
        "pbx_only": 1,
        "twilio_only": 1,
        "internal": 1,
        "duration_mismatch": 1,
        "status_mismatch": 0,
    }
    # no usage among the inputs: no logs-vs-usage rows
    assert pl.read_csv(out / "usage_reconciliation.csv").height == 0


def test_cdr_format_file_is_detected_beside_twilio_exports(tmp_path: Path) -> None:
    """--cdr-format freepbx_cdr (shipped): the FreePBX CSV and the Twilio page share one folder."""
    header = (
        "calldate,clid,src,dst,dcontext,channel,dstchannel,lastapp,lastdata,duration,billsec,"
        "disposition,amaflags,accountcode,uniqueid,userfield,did,recordingfile,cnum,cnam,"
        "outbound_cnum,outbound_cnam,dst_cnam,linkedid,peeraccount,sequence"
    )
    # 10:00:00 EST = 15:00:00 UTC; answered after 3 s (duration 128 - billsec 125)
    row = (
        '2025-11-10 10:00:00,"""Alice"" <1001>",1001,+16175550123,from-internal,PJSIP/1001-1,'
        'PJSIP/twilio-2,Dial,"PJSIP/+16175550123@twilio,60",128,125,ANSWERED,3,,1762786800.1,,'
        f",,1001,Alice,{DID},ACME,,1762786800.1,,1"
    )
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "freepbx_cdr.csv").write_text(header + "\n" + row + "\n")
    calls_page(
        folder / "calls.json",
        [
            call(
                1,
                "2025-11-10 15:00:03",
                "2025-11-10 15:02:08",
                "125",
                direction="trunking-terminating",
                frm=f"sip:{DID}@pbx.example.com",
                to="+16175550123",
                price="-0.015",
            ),
        ],
    )
    out = tmp_path / "out"
    proc = run_cli(
        "audit",
        str(folder),
        "--out",
        str(out),
        "--pbx-tz",
        "America/New_York",
        "--cdr-format",
        "freepbx_cdr",
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "pbx-custom-csv" in proc.stdout and "twilio-api-calls" in proc.stdout
    matches = pl.read_csv(out / "cdr_matches.csv", infer_schema=False)
    assert matches.select("pbx_source_rows", "call_sid", "match_status").rows() == [
        ("2", sid(1), "matched")
    ]
