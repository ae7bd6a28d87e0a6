"""Turn the user's PATHS (files, folders, globs) into input files, and read their bytes safely.

Each file is read once; gzip is recognised by its magic bytes, not its name; text must be UTF-8
(a BOM is allowed). Problems that make a file unreadable raise InputError (exit 2).
"""

from __future__ import annotations

import glob
import gzip
import zlib
from dataclasses import dataclass
from pathlib import Path

from auditor.errors import InputError

GZIP_MAGIC = b"\x1f\x8b"
PARQUET_MAGIC = b"PAR1"
# Files a folder may hold that are never exports: docs, generators, format descriptions.
IGNORED_SUFFIXES = {".md", ".txt", ".py", ".toml", ".sh", ".rst"}
SAMPLE_BYTES = 64 * 1024


@dataclass(frozen=True)
class InputFile:
    """One input: where it is, and the name the user knows it by (used in every output row)."""

    path: Path
    name: str

    @property
    def is_gzip(self) -> bool:
        with self.path.open("rb") as fh:
            return fh.read(2) == GZIP_MAGIC

    @property
    def is_parquet(self) -> bool:
        with self.path.open("rb") as fh:
            return fh.read(4) == PARQUET_MAGIC

    def read_bytes(self) -> bytes:
        """The whole file, decompressed; InputError when gzip is corrupt."""
        raw = self.path.read_bytes()
        if raw[:2] != GZIP_MAGIC:
            return raw
        try:
            return gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as exc:
            raise InputError(self.name, f"corrupt gzip data ({exc})") from None

    def read_text(self) -> str:
        """The whole file as text; InputError when it is not UTF-8."""
        return decode_utf8(self.read_bytes(), self.name)

    def head_text(self, size: int = SAMPLE_BYTES) -> str:
        """The first bytes as text, for format detection (a cut multibyte char is tolerated)."""
        try:
            if self.is_gzip:
                with gzip.open(self.path, "rb") as fh:
                    data = fh.read(size)
            else:
                with self.path.open("rb") as fh:
                    data = fh.read(size)
        except (OSError, EOFError, zlib.error) as exc:
            raise InputError(self.name, f"corrupt gzip data ({exc})") from None
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            if exc.start >= len(data) - 3:  # a character cut by the sample size
                return data[: exc.start].decode("utf-8-sig")
            raise InputError(self.name, _utf8_message(data, exc)) from None


def decode_utf8(data: bytes, name: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(name, _utf8_message(data, exc)) from None


def _utf8_message(data: bytes, exc: UnicodeDecodeError) -> str:
    line = data.count(b"\n", 0, exc.start) + 1
    return f"not UTF-8 (invalid byte 0x{data[exc.start]:02x} on line {line})"


def expand_paths(paths: list[str]) -> list[InputFile]:
    """Files, folders (recursively, sorted) and globs to a list of distinct input files.

    A path that matches nothing is an error, not an empty input. Duplicates (the same file named
    twice) are read once.
    """
    files: list[InputFile] = []
    seen: set[Path] = set()

    def add(path: Path, name: str) -> None:
        real = path.resolve()
        if real not in seen:
            seen.add(real)
            files.append(InputFile(path, name))

    for given in paths:
        path = Path(given)
        if path.is_dir():
            for child in sorted(p for p in path.rglob("*") if p.is_file()):
                if _is_export_candidate(child):
                    add(child, str(Path(given) / child.relative_to(path)))
        elif path.is_file():
            add(path, given)
        elif glob.has_magic(given):
            matches = sorted(glob.glob(given, recursive=True))
            if not matches:
                raise InputError(given, "no file matches this pattern")
            for match in matches:
                if Path(match).is_file():
                    add(Path(match), match)
        else:
            raise InputError(given, "no such file or folder")
    return files


def _is_export_candidate(path: Path) -> bool:
    if path.name.startswith("."):
        return False
    suffixes = [s.lower() for s in path.suffixes]
    return not (suffixes and suffixes[-1] in IGNORED_SUFFIXES)
