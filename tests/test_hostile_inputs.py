"""Hostile inputs: a gzip bomb, JSON nested absurdly deep, a 100 MB line, a CSV 10,000 columns wide.

Each ends in a one-line error naming the file (exit 2) or in rejects (exit 1), through the real CLI,
quickly and in bounded memory: never a traceback, an internal error or a hang. The files are made
in `tmp_path`; the gzip bombs are concatenated gzip members of a small compressed megabyte, so that
a file of a few MB inflates past the 1 GiB floor of the limit without the test writing 1 GiB.
"""

from __future__ import annotations

import csv
import gzip
import json
import os
import re
import resource
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
from audit_inputs import call, calls_page, sid
from conftest import SAMPLES, run_cli

from auditor.errors import InputError
from auditor.ingest import files
from auditor.ingest.files import DEFLATE_MAX_RATIO, INFLATE_FLOOR, InputFile, inflate_limit

GIB = 1 << 30
MIB = 1 << 20
BIG_LINE = 100 * MIB  # the single line with no newline: really 100 MB (about 2 s a test)
DEEP = 100_000  # levels of nesting: far past Python's recursion limit
CONSOLE_HEADER = "Call Sid,Start Time,End Time,Duration,From,To,Direction,Status,Price,Price Unit\n"
CONSOLE_ROW = (
    f"{sid(1)},2025-11-01 10:00:00,2025-11-01 10:01:00,60,+12125550100,+16175550123,"
    "inbound,completed,-0.0140,USD\n"
)


def nested(depth: int) -> str:
    """JSON text of arrays nested `depth` deep (built as text: the test's own json module would
    need as deep a recursion as the tool's to write it)."""
    return "[" * depth + "]" * depth


def bulk_line(n: int, raw: str = "", **extra: object) -> bytes:
    """One Twilio Bulk Export line (a call) as bytes, newline included; `raw`: more JSON members
    as text (`, "name": value`)."""
    rec = {
        "sid": sid(n),
        "account_sid": "AC" + "1" * 32,
        "status": "completed",
        "direction": "inbound",
        "from": "+12125550100",
        "to": "+16175550123",
        "start_time": "2025-01-01T00:00:00Z",
        "end_time": "2025-01-01T00:01:00Z",
        "duration": "60",
        "price": "-0.0140",
        "price_unit": "USD",
        **extra,
    }
    return (json.dumps(rec)[:-1] + raw + "}").encode() + b"\n"


def bomb(path: Path, head: bytes, inflated: int = GIB + 64 * MIB) -> Path:
    """`head` as one gzip member, then blank-ish lines in members of 1 MiB each until the file
    inflates to `inflated` bytes (64-byte lines: zlib inflates them fast, 340x smaller)."""
    member = gzip.compress((b" " * 63 + b"\n") * (MIB // 64), 9)
    path.write_bytes(gzip.compress(head) + member * (inflated // MIB))
    return path


def assert_one_line_error(proc: subprocess.CompletedProcess[str], *parts: str) -> str:
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr[-2000:])
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    for part in parts:
        assert part in lines[0], lines[0]
    return lines[0]


def assert_rejected(
    proc: subprocess.CompletedProcess[str], out: Path, name: str, reason: str
) -> list[dict[str, str]]:
    """Exit 1, nothing on stderr, and `name` has a `(record)` reject whose reason holds `reason`
    (with no value: a hostile line never travels on into rejects.csv)."""
    assert proc.returncode == 1, (proc.returncode, proc.stdout, proc.stderr[-2000:])
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr, proc.stderr
    assert proc.stderr.strip() == "", proc.stderr
    with (out / "rejects.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    hits = [r for r in rows if r["source_file"].endswith(name) and reason in r["reason"]]
    assert hits and all(r["column"] == "(record)" and r["value"] == "" for r in hits), rows
    assert (out / "rejects.csv").stat().st_size < 64 * 1024
    return hits


def rows_read(proc: subprocess.CompletedProcess[str], name: str) -> int:
    match = re.search(rf"{re.escape(name)}\s+\S+\s+read\s+(\d+)", proc.stdout)
    assert match, proc.stdout
    return int(match.group(1))


# --- the gzip limit --------------------------------------------------------------------------


def test_inflate_limit_default_is_100x_at_least_1_gib() -> None:
    assert INFLATE_FLOOR == GIB
    assert inflate_limit(1000) == GIB  # a small file: the floor
    assert inflate_limit(20 * MIB) == 2000 * MIB  # 100 x a large one
    assert inflate_limit(20 * MIB, 2) == GIB  # the floor stays whatever the ratio
    assert inflate_limit(20 * MIB, 500) == 10_000 * MIB


def test_read_bytes_stops_at_the_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """One gzip member of zeros, read with the floor lowered: refused, naming the numbers."""
    monkeypatch.setattr(files, "INFLATE_FLOOR", MIB)
    path = tmp_path / "zeros.gz"
    path.write_bytes(gzip.compress(bytes(8 * MIB)))
    size = path.stat().st_size
    file = InputFile(path, "zeros.gz", max_inflate=2)
    message = f"zeros.gz: gzip inflates past {MIB} bytes (--max-inflate 2 x its {size} bytes"
    for read in (file.read_bytes, file.check_inflate):
        with pytest.raises(InputError) as err:
            read()
        assert str(err.value).startswith(message), err.value
        assert str(err.value).endswith("; refusing to read it")
    # 3 x the limit is allowed: read whole
    assert InputFile(path, "zeros.gz", max_inflate=8 * MIB * 3 / size).read_bytes() == bytes(
        8 * MIB
    )


def test_multi_member_gzip_and_padding_read_whole(tmp_path: Path) -> None:
    path = tmp_path / "multi.gz"
    path.write_bytes(gzip.compress(b"one\n") + b"\x00" * 3 + gzip.compress(b"two\n" * 100_000))
    assert InputFile(path, "multi.gz").read_bytes() == b"one\n" + b"two\n" * 100_000
    cut = tmp_path / "cut.gz"
    cut.write_bytes(path.read_bytes()[:-5])
    with pytest.raises(InputError, match=r"cut\.gz: corrupt gzip data"):
        InputFile(cut, "cut.gz").read_bytes()


def test_check_inflate_skips_a_file_too_small_to_pass(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Deflate inflates at most 1032x: a gzip under 1 GiB / 1032 is not inflated only to count."""

    def fail(self: InputFile) -> None:
        raise AssertionError("inflated")

    monkeypatch.setattr(InputFile, "_inflate", fail)
    small = tmp_path / "small.gz"
    small.write_bytes(gzip.compress(b"x" * 1000))
    assert DEFLATE_MAX_RATIO * small.stat().st_size <= GIB
    InputFile(small, "small.gz").check_inflate()


def test_gzip_bomb_bulk_export_refused(tmp_path: Path) -> None:
    """A Bulk Export day file (polars inflates it: the limit is checked before)."""
    path = bomb(tmp_path / "day.json.gz", bulk_line(1) + bulk_line(2))
    proc = run_cli("validate", str(path), "--out", str(tmp_path / "o"), "--max-inflate", "2")
    size = path.stat().st_size
    assert_one_line_error(
        proc,
        f"{path}: gzip inflates past {GIB} bytes (--max-inflate 2 x its {size} bytes",
        "refusing to read it",
    )
    assert not (tmp_path / "o" / "calls.parquet").exists()


def test_gzip_bomb_console_csv_refused_by_audit(tmp_path: Path) -> None:
    """A Console CSV (read whole by the tool: inflating stops at the limit)."""
    path = bomb(tmp_path / "calls.csv.gz", CONSOLE_HEADER.encode() + CONSOLE_ROW.encode())
    proc = run_cli("audit", str(path), "--out", str(tmp_path / "o"), "--tz", "UTC")
    assert_one_line_error(proc, f"{path}: gzip inflates past {GIB} bytes", "--max-inflate 100 x")


@pytest.mark.parametrize("ratio", ["0", "-3", "nan"])
def test_max_inflate_must_be_positive(tmp_path: Path, ratio: str) -> None:
    path = tmp_path / "calls.csv"
    path.write_text(CONSOLE_HEADER + CONSOLE_ROW)
    proc = run_cli("validate", str(path), "--out", str(tmp_path / "o"), "--max-inflate", ratio)
    assert_one_line_error(proc, "--max-inflate")


def test_concatenated_gzip_still_reads(tmp_path: Path) -> None:
    """Multi-member gzip: the Bulk Export scan and the Console CSV read every member."""
    day = tmp_path / "day.json.gz"
    day.write_bytes(gzip.compress(bulk_line(1) + bulk_line(2)) + gzip.compress(bulk_line(3)))
    console = tmp_path / "console.csv.gz"
    console.write_bytes(
        gzip.compress(CONSOLE_HEADER.encode() + CONSOLE_ROW.encode())
        + gzip.compress(CONSOLE_ROW.replace(sid(1), sid(2)).encode())
    )
    for path, rows in ((day, 3), (console, 2)):
        out = tmp_path / f"o-{path.stem}"
        proc = run_cli("validate", str(path), "--out", str(out), "--tz", "UTC")
        assert proc.returncode == 0, (proc.stdout, proc.stderr)
        assert rows_read(proc, str(path)) == rows


# --- JSON nested absurdly deep -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("array.json", nested(DEEP)),
        ("object.json", '{"a":' * DEEP + "1" + "}" * DEEP),
    ],
)
def test_deep_json_document_is_unsupported(tmp_path: Path, name: str, text: str) -> None:
    path = tmp_path / name
    path.write_text(text)
    proc = run_cli("validate", str(path), "--out", str(tmp_path / "o"))
    assert_one_line_error(proc, str(path), "unsupported format")


def test_deep_json_in_an_api_page_is_an_error(tmp_path: Path) -> None:
    page = tmp_path / "calls_page.json"
    page.write_text('{"calls": [' + '{"a":' * DEEP + "1" + "}" * DEEP + "]}")
    proc = run_cli("validate", str(page), "--out", str(tmp_path / "o"))
    assert_one_line_error(proc, f"{page}: not readable: JSON nested too deeply")
    # forced as one Call resource: the same line
    doc = tmp_path / "call.json"
    doc.write_text('{"sid": "CA1", "status": "completed", "a": ' + nested(DEEP) + "}")
    proc = run_cli(
        "validate", str(doc), "--out", str(tmp_path / "o2"), "--format", "twilio-api-call"
    )
    assert_one_line_error(proc, f"{doc}: not readable: JSON nested too deeply")


def test_json_near_the_recursion_limit_in_a_calls_record(tmp_path: Path) -> None:
    """A record's value nested 990 deep: Python may parse it and then fail to write it back as
    text (that record rejected), or fail to parse the page (its one-line error): never more."""
    page = calls_page(tmp_path / "page.json", [call(1, "2025-11-03 10:00:00", None, None)])
    text = page.read_text()
    page.write_text(text.replace('"sid"', f'"answered_by": {nested(990)}, "sid"', 1))
    out = tmp_path / "o"
    proc = run_cli("validate", str(page), "--out", str(out))
    if proc.returncode == 2:
        assert_one_line_error(proc, f"{page}: not readable: JSON nested too deeply")
    else:
        assert_rejected(proc, out, "page.json", "JSON nested too deeply")


@pytest.mark.parametrize("gz", [False, True])
def test_deep_json_line_is_rejected(tmp_path: Path, gz: bool) -> None:
    """A Bulk Export line nested 100,000 deep: rejected. One nested 990 deep in a field (polars
    would take minutes on it, then crash): read by Python, kept or rejected as too deep."""
    data = (
        bulk_line(1)
        + ('{"a":' * DEEP + "1" + "}" * DEEP).encode()
        + b"\n"
        + bulk_line(2, raw=f', "answered_by": {nested(990)}')
        + bulk_line(3)
    )
    path = tmp_path / ("day.json.gz" if gz else "day.json")
    path.write_bytes(gzip.compress(data) if gz else data)
    out = tmp_path / "o"
    proc = run_cli("validate", str(path), "--out", str(out))
    hits = assert_rejected(proc, out, path.name, "JSON nested too deeply")
    assert {h["source_row"] for h in hits} - {"3"} == {"2"}
    assert rows_read(proc, str(path)) == 4


def test_many_moderately_deep_json_lines_are_read_in_linear_time(tmp_path: Path) -> None:
    """20,000 lines nested 120 deep: polars' schema inference would take minutes; the Python read
    takes seconds. Each such line keeps its nested value as JSON text."""
    raw = f', "answered_by": {nested(120)}'
    path = tmp_path / "day.json"
    path.write_bytes(b"".join(bulk_line(n, raw=raw) for n in range(1, 20_001)))
    proc = run_cli_within(60, "validate", str(path), "--out", str(tmp_path / "o"))
    assert proc.returncode in (0, 1), (proc.stdout, proc.stderr[-2000:])
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr
    assert rows_read(proc, str(path)) == 20_000


def run_cli_within(timeout: float, *args: str) -> subprocess.CompletedProcess[str]:
    """`run_cli` that fails the test (TimeoutExpired) instead of hanging."""
    return subprocess.run(
        [sys.executable, "-m", "auditor", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
    )


# --- a 100 MB line -----------------------------------------------------------------------------


def test_100_mb_line_in_a_console_csv_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "calls.csv"
    with path.open("wb") as fh:
        fh.write((CONSOLE_HEADER + CONSOLE_ROW).encode())
        fh.write(b"x" * BIG_LINE)  # no newline
    out = tmp_path / "o"
    proc = run_cli("validate", str(path), "--out", str(out), "--tz", "UTC")
    hits = assert_rejected(proc, out, "calls.csv", "a field longer than 65536 bytes")
    assert [h["source_row"] for h in hits] == ["3"]
    assert rows_read(proc, str(path)) == 2


def test_huge_field_in_a_ragged_csv_is_an_error(tmp_path: Path) -> None:
    """A file polars cannot parse (a record wider than the header) is read by the csv module,
    which refuses a field over its limit: the file's one-line error, with the row."""
    path = tmp_path / "calls.csv"
    path.write_bytes(
        (CONSOLE_HEADER + "a,b,c,d,e,f,g,h,i,j,k,l\n").encode() + b'"' + b"x" * (8 * MIB) + b'"\n'
    )
    proc = run_cli("validate", str(path), "--out", str(tmp_path / "o"), "--tz", "UTC")
    assert_one_line_error(proc, f"{path}:3: unreadable CSV (field larger than field limit")


@pytest.mark.parametrize("kind", ["garbage", "object", "gzip"])
def test_long_json_line_is_rejected(tmp_path: Path, kind: str) -> None:
    """A Bulk Export line of 16 MB, no newline: not JSON, a valid object, or inside gzip."""
    big = 16 * MIB
    line = b"x" * big if kind == "garbage" else bulk_line(3, caller_name="x" * big).rstrip(b"\n")
    data = bulk_line(1) + bulk_line(2) + line
    path = tmp_path / ("day.json.gz" if kind == "gzip" else "day.json")
    path.write_bytes(gzip.compress(data, 1) if kind == "gzip" else data)
    out = tmp_path / "o"
    proc = run_cli("validate", str(path), "--out", str(out))
    hits = assert_rejected(proc, out, path.name, "line longer than 1048576 bytes")
    assert [h["source_row"] for h in hits] == ["3"]


def test_100_mb_line_only_is_unsupported(tmp_path: Path) -> None:
    path = tmp_path / "blob.csv"
    path.write_bytes(b"x" * BIG_LINE)
    proc = run_cli("validate", str(path), "--out", str(tmp_path / "o"))
    assert_one_line_error(proc, str(path), "unsupported format")


def test_long_pbx_line_is_rejected(tmp_path: Path, fixtures: Path) -> None:
    """An Asterisk Master.csv ending in a 16 MB line: that line rejected, the others read."""
    path = tmp_path / "Master.csv"
    sound = (fixtures / "pbx" / "asterisk_Master.csv").read_bytes()
    path.write_bytes(sound + b"y" * (16 * MIB))
    out = tmp_path / "o"
    proc = run_cli("validate", str(path), "--out", str(out), "--pbx-tz", "UTC")
    assert proc.returncode == 1, (proc.stdout, proc.stderr[-2000:])
    assert proc.stderr.strip() == ""
    lines = sound.count(b"\n") + 1
    assert rows_read(proc, str(path)) == lines
    with (out / "rejects.csv").open(encoding="utf-8", newline="") as fh:
        rejected = {r["source_row"] for r in csv.DictReader(fh)}
    assert str(lines) in rejected


# --- 10,000 columns ----------------------------------------------------------------------------


def test_10000_columns_with_the_call_fields_is_an_error(tmp_path: Path) -> None:
    names = CONSOLE_HEADER.strip().split(",") + [f"extra{i}" for i in range(9990)]
    row = CONSOLE_ROW.strip() + "," + ",".join(["0"] * 9990)
    path = tmp_path / "wide.csv"
    path.write_text(",".join(names) + "\n" + "\n".join([row] * 3) + "\n")
    proc = run_cli("validate", str(path), "--out", str(tmp_path / "o"), "--tz", "UTC")
    assert_one_line_error(proc, f"{path}:1: 10000 columns, more than 1000")


def test_10000_columns_without_the_call_fields_is_unsupported(tmp_path: Path) -> None:
    path = tmp_path / "wide.csv"
    header = ",".join(f"col{i}" for i in range(10_000))
    path.write_text(header + "\n" + "\n".join([",".join(["1"] * 10_000)] * 3) + "\n")
    proc = run_cli("validate", str(path), "--out", str(tmp_path / "o"))
    assert_one_line_error(proc, str(path), "unsupported format")


def test_1000_columns_with_the_call_fields_read(tmp_path: Path) -> None:
    """Up to 1000 columns is a (wide) export: read, extra columns ignored."""
    names = CONSOLE_HEADER.strip().split(",") + [f'"extra,{i}"' for i in range(990)]
    path = tmp_path / "wide.csv"
    path.write_text(",".join(names) + "\n" + CONSOLE_ROW.strip() + "," + "0," * 989 + "0\n")
    proc = run_cli("validate", str(path), "--out", str(tmp_path / "o"), "--tz", "UTC")
    assert proc.returncode == 0, (proc.stdout, proc.stderr)
    assert rows_read(proc, str(path)) == 1


def test_repeated_header_in_a_csv_python_reads_is_named_as_polars_names_it(tmp_path: Path) -> None:
    """A header naming a column twice in a CSV that polars cannot parse (an unbalanced quote:
    the Python reader takes over) is named as polars names it, instead of an internal error."""
    from auditor.ingest.csv_source import read_delimited
    from auditor.ingest.files import InputFile

    path = tmp_path / "twice.csv"
    path.write_text('a,b,a\n1,"2,3\n4,5,6\n', encoding="utf-8")
    frame = read_delimited(InputFile(path, "twice.csv"))
    assert frame.columns[:3] == ["a", "b", "a_duplicated_0"]


def test_a_parquet_file_that_inflates_past_the_limit_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Parquet compresses too: its footer's uncompressed sizes are held to the gzip limit (the
    floor lowered to 1 MiB here), before polars decodes a page."""
    monkeypatch.setattr(files, "INFLATE_FLOOR", MIB)
    sample = pl.read_parquet(SAMPLES / "calls_2025-11-24_to_30.parquet")
    bomb = pl.concat([sample] * 40).with_columns(pl.lit("x" * 4096).alias("caller_name"))
    path = tmp_path / "bomb.parquet"
    # plain pages (no dictionary): zstd alone shrinks the repeated text
    bomb.write_parquet(
        path, compression="zstd", use_pyarrow=True, pyarrow_options={"use_dictionary": False}
    )
    size = path.stat().st_size
    assert size < MIB // 2  # tens of KB that inflate to several MB
    file = InputFile(path, "bomb.parquet", max_inflate=2)
    with pytest.raises(InputError, match=r"bomb.parquet: Parquet data inflates past 1048576 bytes"):
        file.check_parquet_inflate()
    InputFile(SAMPLES / "calls_2025-11-24_to_30.parquet", "ok.parquet").check_parquet_inflate()
    proc = run_cli("audit", "bomb.parquet", "--out", "o", "--max-inflate", "2", cwd=tmp_path)
    assert proc.returncode == 2 and not (tmp_path / "o").exists()
    assert proc.stderr.splitlines() == [f"auditor: error: {file.name}: {_too_big(size)}"]


def _too_big(size: int) -> str:
    return (
        f"Parquet data inflates past {MIB} bytes (--max-inflate 2 x its {size} bytes, at least "
        "1 GiB); "
        "refusing to read it"
    )


# --- line ends: LF, CRLF and CR alike ----------------------------------------------------------

CONSOLE_SAMPLE = SAMPLES / "console_calls_2025-11_new_york.csv"
NEW_YORK = ("--tz", "America/New_York")


def rejects(out: Path) -> list[tuple[str, str, str]]:
    """(source_row, column, reason) of rejects.csv, file names left out."""
    with (out / "rejects.csv").open(encoding="utf-8", newline="") as fh:
        return [(r["source_row"], r["column"], r["reason"]) for r in csv.DictReader(fh)]


def mixed_line_ends(data: bytes) -> bytes:
    """Line N ends in CR, LF or CRLF in turn (N = 1, 2, 3, ...)."""
    lines = data.rstrip(b"\n").split(b"\n")
    ends = (b"\r", b"\n", b"\r\n")
    return b"".join(line + ends[n % 3] for n, line in enumerate(lines))


@pytest.mark.parametrize("ends", ["cr", "crlf", "mixed"])
def test_console_csv_with_cr_line_ends_reads_every_row(tmp_path: Path, ends: str) -> None:
    """The sample Console CSV saved by old Mac Excel (CR only; today: rows_read 0, exit 0), by
    Windows (CRLF), or with a mix: read as the LF original is, with the same physical lines.
    The LF file: 74 rows (sample_exports/README.md), rejects on lines 7 (DST overlap) and 27
    (a 31-digit SID)."""
    data = CONSOLE_SAMPLE.read_bytes()
    assert b"\r" not in data
    converted = {
        "cr": data.replace(b"\n", b"\r"),
        "crlf": data.replace(b"\n", b"\r\n"),
        "mixed": mixed_line_ends(data),
    }[ends]
    path = tmp_path / "calls.csv"
    path.write_bytes(converted)
    want = run_cli("validate", str(CONSOLE_SAMPLE), "--out", str(tmp_path / "lf"), *NEW_YORK)
    proc = run_cli("validate", str(path), "--out", str(tmp_path / "o"), *NEW_YORK)
    assert proc.returncode == want.returncode == 1, (proc.stdout, proc.stderr)
    assert rows_read(proc, str(path)) == rows_read(want, str(CONSOLE_SAMPLE)) == 74
    got = rejects(tmp_path / "o")
    assert got == rejects(tmp_path / "lf")
    assert {row for row, _, _ in got} == {"7", "27"}


def test_pbx_and_json_lines_with_cr_line_ends(tmp_path: Path, fixtures: Path) -> None:
    """A CR-only Asterisk Master.csv (today: unsupported format) and a Bulk Export day file with
    CR, LF and CRLF mixed: every line a row, numbered as in the file."""
    master = (fixtures / "pbx" / "asterisk_Master.csv").read_bytes()
    lines = master.rstrip(b"\n").count(b"\n") + 1
    cr = tmp_path / "Master.csv"
    cr.write_bytes(master.replace(b"\n", b"\r"))
    proc = run_cli("validate", str(cr), "--out", str(tmp_path / "o1"), "--pbx-tz", "UTC")
    assert proc.returncode == 0, (proc.stdout, proc.stderr)
    assert rows_read(proc, str(cr)) == lines == 11
    day = tmp_path / "day.json"
    day.write_bytes(mixed_line_ends(b"".join(bulk_line(n) for n in range(1, 8))))
    proc = run_cli("validate", str(day), "--out", str(tmp_path / "o2"))
    assert proc.returncode == 0, (proc.stdout, proc.stderr)
    assert rows_read(proc, str(day)) == 7
    rows = pl.read_parquet(tmp_path / "o2" / "calls.parquet").sort("source_row")
    assert rows["source_row"].to_list() == list(range(1, 8))
    assert rows["call_sid"].to_list() == [sid(n) for n in range(1, 8)]


# --- blank lines: free, and only empty lines are blank -----------------------------------------

AS_CAP = 2 * GIB  # address space for the child: python + polars need about 1.1 GiB of it


def run_cli_capped(*args: str) -> subprocess.CompletedProcess[str]:
    """`auditor ARGS` in a child process whose address space is capped at `AS_CAP` (with two
    polars threads, so that the cap does not depend on the machine's cores)."""

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (AS_CAP, AS_CAP))

    return subprocess.run(
        [sys.executable, "-m", "auditor", *args],
        capture_output=True,
        text=True,
        check=False,
        preexec_fn=cap,
        env={**os.environ, "POLARS_MAX_THREADS": "2"},
        timeout=300,  # a guard against a hang, not a measure
    )


BLANK = 8 * MIB  # newlines: read as rows of nulls, they took 400 bytes each (3.3 GiB here)


@pytest.mark.parametrize("gz", [False, True])
def test_millions_of_blank_lines_in_a_console_csv_cost_no_memory(tmp_path: Path, gz: bool) -> None:
    """A header, a row, 8 MiB of newlines, a row: read in the memory of two rows (today: killed
    past the cap). Lines: 1 header, 2 a row, 3 .. BLANK + 2 empty, BLANK + 3 the other row."""
    data = (
        CONSOLE_HEADER + CONSOLE_ROW + "\n" * BLANK + CONSOLE_ROW.replace(sid(1), sid(2))
    ).encode()
    path = tmp_path / ("calls.csv.gz" if gz else "calls.csv")
    path.write_bytes(gzip.compress(data) if gz else data)
    out = tmp_path / "o"
    proc = run_cli_capped("validate", str(path), "--out", str(out), "--tz", "UTC")
    assert proc.returncode == 0, (proc.returncode, proc.stdout, proc.stderr[-2000:])
    assert rows_read(proc, str(path)) == 2
    rows = pl.read_parquet(out / "calls.parquet").sort("source_row")
    assert rows.select("call_sid", "source_row").rows() == [(sid(1), 2), (sid(2), BLANK + 3)]


def test_millions_of_blank_lines_in_a_pbx_file_cost_no_memory(
    tmp_path: Path, fixtures: Path
) -> None:
    """An Asterisk Master.csv (11 lines), 32 MiB of newlines, a line of spaces (a row: rejected):
    12 rows read, the reject on line 11 + 32 Mi + 1 (today: killed past the cap)."""
    master = (fixtures / "pbx" / "asterisk_Master.csv").read_bytes()
    assert master.endswith(b"\n") and master.count(b"\n") == 11
    blank = 32 * MIB
    path = tmp_path / "Master.csv"
    path.write_bytes(master + b"\n" * blank + b"   \n")
    out = tmp_path / "o"
    proc = run_cli_capped("validate", str(path), "--out", str(out), "--pbx-tz", "UTC")
    assert proc.returncode == 1, (proc.returncode, proc.stdout, proc.stderr[-2000:])
    assert rows_read(proc, str(path)) == 12
    assert rejects(out) == [(str(11 + blank + 1), "(record)", "record has 1 fields, expected 18")]


@pytest.mark.parametrize("ragged", [False, True])
def test_a_line_of_delimiters_or_spaces_is_a_row(tmp_path: Path, ragged: bool) -> None:
    """Only an empty line is blank. Console CSV: header, a row (2), nine commas (3: today it
    vanishes from rows_read), an empty line (4: not a row), spaces (5), a row (6): 4 rows read,
    3 and 5 rejected (no sid). `ragged`: a last line of 11 fields (7) makes polars refuse the
    file and the csv module read it: the same rows, and 7 rejected for its width."""
    lines = [CONSOLE_HEADER, CONSOLE_ROW, "," * 9 + "\n", "\n", "   \n"]
    lines.append(CONSOLE_ROW.replace(sid(1), sid(2)))
    if ragged:
        lines.append(CONSOLE_ROW.replace(sid(1), sid(3)).replace("\n", ",x\n"))
    path = tmp_path / "calls.csv"
    path.write_text("".join(lines))
    out = tmp_path / "o"
    proc = run_cli("validate", str(path), "--out", str(out), "--tz", "UTC")
    assert proc.returncode == 1, (proc.stdout, proc.stderr)
    assert rows_read(proc, str(path)) == (5 if ragged else 4)
    rejected = rejects(out)
    assert ("3", "sid", "not_nullable") in rejected
    # polars pads the one field of line 5 with nulls; the csv module says its width
    five = "5", "(record)", "record has 1 fields, expected 10"
    assert (five if ragged else ("5", "sid", "not_nullable")) in rejected
    assert {row for row, _, _ in rejected} == ({"3", "5", "7"} if ragged else {"3", "5"})
    calls = pl.read_parquet(out / "calls.parquet")
    assert calls.select("call_sid", "source_row").rows() == [(sid(1), 2), (sid(2), 6)]


@pytest.mark.parametrize("nbsp", [False, True])
def test_a_json_line_of_white_space_is_a_row(tmp_path: Path, nbsp: bool) -> None:
    """Bulk Export: a call (1), spaces (2; today it vanishes), an empty line (3: not a row), a
    line of NBSP or of a tab (4), a call (5): 4 rows read, 2 and 4 rejected. Spaces and a tab
    are errors in the scan; NBSP fails polars' decode and the line-by-line read takes over."""
    other = "\u00a0".encode() if nbsp else b"\t"
    path = tmp_path / "day.json"
    path.write_bytes(bulk_line(1) + b"   \n" + b"\n" + other + b"\n" + bulk_line(2))
    out = tmp_path / "o"
    proc = run_cli("validate", str(path), "--out", str(out))
    assert proc.returncode == 1, (proc.stdout, proc.stderr)
    assert rows_read(proc, str(path)) == 4
    assert rejects(out) == [
        ("2", "(record)", "not valid JSON (white space only)"),
        ("4", "(record)", "not valid JSON (white space only)"),
    ]
    calls = pl.read_parquet(out / "calls.parquet").sort("source_row")
    assert calls.select("call_sid", "source_row").rows() == [(sid(1), 1), (sid(2), 5)]


# --- a JSON integer longer than Python converts -------------------------------------------------


def test_a_5000_digit_json_integer_is_a_rejected_value(tmp_path: Path) -> None:
    """Python's int() refuses past 4300 digits (ValueError: today an internal error). The number
    is kept as its text: as a duration it is rejected at its row and column (exit 1), in a field
    the auditor does not read it changes nothing. A Calls page (its one call) and a Bulk Export
    file (line 2 of 3; line 3 has such a number in a field not read)."""
    huge = "1" + "0" * 4999
    page = calls_page(tmp_path / "page.json", [call(1, "2025-11-03 10:00:00", None, None)])
    doc = json.loads(page.read_text())
    doc["calls"][0]["duration"] = 0
    page.write_text(json.dumps(doc).replace('"duration": 0', f'"duration": {huge}'))
    out = tmp_path / "o1"
    proc = run_cli("validate", str(page), "--out", str(out))
    assert proc.returncode == 1, (proc.stdout, proc.stderr)
    assert [(r, c) for r, c, _ in rejects(out)] == [("1", "duration")]
    day = tmp_path / "day.json"
    day.write_bytes(
        bulk_line(1)
        + bulk_line(2).replace(b'"duration": "60"', f'"duration": {huge}'.encode())
        + bulk_line(3, raw=f', "queue_time": {huge}')
    )
    out = tmp_path / "o2"
    proc = run_cli("validate", str(day), "--out", str(out))
    assert proc.returncode == 1, (proc.stdout, proc.stderr)
    assert rows_read(proc, str(day)) == 3
    assert [(r, c) for r, c, _ in rejects(out)] == [("2", "duration")]
