"""manifest.json: what a run read and wrote, so that `auditor verify` can prove it later.

- `tool`: name and version (and the polars version, which writes the Parquet bytes);
- `command` and `options`: every option in effect (defaults included), paths as the user gave them;
  `--out` and `--force` say where the outputs went, not what they are, and are left out;
- `inputs`: every file read, by the name the user gave it (as in `source_file`), its kind, size
  and sha256; the `--pricing` / `--cdr-format` files too;
- `outputs`: every other file in DIR (not manifest.json itself), its size and sha256.

Deterministic: sorted keys, inputs in read order, outputs by name; no wall-clock time and no
absolute path the user did not give (the partial folder's name never appears).

Inputs are hashed on a background thread while the run reads them (`Hashes`): hashlib releases
the GIL, so it costs CPU but little wall time; it reads each file a second time, usually from the
page cache (the readers stream through polars, which owns those bytes).
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, fields, is_dataclass
from enum import Enum
from pathlib import Path, PurePosixPath
from typing import Any

import polars as pl

from auditor import __version__
from auditor.errors import InputError, UsageError
from auditor.report.outdir import writing

MANIFEST = "manifest.json"
CHUNK = 1 << 20  # 1 MiB reads


@dataclass(frozen=True)
class Digest:
    size: int
    sha256: str


class Cancelled(Exception):
    """Hashing stopped because the run ended first."""


def hash_file(path: Path, stop: threading.Event | None = None) -> Digest:
    """sha256 and size of the bytes as they are on disk (gzip not decoded), read in 1 MiB chunks."""
    digest = hashlib.sha256()
    size = 0
    buf = bytearray(CHUNK)
    view = memoryview(buf)
    with path.open("rb") as fh:
        while n := fh.readinto(buf):
            if stop is not None and stop.is_set():
                raise Cancelled
            digest.update(view[:n])
            size += n
    return Digest(size, digest.hexdigest())


class Hashes:
    """Files hashed on `workers` background threads, in the order given; a context manager that
    stops the threads (between chunks) when the block ends, whether or not it succeeded."""

    def __init__(self, files: Mapping[str, Path], workers: int = 1) -> None:
        self._stop = threading.Event()
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="auditor-sha256")
        self._futures: dict[str, Future[Digest]] = {
            name: self._pool.submit(hash_file, path, self._stop) for name, path in files.items()
        }

    def __enter__(self) -> Hashes:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._stop.set()
        self._pool.shutdown(wait=True, cancel_futures=True)

    def get(self, name: str) -> Digest | None:
        """The file's digest, None when it cannot be read (missing, not a file, no permission)."""
        try:
            return self._futures[name].result()
        except OSError:
            return None

    def __getitem__(self, name: str) -> Digest:
        """The digest of an input the run read: one that cannot be read now is an InputError."""
        try:
            return self._futures[name].result()
        except OSError as exc:
            raise InputError(name, f"cannot be read for manifest.json ({exc.strerror})") from None


def rule_files(
    pricing: Path | None = None, cdr_format: str | None = None, config: Path | None = None
) -> dict[str, Path]:
    """The files of `--pricing`, `--cdr-format` (when a file, not a shipped format name) and
    `--config` (or the `auditor.toml` read), by the name given, with their kind: they shape
    the outputs as much as the exports do."""
    named = {
        "pricing": str(pricing) if pricing is not None else None,
        "cdr-format": cdr_format,
        "config": str(config) if config is not None else None,
    }
    return {kind: Path(name) for kind, name in named.items() if name and Path(name).is_file()}


def _plain(value: Any) -> Any:
    """An options value as JSON: dataclasses as objects, enums by value, paths as given."""
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, Enum):
        return _plain(value.value)
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def input_entries(
    reports: Iterable[tuple[str, str]], rules: Mapping[str, Path], hashes: Hashes
) -> list[dict[str, Any]]:
    """One entry per input file: `reports` are (name as given, kind) in read order; `rules` the
    rule files by kind (see `rule_files`), whose names are keys of `hashes` too."""
    entries = []
    for name, kind in [*reports, *((str(path), kind) for kind, path in rules.items())]:
        digest = hashes[name]
        entries.append({"path": name, "kind": kind, "size": digest.size, "sha256": digest.sha256})
    return entries


def output_files(folder: Path) -> list[str]:
    """Every file under `folder` but manifest.json, as sorted relative POSIX paths."""
    names = [p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()]
    return sorted(n for n in names if n != MANIFEST)


def build_manifest(
    folder: Path, command: str, options: Mapping[str, Any], inputs: list[dict[str, Any]]
) -> dict[str, Any]:
    outputs = []
    for name in output_files(folder):
        digest = hash_file(folder / name)
        outputs.append({"path": name, "size": digest.size, "sha256": digest.sha256})
    return {
        "manifest_version": 1,
        "tool": {"name": "call-auditor", "version": __version__, "polars": pl.__version__},
        "command": command,
        "options": _plain(dict(options)),
        "inputs": inputs,
        "outputs": outputs,
    }


def write_manifest(
    folder: Path, command: str, options: Mapping[str, Any], inputs: list[dict[str, Any]]
) -> None:
    """manifest.json in `folder`, written after every other output."""
    manifest = build_manifest(folder, command, options, inputs)
    text = json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False)
    with writing(folder / MANIFEST):
        (folder / MANIFEST).write_text(text + "\n", encoding="utf-8")


# Reading it back (auditor verify) --------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """One file the manifest names."""

    path: str
    size: int
    sha256: str
    kind: str = ""

    def matches(self, digest: Digest | None) -> bool:
        return digest is not None and (digest.size, digest.sha256) == (self.size, self.sha256)


@dataclass(frozen=True)
class Manifest:
    command: str
    inputs: list[Entry]
    outputs: list[Entry]


def _entries(data: dict[str, Any], key: str, where: str) -> list[Entry]:
    items = data.get(key)
    if not isinstance(items, list):
        raise UsageError(f"{where}: no {key!r} list: not a call-auditor manifest")
    entries = []
    for item in items:
        try:
            path, size, sha = item["path"], item["size"], item["sha256"]
            ok = isinstance(path, str) and isinstance(size, int) and isinstance(sha, str)
        except (TypeError, KeyError):
            ok = False
        if not ok:
            raise UsageError(f"{where}: a {key!r} entry is not {{path, size, sha256}}: {item!r}")
        entries.append(Entry(path, size, sha, str(item.get("kind", ""))))
    return entries


def read_manifest(folder: Path) -> Manifest:
    """DIR's manifest.json, checked for shape; UsageError (exit 2) when it is absent or not one.
    An output path that would leave DIR (absolute, or `..`) is refused: the file is untrusted."""
    where = str(folder / MANIFEST)
    try:
        data = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"{where}: no such file (not an auditor output folder?)") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UsageError(f"{where}: cannot be read as JSON ({exc})") from None
    if not isinstance(data, dict):
        raise UsageError(f"{where}: not a call-auditor manifest")
    outputs = _entries(data, "outputs", where)
    for entry in outputs:
        pure = PurePosixPath(entry.path)
        if pure.is_absolute() or ".." in pure.parts or not pure.parts or "\\" in entry.path:
            raise UsageError(f"{where}: output path {entry.path!r} leaves the folder")
    return Manifest(
        command=str(data.get("command", "")),
        inputs=_entries(data, "inputs", where),
        outputs=outputs,
    )
