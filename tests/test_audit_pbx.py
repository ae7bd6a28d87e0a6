"""`auditor audit` with PBX CDRs among the inputs: cdr_matches and summary, golden by hand.

Asterisk Master.csv (18 columns, New York local time) against a Twilio Calls page of trunking legs.
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from audit_inputs import call, calls_page, sid
from conftest import ROOT, run_cli

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


REAL = ROOT.parent / "shared" / "real"
MASTER_2016 = REAL / "asterisk" / "asterisk-for-speech-to-text_Master.csv"
CALLS_2010 = REAL / "twilio-calls" / "twilio-python_v3_calls_list.json"


def real_2016() -> tuple[Path, Path]:
    if not (MASTER_2016.is_file() and CALLS_2010.is_file()):
        pytest.skip(f"real exports not found at {REAL} (CI has ../shared beside the checkout)")
    return MASTER_2016, CALLS_2010


def one_call_master(tmp_path: Path) -> Path:
    path = tmp_path / "Master.csv"
    row = asterisk_row(
        "1001", "+16175550123", "2025-11-10 09:59:58", "2025-11-10 10:00:01",
        "2025-11-10 10:02:06", 128, 125, "ANSWERED", "1762786798.1",
    )  # fmt: skip
    path.write_text(row + "\n")
    return path


def test_pbx_cdrs_without_call_logs_are_one_line_and_exit_2(tmp_path: Path) -> None:
    out = tmp_path / "out"
    master = one_call_master(tmp_path)
    proc = run_cli("audit", str(master), "--out", str(out), "--pbx-tz", "America/New_York")
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        f"auditor: error: {master}: PBX CDRs given but no Twilio call logs: nothing to match them "
        "with (add the Calls export for the same period)"
    ]
    assert not out.exists() and [p.name for p in tmp_path.iterdir()] == ["Master.csv"]


def test_pbx_calls_outside_the_logs_are_not_compared_from_the_cli(tmp_path: Path) -> None:
    # The PBX call of 2025-11-10 14:59:58 UTC against a page of 2025-12 legs only.
    legs = [call(1, "2025-12-01 10:00:00", "2025-12-01 10:01:00", "60")]
    calls_page(tmp_path / "calls.json", legs)
    out = tmp_path / "out"
    proc = run_cli(
        "audit", str(one_call_master(tmp_path)), str(tmp_path / "calls.json"), "--out", str(out),
        "--pbx-tz", "America/New_York",
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr  # a PBX call compared with nothing is a finding
    assert "not compared" in proc.stdout  # the terminal lists them apart
    summary = json.loads((out / "summary.json").read_text())["cdr_matching"]
    assert (summary["not_compared"], summary["pbx_only"], summary["billed_minutes_at_stake"]) == (
        1,
        0,
        0.0,
    )
    row = pl.read_csv(out / "cdr_matches.csv", infer_schema=False).row(0, named=True)
    assert (row["match_status"], row["billed_minutes_delta"]) == ("not-compared", None)
    assert (row["from_raw"], row["to_raw"]) == ("1001", "+16175550123")


def test_real_master_csv_of_2016_against_2010_logs(tmp_path: Path) -> None:
    master, calls_2010 = real_2016()
    # Alone: nothing to compare with, one line, exit 2.
    alone = run_cli(
        "audit", str(master), "--out", str(tmp_path / "alone"), "--pbx-tz", "America/Detroit"
    )
    assert alone.returncode == 2 and "no Twilio call logs" in alone.stderr
    # With the 2010 logs: 169 calls (266 lines-as-calls less the 97 Local ;1 halves joined to
    # their ;2 half, see test_pbx_calls.py), none pbx-only any more (they were 249, 232 billed
    # minutes at stake). 41 never crossed the trunk (`anonymous` or no caller -> 99, the SIP
    # device 123654987 -> 1001, extension to extension, ...): the 134 of the lines-as-calls less
    # the 93 `;1` halves (no external party of their own) now part of a trunk call; the other
    # 128 lie years after the logs: not compared. Among those, lines 55-57 dial 818105881377 and
    # 812489398620 (a leading 8, no number phonenumbers reads) out over SIP/sipus1: written as
    # numbers, they are taken as external, never as internal.
    counts = {}
    for name, extra in {"plain": [], "trunk": ["--trunk", "SIP/sipus1"]}.items():
        out = tmp_path / name
        proc = run_cli(
            "audit", str(master), str(calls_2010), "--out", str(out), "--pbx-tz",
            "America/Detroit", "--no-xlsx", *extra,
        )  # fmt: skip
        assert proc.returncode == 1, proc.stderr
        doc = json.loads((out / "summary.json").read_text())["cdr_matching"]
        counts[name] = {k: doc[k] for k in ("pbx_only", "internal", "not_compared")}
        assert (doc["pbx_calls"], doc["matched"], doc["billed_minutes_at_stake"]) == (169, 0, 0.0)
    assert counts["plain"] == {"pbx_only": 0, "internal": 41, "not_compared": 128}
    # --trunk SIP/sipus1: lines 60-61 came in on SIP/sipus1-... with no src or dst: they crossed
    # the trunk, no longer internal, and not compared either.
    assert counts["trunk"] == {"pbx_only": 0, "internal": 39, "not_compared": 130}
    matches = pl.read_csv(tmp_path / "trunk" / "cdr_matches.csv", infer_schema=False)
    internal = matches.filter(pl.col("match_status") == "internal")
    # internal: no party written as an external number (`s`, extensions such as 1235, 200)
    assert internal.height == 39 and internal["to_raw"].str.contains(r"^\+?\d{7,}$").sum() == 0
    assert (internal["to_raw"] == "s").sum() > 0


def test_real_master_csv_of_2016_against_logs_of_its_own_time(tmp_path: Path) -> None:
    # Two API legs between numbers that are not the PBX's, on the first and the day after the last
    # day of the file (2016-09-06 20:38:55 to 2016-11-12 04:13:42 UTC): the logs then cover every
    # call, and the 128 that crossed the trunk are pbx-only. Their billed minutes: 100 under the
    # shipped rules, where 0 s calls of 2016 bill nothing (bill_zero_duration since 2021-07-08),
    # and 9 more (one per answered 0 s call) with the rule undated.
    master, _ = real_2016()
    page = calls_page(
        tmp_path / "calls.json",
        [
            call(1, "2016-09-06 00:00:00", "2016-09-06 00:00:10", "10"),
            call(2, "2016-11-13 00:00:00", "2016-11-13 00:00:10", "10"),
        ],
    )
    undated = tmp_path / "undated.toml"
    undated.write_text("[billing]\nbill_zero_duration = true\n")
    got = {}
    for name, extra in {"shipped": [], "undated": ["--pricing", str(undated)]}.items():
        out = tmp_path / name
        proc = run_cli(
            "audit", str(master), str(page), "--out", str(out), "--pbx-tz", "America/Detroit",
            "--no-xlsx", *extra,
        )  # fmt: skip
        assert proc.returncode == 1, proc.stderr
        doc = json.loads((out / "summary.json").read_text())["cdr_matching"]
        got[name] = (doc["pbx_only"], doc["not_compared"], doc["billed_minutes_at_stake"])
    zero_answered = (
        pl.read_parquet(tmp_path / "shipped" / "cdr_matches.parquet")
        .filter(pl.col("match_status") == "pbx-only", pl.col("pbx_billsec") == 0)
        .join(
            pl.read_parquet(tmp_path / "undated" / "cdr_matches.parquet").filter(
                pl.col("billed_minutes_delta") == -1.0, pl.col("pbx_billsec") == 0
            ),
            on=["pbx_source_file", "pbx_source_rows"],
        )
        .height
    )
    assert zero_answered == 9
    assert got == {"shipped": (128, 0, 100.0), "undated": (128, 0, 100.0 + zero_answered)}


def test_trunk_from_auditor_toml_reaches_the_matching_and_the_manifest(tmp_path: Path) -> None:
    # anonymous -> 99 over SIP/provider-...: internal, unless the config names that trunk; then it
    # crossed the trunk and, with no leg to match, is pbx-only. Both commands take the key.
    line = (
        '"","anonymous","99","from-trunk","""anon"" <anonymous>","SIP/provider-0000001a","",'
        '"Hangup","","2025-11-10 10:00:00","2025-11-10 10:00:00","2025-11-10 10:00:20",20,20,'
        '"ANSWERED","DOCUMENTATION","1762786800.1",""'
    )
    (tmp_path / "Master.csv").write_text(line + "\n")
    legs = [call(1, "2025-11-10 14:00:00", "2025-11-10 14:01:00", "60"),
            call(2, "2025-11-10 16:00:00", "2025-11-10 16:01:00", "60")]  # fmt: skip
    page = calls_page(tmp_path / "calls.json", legs)
    config = tmp_path / "acme.toml"
    config.write_text('pbx-tz = "America/New_York"\ntrunk = ["SIP/provider"]\n')
    statuses = {}
    for name, extra in {"plain": [], "trunk": ["--config", str(config)]}.items():
        out = tmp_path / name
        args = [str(tmp_path / "Master.csv"), str(page), "--out", str(out), "--no-xlsx"]
        if not extra:
            args += ["--pbx-tz", "America/New_York"]
        proc = run_cli("audit", *args, *extra)
        assert proc.returncode in (0, 1), proc.stderr
        statuses[name] = pl.read_csv(out / "cdr_matches.csv")["match_status"].to_list()
    assert statuses == {"plain": ["internal"], "trunk": ["pbx-only"]}
    options = json.loads((tmp_path / "trunk" / "manifest.json").read_text())["options"]
    assert options["audit"]["match"]["trunks"] == ["SIP/provider"]
    assert options["ingest"]["trunks"] == ["SIP/provider"]
    checked = run_cli(
        "validate", str(tmp_path / "Master.csv"), "--out", str(tmp_path / "v"), "--config",
        str(config),
    )  # fmt: skip
    assert checked.returncode == 0, checked.stderr
    manifest = json.loads((tmp_path / "v" / "manifest.json").read_text())
    assert manifest["options"]["ingest"]["trunks"] == ["SIP/provider"]
