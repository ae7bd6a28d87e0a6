"""Turn the user's PATHS (files, folders, globs) into input files, and read their bytes safely.

Each file is read once; gzip is recognised by its magic bytes, not its name; text must be UTF-8
(a BOM is allowed). Problems that make a file unreadable raise InputError (exit 2).

Gzip is inflated in a stream and refused as soon as its output passes `inflate_limit`
(`--max-inflate` times its compressed size, at least 1 GiB: far above any real export, which
inflates about 10x), so that a gzip bomb can fill neither memory nor disk. A reader that lets polars
inflate the file itself calls `InputFile.check_inflate` first.

PBX CDR files are the exception: a PBX writes caller-ID names as the raw bytes it received, so a
real Asterisk Master.csv may carry Latin-1 or CP1251 names among ASCII numbers and times. They are
read with `decode_by_line` (through `pbx_lines`): a line that is valid UTF-8 stays UTF-8, a line
that is not is decoded with the fallback encoding (`--encoding-fallback`) and its number is returned
so the row can be marked. Twilio exports are UTF-8 by contract and keep the strict `read_text`.

`-` as a PATH is standard input (csvkit's convention; a file named `-` is `./-`): `reading_stdin`
spools it, once, into a temporary file that is removed when the run ends, and it is named
`<stdin>` wherever a file name goes (`source_file`, rejects, manifest.json, which hashes the bytes
as read). `--exclude GLOB` leaves out files a folder or a glob finds (see `expand_paths`).
"""

from __future__ import annotations

import codecs
import contextlib
import glob
import gzip
import math
import shutil
import sys
import tempfile
import zlib
from collections.abc import Iterable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path

from auditor.errors import InputError, NotUtf8Error, UsageError
from auditor.ingest.line_ends import drop_empty_lines, unix_line_ends
from auditor.ingest.options import DEFAULT_MAX_INFLATE

GZIP_MAGIC = b"\x1f\x8b"
PARQUET_MAGIC = b"PAR1"
# Files a folder may hold that are never exports: docs, generators, format descriptions.
IGNORED_SUFFIXES = {".md", ".txt", ".py", ".toml", ".sh", ".rst"}
# A sub-folder holding a file of this name is left out when a folder above it is read: e.g. your
# own records (`--records FILE`) kept beside the exports, as `sample_exports/records/` is. Its
# files can still be named one by one, or the folder itself given.
SKIP_MARKER = ".auditor-skip"
SAMPLE_BYTES = 64 * 1024
BOM = codecs.BOM_UTF8
INFLATE_FLOOR = 1 << 30  # the limit is never below 1 GiB, whatever the ratio
# Deflate cannot expand more than this (a 258-byte match in 2 bits): a smaller gzip file cannot
# pass the limit, and is not inflated only to be measured.
DEFLATE_MAX_RATIO = 1032
_READ_CHUNK = 64 * 1024
STDIN = "-"  # a PATH that reads standard input
STDIN_NAME = "<stdin>"  # its name in every output
_STDIN_SPOOL: ContextVar[Path | None] = ContextVar("auditor_stdin_spool", default=None)
_OUT_CHUNK = 256 * 1024


def check_max_inflate(ratio: float) -> float:
    """`--max-inflate` must be a finite number above 0."""
    if not (math.isfinite(ratio) and ratio > 0):
        raise UsageError(f"--max-inflate {ratio!r} must be a positive number (default 100)")
    return ratio


def inflate_limit(compressed_size: int, ratio: float = DEFAULT_MAX_INFLATE) -> int:
    """Bytes a gzip file of `compressed_size` bytes may inflate to: `ratio` times its size, and at
    least 1 GiB."""
    return max(int(ratio * compressed_size), INFLATE_FLOOR)


def check_encoding_fallback(name: str) -> str:
    """`--encoding-fallback` must name a text codec that reads ASCII as ASCII (lines are split on
    the LF byte and numbers and times are ASCII); say so in one line, not a traceback later."""
    try:
        codecs.lookup(name)
    except LookupError:
        raise UsageError(
            f"--encoding-fallback {name!r} is not a known encoding (e.g. latin-1, cp1251)"
        ) from None
    ascii_bytes = bytes(range(128))
    try:
        compatible = ascii_bytes.decode(name) == ascii_bytes.decode("ascii")
    except (LookupError, ValueError):  # not a text encoding (base64), or not ASCII-based
        compatible = False
    if not compatible:
        raise UsageError(
            f"--encoding-fallback {name!r} is not a text encoding that reads ASCII as ASCII "
            "(use one such as latin-1 or cp1251)"
        )
    return name


@dataclass(frozen=True)
class DecodedText:
    """A file's text, and the 1-based physical lines that were not UTF-8 (decoded with the
    fallback encoding instead)."""

    text: str
    fallback_lines: tuple[int, ...] = ()


@dataclass(frozen=True)
class InputFile:
    """One input: where it is, and the name the user knows it by (used in every output row)."""

    path: Path
    name: str
    max_inflate: float = DEFAULT_MAX_INFLATE  # `--max-inflate` (see `inflate_limit`)

    @property
    def is_gzip(self) -> bool:
        with self.path.open("rb") as fh:
            return fh.read(2) == GZIP_MAGIC

    @property
    def is_parquet(self) -> bool:
        with self.path.open("rb") as fh:
            return fh.read(4) == PARQUET_MAGIC

    def read_bytes(self) -> bytes:
        """The whole file, decompressed; InputError when gzip is corrupt or inflates past the
        limit (checked as it inflates: never more than the limit is held)."""
        if not self.is_gzip:
            return self.path.read_bytes()
        return b"".join(self._inflate())

    def check_inflate(self) -> None:
        """For a reader that hands the file to polars (which inflates gzip itself): InputError when
        the file is gzip that is corrupt or inflates past the limit. Costs one streaming inflate
        (nothing kept), and nothing for a file too small to pass the limit at all."""
        if not self.is_gzip:
            return
        size = self.path.stat().st_size
        if DEFLATE_MAX_RATIO * size <= inflate_limit(size, self.max_inflate):
            return
        for _ in self._inflate():
            pass

    def check_parquet_inflate(self) -> None:
        """For a Parquet file: InputError when its row groups, as its footer states their
        uncompressed size, pass the same limit as gzip (a few KB of zstd can hold gigabytes of
        one repeated value, which polars would decode in memory). Reads the footer only."""
        import pyarrow.parquet as pq

        size = self.path.stat().st_size
        limit = inflate_limit(size, self.max_inflate)
        try:
            meta = pq.ParquetFile(self.path).metadata
        except Exception as exc:  # pyarrow raises several types for a broken footer
            raise InputError(self.name, f"unreadable Parquet ({exc})") from None
        inflated = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
        if inflated > limit:
            raise InputError(self.name, _too_big(limit, self.max_inflate, size, "Parquet data"))

    def _inflate(self) -> Iterator[bytes]:
        """The gzip file's content in chunks, every member (concatenated gzip, zero padding
        between members allowed, as `gzip.decompress` reads it); InputError as soon as the output
        passes the limit, or when the data is corrupt or cut short."""
        size = self.path.stat().st_size
        limit = inflate_limit(size, self.max_inflate)
        total = 0
        member = zlib.decompressobj(wbits=31)  # 31: a gzip header and trailer (CRC, length)
        try:
            with self.path.open("rb") as fh:
                while data := fh.read(_READ_CHUNK):
                    more = False  # output left in the inflater after a full chunk
                    while data or more:
                        if member.eof:  # the next member, after any zero padding
                            data = data.lstrip(b"\x00")
                            if not data:
                                break
                            member = zlib.decompressobj(wbits=31)
                        out = member.decompress(data, _OUT_CHUNK)
                        data = member.unused_data if member.eof else member.unconsumed_tail
                        more = len(out) == _OUT_CHUNK and not member.eof
                        total += len(out)
                        if total > limit:
                            raise InputError(self.name, _too_big(limit, self.max_inflate, size))
                        yield out
        except zlib.error as exc:
            raise InputError(self.name, f"corrupt gzip data ({exc})") from None
        if not member.eof:
            raise InputError(
                self.name,
                "corrupt gzip data (Compressed file ended before the end-of-stream marker was "
                "reached)",
            )

    def read_text(self) -> str:
        """The whole file as text; InputError when it is not UTF-8."""
        return decode_utf8(self.read_bytes(), self.name)

    def _head_bytes(self, size: int) -> bytes:
        """The first `size` bytes of the file's lines that are not empty, LF-ended (see
        `line_ends`): a run of empty lines neither fills the sample nor hides the lines after
        it (read on, in chunks, as far as the file could be read at all)."""
        opener = gzip.open if self.is_gzip else open
        head = b""
        with opener(self.path, "rb") as fh:
            limit, seen = inflate_limit(self.path.stat().st_size, self.max_inflate), 0
            while len(head) < size and seen <= limit and (chunk := fh.read(size)):
                seen += len(chunk)
                head = drop_empty_lines(unix_line_ends(head + chunk)).data
        return head[:size]

    def head_text(self, size: int = SAMPLE_BYTES, fallback: str | None = None) -> str:
        """The first bytes of the lines that are not empty as text, LF-ended, for format detection
        (a cut multibyte char is tolerated).

        Not UTF-8: NotUtf8Error, or with `fallback` each line that is not UTF-8 decoded with it.
        """
        try:
            data = self._head_bytes(size)
        except (OSError, EOFError, zlib.error) as exc:
            raise InputError(self.name, f"corrupt gzip data ({exc})") from None
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            if exc.start >= len(data) - 3:  # a character cut by the sample size
                return data[: exc.start].decode("utf-8-sig")
            return decode_by_line(data, self.name, fallback).text


def _too_big(limit: int, ratio: float, size: int, what: str = "gzip") -> str:
    floor = ", at least 1 GiB" if limit == INFLATE_FLOOR else ""
    return (
        f"{what} inflates past {limit} bytes (--max-inflate {ratio:g} x its {size} bytes{floor}); "
        "refusing to read it"
    )


def decode_utf8(data: bytes, name: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise NotUtf8Error(name, _utf8_message(data, exc)) from None


def decode_by_line(data: bytes, name: str, fallback: str | None) -> DecodedText:
    """`data` as text: the whole of it as UTF-8 when it is (the usual case: one C-level decode);
    otherwise line by line (split on LF), each line that is not UTF-8 decoded with `fallback`
    (undecodable bytes replaced, so nothing is lost). Without `fallback`, NotUtf8Error."""
    try:
        return DecodedText(data.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        if fallback is None:
            raise NotUtf8Error(name, _utf8_message(data, exc)) from None
    texts: list[str] = []
    bad: list[int] = []
    for number, line in enumerate(data.removeprefix(BOM).split(b"\n"), start=1):
        try:
            texts.append(line.decode("utf-8"))
        except UnicodeDecodeError:
            texts.append(line.decode(fallback, errors="replace"))
            bad.append(number)
    return DecodedText("\n".join(texts), tuple(bad))


def _utf8_message(data: bytes, exc: UnicodeDecodeError) -> str:
    # utf-8-sig decodes what follows the BOM: its positions are off by what it stripped
    at = exc.start + len(data) - len(exc.object)
    line = data.count(b"\n", 0, at) + 1
    return f"not UTF-8 (invalid byte 0x{data[at]:02x} on line {line})"


@contextlib.contextmanager
def reading_stdin(*path_lists: Iterable[str]) -> Iterator[Path | None]:
    """While the block runs, `-` among the paths is standard input: read once, here, into a
    temporary file (removed when the block ends, however it ends) that `expand_paths` names
    `<stdin>`. Yields that file, or None when no list holds `-` (nothing is read)."""
    given = [STDIN in list(paths) for paths in path_lists]
    if not any(given):
        yield None
        return
    if sum(given) > 1:
        raise UsageError("- (standard input) given twice: it can be read only once")
    stream = sys.stdin
    if stream is None or stream.isatty():
        raise UsageError(
            "- reads standard input, which is a terminal here: pipe the export in "
            "(e.g. auditor audit - --out DIR < calls.csv)"
        )
    with tempfile.TemporaryDirectory(prefix="auditor-stdin-") as folder:
        spool = Path(folder) / "stdin"
        with spool.open("wb") as fh:
            shutil.copyfileobj(stream.buffer, fh, _READ_CHUNK)
        token = _STDIN_SPOOL.set(spool)
        try:
            yield spool
        finally:
            _STDIN_SPOOL.reset(token)


def excluded(relative: str, patterns: Iterable[str]) -> bool:
    """`--exclude`: does a found file's path (POSIX, relative to the folder given; or as a glob
    matched it) or its name match one of the glob `patterns` (fnmatch, case-sensitive; `*`
    crosses `/`)?"""
    name = relative.rsplit("/", 1)[-1]
    return any(fnmatchcase(relative, p) or fnmatchcase(name, p) for p in patterns)


def expand_paths(
    paths: list[str], max_inflate: float = DEFAULT_MAX_INFLATE, exclude: Iterable[str] = ()
) -> list[InputFile]:
    """Files, folders (recursively, sorted) and globs to a list of distinct input files.

    A path that matches nothing is an error, not an empty input. Duplicates (the same file named
    twice) are read once. Each file carries `max_inflate` (`--max-inflate`). A file a folder or a
    glob finds is left out when it matches an `exclude` pattern (see `excluded`); a file named
    on its own never is. `-` is standard input, spooled by `reading_stdin` (outside it: an error).
    """
    check_max_inflate(max_inflate)
    exclude = tuple(exclude)
    files: list[InputFile] = []
    seen: set[Path] = set()

    def add(path: Path, name: str) -> None:
        real = path.resolve()
        if real not in seen:
            seen.add(real)
            files.append(InputFile(path, name, max_inflate))

    for given in paths:
        path = Path(given)
        if given == STDIN:
            spool = _STDIN_SPOOL.get()
            if spool is None:
                raise UsageError("- (standard input) is read by the auditor command only")
            add(spool, STDIN_NAME)
        elif path.is_dir():
            skipped = {m.parent for m in path.rglob(SKIP_MARKER) if m.parent != path}
            for child in sorted(p for p in path.rglob("*") if p.is_file()):
                relative = child.relative_to(path)
                if (
                    _is_export_candidate(child)
                    and skipped.isdisjoint(child.parents)
                    and not excluded(relative.as_posix(), exclude)
                ):
                    add(child, str(Path(given) / relative))
        elif path.is_file():
            add(path, given)
        elif glob.has_magic(given):
            matches = sorted(glob.glob(given, recursive=True))
            if not matches:
                raise InputError(given, "no file matches this pattern")
            for match in matches:
                if Path(match).is_file() and not excluded(Path(match).as_posix(), exclude):
                    add(Path(match), match)
        else:
            raise InputError(given, "no such file or folder")
    return files


def _is_export_candidate(path: Path) -> bool:
    if path.name.startswith("."):
        return False
    suffixes = [s.lower() for s in path.suffixes]
    return not (suffixes and suffixes[-1] in IGNORED_SUFFIXES)
