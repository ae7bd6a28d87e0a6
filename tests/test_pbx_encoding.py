"""Issue 8 point 3: one bad byte must not lose a PBX file.

PBXs write caller-ID names as the raw bytes they received, so a PBX CDR line that is not UTF-8 is
decoded with `--encoding-fallback` (default latin-1), marked (`encoding_note` on the call) and
counted (`Ingested.encoding_fallback_rows`, summary.json `encoding`, one terminal line). Twilio
exports are UTF-8 by contract and still stop with the one-line "not UTF-8" error.

The real file is read from ../shared/real/ (CI has ../shared beside the checkout); its tests skip
where it is absent.
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from audit_inputs import call, calls_page
from conftest import ROOT, run_cli
from test_pbx_readers import ast_line

from auditor.errors import NotUtf8Error
from auditor.ingest.detect import detect
from auditor.ingest.files import InputFile
from auditor.ingest.options import ReadOptions
from auditor.ingest.pbx_lines import LINE, physical_lines
from auditor.pipeline.ingest import ingest
from auditor.pipeline.options import IngestOptions

REAL = ROOT.parent / "shared" / "real"
DJ = "asterisk/dj-asterisk-cdr_Master.csv"
# The lines of DJ whose clid carries raw 0xA5 bytes (SOURCES.md names 41-42; 43-44, 69-70 and
# 79-80 carry them too): four two-line calls.
DJ_NOT_UTF8 = [41, 42, 43, 44, 69, 70, 79, 80]
DJ_MARKED_CALLS = {
    "1706415046.98": "41;42",
    "mainserverdss-1706420300.0": "43;44",
    "mainserverdss-1706434176.65": "69;70",
    "mainserverdss-1706438303.90": "79;80",
}


def real_file(relative: str) -> Path:
    path = REAL / relative
    if not path.is_file():
        pytest.skip(f"real export {path} not found (CI has ../shared beside the checkout)")
    return path


def one_line_error(proc, *parts: str) -> str:
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    for part in parts:
        assert part in lines[0], lines[0]
    return lines[0]


# --- the real Asterisk Master.csv --------------------------------------------------------------


@pytest.fixture(scope="module")
def dj_validated(tmp_path_factory: pytest.TempPathFactory):
    path = real_file(DJ)
    out = tmp_path_factory.mktemp("dj")
    proc = run_cli("validate", str(path), "--pbx-tz", "Asia/Irkutsk", "--out", str(out))
    return proc, out


def test_real_asterisk_with_latin1_names_validates(dj_validated) -> None:
    proc, out = dj_validated
    # Was exit 2: "not UTF-8 (invalid byte 0xa5 on line 41)". Every line now reads and passes.
    assert proc.returncode == 0, (proc.stdout, proc.stderr)
    assert "read      84  accepted      84  rejected      0" in proc.stdout
    assert "8 PBX line(s) not UTF-8: decoded as latin-1 (marked encoding_note)" in proc.stdout
    assert pl.read_csv(out / "rejects.csv").height == 0
    cdr = pl.read_parquet(out / "cdrs.parquet")
    assert cdr.height == 36
    marked = cdr.filter(pl.col("encoding_note").is_not_null())
    assert dict(marked.select("call_key", "source_rows").rows()) == DJ_MARKED_CALLS
    assert set(marked["encoding_note"]) == {"decoded as latin-1"}
    # The numbers are ASCII and read as they are.
    assert sorted(marked["src"]) == [
        "81079243525786",
        "81079246516548",
        "81079247774111",
        "81079953571708",
    ]


def test_real_asterisk_fallback_lines_and_names(dj_validated) -> None:
    path = real_file(DJ)
    lines = physical_lines(InputFile(path, DJ), "latin-1")
    marked = lines.filter(pl.col("encoding").is_not_null())
    assert marked["source_row"].to_list() == DJ_NOT_UTF8
    assert set(marked["encoding"]) == {"latin-1"}
    # 0xA5 is the yen sign in latin-1: the clid reads as it was written, nothing replaced.
    line_41 = lines.filter(pl.col("source_row") == 41)[LINE][0]
    assert '"""8107924651¥¥b"" <81079246516548>"' in line_41
    assert "\ufffd" not in "".join(lines[LINE])
    # The count travels in Ingested, every line (accepted or not) counted once.
    ing = ingest([str(path)], IngestOptions(pbx_tz="Asia/Irkutsk"))
    assert (ing.encoding_fallback, ing.encoding_fallback_rows) == ("latin-1", 8)


def test_real_asterisk_audit_counts_fallback_rows_in_summary(tmp_path: Path) -> None:
    path = real_file(DJ)
    # A PBX audit needs call logs (exit 2 without): a page of 2025, a year after the file, so
    # all 34 PBX calls with an external number are not-compared (exit 1), none lost. (Their
    # Russian numbers, 89245555937, are no numbers under --region US: taken as external all
    # the same, never as internal.)
    page = calls_page(tmp_path / "calls.json", [call(1, "2025-11-03 10:00:00", None, "0")])
    out = tmp_path / "out"
    proc = run_cli("audit", str(path), str(page), "--pbx-tz", "Asia/Irkutsk", "--out", str(out))
    assert proc.returncode == 1, (proc.stdout, proc.stderr)
    assert "8 PBX line(s) not UTF-8: decoded as latin-1 (marked encoding_note)" in proc.stdout
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["encoding"] == {"fallback": "latin-1", "rows": 8}
    matching = summary["cdr_matching"]
    assert (matching["not_compared"], matching["internal"], matching["pbx_only"]) == (34, 2, 0)
    assert summary["inputs"][0]["rows_read"] == summary["inputs"][0]["rows_accepted"] == 84


# --- small files built here ---------------------------------------------------------------------


def _asterisk_bytes(clid_names: list[bytes], billsec: list[str] | None = None) -> bytes:
    """One 18-column Master.csv line per name, each its own call (own channel), answered 30 s;
    the name replaces the clid's display name as raw bytes."""
    out = []
    for i, name in enumerate(clid_names):
        line = ast_line(
            f"+3361234567{i}",
            "+14155550123",
            f"SIP/trunk-0000000{i}",
            f"2026-03-02 10:0{i}:00",
            f"2026-03-02 10:0{i}:05",
            f"2026-03-02 10:0{i}:35",
            35,
            (billsec or ["30"] * len(clid_names))[i],
            "ANSWERED",
        )
        out.append(line.encode("ascii").replace(b"Someone", name))
    return b"\n".join(out) + b"\n"


def test_asterisk_latin1_byte_in_clid(tmp_path: Path) -> None:
    path = tmp_path / "Master.csv"
    # Line 1 UTF-8 (é as C3 A9), line 2 latin-1 (é as E9), line 3 latin-1 and a bad billsec.
    path.write_bytes(_asterisk_bytes([b"Jos\xc3\xa9", b"Jos\xe9", b"Ren\xe9e"], ["30", "30", "3x"]))
    ing = ingest([str(path)], IngestOptions(pbx_tz="UTC"))
    cdr = ing.cdrs
    assert cdr["source_rows"].to_list() == ["1", "2"]
    assert cdr["encoding_note"].to_list() == [None, "decoded as latin-1"]
    assert cdr["billsec"].to_list() == [30, 30]
    # Line 3 is rejected for its own reason, and counted as decoded all the same.
    assert ing.rejects.select("source_row", "column", "value").rows() == [(3, "billsec", "3x")]
    assert ing.encoding_fallback_rows == 2
    report = ing.files[0]
    assert (report.rows_read, report.rows_accepted, report.rows_rejected) == (3, 2, 1)
    lines = physical_lines(InputFile(path, "Master.csv"), "latin-1")
    assert lines["encoding"].to_list() == [None, "latin-1", "latin-1"]
    # The clid as written (quotes doubled inside the quoted field).
    assert ['""José"" <' in line for line in lines[LINE]] == [True, True, False]
    assert '""Renée"" <' in lines[LINE][2]


def test_asterisk_cp1251_fallback(tmp_path: Path) -> None:
    path = tmp_path / "Master.csv"
    path.write_bytes(_asterisk_bytes([b"Ivan", "Иван".encode("cp1251")]))
    out = tmp_path / "out"
    proc = run_cli(
        "validate", str(path), "--pbx-tz", "UTC", "--encoding-fallback", "cp1251", "--out", str(out)
    )
    assert proc.returncode == 0, (proc.stdout, proc.stderr)
    assert "1 PBX line(s) not UTF-8: decoded as cp1251 (marked encoding_note)" in proc.stdout
    cdr = pl.read_parquet(out / "cdrs.parquet")
    assert cdr["encoding_note"].to_list() == [None, "decoded as cp1251"]
    file = InputFile(path, "Master.csv")
    assert '""Иван"" <' in physical_lines(file, "cp1251")[LINE][1]
    # The default latin-1 cannot fail either: the same bytes, read as other letters.
    assert '""Èâàí"" <' in physical_lines(file, "latin-1")[LINE][1]


def test_non_utf8_pbx_file_is_detected(tmp_path: Path) -> None:
    path = tmp_path / "Master.csv"
    path.write_bytes(_asterisk_bytes([b"Jos\xe9"]))  # the bad byte on line 1, inside the head
    file = InputFile(path, "Master.csv")
    with pytest.raises(NotUtf8Error):
        file.head_text()
    assert detect(file).name == "asterisk-cdr-csv"


def test_freeswitch_latin1_caller_name(tmp_path: Path) -> None:
    values = [
        "Jos\xe9", "1001", "+14155550123", "default", "2026-03-02 09:14:05",
        "2026-03-02 09:14:12", "2026-03-02 09:18:47", "282", "275", "NORMAL_CLEARING",
        "6513270e-269e-4d37-b2a7-4de452e6b438", "", "sales", "PCMU", "PCMU",
    ]  # fmt: skip
    path = tmp_path / "Master.csv"
    path.write_bytes((",".join(f'"{v}"' for v in values) + "\n").encode("latin-1"))
    ing = ingest([str(path)], IngestOptions(pbx_tz="UTC"))
    row = ing.cdrs.row(0, named=True)
    assert (row["src"], row["dst"], row["billsec"]) == ("1001", "+14155550123", 275)
    assert row["encoding_note"] == "decoded as latin-1"
    assert ing.encoding_fallback_rows == 1


def test_custom_csv_latin1_name(tmp_path: Path) -> None:
    fmt = tmp_path / "pbx.toml"
    fmt.write_text('[columns]\nstart = "start"\nsrc = "src"\ndst = "dst"\nbillsec = "billsec"\n')
    path = tmp_path / "calls.csv"
    path.write_bytes(
        b"start,name,src,dst,billsec\n"
        b"2026-03-02 10:00:00,Ana,1001,+4930123456,61\n"
        b"2026-03-02 11:00:00,J\xfcrgen,1002,+4930123457,0\n"
    )
    opts = IngestOptions(
        format="pbx-custom-csv", pbx_tz="UTC", read=ReadOptions(cdr_format=str(fmt))
    )
    ing = ingest([str(path)], opts)
    cdr = ing.cdrs
    assert cdr["source_rows"].to_list() == ["2", "3"]
    assert cdr["encoding_note"].to_list() == [None, "decoded as latin-1"]
    assert cdr["answered"].to_list() == [True, False]
    assert ing.encoding_fallback_rows == 1


# --- what stays an error -----------------------------------------------------------------------


@pytest.mark.parametrize("fallback", [None, "cp1251"])
@pytest.mark.parametrize("kind", ["api-json", "console-csv", "console-csv-bom"])
def test_twilio_export_with_a_bad_byte_still_stops(
    tmp_path: Path, kind: str, fallback: str | None
) -> None:
    if kind == "api-json":
        path = tmp_path / "calls.json"
        path.write_bytes(
            b'{"calls": [\n{"sid": "CA' + b"a" * 32 + b'",\n"from": "Jos\xe9"}\n],\n'
            b'"next_page_uri": null}\n'
        )
        line = 3
    else:  # a BOM (as spreadsheet exports write) must not shift the byte or line named
        path = tmp_path / "calls.csv"
        path.write_bytes(
            (b"\xef\xbb\xbf" if kind.endswith("bom") else b"")
            + b"Call Sid,Start Time,End Time,Duration,From,To,Direction,Status,Price,Price Unit\n"
            b"CA" + b"a" * 32 + b",2025-11-01 10:00:00,2025-11-01 10:01:00,60,"
            b"Jos\xe9,+2,outbound-api,completed,-0.014,USD\n"
        )
        line = 2
    extra = ["--encoding-fallback", fallback] if fallback else []
    proc = run_cli("validate", str(path), "--out", str(tmp_path / "o"), "--tz", "UTC", *extra)
    one_line_error(proc, path.name, f"not UTF-8 (invalid byte 0xe9 on line {line})")


@pytest.mark.parametrize("command", ["validate", "audit"])
@pytest.mark.parametrize(
    ("name", "says"),
    [("klingon", "is not a known encoding"), ("utf-16", "reads ASCII as ASCII")],
)
def test_unusable_encoding_fallback_is_a_one_line_error(
    tmp_path: Path, command: str, name: str, says: str
) -> None:
    path = tmp_path / "Master.csv"
    path.write_bytes(_asterisk_bytes([b"Jos\xe9"]))
    out = str(tmp_path / "o")
    proc = run_cli(command, str(path), "--pbx-tz", "UTC", "--encoding-fallback", name, "--out", out)
    one_line_error(proc, f"--encoding-fallback {name!r}", says)
