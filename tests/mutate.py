"""A seeded mutator over the sample exports, and the check every mutated input must pass.

`mutate(source, seed)` turns one export file (sample_exports/ with its own-records samples,
tests/fixtures/, or a single Call resource taken from a sample page) into hostile bytes: one
to three mutations from truncated lines, missing / extra / shuffled / duplicated columns and
headers, BOM, Latin-1, UTF-16 and NUL bytes, 1 MB fields, empty and header-only files, truncated
gzip, JSON cut mid-object, wrong types in every column, dates out of range, negative and huge
numbers. Same source and seed, same bytes.

`check(case, workdir)` runs `auditor audit` in-process (`auditor.cli.main(argv)`) on the mutated
file, and returns what broke the contract: an exit code outside {0, 1, 2}, a traceback or an
internal error, an exit 2 that is not one line on stderr naming an input, a summary.json whose
per-file figures break rows read = accepted + rejected, that leaves the input out or disagrees
with the exit code. The case's seed also picks the options (`--dst`, `--period`, `--calls-csv`)
and whether the format is detected, the file then audited beside sample files (usage records
beside a call log: Console CSVs take their account from them; Twilio legs beside a PBX file, to
match), or forced with `--format` (the file alone, with `--account`), so that mutations which
defeat detection still reach the reader. Own records are always read with
`--records FILE --records-format NAME` beside a sample call log.

Used by tests/test_fuzz.py (a few hundred cases) and benchmarks/fuzz.py (10,000 and more).
"""

from __future__ import annotations

import contextlib
import copy
import gzip
import inspect
import io
import json
import os
import random
import re
import sys
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample_exports"
FIXTURES = ROOT / "tests" / "fixtures"
MB = 1 << 20

# --------------------------------------------------------------------------------------------
# Sources
# --------------------------------------------------------------------------------------------

# A FreePBX `cdr` table exported with a header (read with `--cdr-format freepbx_cdr`): three rows
# in tests/fixtures/pbx/. Its source keeps the name `builtin/freepbx_cdr.csv` it had when the rows
# were written here: a source's name seeds its mutations, so another name would draw other cases.
FREEPBX_CSV = (FIXTURES / "pbx" / "freepbx_cdr.csv").read_text(encoding="utf-8")


def _one_call_resource() -> bytes:
    """One fetched Call resource (`twilio-api-call`): the first record of a sample page."""
    page = json.loads((SAMPLES / "api_calls_2025-11_page0.json").read_text(encoding="utf-8"))
    return json.dumps(page["calls"][0], indent=2).encode()


@dataclass(frozen=True)
class Source:
    """One export to mutate. `shape` says how it is parsed: csv, json (a document), jsonl,
    parquet; `gz` that the file is gzipped; `args` what the audit needs to read it."""

    name: str  # as the fuzz reports name it: the path under the repository, or builtin/...
    kind: str  # calls | usage | cdr | records
    shape: str
    format: str  # the reader's name, for `--format` (records: the name the audit prints)
    gz: bool = False
    args: tuple[str, ...] = ()
    builtin: Callable[[], bytes] | None = field(default=None, compare=False)

    @property
    def filename(self) -> str:
        return Path(self.name).name

    def read(self) -> bytes:
        return self.builtin() if self.builtin else (ROOT / self.name).read_bytes()


FORMATS = {
    ("calls", "json"): "twilio-api-calls",
    ("calls", "jsonl"): "twilio-bulk-export",
    ("calls", "parquet"): "twilio-calls-parquet",
    ("calls", "csv"): "twilio-console-csv",
    ("usage", "json"): "twilio-api-usage",
    ("usage", "csv"): "twilio-usage-csv",
    ("usage", "parquet"): "twilio-usage-parquet",
}


def _s(path: str, kind: str, shape: str, fmt: str | None = None, **kw: object) -> Source:
    return Source(path, kind, shape, fmt or FORMATS[kind, shape], **kw)  # type: ignore[arg-type]


SOURCES: tuple[Source, ...] = (
    _s("sample_exports/api_calls_2025-11_page0.json", "calls", "json"),
    _s("sample_exports/api_calls_2025-11_page1.json", "calls", "json"),
    _s("sample_exports/bulk_export/2025-11-16.json.gz", "calls", "jsonl", gz=True),
    _s("sample_exports/bulk_export/2025-11-19.json.gz", "calls", "jsonl", gz=True),
    _s("sample_exports/calls_2025-11-24_to_30.parquet", "calls", "parquet"),
    _s("sample_exports/console_calls_2025-03-09_new_york.csv", "calls", "csv"),
    _s("sample_exports/console_calls_2025-11_new_york.csv", "calls", "csv"),
    _s("sample_exports/usage/2025-03_monthly.csv", "usage", "csv"),
    _s("sample_exports/usage/2025-11_daily_calls.parquet", "usage", "parquet"),
    _s("sample_exports/usage/2025-11_monthly.json", "usage", "json"),
    _s("sample_exports/pbx/asterisk/Master.csv", "cdr", "csv", "asterisk-cdr-csv"),
    _s("sample_exports/pbx/freeswitch/Master.csv", "cdr", "csv", "freeswitch-cdr-csv"),
    _s("sample_exports/pbx/cucm/cdr_StandAloneCluster_01_202512010000_1", "cdr", "csv", "cucm-cdr"),
    _s("tests/fixtures/twilio/calls_api_list.json", "calls", "json"),
    _s("tests/fixtures/twilio/twilio-python_call_read_full_page1.json", "calls", "json"),
    _s("tests/fixtures/twilio/twilio-python_usage_records_daily_read_full.json", "usage", "json"),
    _s("tests/fixtures/twilio/twilio-python_usage_records_monthly_read_full.json", "usage", "json"),
    _s("tests/fixtures/twilio/twilio-python_usage_records_read_full.json", "usage", "json"),
    _s("tests/fixtures/twilio/usage_records_api.json", "usage", "json"),
    _s("tests/fixtures/twilio/usage_records_daily_api.json", "usage", "json"),
    _s("tests/fixtures/pbx/asterisk_Master.csv", "cdr", "csv", "asterisk-cdr-csv"),
    _s("tests/fixtures/pbx/cucm_cdr.csv", "cdr", "csv", "cucm-cdr"),
    _s("tests/fixtures/pbx/freeswitch_cdr.csv", "cdr", "csv", "freeswitch-cdr-csv"),
    _s(
        "builtin/freepbx_cdr.csv",
        "cdr",
        "csv",
        "pbx-custom-csv",
        args=("--cdr-format", "freepbx_cdr"),
        builtin=FREEPBX_CSV.encode,
    ),
    _s("builtin/api_call.json", "calls", "json", "twilio-api-call", builtin=_one_call_resource),
    # your own records (`--records FILE --records-format NAME`), beside Twilio call logs
    _s(
        "sample_exports/records/notifications_2025-11.csv",
        "records",
        "csv",
        "notification-log",
        args=("--records-format", "notification_log"),
    ),
    _s(
        "sample_exports/records/salesforce_tasks_2025-11.csv",
        "records",
        "csv",
        "salesforce-task",
        args=("--records-format", "salesforce_task"),
    ),
    _s(
        "sample_exports/records/ai_sessions_2025-11.jsonl.gz",
        "records",
        "jsonl",
        "ai-agent-sessions",
        gz=True,
        args=("--records-format", "ai_agent_sessions"),
    ),
)
BY_NAME = {s.name: s for s in SOURCES}

# What the audit reads beside the mutated file so that its path runs whole: a call log needs the
# usage records (Console CSVs carry no account SID: the audit takes it from them), a PBX CDR file
# Twilio legs to match.
USAGE_COMPANION = "sample_exports/usage/2025-11_monthly.json"
CALLS_COMPANION = "sample_exports/calls_2025-11-24_to_30.parquet"
COMPANIONS = {
    "calls": (USAGE_COMPANION,),
    "usage": (),
    "cdr": (CALLS_COMPANION,),
    "records": (CALLS_COMPANION,),  # Twilio call logs must be among the PATHS
}

# --------------------------------------------------------------------------------------------
# Hostile values
# --------------------------------------------------------------------------------------------

BAD_DATES = (
    "0001-01-01 00:00:00",
    "9999-12-31 23:59:59",
    "10000-01-01 00:00:00",
    "1969-12-31 23:59:59",
    "1677-09-21 00:12:43",
    "2262-04-12 00:00:00",
    "2025-02-30 10:00:00",
    "2025-13-01 00:00:00",
    "2025-11-01 24:00:00",
    "2025-11-01 23:59:60",
    "-0001-01-01 00:00:00",
    "0000-00-00 00:00:00",
    "9999-12-31T23:59:59Z",
    "0000-01-01T00:00:00Z",
    "2025-11-16T14:33:28+25:00",
    "2025-11-16T14:33:28.9999999999Z",
    "2025-11-16",
    "Fri, 31 Dec 9999 23:59:59 +0000",
    "Mon, 01 Jan 0001 00:00:00 +0000",
    "Sun, 31 Nov 2025 25:61:00 +0000",
    "Tue, 01 Jan 2030 00:00:00 +9999",
    "Mon, 01 Jan 1900 00:00:00 -2400",
    "-1",
    "0",
    "99999999999",
    "253402300800",
    "-62135596801",
    "9223372036854775807",
    "-9223372036854775808",
    "18446744073709551616",
    "1e10",
    "1763740603.5",
)
BAD_NUMBERS = (
    "-1",
    "-0",
    "-42",
    "-9223372036854775808",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775809",
    "99999999999999999999999999999",
    "4294967296",
    "2147483648",
    "1e309",
    "-1e309",
    "1e-400",
    "NaN",
    "inf",
    "-inf",
    "1.5",
    "0.0000000000000000000001",
    "0x10",
    "1,000",
    " 42 ",
    "+42",
    "٣",
    "42abc",
    "",
)
BAD_TEXT = (
    "abc",
    "true",
    "null",
    "None",
    "[]",
    "{}",
    '{"a": 1}',
    "\\N",
    '"',
    "😀",
    "CA" + "z" * 32,
    "AC" + "0" * 32,
    "=1+1",
    "\t",
    " ",
    "\u200b",
    "\ufeff",
    "a\r\nb",
    "a\nb",
)
BAD_JSON: tuple[object, ...] = (
    None,
    True,
    False,
    0,
    -1,
    1.5,
    10**25,
    -(10**25),
    1e308,
    "",
    "abc",
    [],
    [1, 2],
    {},
    {"a": {"b": None}},
    "9" * 40,
)


def _fresh(value: object) -> object:
    """A private copy of a hostile JSON value: a shared [] or {} must never be mutated (it would
    leak into later cases, or end up inside itself)."""
    return copy.deepcopy(value)


DATE_RE = re.compile(
    r"^\d{4}-\d\d-\d\d|^\w{3}, \d\d \w{3} \d{4}|^1[5-9]\d{8}$|^(\d{4}/\d\d/\d\d|\d\d/\d\d/\d{4})"
)
NUMBER_RE = re.compile(r"^-?\d+(\.\d+)?$")


def _looks(values: list[str], pattern: re.Pattern[str]) -> bool:
    present = [v for v in values if v not in ("", "0")]
    return bool(present) and sum(bool(pattern.search(v)) for v in present) * 2 > len(present)


def _big(rng: random.Random) -> str:
    """A 1 MB field: digits, text, or text full of the characters CSV and JSON care about."""
    kind = rng.choice(("digits", "text", "csv"))
    if kind == "digits":
        return "9" * MB
    if kind == "text":
        return "x" * MB
    return ('a,"b"\n\\' * (MB // 8))[:MB]


# --------------------------------------------------------------------------------------------
# CSV: lines of raw tokens (quotes kept, so Asterisk's quoting style survives a mutation)
# --------------------------------------------------------------------------------------------


def _tokens(line: str) -> list[str]:
    """Split one CSV line into raw fields, quotes included; joining them with ',' gives it back."""
    out, cur, quoted = [], [], False
    for ch in line:
        if ch == '"':
            quoted = not quoted
        if ch == "," and not quoted:
            out.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    out.append("".join(cur))
    return out


def _unquote(token: str) -> str:
    if len(token) >= 2 and token[0] == token[-1] == '"':
        return token[1:-1].replace('""', '"')
    return token


def _quote(value: str, like: str) -> str:
    """`value` as a CSV field, quoted if the field it replaces was or if it must be."""
    if like.startswith('"') or any(c in value for c in ',"\r\n'):
        return '"' + value.replace('"', '""') + '"'
    return value


@dataclass
class CsvDoc:
    lines: list[list[str]]  # raw tokens per line
    header: int  # lines before the data (1: a header, 2: CUCM names + types, 0: none)
    eol: str = "\n"

    @classmethod
    def parse(cls, text: str, header: int) -> CsvDoc:
        eol = "\r\n" if "\r\n" in text else "\n"
        rows = [_tokens(line) for line in text.split(eol) if line != ""]
        return cls(rows, header, eol)

    def dump(self) -> str:
        return "".join(",".join(row) + self.eol for row in self.lines)

    @property
    def data(self) -> range:
        return range(self.header, len(self.lines))

    def width(self) -> int:
        return max((len(r) for r in self.lines), default=0)

    def column(self, j: int) -> list[str]:
        return [_unquote(self.lines[i][j]) for i in self.data if j < len(self.lines[i])]


def _csv_header_lines(data: str) -> int:
    first = data.split("\n", 1)[0]
    if first.startswith('"cdrRecordType"') or first.startswith("cdrRecordType"):
        return 2
    # a header is a line of names: no digits in its fields (Console CSV, usage CSV, FreePBX)
    return 0 if re.search(r"\d", first) else 1


def _csv_mutations(doc: CsvDoc, rng: random.Random) -> list[tuple[str, Callable[[], None]]]:
    lines, width = doc.lines, doc.width()

    def pick_row() -> int:
        """A data line if there is one, else any line (one is made if the file has none)."""
        if not lines:
            lines.append([""])
        low = doc.header if len(lines) > doc.header else 0
        return rng.randrange(low, len(lines))

    def pick_col() -> int:
        return rng.randrange(max(width, 1))

    def set_cell(i: int, j: int, value: str) -> None:
        row = lines[i]
        while len(row) <= j:
            row.append("")
        row[j] = _quote(value, row[j])

    def drop_column() -> None:
        j = pick_col()
        for row in lines:
            if j < len(row):
                del row[j]

    def drop_header_column() -> None:
        if doc.header and lines[0]:
            del lines[0][rng.randrange(len(lines[0]))]

    def extra_column() -> None:
        j = rng.randrange(width + 1)
        for n, row in enumerate(lines):
            row.insert(min(j, len(row)), "extra" if n < doc.header else rng.choice(BAD_TEXT))

    def extra_fields() -> None:
        for _ in range(rng.randint(1, 3)):
            lines[pick_row()].extend(["x"] * rng.randint(1, 5))

    def missing_fields() -> None:
        for _ in range(rng.randint(1, 3)):
            row = lines[pick_row()]
            del row[rng.randint(0, len(row)) :]

    def shuffle_header() -> None:
        rng.shuffle(lines[0])

    def shuffle_columns() -> None:
        order = list(range(width))
        rng.shuffle(order)
        for n, row in enumerate(lines):
            lines[n] = [row[j] for j in order if j < len(row)]

    def duplicate_header() -> None:
        head = lines[0]
        if len(head) > 1:
            a, b = rng.sample(range(len(head)), 2)
            head[a] = head[b]

    def repeat_header() -> None:
        lines.insert(rng.randint(doc.header, len(lines)), list(lines[0]))

    def duplicate_rows() -> None:
        for _ in range(rng.randint(1, 5)):
            i = pick_row()
            lines.insert(rng.randint(doc.header, len(lines)), list(lines[i]))

    def big_field() -> None:
        set_cell(pick_row(), pick_col(), _big(rng))

    def header_only() -> None:
        del lines[max(doc.header, 1) :]

    def wrong_types_row() -> None:
        i = pick_row()
        for j in range(len(lines[i])):
            set_cell(i, j, rng.choice(BAD_TEXT + BAD_NUMBERS + BAD_DATES))

    def wrong_types_column() -> None:
        j = pick_col()
        pool = rng.choice((BAD_TEXT, BAD_NUMBERS, BAD_DATES))
        for i in doc.data:
            set_cell(i, j, rng.choice(pool))

    def columns_like(pattern: re.Pattern[str]) -> list[int]:
        return [j for j in range(width) if _looks(doc.column(j), pattern)] or [pick_col()]

    def bad_dates() -> None:
        cols = columns_like(DATE_RE)
        for _ in range(rng.randint(1, 6)):
            set_cell(pick_row(), rng.choice(cols), rng.choice(BAD_DATES))

    def bad_numbers() -> None:
        cols = columns_like(NUMBER_RE)
        for _ in range(rng.randint(1, 6)):
            set_cell(pick_row(), rng.choice(cols), rng.choice(BAD_NUMBERS))

    def blank_lines() -> None:
        for _ in range(rng.randint(1, 3)):
            lines.insert(rng.randint(0, len(lines)), [rng.choice(("", " ", "\t", ",,,"))])

    def unbalanced_quote() -> None:
        row = lines[pick_row()]
        if not row:
            row.append("")
        j = rng.randrange(len(row))
        row[j] = row[j][: rng.randint(0, len(row[j]))] + '"' + row[j][len(row[j]) // 2 :]

    def other_delimiter() -> None:
        sep = rng.choice((";", "\t", "|"))
        for n, row in enumerate(lines):
            lines[n] = [sep.join(row)]

    return [
        ("drop-column", drop_column),
        ("drop-header-column", drop_header_column),
        ("extra-column", extra_column),
        ("extra-fields", extra_fields),
        ("missing-fields", missing_fields),
        ("shuffle-header", shuffle_header),
        ("shuffle-columns", shuffle_columns),
        ("duplicate-header", duplicate_header),
        ("repeat-header", repeat_header),
        ("duplicate-rows", duplicate_rows),
        ("big-field", big_field),
        ("header-only", header_only),
        ("wrong-types-row", wrong_types_row),
        ("wrong-types-column", wrong_types_column),
        ("bad-dates", bad_dates),
        ("bad-numbers", bad_numbers),
        ("blank-lines", blank_lines),
        ("unbalanced-quote", unbalanced_quote),
        ("other-delimiter", other_delimiter),
    ]


# --------------------------------------------------------------------------------------------
# JSON documents and JSON lines: records as dicts
# --------------------------------------------------------------------------------------------


def _records_key(doc: object) -> str | None:
    if isinstance(doc, dict):
        for key, value in doc.items():
            if isinstance(value, list) and value and all(isinstance(r, dict) for r in value):
                return key
    return None


def _json_mutations(
    records: list[object], rng: random.Random, dupes: list[tuple[int, str, object]]
) -> list[tuple[str, Callable[[], None]]]:
    """Mutations of a list of records (dicts); `dupes` collects duplicate keys to write."""

    def dicts() -> list[dict]:  # the records as they are now (mutations change them)
        return [r for r in records if isinstance(r, dict)]

    def keys() -> list[str]:
        return sorted({k for r in dicts() for k in r})

    def pick() -> dict:
        return rng.choice(dicts()) if dicts() else {}

    def pick_key() -> str:
        return rng.choice(keys()) if keys() else "sid"

    def keys_like(pattern: re.Pattern[str]) -> list[str]:
        like = [k for k in keys() if _looks([str(r.get(k) or "") for r in dicts()], pattern)]
        return like or [pick_key()]

    def drop_key() -> None:
        key = pick_key()
        for r in dicts() if rng.random() < 0.7 else [pick()]:
            r.pop(key, None)

    def extra_key() -> None:
        for r in dicts():
            r[rng.choice(("extra", "", "sid ", "SID", "🙂"))] = _fresh(rng.choice(BAD_JSON))

    def duplicate_key() -> None:
        if records:
            i = rng.randrange(len(records))
            if isinstance(records[i], dict) and records[i]:
                dupes.append((i, rng.choice(sorted(records[i])), _fresh(rng.choice(BAD_JSON))))

    def rename_keys() -> None:
        names_now = keys()
        if len(names_now) > 1:
            perm = names_now[:]
            rng.shuffle(perm)
            names = dict(zip(names_now, perm, strict=True))
            for n, r in enumerate(records):
                if isinstance(r, dict):
                    records[n] = {names[k]: v for k, v in r.items()}

    def duplicate_records() -> None:
        for _ in range(rng.randint(1, 5)):
            if records:
                records.insert(rng.randint(0, len(records)), json.loads(json.dumps(pick())))

    def big_field() -> None:
        pick()[pick_key()] = _big(rng)

    def wrong_types_record() -> None:
        r = pick()
        for k in list(r):
            r[k] = _fresh(rng.choice(BAD_JSON + BAD_TEXT + BAD_NUMBERS + BAD_DATES))

    def wrong_types_key() -> None:
        key = pick_key()
        for r in dicts():
            r[key] = _fresh(rng.choice(BAD_JSON + BAD_NUMBERS))

    def bad_dates() -> None:
        ks = keys_like(DATE_RE)
        for _ in range(rng.randint(1, 6)):
            pick()[rng.choice(ks)] = rng.choice(BAD_DATES)

    def bad_numbers() -> None:
        ks = keys_like(NUMBER_RE)
        for _ in range(rng.randint(1, 6)):
            value = rng.choice(BAD_NUMBERS)
            with contextlib.suppress(ValueError):
                if rng.random() < 0.5 and value.strip():
                    value = json.loads(value.strip())  # as a JSON number where it is one
            pick()[rng.choice(ks)] = value

    def record_not_object() -> None:
        if records:
            records[rng.randrange(len(records))] = _fresh(rng.choice(BAD_JSON))

    def no_records() -> None:
        records.clear()

    return [
        ("drop-key", drop_key),
        ("extra-key", extra_key),
        ("duplicate-key", duplicate_key),
        ("rename-keys", rename_keys),
        ("duplicate-records", duplicate_records),
        ("big-field", big_field),
        ("wrong-types-record", wrong_types_record),
        ("wrong-types-key", wrong_types_key),
        ("bad-dates", bad_dates),
        ("bad-numbers", bad_numbers),
        ("record-not-object", record_not_object),
        ("header-only", no_records),
    ]


def _dump_record(record: object, dupes: list[tuple[str, object]], indent: int | None) -> str:
    text = json.dumps(record, indent=indent, ensure_ascii=False)
    for key, value in dupes:  # a key twice in one object: valid JSON syntax, ambiguous meaning
        pair = f"{json.dumps(key)}: {json.dumps(value)}, "
        text = text.replace("{", "{" + pair, 1)
    return text


def _dump_json(
    doc: object, key: str | None, dupes: list[tuple[int, str, object]], indent: int | None
) -> str:
    if key is None or not dupes:
        return json.dumps(doc, indent=indent, ensure_ascii=False)
    records = doc[key]  # type: ignore[index]
    marker = "\x00RECORDS\x00"
    shell = json.dumps({**doc, key: marker}, indent=indent, ensure_ascii=False)  # type: ignore[dict-item]
    by_index: dict[int, list[tuple[str, object]]] = {}
    for i, k, v in dupes:
        by_index.setdefault(i, []).append((k, v))
    body = "[" + ", ".join(
        _dump_record(r, by_index.get(i, []), None) for i, r in enumerate(records)
    )
    return shell.replace(json.dumps(marker), body + "]")


# --------------------------------------------------------------------------------------------
# Parquet: a frame
# --------------------------------------------------------------------------------------------


def _parquet_mutations(
    box: list[pl.DataFrame], rng: random.Random
) -> list[tuple[str, Callable[[], None]]]:
    def frame() -> pl.DataFrame:
        return box[0]

    def pick_col() -> str:
        return rng.choice(frame().columns)

    def drop_column() -> None:
        box[0] = frame().drop(pick_col())

    def extra_column() -> None:
        box[0] = frame().with_columns(pl.lit(rng.choice(BAD_TEXT)).alias("extra"))

    def shuffle_names() -> None:
        names = frame().columns
        perm = names[:]
        rng.shuffle(perm)
        box[0] = frame().rename(dict(zip(names, perm, strict=True)))

    def wrong_type_column() -> None:
        col, n = pick_col(), frame().height
        values = rng.choice(
            (
                pl.Series(col, [rng.randint(-(2**62), 2**62) for _ in range(n)], pl.Int64),
                pl.Series(col, [rng.choice((1.5, float("nan"), float("inf"))) for _ in range(n)]),
                pl.Series(col, [rng.random() < 0.5 for _ in range(n)]),
                pl.Series(col, [[1, 2]] * n),
                pl.Series(col, [{"a": "b"}] * n),
                pl.Series(col, [None] * n, pl.Null),
                pl.Series(col, [b"\xff\x00"] * n, pl.Binary),
                pl.Series(col, [rng.choice(BAD_TEXT + BAD_NUMBERS) for _ in range(n)]),
                pl.Series(col, [None] * n, pl.Date),
            )
        )
        box[0] = frame().with_columns(values)

    def bad_dates() -> None:
        df = frame()
        stamps = [c for c, t in df.schema.items() if isinstance(t, pl.Datetime)]
        texts = [c for c, t in df.schema.items() if t == pl.String]
        if stamps and rng.random() < 0.6:
            col = rng.choice(stamps)
            values = rng.choice(
                (
                    pl.Series(col, [-(2**62)] * df.height).cast(pl.Datetime("us", "UTC")),
                    pl.Series(col, [2**62] * df.height).cast(pl.Datetime("us", "UTC")),
                    pl.Series(col, [0] * df.height).cast(pl.Datetime("ns")),
                    pl.Series(col, [253402300799] * df.height).cast(pl.Datetime("ms", "UTC")),
                    df[col].dt.replace_time_zone(None).dt.replace_time_zone("Asia/Kathmandu"),
                )
            )
            box[0] = df.with_columns(values)
        elif texts:
            col = rng.choice(texts)
            box[0] = df.with_columns(
                pl.Series(col, [rng.choice(BAD_DATES) for _ in range(df.height)])
            )

    def bad_numbers() -> None:
        df = frame()
        col = rng.choice([c for c, t in df.schema.items() if t.is_numeric()] or df.columns)
        box[0] = df.with_columns(
            pl.Series(col, [rng.choice(BAD_NUMBERS) for _ in range(df.height)])
        )

    def big_field() -> None:
        df = frame()
        col = rng.choice([c for c, t in df.schema.items() if t == pl.String] or df.columns)
        big = _big(rng)
        box[0] = df.with_columns(
            pl.when(pl.int_range(pl.len()) == rng.randrange(max(df.height, 1)))
            .then(pl.lit(big))
            .otherwise(pl.col(col).cast(pl.String))
            .alias(col)
        )

    def duplicate_rows() -> None:
        df = frame()
        box[0] = pl.concat([df, df.sample(min(5, df.height), seed=rng.randrange(2**32))])

    def nulls() -> None:
        df = frame()
        box[0] = df.with_columns(pl.lit(None, dtype=df.schema[c]).alias(c) for c in df.columns)

    def no_rows() -> None:
        box[0] = frame().clear()

    return [
        ("drop-column", drop_column),
        ("extra-column", extra_column),
        ("shuffle-header", shuffle_names),
        ("wrong-types-column", wrong_type_column),
        ("bad-dates", bad_dates),
        ("bad-numbers", bad_numbers),
        ("big-field", big_field),
        ("duplicate-rows", duplicate_rows),
        ("nulls", nulls),
        ("header-only", no_rows),
    ]


def _write_parquet(df: pl.DataFrame, rng: random.Random, duplicate_name: bool) -> bytes:
    buf = io.BytesIO()
    if duplicate_name and df.width > 1:  # polars cannot hold two columns of one name; arrow can
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = df.to_arrow()
        names = table.column_names
        a, b = rng.sample(range(len(names)), 2)
        names[a] = names[b]
        pq.write_table(pa.Table.from_arrays(table.columns, names=names), buf)
    else:
        df.write_parquet(buf)
    return buf.getvalue()


# --------------------------------------------------------------------------------------------
# Bytes
# --------------------------------------------------------------------------------------------


def _byte_mutations(box: list[bytes], rng: random.Random) -> list[tuple[str, Callable[[], None]]]:
    def at() -> int:
        return rng.randint(0, len(box[0]))

    def insert(chunk: bytes) -> None:
        i = at()
        box[0] = box[0][:i] + chunk + box[0][i:]

    def bom() -> None:
        box[0] = b"\xef\xbb\xbf" + box[0]

    def bom_twice() -> None:  # not UTF-8 text a reader should take as is
        box[0] = b"\xef\xbb\xbf\xef\xbb\xbf" + box[0]

    def latin1() -> None:
        for _ in range(rng.randint(1, 3)):
            insert(rng.choice((b"Caf\xe9", b"\xe9", b"M\xfcller", b"\xff\xfe", b"\xc3", b"\x80")))

    def utf16() -> None:
        text = box[0].decode("utf-8", "replace")
        box[0] = text.encode(rng.choice(("utf-16", "utf-16-le", "utf-16-be")))

    def nul() -> None:
        for _ in range(rng.randint(1, 4)):
            insert(b"\x00" * rng.choice((1, 1, 8)))

    def truncate() -> None:
        box[0] = box[0][: at()]

    def truncate_line() -> None:  # cut one line short, keep the lines after it
        lines = box[0].split(b"\n")
        i = rng.randrange(len(lines))
        lines[i] = lines[i][: rng.randint(0, len(lines[i]))]
        box[0] = b"\n".join(lines)

    def crlf() -> None:
        box[0] = box[0].replace(b"\n", b"\r\n")

    def lone_cr() -> None:  # classic Mac OS line ends
        box[0] = box[0].replace(b"\n", b"\r")

    def no_final_newline() -> None:
        box[0] = box[0].rstrip(b"\r\n")

    def flip() -> None:
        data = bytearray(box[0])
        for _ in range(rng.randint(1, 8)):
            if data:
                data[rng.randrange(len(data))] = rng.randrange(256)
        box[0] = bytes(data)

    def empty() -> None:
        box[0] = rng.choice((b"", b"\n", b"   \n\n", b"\xef\xbb\xbf"))

    return [
        ("bom", bom),
        ("bom", bom),
        ("bom-twice", bom_twice),
        ("latin-1", latin1),
        ("utf-16", utf16),
        ("nul", nul),
        ("truncate", truncate),
        ("truncate-line", truncate_line),
        ("crlf", crlf),
        ("crlf", crlf),
        ("lone-cr", lone_cr),
        ("no-final-newline", no_final_newline),
        ("flip-bytes", flip),
        ("empty", empty),
    ]


def _gzip(data: bytes, rng: random.Random, names: list[str]) -> bytes:
    """Gzip `data`, sometimes broken: cut short, bad CRC, garbage after it, or two members."""
    packed = gzip.compress(data, mtime=0)
    how = rng.choice(("ok", "ok", "ok", "truncated", "truncated", "bad-crc", "trailing", "two"))
    if how == "truncated":
        names.append("truncated-gzip")
        return packed[: rng.randint(2, max(2, len(packed) - 1))]
    if how == "bad-crc":
        names.append("gzip-bad-crc")
        return packed[:-8] + bytes(8)
    if how == "trailing":
        names.append("gzip-trailing-garbage")
        return packed + b"garbage\n"
    if how == "two":
        names.append("gzip-two-members")
        return packed + gzip.compress(data[: len(data) // 2], mtime=0)
    return packed


# --------------------------------------------------------------------------------------------
# The mutator
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Mutated:
    source: Source
    seed: int
    data: bytes
    mutation: str  # the mutations applied, `+`-joined

    @property
    def filename(self) -> str:
        return self.source.filename


def mutate(source: Source, seed: int) -> Mutated:
    """`source`'s bytes with one to three mutations, chosen by `seed` (deterministic)."""
    rng = random.Random(f"{source.name}:{seed}")
    names: list[str] = []
    raw = source.read()
    plain = gzip.decompress(raw) if source.gz else raw
    structural = rng.random() < 0.75
    n = rng.choice((1, 1, 1, 2, 2, 3))

    if source.shape == "parquet":
        box_df = [pl.read_parquet(io.BytesIO(plain))]
        duplicate_name = False
        if structural:
            options = _parquet_mutations(box_df, rng)
            for _ in range(n):
                name, fn = rng.choice(options)
                names.append(name)
                fn()
            if rng.random() < 0.1:
                duplicate_name = True
                names.append("duplicate-header")
        data = _write_parquet(box_df[0], rng, duplicate_name)
        byte_odds = 0.15 if structural else 1.0  # mostly a readable Parquet file, sometimes not
    else:
        text = plain.decode("utf-8")
        if structural:
            text = _mutate_text(source, text, rng, n, names)
        data = text.encode("utf-8")
        byte_odds = 0.3 if structural else 1.0

    if rng.random() < byte_odds:
        box = [data]
        options = _byte_mutations(box, rng)
        for _ in range(1 if structural else n):
            name, fn = rng.choice(options)
            names.append(name)
            fn()
        data = box[0]

    if source.gz:
        if rng.random() < 0.1:
            names.append("gunzipped")
        else:
            data = _gzip(data, rng, names)
    elif rng.random() < 0.05:
        names.append("gzipped")
        data = _gzip(data, rng, names)
    return Mutated(source, seed, data, "+".join(names) or "none")


def _mutate_text(source: Source, text: str, rng: random.Random, n: int, names: list[str]) -> str:
    if source.shape == "csv":
        doc = CsvDoc.parse(text, _csv_header_lines(text))
        options = _csv_mutations(doc, rng)
        for _ in range(n):
            name, fn = rng.choice(options)
            names.append(name)
            fn()
        return doc.dump()
    if source.shape == "jsonl":
        records: list[object] = [json.loads(line) for line in text.splitlines() if line.strip()]
        dupes: list[tuple[int, str, object]] = []
        options = _json_mutations(records, rng, dupes)
        cut = None
        for _ in range(n):
            if rng.random() < 0.15:
                names.append("json-cut")
                cut = rng.randrange(max(len(records), 1))
                continue
            name, fn = rng.choice(options)
            names.append(name)
            fn()
        by_index: dict[int, list[tuple[str, object]]] = {}
        for i, k, v in dupes:
            by_index.setdefault(i, []).append((k, v))
        lines = [_dump_record(r, by_index.get(i, []), None) for i, r in enumerate(records)]
        lines = [line.replace("\n", " ") for line in lines]
        if lines and rng.random() < 0.04:
            names.append("deep-nesting")
            i = rng.randrange(len(lines))
            lines[i] = _deep_value(lines[i], rng)
        if cut is not None and lines:
            lines[cut] = lines[cut][: rng.randint(1, max(1, len(lines[cut]) - 1))]
        return "".join(line + "\n" for line in lines)
    # a JSON document: a page whose records sit under one key, or one resource
    doc = json.loads(text)
    key = _records_key(doc)
    records = doc[key] if key else [doc]
    dupes: list[tuple[int, str, object]] = []
    options = _json_mutations(records, rng, dupes)
    doc_options: list[tuple[str, Callable[[], object]]] = [
        ("records-not-list", lambda: {**doc, key: _fresh(rng.choice(BAD_JSON[:11]))}),
        ("no-records-key", lambda: {k: v for k, v in doc.items() if k != key}),
        ("top-level-list", lambda: records),
        ("top-level-scalar", lambda: _fresh(rng.choice(BAD_JSON[:11]))),
    ]
    cut = replaced = False
    for _ in range(n):
        roll = rng.random()
        if roll < 0.15:
            names.append("json-cut")
            cut = True
        elif roll < 0.25 and not replaced:
            name, fn = rng.choice(doc_options if key else doc_options[2:])
            names.append(name)
            doc, replaced = fn(), True
        else:
            name, fn = rng.choice(options)
            names.append(name)
            fn()
    indent = rng.choice((2, None))
    if replaced:
        out = json.dumps(doc, indent=indent, ensure_ascii=False)
    elif key is None:  # one resource: what the mutations left of it
        if len(records) == 1:
            out = _dump_record(records[0], [(k, v) for _, k, v in dupes], indent)
        else:
            out = json.dumps(records, indent=indent, ensure_ascii=False)
    else:
        out = _dump_json(doc, key, dupes, indent)
    if rng.random() < 0.04:
        names.append("deep-nesting")
        out = _deep_value(out, rng)
    if cut:
        out = out[: rng.randint(1, max(1, len(out) - 1))]
    return out


SCALAR = re.compile(r'": ?("[^"\\]*"|-?\d+(\.\d+)?|null|true|false)')


def _deep_value(text: str, rng: random.Random) -> str:
    """One value of the JSON text replaced by arrays nested thousands deep (still valid JSON:
    Python's json gives up past about a thousand levels, with a RecursionError)."""
    found = list(SCALAR.finditer(text))
    if not found:
        return text
    m = rng.choice(found)
    depth = rng.choice((1_000, 100_000))
    return text[: m.start(1)] + "[" * depth + "]" * depth + text[m.end(1) :]


# --------------------------------------------------------------------------------------------
# The check
# --------------------------------------------------------------------------------------------


ACCOUNT = "AC5f1a9e0c7b3d24e6a8f0b1c2d3e4f5a6"  # the sample account


@dataclass(frozen=True)
class Case:
    source: Source
    seed: int

    @property
    def forced(self) -> bool:
        """Whether the format is forced (`--format`): then the file alone is audited, read by
        its reader whatever detection would make of it, so mutations reach deeper. Never for
        records (read by --records-format, never detected) nor PBX CDRs (audited alone they have
        no call logs to be matched with: exit 2 by design, so they come with their companion)."""
        if self.source.kind in ("records", "cdr"):
            return False
        return random.Random(f"forced:{self.seed}").random() < 0.4

    def companions(self) -> list[Path]:
        """Sample files audited beside the mutated one (none when the format is forced: it
        applies to every input)."""
        if self.forced:
            return []
        return [ROOT / c for c in COMPANIONS[self.source.kind] if c != self.source.name]

    def _account(self) -> str:
        """`--account` for a forced case: the account the unmutated source names, if any (a
        --account no input carries is exit 2), else the sample account (a Console CSV)."""
        data = self.source.read()
        if self.source.gz:
            data = gzip.decompress(data)
        found = re.search(rb"AC[0-9a-f]{32}", data)
        return found.group().decode() if found else ACCOUNT

    def options(self) -> list[str]:
        """The audit's options: the README's, with --dst, --period, --calls-csv by seed."""
        rng = random.Random(f"options:{self.seed}")
        args = ["--tz", "America/New_York", "--pbx-tz", "America/New_York"]
        args += ["--dst", rng.choice(("earliest", "earliest", "latest", "reject"))]
        args += ["--period", rng.choice(("month", "month", "day"))]
        if rng.random() < 0.3:
            args.append("--calls-csv")
        if self.forced:  # no usage records to take the account from
            args += ["--format", self.source.format, "--account", self._account()]
        return [*args, *self.source.args]


@dataclass
class Outcome:
    case: Case
    mutation: str
    exit_code: int | None
    problems: list[str]
    stdout: str = ""
    stderr: str = ""
    detail: str = ""  # the traceback, when one escaped

    @property
    def ok(self) -> bool:
        return not self.problems

    def first_line(self) -> str:
        return self.problems[0].splitlines()[0] if self.problems else ""


def run_main(argv: list[str]) -> tuple[int | None, str, str, str]:
    """`auditor ARGV` in this process: (exit code, stdout, stderr, traceback of what escaped)."""
    from auditor import cli

    out, err = io.StringIO(), io.StringIO()
    code: object = None
    detail = ""
    takes_argv = bool(inspect.signature(cli.main).parameters)
    saved_argv = sys.argv
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                if takes_argv:
                    code = cli.main(argv)
                else:
                    sys.argv = ["auditor", *argv]
                    code = cli.main()
            except SystemExit as exc:
                code = exc.code
    except KeyboardInterrupt:
        raise
    except BaseException:  # anything main let escape is a bug: keep the traceback
        detail = traceback.format_exc()
    finally:
        sys.argv = saved_argv
    if code is None and not detail:
        code = 0
    return (code if isinstance(code, int) else None), out.getvalue(), err.getvalue(), detail


def check(case: Case, workdir: Path, mutated: Mutated | None = None) -> Outcome:
    """Audit the mutated input in-process under `workdir` (which must be empty) and list every
    broken promise."""
    m = mutated or mutate(case.source, case.seed)
    folder = workdir / "in"
    folder.mkdir(parents=True)
    target = folder / m.filename
    target.write_bytes(m.data)
    inputs = [str(target)] + [str(c) for c in case.companions()]
    if case.source.kind == "records":  # records are read through --records only
        inputs = [*inputs[1:], "--records", str(target)]
    out = workdir / "out"
    code, stdout, stderr, detail = run_main(["audit", *inputs, "--out", str(out), *case.options()])
    problems: list[str] = []
    if detail:
        problems.append("exception escaped main: " + detail.strip().splitlines()[-1])
    if code not in (0, 1, 2):
        problems.append(f"exit code {code!r}")
    for stream, text in (("stdout", stdout), ("stderr", stderr)):
        if "Traceback" in text:
            problems.append(f"traceback on {stream}: " + _last_line(text))
        if "internal error" in text:
            problems.append(f"internal error on {stream}: " + _line_with(text, "internal error"))
    if code == 2 and not problems:
        lines = [line for line in stderr.splitlines() if line.strip()]
        if len(lines) != 1 or not lines[0].startswith("auditor: error:"):
            problems.append(f"exit 2 without one error line on stderr: {stderr[:300]!r}")
        elif not any(str(f) in lines[0] for f in [target, *case.companions()]):
            problems.append(f"exit 2 error names no input: {lines[0][:300]}")
    elif code in (0, 1) and not problems:
        problems += _check_summary(out / "summary.json", str(target), code)
    return Outcome(case, m.mutation, code, problems, stdout, stderr, detail)


def _check_summary(path: Path, target: str, code: int) -> list[str]:
    if not path.exists():
        return [f"exit {code} but no summary.json"]
    try:
        summary = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        return [f"summary.json is not JSON: {exc}"]
    problems = []
    inputs = summary.get("inputs", [])
    for f in inputs:
        read, acc, rej = f["rows_read"], f["rows_accepted"], f["rows_rejected"]
        if read != acc + rej:
            problems.append(f"{f['file']}: rows read {read} != accepted {acc} + rejected {rej}")
    if target not in {f["file"] for f in inputs}:
        problems.append(f"the mutated input is not among summary.json's inputs (exit {code})")
    if summary.get("exit_code") != code:
        problems.append(f"summary.json exit_code {summary.get('exit_code')} but exit {code}")
    return problems


def _last_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else ""


def _line_with(text: str, needle: str) -> str:
    return next((line for line in text.splitlines() if needle in line), "")


def case_for(seed: int, index: int) -> Case:
    """The `index`-th case of a run seeded `seed`: a source and a mutation seed."""
    rng = random.Random(f"case:{seed}:{index}")
    return Case(rng.choice(SOURCES), rng.randrange(2**32))


@contextlib.contextmanager
def no_debug_env() -> Iterator[None]:
    """No AUDITOR_DEBUG while checking: main must turn every failure into one line itself."""
    saved = os.environ.pop("AUDITOR_DEBUG", None)
    try:
        yield
    finally:
        if saved is not None:
            os.environ["AUDITOR_DEBUG"] = saved


__all__ = [
    "SOURCES",
    "Case",
    "Mutated",
    "Outcome",
    "Source",
    "case_for",
    "check",
    "mutate",
    "no_debug_env",
    "run_main",
]
