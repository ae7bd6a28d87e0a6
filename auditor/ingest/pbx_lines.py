"""PBX CDR files line by line: one physical line is one record, split into fields by polars regex.

PBXs write one CDR per line, so the physical line is both the record and the `source_row` an auditor
opens. Splitting here (rather than with a CSV parser) keeps every line a row: a line with broken
quoting, or with more or fewer fields than the file's records, is kept with `_error` and ends in
rejects with its line number, instead of being padded with nulls or failing the whole file.

At scale (`csv_records`): every line is first checked against one regex saying "well-formed, of the
file's width"; the lines that pass (all of them, in a sound file) are parsed by polars' CSV reader,
which reads such a line exactly as the regex split does, and only the others are split field by
field, so that a broken line still becomes a reject with its line number.

Text: a line that is not UTF-8 (caller-ID names written as raw Latin-1 / CP1251 bytes) is decoded
with the fallback encoding and keeps its name in the `encoding` column; the others are null.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from auditor.errors import InputError
from auditor.ingest.base import ENCODING, ERROR, SOURCE_ROW
from auditor.ingest.files import BOM, InputFile, decode_by_line
from auditor.ingest.line_ends import drop_empty_lines, restore_lines, unix_line_ends

LINE = "__line"
FIELDS = "__fields"
OK = "__ok"
DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")
INTEGER = re.compile(r"^-?\d+$")


# Bytes that polars may split lines on as a one-column "CSV" (the first absent from the file).
_LINE_SEPARATORS = ("\x1f", "\x1e", "\x1d", "\x00")
HEAD_LINES = 1000  # lines read field by field to find a file's width before the fast path


@dataclass(frozen=True)
class _Text:
    """A file as UTF-8 bytes polars can read, and every physical line of it (blank ones too)."""

    data: bytes
    lead: int  # rows of `data` before line 1 (1 when a line was put first to shield a BOM)
    lines: pl.DataFrame  # source_row, __line, encoding; blank lines included


def _read_lines(file: InputFile, fallback: str | None) -> _Text:
    """Every physical line that is not empty, numbered as in the file (1-based; LF, CRLF and CR
    end lines alike, see `line_ends`); a line that is not UTF-8 decoded with `fallback`, named in
    `encoding` (see `files.decode_by_line`). Empty lines are removed from the bytes first, so
    that a run of them costs nothing.

    polars splits the lines (reading the file as a one-column CSV with no quoting) when the file
    is UTF-8; otherwise `decode_by_line` decodes it line by line, as before."""
    squeezed = drop_empty_lines(unix_line_ends(file.read_bytes()))
    raw = squeezed.data
    data = raw.removeprefix(BOM)  # what decode_by_line's utf-8-sig drops
    lead = 0
    if data.startswith(BOM):  # polars would drop a second one: keep it in line 1
        data, lead = b"\n" + data, 1
    fallback_lines: tuple[int, ...] = ()
    frame = _split_lines(data)
    if frame is None:  # not UTF-8, or no byte to split on
        decoded = decode_by_line(raw, file.name, fallback)
        fallback_lines = decoded.fallback_lines
        data, lead = decoded.text.encode("utf-8"), 0
        if data.startswith(BOM):
            data, lead = b"\n" + data, 1
        frame = _split_lines(data)
        if frame is None:
            frame = pl.DataFrame({LINE: decoded.text.split("\n")}).with_columns(
                pl.col(LINE).str.strip_suffix("\r")
            )
            lead = 0
    encoding = (
        pl.when(pl.col(SOURCE_ROW).is_in(list(fallback_lines)))
        .then(pl.lit(fallback, pl.String))
        .otherwise(pl.lit(None, pl.String))
        if fallback_lines
        else pl.lit(None, pl.String)
    )
    lines = (
        frame.slice(lead)
        .with_row_index(SOURCE_ROW, offset=1)
        .with_columns(pl.col(SOURCE_ROW).cast(pl.Int64), encoding.alias(ENCODING))
    )
    if squeezed.before:
        lines = lines.with_columns(restore_lines(lines[SOURCE_ROW], squeezed))
    return _Text(data, lead, lines)


def _split_lines(data: bytes) -> pl.DataFrame | None:
    """`__line` per physical line of UTF-8 `data` (null when empty); None when `data` is not
    UTF-8 or holds every candidate separator byte."""
    sep = next((c for c in _LINE_SEPARATORS if c.encode() not in data), None)
    if sep is None:
        return None
    if not data:
        return pl.DataFrame(schema={LINE: pl.String})
    try:
        return pl.read_csv(
            data, has_header=False, separator=sep, quote_char=None, schema={LINE: pl.String}
        )
    except pl.exceptions.ComputeError:  # invalid UTF-8
        return None


def _blank(line: pl.Expr) -> pl.Expr:
    """Empty: no character at all (a line of white space is a record, rejected as such)."""
    return line.fill_null("") == ""


def physical_lines(file: InputFile, fallback: str | None) -> pl.DataFrame:
    """(`source_row`, `__line`, `encoding`) for every line that is not empty, 1-based (LF, CRLF
    and CR end lines alike). A line that is not UTF-8 is decoded with `fallback`, named in
    `encoding`."""
    lines = _read_lines(file, fallback).lines
    return _non_blank(file, lines)


def _non_blank(file: InputFile, lines: pl.DataFrame) -> pl.DataFrame:
    blank_lines = lines.select(_blank(pl.col(LINE))).to_series()
    kept = lines.filter(~blank_lines) if blank_lines.any() else lines
    # Python's str.strip() (the file-level test this keeps) also strips \x1c-\x1f.
    blank = pl.col(LINE).str.contains(r"^[\s\x1c-\x1f]*$")
    if kept.head(HEAD_LINES).filter(~blank).is_empty() and kept.filter(~blank).is_empty():
        raise InputError(file.name, "file is empty")
    return kept


def _field_pattern(separator: str) -> str:
    sep = re.escape(separator)
    return rf'"(?:[^"]|"")*"|[^{sep}"\n]*'


def csv_records(
    file: InputFile,
    fallback: str | None,
    allowed: Sequence[int],
    broken: str,
    separator: str = ",",
) -> tuple[int, pl.DataFrame] | None:
    """(width, frame) of a headerless CSV file, one physical line one record: the frame is what
    `to_columns(split_csv(physical_lines(...)), [c0 ..], broken)` gives with the width
    `common_width(..., allowed)` finds; None when no well-formed line has an allowed width.

    The fast path (see the module docstring) applies when the width of the first lines is that of
    more than half the lines, hence the most frequent one; otherwise every line is split."""
    text = _read_lines(file, fallback)
    lines = _non_blank(file, text.lines)
    width = common_width(split_csv(lines.head(HEAD_LINES), separator), allowed)
    if width is not None:
        field, sep = _field_pattern(separator), re.escape(separator)
        whole = rf"^(?:{field})(?:{sep}(?:{field})){{{width - 1}}}$"
        ok = lines.select(pl.col(LINE).str.contains(whole)).to_series()
        if 2 * ok.sum() > lines.height:
            fast = _parse_well_formed(text, lines, ok, width, separator, broken)
            if fast is not None:
                return width, fast
    split = split_csv(lines, separator)
    width = common_width(split, allowed)
    if width is None:
        return None
    return width, to_columns(split, [f"c{i}" for i in range(width)], broken)


def _parse_well_formed(
    text: _Text, lines: pl.DataFrame, ok: pl.Series, width: int, separator: str, broken: str
) -> pl.DataFrame | None:
    """The frame of `csv_records`: polars' CSV reader on the well-formed lines (`ok`), the field
    by field split on the others; None if the reader does not give one row per line."""
    names = [f"c{i}" for i in range(width)]
    schema = dict.fromkeys(names, pl.String)
    good = lines if ok.all() else lines.filter(ok)
    if good.height == text.lines.height and not text.lead:  # the whole file, every line sound
        data = text.data
    else:
        data = good.select(pl.col(LINE).str.join("\n")).item().encode("utf-8")
    parsed = pl.read_csv(data, has_header=False, separator=separator, quote_char='"', schema=schema)
    if parsed.height != good.height:
        return None
    fields = pl.concat(
        [
            good.select(SOURCE_ROW),
            parsed,
            good.select(pl.lit(None, pl.String).alias(ERROR), ENCODING),
        ],
        how="horizontal",
    )
    bad = lines.filter(~ok)
    if bad.is_empty():
        return fields
    rest = to_columns(split_csv(bad, separator), names, broken)
    return pl.concat([fields, rest]).sort(SOURCE_ROW)


def split_csv(lines: pl.DataFrame, separator: str = ",") -> pl.DataFrame:
    """Add `__fields` (values, outer quotes removed, `""` read as `"`, an empty bare field null)
    and `__ok` (the line is well-formed CSV: each field bare without quotes, or fully quoted)."""
    sep = re.escape(separator)
    field = _field_pattern(separator)
    valid = rf"^(?:{field})(?:{sep}(?:{field}))*$"
    e = pl.element()
    unquoted = (
        pl.when(e.str.starts_with('"'))
        .then(e.str.slice(1, e.str.len_chars() - 2).str.replace_all('""', '"', literal=True))
        .when(e == "")
        .then(None)
        .otherwise(e)
    )
    # Every field is read as "separator, then a field": prefixing one separator makes the first
    # field look like the others, and an empty field is then never a zero-width match.
    fields = (
        (pl.lit(separator) + pl.col(LINE))
        .str.extract_all(rf"{sep}(?:{field})")
        .list.eval(e.str.slice(len(separator)))
        .list.eval(unquoted)
    )
    return lines.with_columns(pl.col(LINE).str.contains(valid).alias(OK), fields.alias(FIELDS))


def to_columns(lines: pl.DataFrame, names: Sequence[str], broken: str) -> pl.DataFrame:
    """Named string columns from `__fields`; a line not `__ok`, or not `len(names)` wide, has all
    fields null and `_error` set (`broken` says why its quoting failed). `encoding` rides along."""
    width = len(names)
    n = pl.col(FIELDS).list.len()
    error = (
        pl.when(~pl.col(OK))
        .then(pl.lit(broken))
        .when(n != width)
        .then(pl.concat_str(pl.lit("record has "), n, pl.lit(f" fields, expected {width}")))
        .otherwise(None)
    )
    cols = [
        pl.when(error.is_null())
        .then(pl.col(FIELDS).list.get(i, null_on_oob=True))
        .otherwise(None)
        .alias(name)
        for i, name in enumerate(names)
    ]
    return lines.select(SOURCE_ROW, *cols, error.cast(pl.String).alias(ERROR), ENCODING)


def common_width(lines: pl.DataFrame, allowed: Sequence[int] | None = None) -> int | None:
    """The most frequent field count of the well-formed lines (among `allowed` when given; ties:
    the wider), or None when there is none."""
    widths = lines.filter(pl.col(OK)).select(pl.col(FIELDS).list.len().alias("n"))
    if allowed is not None:
        widths = widths.filter(pl.col("n").is_in(list(allowed)))
    counts = widths.group_by("n").len().sort(["len", "n"], descending=True)
    return int(counts["n"][0]) if counts.height else None


def head_records(head: str, limit: int = 5, delimiter: str = ",") -> list[list[str]]:
    """The first non-blank lines of a file's head, parsed as CSV (for sniffing only)."""
    picked = [ln.rstrip("\r") for ln in head.split("\n") if ln.strip()][:limit]
    try:
        return [next(csv.reader(io.StringIO(ln), delimiter=delimiter)) for ln in picked]
    except (csv.Error, StopIteration):
        return []


def is_datetime(value: str) -> bool:
    return DATETIME.match(value) is not None


def is_integer(value: str) -> bool:
    return INTEGER.match(value) is not None


def bool_text(condition: pl.Expr) -> pl.Expr:
    """True/False/null -> "true"/"false"/null: the raw frame carries text only."""
    return (
        pl.when(condition)
        .then(pl.lit("true"))
        .when(~condition)
        .then(pl.lit("false"))
        .otherwise(pl.lit(None, pl.String))
    )
