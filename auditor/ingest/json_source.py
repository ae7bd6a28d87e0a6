"""JSON documents and JSON lines -> string frames with provenance.

Values are kept as text (`60` and `"60"` both become "60"), because exports disagree on whether
durations and prices are strings or numbers; the normaliser parses them once, with one set of rules.

Hostile input: JSON nested deeper than Python can parse is a one-line error for a document and an
error row for a JSON line (never a RecursionError); gzip is inflated under `--max-inflate` (see
`files`), also before polars inflates a JSON-lines file itself.
"""

from __future__ import annotations

import io
import json
import re
from typing import Any

import polars as pl

from auditor.errors import InputError
from auditor.ingest.base import ERROR, ERROR_COLUMN, SOURCE_ROW
from auditor.ingest.files import InputFile, decode_utf8
from auditor.ingest.line_ends import drop_empty_lines, restore_lines, unix_line_ends

TOO_DEEP = "JSON nested too deeply"
# Keys that make an object a page, not a record: a page's array (of any resource Twilio pages)
# and its paging fields (v2010's `next_page_uri`..., the newer APIs' `meta`). No call or usage
# record has one; a record holding one is a page nested where a record belongs.
PAGE_ARRAYS = ("calls", "usage_records", "recordings", "conferences", "transcriptions", "messages")
PAGING = ("next_page_uri", "previous_page_uri", "first_page_uri", "page_size", "num_pages", "meta")
MAX_INT_DIGITS = 4000  # under Python's int limit (sys.get_int_max_str_digits(), 4300)
MAX_LINE_BYTES = 1 << 20  # a JSON-lines record is under 2 KiB: a longer line is an error row
TOO_LONG = f"line longer than {MAX_LINE_BYTES} bytes"
WHITE_SPACE = "not valid JSON (white space only)"  # a line of spaces or NBSP is a row, rejected
_NOT_JSON = "\x00"  # what json_decode fails on, to make a scan fail over to `json_lines`
# polars infers a JSON-lines schema in time that grows with the square of a line's nesting (20,000
# lines nested 16 deep: 4 s, 120 deep: minutes; a Python RecursionError past a few hundred): a file
# with a line opening this many arrays or objects (an export's line opens one or two) is read line
# by line in Python instead, in time linear in its size.
NESTING_FOR_POLARS = 8
_NOT_OPENERS = bytes(b for b in range(256) if b not in b"[{\n")
_DEEP = re.compile(rb"[\[{]{%d}" % NESTING_FOR_POLARS)
# A line of ASCII white space only: polars' read_ndjson skips it (the Python read makes it an
# error row); one of other white space (NBSP) fails polars' read, which falls back the same way.
_SPACE_LINE = re.compile(rb"(?m)^[ \t\x0b\x0c]+$")


def _int(digits: str) -> int | str:
    """A JSON integer: as Python's int, or as its text when longer than Python converts (4300
    digits: a ValueError that is no JSON error); values end as text anyway (`_text`), and such a
    number is no count or duration: the row check rejects it, naming the cell."""
    return int(digits) if len(digits) <= MAX_INT_DIGITS else digits


def loads(text: str) -> Any:
    """`json.loads`, reading an integer of any length (see `_int`)."""
    return json.loads(text, parse_int=_int)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True)
    return str(value)


def _page_keys(rec: dict[str, Any]) -> list[str]:
    """The keys of `rec` that only a page has (see PAGE_ARRAYS, PAGING)."""
    return [k for k in (*PAGE_ARRAYS, *PAGING) if k in rec]


def records_frame(
    records: list[Any], fields: tuple[str, ...], first_row: int, what: str | None = None
) -> pl.DataFrame:
    """One row per record (`source_row` = first_row + index); a non-object is an error row, and
    so, when `what` names the record ("usage record"), is an object holding a page (a page
    nested where a record belongs: one reject saying so, not one per field it lacks)."""
    rows = []
    for rec in records:
        if isinstance(rec, dict):
            nested = _page_keys(rec) if what is not None else []
            if nested:
                rows.append(
                    {
                        **dict.fromkeys(fields),
                        ERROR: f"not a {what} (an object holding a page)",
                        ERROR_COLUMN: ", ".join(nested),
                    }
                )
                continue
            try:
                rows.append({**{f: _text(rec.get(f)) for f in fields}, ERROR: None})
            except RecursionError:  # a value parsed near the recursion limit, too deep to write
                rows.append({**dict.fromkeys(fields), ERROR: TOO_DEEP})
        else:
            rows.append({**dict.fromkeys(fields), ERROR: "record is not a JSON object"})
    schema = dict.fromkeys((*fields, ERROR, ERROR_COLUMN), pl.String)
    rows = [{ERROR_COLUMN: None, **r} for r in rows]
    df = pl.DataFrame(rows, schema=schema, orient="row")
    return df.with_columns(pl.int_range(pl.len(), dtype=pl.Int64).add(first_row).alias(SOURCE_ROW))


def load_document(file: InputFile) -> Any:
    text = file.read_text()
    try:
        return loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(file.name, f"not valid JSON ({exc.msg})", row=exc.lineno) from None
    except RecursionError:
        raise InputError(file.name, f"not readable: {TOO_DEEP}") from None


def document_records(
    file: InputFile, key: str, fields: tuple[str, ...], what: str | None = None
) -> pl.DataFrame:
    """Records of a REST API page (`{key: [...], "next_page_uri": ...}`) or of a bare JSON array;
    `what` names a record, for the reject of a page nested in the array (see `records_frame`)."""
    doc = load_document(file)
    records = doc.get(key) if isinstance(doc, dict) else doc
    if not isinstance(records, list):
        raise InputError(file.name, f"expected a JSON page with a '{key}' array")
    return records_frame(records, fields, first_row=1, what=what)


def scan_json_lines(file: InputFile, fields: tuple[str, ...]) -> pl.LazyFrame:
    """JSON lines as a lazy scan (streamed, gzip decoded natively): one record per physical line,
    `source_row` the line number (empty lines keep their number and are dropped, in the stream),
    every field as text; a line longer than `MAX_LINE_BYTES`, or of white space only, is an error
    row, not decoded. A file with a line that is not a JSON object, or not UTF-8, or holding a
    CR (a line end of its own: polars splits on LF and drops a CR before it), fails when
    collected: then read it with `json_lines`, which keeps each bad line as an error row."""
    line = "__line"
    record = pl.Struct({f: pl.String for f in fields})
    long = pl.col(line).str.len_bytes() > MAX_LINE_BYTES
    space = pl.col(line).str.strip_chars() == ""
    # polars decodes "" or white space as no row at all, and a line holding a CR as one record:
    # white space is an error row here, and a CR is made to fail the scan (`_NOT_JSON`).
    text = pl.when(pl.col(line).str.contains("\r", literal=True)).then(pl.lit(_NOT_JSON))
    file.check_inflate()  # polars inflates gzip itself: refuse a bomb first
    return (
        pl.scan_csv(
            file.path,
            glob=False,
            has_header=False,
            separator="\x00",
            quote_char=None,
            schema={line: pl.String},
            row_index_name=SOURCE_ROW,
            row_index_offset=1,
        )
        .filter(pl.col(line).is_not_null())  # an empty line (polars reads "" as null)
        # Two steps: a `when` inside the decode makes polars decode once per field (7x the time).
        .with_columns(
            pl.when(long)
            .then(pl.lit(TOO_LONG))
            .when(space)
            .then(pl.lit(WHITE_SPACE))
            .otherwise(pl.lit(None, pl.String))
            .alias(ERROR),
            text.when(~long & ~space).then(pl.col(line)).alias(line),
        )
        .select(
            pl.col(SOURCE_ROW).cast(pl.Int64),
            pl.col(line).str.json_decode(record).struct.unnest(),
            ERROR,
        )
    )


def json_lines(file: InputFile, fields: tuple[str, ...]) -> pl.DataFrame:
    """One record per physical line (LF, CRLF and CR end lines alike; empty lines are removed
    first, so that they cost nothing, and counted); a line that is not a JSON object, or of
    white space only, is an error row."""
    data = unix_line_ends(file.read_bytes())
    decode_utf8(data, file.name)
    squeezed = drop_empty_lines(data)
    frame = _json_lines(squeezed.data, fields)
    return frame.with_columns(restore_lines(frame[SOURCE_ROW], squeezed))


def _json_lines(data: bytes, fields: tuple[str, ...]) -> pl.DataFrame:
    """`json_lines` of UTF-8 `data` with LF line ends and no empty line (but a last one)."""
    # polars skips a line of white space (then numbers the rows wrongly): the Python read
    # makes it an error row.
    if _SPACE_LINE.search(data) is None and not _hostile(data):
        try:
            df = pl.read_ndjson(io.BytesIO(data), infer_schema_length=None)
        except (pl.exceptions.ComputeError, pl.exceptions.SchemaError):
            pass
        else:
            present = [f for f in fields if f in df.columns]
            out = df.select(
                *(_as_text(df, f) for f in present),
                *(pl.lit(None, pl.String).alias(f) for f in fields if f not in df.columns),
                pl.lit(None, pl.String).alias(ERROR),
            )
            return out.with_columns(pl.int_range(pl.len(), dtype=pl.Int64).add(1).alias(SOURCE_ROW))
    return _json_lines_python(data.decode("utf-8-sig"), fields)


def _hostile(data: bytes) -> bool:
    """A line longer than `MAX_LINE_BYTES`, or opening `NESTING_FOR_POLARS` arrays or objects
    (counting every `[` and `{`, even in strings: a false alarm only costs the slower read)."""
    if _DEEP.search(data.translate(None, _NOT_OPENERS)) is not None:
        return True
    return len(data) > MAX_LINE_BYTES and max(map(len, data.split(b"\n"))) > MAX_LINE_BYTES


def _as_text(df: pl.DataFrame, name: str) -> pl.Expr:
    dtype = df.schema[name]
    if dtype.is_nested():
        return pl.col(name).map_batches(
            lambda s: pl.Series([_text(v) for v in s.to_list()], dtype=pl.String),
            return_dtype=pl.String,
        )
    return pl.col(name).cast(pl.String)


def _json_lines_python(text: str, fields: tuple[str, ...]) -> pl.DataFrame:
    records: list[Any] = []
    lines: list[int] = []
    errors: list[str | None] = []
    # Lines end at LF only (str.splitlines would also split at U+2028 inside a JSON string).
    for number, line in enumerate(text.split("\n"), start=1):
        if not line:
            continue
        lines.append(number)
        if len(line) > MAX_LINE_BYTES:  # characters: at least as many bytes
            records.append({})
            errors.append(TOO_LONG)
            continue
        if not line.strip():
            records.append({})
            errors.append(WHITE_SPACE)
            continue
        try:
            records.append(loads(line))
            errors.append(None)
        except json.JSONDecodeError as exc:
            records.append({})
            errors.append(f"not valid JSON ({exc.msg})")
        except RecursionError:
            records.append({})
            errors.append(TOO_DEEP)
    df = records_frame(records, fields, first_row=1)
    return df.with_columns(
        pl.Series(SOURCE_ROW, lines, dtype=pl.Int64),
        pl.coalesce(pl.Series(ERROR, errors, dtype=pl.String), pl.col(ERROR)).alias(ERROR),
    )
