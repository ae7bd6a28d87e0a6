"""The output folder, written atomically: every writer writes into a partial folder beside DIR,
which is renamed to DIR only once everything (manifest.json last) is written.

- DIR never exists half-written: a run killed at any point (even SIGKILL) leaves either no DIR
  (and perhaps a stale `.DIR.partial-XXXXXXXX` beside it, safe to delete) or a complete one.
- An existing non-empty DIR is refused unless `force`; then the new folder replaces it in one
  atomic step where the system allows (Linux `renameat2(RENAME_EXCHANGE)`), else by two renames
  (old aside, new in: a kill between them leaves no DIR, and the old one as a `.partial` folder).
- An ordinary error (exit 2) removes the partial folder; nothing in DIR is touched.
- The partial folder lives beside DIR (same file system, so the rename is atomic) and is created
  with the user's umask, as a plain `mkdir DIR` would be.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import secrets
import shutil
from collections.abc import Iterable, Iterator
from pathlib import Path

from auditor.errors import UsageError

PARTIAL = ".partial-"


def partial_name(final: Path) -> str:
    """The name prefix of DIR's partial folders: hidden, and plainly not DIR."""
    return f".{final.name}{PARTIAL}"


def _is_within(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def check_target(out: Path, force: bool, inputs: Iterable[Path] = ()) -> Path:
    """DIR's real location (symlinks followed), or UsageError: DIR is a file, or not empty
    without `force`, or (with `force`) it holds an input or the working folder."""
    final = out.resolve()
    if final.exists() and not final.is_dir():
        raise UsageError(f"--out {out}: exists and is not a folder")
    if final.is_dir() and any(final.iterdir()):
        if not force:
            raise UsageError(f"--out {out}: folder exists and is not empty (--force replaces it)")
        if final == Path(final.anchor) or _is_within(Path.cwd().resolve(), final):
            raise UsageError(f"--out {out}: holds the working folder: not replacing it")
        for path in inputs:
            if _is_within(path.resolve(), final):
                raise UsageError(f"--out {out}: holds the input {path}: not replacing it")
    return final


def _make_partial(final: Path) -> Path:
    final.parent.mkdir(parents=True, exist_ok=True)
    while True:
        tmp = final.parent / f"{partial_name(final)}{secrets.token_hex(4)}"
        try:
            tmp.mkdir()  # mode 0o777 & ~umask, as DIR itself would get
        except FileExistsError:
            continue
        return tmp


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux renameat2 RENAME_EXCHANGE); False where not available."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    rc = renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange)
    if rc == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False  # the kernel or the file system cannot: fall back to two renames
    raise OSError(err, os.strerror(err), str(b))


def publish(tmp: Path, final: Path, out: Path, force: bool) -> None:
    """Move the complete folder `tmp` to `final` (`out` as the user named it, for messages)."""
    try:
        os.rename(tmp, final)  # absent or empty DIR: replaced in one step
        return
    except OSError as exc:
        if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST):
            raise
    if not force:  # DIR filled up while this run was writing
        raise UsageError(f"--out {out}: folder exists and is not empty (--force replaces it)")
    if _exchange(tmp, final):
        shutil.rmtree(tmp)  # now the old DIR
        return
    old = final.parent / f"{partial_name(final)}old-{secrets.token_hex(4)}"
    os.rename(final, old)
    try:
        os.rename(tmp, final)
    except BaseException:
        os.rename(old, final)  # put the old DIR back
        raise
    shutil.rmtree(old)


@contextlib.contextmanager
def atomic_outdir(out: Path, force: bool = False, inputs: Iterable[Path] = ()) -> Iterator[Path]:
    """Yield a partial folder to write DIR's files into; publish it as `out` when the block ends
    normally, remove it when the block raises. `inputs` are the files the run reads: `force` never
    replaces a folder that holds one of them."""
    final = check_target(out, force, inputs)
    tmp = _make_partial(final)
    try:
        yield tmp
        publish(tmp, final, out, force)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
