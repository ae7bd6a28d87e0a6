"""`auditor verify DIR [--inputs PATHS...]`: re-hash what manifest.json names and say, per file,
whether it is still what the run read or wrote.

- Outputs are looked up in DIR. A file in DIR that the manifest does not name is `changed` (the
  folder is not what the run wrote).
- Inputs are looked up at their path as given (relative to the working folder), or, with
  `--inputs`, among the files those paths hold (files, folders read recursively, globs): the file
  named exactly as in the manifest, else the ones sharing the longest tail of its path (at least
  its file name; of several such, one that matches is enough). An input not found is `missing`.
- Exit 0 only when every file is OK; 1 otherwise; 2 when DIR has no readable manifest.
"""

from __future__ import annotations

import glob
import os
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Any

from auditor.errors import EXIT_FINDINGS, EXIT_OK, InputError
from auditor.report.manifest import MANIFEST, Entry, Hashes, read_manifest
from auditor.statuses import FileStatus


@dataclass(frozen=True)
class Checked:
    """One file of the manifest: `role` input or output, its path as the manifest names it, its
    status, and where it was found when that is not that path (`--inputs`)."""

    role: str
    path: str
    status: FileStatus
    found_at: str | None = None
    note: str = ""


@dataclass
class VerifyResult:
    folder: Path
    command: str
    checked: list[Checked]
    exit_code: int

    def count(self, status: FileStatus) -> int:
        return sum(c.status == status for c in self.checked)

    def as_dict(self) -> dict[str, Any]:
        """The check as `verify --json` prints it: every file, the counts, the exit code."""
        files = [
            {"role": c.role, "path": c.path, "status": str(c.status)}
            | ({"found_at": c.found_at} if c.found_at else {})
            | ({"note": c.note} if c.note else {})
            for c in self.checked
        ]
        return {
            "folder": str(self.folder),
            "command": self.command,
            "files": files,
            "counts": {str(s): self.count(s) for s in FileStatus},
            "exit_code": self.exit_code,
        }


def _expand(paths: list[str]) -> list[Path]:
    """Every file the `--inputs` paths hold (nothing skipped: a rules file counts too)."""
    found: list[Path] = []
    for given in paths:
        path = Path(given)
        if path.is_dir():
            found += sorted(p for p in path.rglob("*") if p.is_file())
        elif path.is_file():
            found.append(path)
        elif glob.has_magic(given):
            found += [
                Path(m) for m in sorted(glob.glob(given, recursive=True)) if Path(m).is_file()
            ]
        else:
            raise InputError(given, "no such file or folder (--inputs)")
    return found


def _tail(a: PurePath, b: PurePath) -> int:
    """How many trailing path parts `a` and `b` share."""
    n = 0
    for x, y in zip(reversed(a.parts), reversed(b.parts), strict=False):
        if x != y:
            break
        n += 1
    return n


def _candidates(entry: Entry, pool: list[Path]) -> list[Path]:
    """Where an input may be among the `--inputs` files: the path as named, else the files with
    the longest common tail (the same name at least)."""
    named = PurePath(entry.path)
    exact = [p for p in pool if p == Path(entry.path)]
    if exact:
        return exact
    best = max((_tail(named, p) for p in pool), default=0)
    return [p for p in pool if best and _tail(named, p) == best]


def run_verify(folder: Path, inputs: list[str] | None = None) -> VerifyResult:
    manifest = read_manifest(folder)
    pool = _expand(inputs) if inputs is not None else None
    where: dict[str, list[Path]] = {}
    for entry in manifest.inputs:
        where[entry.path] = [Path(entry.path)] if pool is None else _candidates(entry, pool)
    to_hash = {f"output:{e.path}": folder / e.path for e in manifest.outputs}
    for paths in where.values():
        to_hash |= {f"input:{p}": p for p in paths}
    checked: list[Checked] = []
    with Hashes(to_hash, workers=min(4, os.cpu_count() or 1)) as hashes:
        for e in manifest.inputs:
            found = [p for p in where[e.path] if hashes.get(f"input:{p}") is not None]
            match = next((p for p in found if e.matches(hashes.get(f"input:{p}"))), None)
            at = match or (found[0] if found else None)
            status = (
                FileStatus.MISSING
                if at is None
                else FileStatus.OK
                if match is not None
                else FileStatus.CHANGED
            )
            shown = str(at) if at is not None and str(at) != e.path else None
            checked.append(Checked("input", e.path, status, shown))
        for e in manifest.outputs:
            digest = hashes.get(f"output:{e.path}")
            status = (
                FileStatus.MISSING
                if digest is None
                else FileStatus.OK
                if e.matches(digest)
                else FileStatus.CHANGED
            )
            checked.append(Checked("output", e.path, status))
    listed = {e.path for e in manifest.outputs} | {MANIFEST}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        name = path.relative_to(folder).as_posix()
        if name not in listed:
            checked.append(Checked("output", name, FileStatus.CHANGED, note="not in manifest.json"))
    ok = all(c.status == FileStatus.OK for c in checked)
    return VerifyResult(folder, manifest.command, checked, EXIT_OK if ok else EXIT_FINDINGS)
