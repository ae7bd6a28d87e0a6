"""Every real export in ../shared/real/ (files from public repositories, see each SOURCES.md) is
either read whole, rows read = accepted + rejected, or refused with a one-line error naming it.

The files are not copied into the project: CI has ../shared beside the checkout, and these tests
skip with a reason where it is absent.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pytest
from conftest import ROOT

from auditor.errors import AuditorError
from auditor.pipeline.options import IngestOptions, ReadOptions
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
