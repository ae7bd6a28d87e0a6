"""Every real export in ../shared/real/ (files from public repositories, see each SOURCES.md) is
either read whole, rows read = accepted + rejected, or refused with a one-line error naming it.

The files are not copied into the project: CI has ../shared beside the checkout, and these tests
skip with a reason where it is absent.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path

import polars as pl
import pytest
from conftest import ROOT, run_cli

from auditor.errors import AuditorError
from auditor.ingest.options import ReadOptions
from auditor.pipeline.options import IngestOptions
from auditor.pipeline.validate import run_validate

REAL = ROOT.parent / "shared" / "real"
FORMATS = REAL / "custom-csv" / "formats"


@dataclass(frozen=True)
class Case:
    format: str
    header_lines: int = 0  # lines that are not records (CSV header, CUCM names and types)
    pbx_tz: str | None = None
    cdr_format: str | None = None


# file -> how it is read. Line formats: one record per non-blank line after the header lines.
SUPPORTED = {
    # 3CX writes no header: read with the shipped --cdr-format 3cx (issue 18, point 12)
    "3cx/3CX-Cdr-Server_ClasseurPrepaCDR.csv": Case("pbx-custom-csv", 0, "Europe/Paris", "3cx"),
    "asterisk/KelySaina-cdr_Master.csv": Case("pbx-custom-csv", 0, "UTC", "asterisk_cdr_custom"),
    "asterisk/dj-asterisk-cdr_Master.csv": Case("asterisk-cdr-csv", 0, "Asia/Irkutsk"),
    "asterisk/synk_bug_log_asterisk_cdr-csv_Master.csv": Case("asterisk-cdr-csv", 0, "UTC"),
    "asterisk/asterisk-for-speech-to-text_Master.csv": Case(
        "asterisk-cdr-csv", 0, "America/Detroit"
    ),
    "cucm/CSVUtil_cdr_StandAloneCluster_04_201601141231_120716.csv": Case("cucm-cdr", 2),
    "cucm/cisco-cucm-cdr_cdr-examples_cdr.txt": Case("cucm-cdr", 2),
    "custom-csv/cdr-stats_CDRImport-2015-10-26.csv": Case(
        "pbx-custom-csv", 1, "UTC", str(FORMATS / "cdr-stats_CDRImport.toml")
    ),
    "custom-csv/cdr-stats_import_cdr_100.txt": Case(
        "pbx-custom-csv", 0, None, str(FORMATS / "cdr-stats_import_cdr_100.toml")
    ),
    "freeswitch/VoIP-related-codes_cdr_basic_Master_legs-a.csv": Case(
        "freeswitch-cdr-csv", 0, "UTC"
    ),
    "freeswitch/VoIP-related-codes_cdr_basic_Master_legs-ab.csv": Case(
        "freeswitch-cdr-csv", 0, "UTC"
    ),
    "freeswitch/VoIP-related-codes_cdr_callcenter_Master.csv": Case("freeswitch-cdr-csv", 0, "UTC"),
    "freeswitch/powermedia_FreeSwitch_Master.csv": Case("freeswitch-cdr-csv", 0, "Europe/Rome"),
    "freeswitch/freeswitch_tools_Master_excel.csv": Case(
        "pbx-custom-csv", 0, "UTC", str(FORMATS / "freeswitch_example_excel.toml")
    ),
    "twilio-calls/api-snippets_call_instance-get-example-1.json": Case("twilio-api-call"),
    "twilio-calls/twilio-python_test_call_read_full_page1.json": Case("twilio-api-calls"),
    "twilio-calls/twilio-python_test_call_read_full_page2.json": Case("twilio-api-calls"),
    "twilio-calls/twilio-python_v3_calls_list.json": Case("twilio-api-calls"),
    "twilio-calls/twilio-python_v3_calls_instance.json": Case("twilio-api-call"),
    "twilio-calls/twilio-ruby_holodeck_call_GET_200.json": Case("twilio-api-calls"),
    "twilio-calls/twilio-ruby_holodeck_call_read_200_multi.json": Case("twilio-api-calls"),
    "twilio-usage/api-snippets_usage-records_list-get-example-2.json": Case("twilio-api-usage"),
    "twilio-usage/api-snippets_usage-records_list-get-example-3.json": Case("twilio-api-usage"),
    "twilio-usage/twilio-python_test_usage_record_read_full.json": Case("twilio-api-usage"),
    "twilio-usage/twilio-python_v3_usage_records_list.json": Case("twilio-api-usage"),
    "twilio-usage/twilio-ruby_holodeck_usage_record_GET_200.json": Case("twilio-api-usage"),
    "twilio-usage/twilio-ruby_holodeck_usage_record_daily_read_200_multi.json": Case(
        "twilio-api-usage"
    ),
    "twilio-usage/twilio-ruby_holodeck_usage_record_last_month_read_200_multi.json": Case(
        "twilio-api-usage"
    ),
    "twilio-usage/twilio-ruby_holodeck_usage_record_today_GET_200.json": Case("twilio-api-usage"),
}
# file -> what the one-line error says. Docs examples elided with `...` are not JSON as published;
# a CMR is not a CDR; a CUCM file whose names line was stripped cannot be mapped by name.
REFUSED = {
    "cucm/cisco-cucm-cdr_cdr-examples_cmr.txt": "unsupported format",
    "cucm/cucm-cdr-analyzer_data_temp_cdr_first200.txt": "unsupported format",
    # Not call logs nor usage records (yet): Recordings, Transcriptions, Conferences, Triggers.
    "twilio-other/twilio-python_v3_conferences_list.json": "unsupported format",
    "twilio-other/twilio-python_v3_recordings_list.json": "unsupported format",
    "twilio-other/twilio-python_v3_transcriptions_list.json": "unsupported format",
    "twilio-other/twilio-python_v3_usage_triggers_list.json": "unsupported format",
    "twilio-calls/api-snippets_call_list-get-example-1.json": ":34: not valid JSON",
    "twilio-usage/api-snippets_usage-records_list-get-example-1.json": ":39: not valid JSON",
    "twilio-usage/api-snippets_usage-records_list-get-example-4.json": ":39: not valid JSON",
    "twilio-usage/api-snippets_usage-records_list-get-example-5.json": ":57: not valid JSON",
}


@pytest.fixture(scope="module")
def real() -> Path:
    if not REAL.is_dir():
        pytest.skip(f"real exports not found at {REAL} (CI has ../shared beside the checkout)")
    return REAL


def _records(path: Path, case: Case) -> int:
    """How many records the file holds, counted without the auditor."""
    if path.suffix == ".json":
        doc = json.loads(path.read_text(encoding="utf-8"))
        key = next((k for k in ("calls", "usage_records") if k in doc), None)
        return len(doc[key]) if key else 1
    lines = [ln for ln in path.read_bytes().split(b"\n") if ln.strip()]
    return len(lines) - case.header_lines


def _validate(path: Path, case: Case, out: Path):
    opts = IngestOptions(pbx_tz=case.pbx_tz, read=ReadOptions(cdr_format=case.cdr_format))
    return run_validate([str(path)], out, opts)


def test_every_real_file_is_classified(real: Path) -> None:
    files = {
        str(p.relative_to(real))
        for p in real.rglob("*")
        if p.is_file() and p.suffix not in (".md", ".toml")
    }
    assert files == set(SUPPORTED) | set(REFUSED)


@pytest.mark.parametrize("name", sorted(SUPPORTED))
def test_real_file_is_read_whole(real: Path, tmp_path: Path, name: str) -> None:
    case = SUPPORTED[name]
    result = _validate(real / name, case, tmp_path)
    (report,) = result.ingested.files
    assert report.format == case.format
    assert report.rows_read == _records(real / name, case)
    assert report.rows_read == report.rows_accepted + report.rows_rejected
    rejects = pl.read_csv(tmp_path / "rejects.csv", infer_schema=False)
    assert rejects["source_row"].n_unique() == report.rows_rejected


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_real_file_refused_in_one_line(real: Path, tmp_path: Path, name: str) -> None:
    with pytest.raises(AuditorError) as err:
        _validate(real / name, Case(""), tmp_path)
    message = str(err.value)
    assert name in message and REFUSED[name] in message and "\n" not in message


def test_a_single_call_resource_is_a_one_row_call_log(real: Path, tmp_path: Path) -> None:
    name = "twilio-calls/api-snippets_call_instance-get-example-1.json"
    result = _validate(real / name, SUPPORTED[name], tmp_path / "as-published")
    rejects = pl.read_csv(tmp_path / "as-published" / "rejects.csv", infer_schema=False)
    # Twilio's docs example carries a placeholder account SID: read, and rejected for that only
    assert rejects.select("source_row", "column").rows() == [("1", "account_sid")]
    assert result.ingested.files[0].rows_rejected == 1
    doc = json.loads((real / name).read_text(encoding="utf-8"))
    doc["account_sid"] = "AC" + "e" * 32
    fixed = tmp_path / "call_instance.json"
    fixed.write_text(json.dumps(doc, indent="\t"), encoding="utf-8")
    calls = _validate(fixed, SUPPORTED[name], tmp_path / "fixed").ingested.calls.collect()
    (row,) = calls.to_dicts()
    assert (row["call_sid"], row["status"], row["duration_s"], row["source_row"]) == (
        "CAe1644a7eed5088b159577c5802d8be38",
        "completed",
        16,
        1,
    )
    assert row["start_time_utc"].isoformat() == "2010-08-10T08:02:31+00:00"


def test_asterisk_cdr_custom_format_file(real: Path, tmp_path: Path) -> None:
    name = "asterisk/KelySaina-cdr_Master.csv"
    cdrs = _validate(real / name, SUPPORTED[name], tmp_path).ingested.cdrs
    assert cdrs.height == 14  # 14 lines, each its own uniqueid
    first = cdrs.filter(pl.col("call_key") == "1690325492.2").row(0, named=True)
    # line 1: "client1" -> 6789, start 01:51:32, answered 01:51:50, billsec 13, ANSWERED
    assert (first["src"], first["dst"], first["billsec"], first["answered"]) == (
        "client1",
        "6789",
        13,
        True,
    )
    assert first["start_utc"].isoformat() == "2023-07-26T01:51:32+00:00"
    unanswered = cdrs.filter(pl.col("call_key") == "1690325531.5").row(0, named=True)
    assert (unanswered["answered"], unanswered["billsec"]) == (False, 0)


def test_a_page_nested_in_a_page_is_one_reject_saying_so(real: Path, tmp_path: Path) -> None:
    """The holodeck "usage record" is itself a whole page (its own `usage_records`, paging
    keys): one reject of row 1, `(record)`, saying what it is, not four `not_nullable` cells."""
    name = "twilio-usage/twilio-ruby_holodeck_usage_record_GET_200.json"
    doc = json.loads((real / name).read_text(encoding="utf-8"))
    [inner] = doc["usage_records"]  # checked by hand: one element, a page of 45 records
    assert "usage_records" in inner and "next_page_uri" in inner
    result = _validate(real / name, SUPPORTED[name], tmp_path)
    (report,) = result.ingested.files
    assert (report.rows_read, report.rows_accepted, report.rows_rejected) == (1, 0, 1)
    rejects = pl.read_csv(tmp_path / "rejects.csv", infer_schema=False)
    assert rejects.select("source_row", "column", "reason").rows() == [
        ("1", "(record)", "not a usage record (an object holding a page)")
    ]


def _iso(rfc2822: str) -> str:
    """A Calls page's time as a duplicate's reason shows it (UTC, ISO 8601)."""
    from email.utils import parsedate_to_datetime

    return parsedate_to_datetime(rfc2822).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_one_sid_for_fifty_calls_is_49_conflicting_duplicates(real: Path, tmp_path: Path) -> None:
    """Twilio's holodeck page lists 50 different calls under one SID: each repeat differs from
    record 1 (checked here field by field on the JSON), so 49 conflicting duplicates of it."""
    name = "twilio-calls/twilio-ruby_holodeck_call_read_200_multi.json"
    calls = json.loads((real / name).read_text(encoding="utf-8"))["calls"]
    fields = ("direction", "from", "to", "status", "start_time", "end_time", "duration", "price")
    first = calls[0]
    differing = [[f for f in fields if c[f] != first[f]] for c in calls[1:]]
    assert all(differing)  # none repeats record 1
    assert {c["status"] for c in calls} == {"completed"}  # so record 1 is kept
    result = _validate(real / name, SUPPORTED[name], tmp_path)
    (report,) = result.ingested.files
    assert (report.rows_read, report.rows_accepted, report.rows_rejected) == (50, 1, 49)
    rejects = pl.read_csv(tmp_path / "rejects.csv", infer_schema=False)
    prefix = f"conflicting duplicate of {real / name}:1 ("
    assert rejects["reason"].str.starts_with(prefix).sum() == 49
    # record 2: from, start_time, end_time and duration differ (as the JSON says)
    second = calls[1]
    assert differing[0] == ["from", "start_time", "end_time", "duration"]
    shown = {"start_time": _iso, "end_time": _iso}
    parts = [
        f"{f} {shown.get(f, str)(first[f])} vs {shown.get(f, str)(second[f])}" for f in differing[0]
    ]
    reason = rejects.filter(pl.col("source_row") == "2")["reason"].item()
    assert reason == prefix + ", ".join(parts) + ")"
    # more than 4 differing fields: the first 4, then how many more
    over = next(i for i, d in enumerate(differing) if len(d) > 4)
    row = rejects.filter(pl.col("source_row") == str(over + 2))["reason"].item()
    assert row.endswith(f", +{len(differing[over]) - 4} more)")


def test_today_and_daily_pages_disagree_on_6_records(real: Path, tmp_path: Path) -> None:
    """The Today page and the Daily page share 32 records of 2015-08-18; counted here on the
    JSON, 6 of them differ in count, usage or price (e.g. sms-outbound: count 0 vs 1), the
    other 26 are the same: 26 duplicates, 6 conflicting duplicates."""
    today = real / "twilio-usage/twilio-ruby_holodeck_usage_record_today_GET_200.json"
    daily = real / "twilio-usage/twilio-ruby_holodeck_usage_record_daily_read_200_multi.json"
    records = {
        p: json.loads(p.read_text(encoding="utf-8"))["usage_records"] for p in (today, daily)
    }
    key = ("account_sid", "category", "start_date", "end_date")
    values = ("description", "count", "count_unit", "usage", "usage_unit", "price", "price_unit")
    first = {tuple(r[k] for k in key): r for r in records[today]}
    shared = [
        (i, r) for i, r in enumerate(records[daily], start=1) if tuple(r[k] for k in key) in first
    ]
    differ = {
        i for i, r in shared if any(r[v] != first[tuple(r[k] for k in key)][v] for v in values)
    }
    assert (len(shared), len(differ)) == (32, 6)
    done = run_cli("validate", str(today), str(daily), "--out", str(tmp_path / "o"), "--json")
    assert done.returncode == 1, done.stderr
    doc = json.loads(done.stdout)
    assert doc["rejects"] == {
        "rows": 32,
        "cells": 32,
        "duplicates": 26,
        "conflicting_duplicates": 6,
    }
    rejects = pl.read_csv(tmp_path / "o" / "rejects.csv", infer_schema=False)
    conflicting = rejects.filter(pl.col("reason").str.starts_with("conflicting duplicate of "))
    assert set(conflicting["source_row"].cast(int)) == differ
    assert set(conflicting["source_file"]) == {str(daily)}


def test_3cx_with_the_shipped_format(real: Path, tmp_path: Path) -> None:
    """Read by hand from the file (fields in SOURCES.md's order: callid, duration, start,
    answered, end, reason, from-no, to-no, from-dn, to-dn, dial-no, ...). Its times are the
    server's Paris time: each callid's hex prefix is the Unix milliseconds of the call's start,
    within a minute of its time-start read as Europe/Paris (CEST, UTC+2, in May 2020)."""
    name = "3cx/3CX-Cdr-Server_ClasseurPrepaCDR.csv"
    result = _validate(real / name, SUPPORTED[name], tmp_path)
    (report,) = result.ingested.files
    # 1,404 lines, one call each (no callid repeats): all read, none rejected (was: 1,404
    # rejected, "unsupported format" without a format that reads hh:mm:ss and empty billsec)
    assert (report.rows_read, report.rows_accepted, report.rows_rejected) == (1404, 1404, 0)
    cdrs = result.ingested.cdrs
    assert cdrs.height == 1404 and cdrs["call_key"].n_unique() == 1404
    # 1,269 lines carry a talk time (and an answer time), 135 are empty in both
    assert cdrs["answered"].sum() == 1269

    def call(row: int) -> dict:
        return cdrs.filter(pl.col("source_row") == row).row(0, named=True)

    # line 1: 0611360468 (the external caller) dialled 610 (the inbound route; Ext.610 in to-no,
    # the call then went to Ext.185), 10:53:43 Paris = 08:53:43 UTC, answered at once,
    # talk 00:05:15, ended 10:58:59 (316 s after the start)
    first = call(1)
    assert (first["call_key"], first["src"], first["dst"]) == (
        "00000171DEE41BB3_2501",
        "0611360468",
        "610",
    )
    assert first["start_utc"].isoformat() == "2020-05-04T08:53:43+00:00"
    assert (first["answered"], first["billsec"], first["duration_s"]) == (True, 315, 316)
    assert first["disposition"] == "TerminatedByDst"
    # line 2: Ext.315 -> Ext.184, Failed_Cancelled, no talk time: unanswered, billsec 0,
    # 10:58:46 to 10:59:02 (16 s)
    second = call(2)
    assert (second["src"], second["dst"], second["answered"], second["billsec"]) == (
        "315",
        "184",
        False,
        0,
    )
    assert (second["start_utc"].isoformat(), second["duration_s"]) == (
        "2020-05-04T08:58:46+00:00",
        16,
    )
    # line 5: outbound, Ext.114 -> 0232354095 over the trunk (to-dn 10001), answered 10:57:03,
    # talk 00:05:07
    fifth = call(5)
    assert (fifth["src"], fifth["dst"], fifth["billsec"]) == ("114", "0232354095", 307)
    assert fifth["answer_utc"].isoformat() == "2020-05-04T08:57:03+00:00"
    # line 17: Ext.318 dialled 0800910387 (dial-no); to-no is 3CX's `EndCall`; talk 00:00:06
    assert (call(17)["src"], call(17)["dst"], call(17)["billsec"]) == ("318", "0800910387", 6)
