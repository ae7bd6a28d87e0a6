"""Physical lines of a text file, whatever ends them, and blank lines that cost nothing.

Line ends: LF, CRLF and a lone CR (old Mac Excel's "CSV (Macintosh)") are read alike, also mixed in
one file: `unix_line_ends` makes every one of them LF before a reader splits lines, so line N of a
file is its Nth line whichever ends it uses (what an editor shows).

Blank lines: only a truly empty line (no character before its line end) is blank; a line of spaces,
of NBSP or of delimiters only is a row. Blank lines are not rows, and must not cost memory either: a
parser that reads each one as a record of nulls turns 20 MiB of newlines into gigabytes. So
`drop_empty_lines` removes them from the bytes before any parser sees them, remembering where, and
`restore_lines` turns the line numbers of what remains back into physical ones. Both work per run of
blank lines (a C-level search and count each), never per line.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

import polars as pl

BOM = codecs.BOM_UTF8
# Line ends that end an empty line: a run of LF at the start of the text or right after an LF.
_EMPTY_RUN = re.compile(rb"(?<![^\n])\n+")


def unix_line_ends(data: bytes) -> bytes:
    """`data` with CRLF and each lone CR written as LF (not copied when it holds no CR)."""
    if b"\r" not in data:
        return data
    return data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")


@dataclass(frozen=True)
class Squeezed:
    """Text with its empty lines removed. `before[i]` is the line of `data` (1-based) that the
    i-th removed run of empty lines preceded, `removed[i]` how many lines were removed up to and
    including that run."""

    data: bytes
    before: tuple[int, ...] = ()
    removed: tuple[int, ...] = ()


def drop_empty_lines(data: bytes, quote: bytes | None = None) -> Squeezed:
    """`data` (LF line ends) without its empty lines. With `quote` (CSV), a run of empty lines
    inside a quoted field (an odd number of quote characters before it) is part of a value and is
    kept; a parser that disagrees with that count fails on the file anyway (polars refuses it)
    and its slower reader reads the original text. A leading BOM stays in front."""
    bom = BOM if data.startswith(BOM) else b""
    body = data[len(bom) :]
    if b"\n\n" not in body and not body.startswith(b"\n"):
        return Squeezed(data)
    pieces = [bom]
    before: list[int] = []
    removed: list[int] = []
    kept_from = 0  # start of the text not yet copied
    lines = 0  # LFs copied so far
    quotes, counted_to = 0, 0
    total = 0
    for run in _EMPTY_RUN.finditer(body):
        start, end = run.span()
        if quote is not None:
            quotes += body.count(quote, counted_to, start)
            counted_to = start
            if quotes % 2:
                continue
        pieces.append(body[kept_from:start])
        lines += body.count(b"\n", kept_from, start)
        total += end - start
        before.append(lines + 1)
        removed.append(total)
        kept_from = end
    if not before:
        return Squeezed(data)
    pieces.append(body[kept_from:])
    return Squeezed(b"".join(pieces), tuple(before), tuple(removed))


def restore_lines(lines: pl.Series, squeezed: Squeezed) -> pl.Series:
    """Line numbers of `squeezed.data` (1-based, sorted or not) as the physical lines of the
    original text."""
    if not squeezed.before:
        return lines
    runs = pl.Series(squeezed.before, dtype=pl.Int64).search_sorted(lines, side="right")
    shift = pl.Series([0, *squeezed.removed], dtype=pl.Int64).gather(runs)
    return (lines + shift).alias(lines.name)
