"""The output folder, written atomically: every writer writes into a partial folder beside DIR,
which is renamed to DIR only once everything (manifest.json last) is written.

- DIR never exists half-written: a run killed at any point (even SIGKILL) leaves either no DIR
  (and perhaps a stale `.DIR.partial-XXXXXXXX` beside it, safe to delete) or a complete one.
- An existing non-empty DIR is refused unless `force`; then the new folder replaces it in one
  atomic step where the system allows (Linux `renameat2(RENAME_EXCHANGE)`), else by two renames
  (old aside, new in: a kill between them leaves no DIR, and the old one as a `.partial` folder).
- An ordinary error (exit 2) removes the partial folder (and the folders above DIR the run
  made); nothing in DIR is touched. A write the disk refuses (full, read-only, not ours) is one
  line naming the file as DIR will hold it: `no space left on device while writing
  DIR/calls.parquet`.
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

from auditor.errors import (
    DISK_ERRNOS,
    WRITE_ERRNOS,
    AuditorError,
    OutputError,
    UsageError,
    os_errno,
    write_reason,
)

PARTIAL = ".partial-"


def partial_name(final: Path) -> str:
    """The name prefix of DIR's partial folders: hidden, and plainly not DIR."""
    return f".{final.name}{PARTIAL}"


def _is_within(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def check_target(out: Path, force: bool, inputs: Iterable[Path] = ()) -> Path:
    """DIR's real location (symlinks followed), or UsageError: DIR or a folder above it is a
    file, DIR is not empty without `force`, or (with `force`) it holds an input or the working
    folder."""
    final = out.resolve()
    if final.exists() and not final.is_dir():
        raise UsageError(f"--out {out}: exists and is not a folder")
    above = next((p for p in final.parents if p.exists()), None)
    if above is not None and not above.is_dir():
        raise UsageError(f"--out {out}: {above} is a file, not a folder")
    if final.is_dir() and any(final.iterdir()):
        if not force:
            raise UsageError(f"--out {out}: folder exists and is not empty (--force replaces it)")
        if final == Path(final.anchor) or _is_within(Path.cwd().resolve(), final):
            raise UsageError(f"--out {out}: holds the working folder: not replacing it")
        for path in inputs:
            if _is_within(path.resolve(), final):
                raise UsageError(f"--out {out}: holds the input {path}: not replacing it")
    return final


def _missing_parents(final: Path) -> list[Path]:
    """The folders above DIR that do not exist yet (made for the run), deepest first."""
    return [p for p in final.parents if not p.exists()]


def _make_partial(final: Path) -> Path:
    final.parent.mkdir(parents=True, exist_ok=True)
    while True:
        tmp = final.parent / f"{partial_name(final)}{secrets.token_hex(4)}"
        try:
            tmp.mkdir()  # mode 0o777 & ~umask, as DIR itself would get
        except FileExistsError:
            continue
        return tmp


def _remove_made(made: list[Path]) -> None:
    """Remove the folders this run made above DIR, deepest first, those still empty."""
    for folder in made:
        try:
            folder.rmdir()
        except OSError:
            return


def _written(tmp: Path, exc: BaseException) -> Path | None:
    """The file of the partial folder a write failed on: the one the error names, else the one
    written last (a writer such as polars, or a Python write(), names none): the latest change,
    and of files changed in the same clock tick the last made (file systems number new inodes
    upwards); None when the folder holds nothing."""
    named = getattr(exc, "filename", None)
    if named is not None:
        return Path(named)
    stats = [(p.stat(), p) for p in tmp.rglob("*") if p.is_file()]
    if not stats:
        return None
    return max(stats, key=lambda s: (s[0].st_mtime_ns, s[0].st_ino))[1]


@contextlib.contextmanager
def writing(path: Path | str) -> Iterator[None]:
    """Around a writer of `path`: a write the disk or a folder refuses (errors.WRITE_ERRNOS)
    is OutputError naming `path` (polars and a Python write() name no file); `atomic_outdir`
    then names it as DIR will hold it."""
    try:
        yield
    except Exception as exc:
        code = os_errno(exc)
        if isinstance(exc, AuditorError) or code not in WRITE_ERRNOS:
            raise
        raise OutputError(write_reason(code), str(path)) from None


def _as_out(error: OutputError, tmp: Path, out: Path) -> OutputError:
    """`error` naming a file of the partial folder as DIR will hold it."""
    path = Path(error.path)
    if path == tmp or tmp in path.parents:
        shown = out if path == tmp else out / path.relative_to(tmp)
        return OutputError(error.reason, str(shown))
    return error


def write_error(exc: BaseException, tmp: Path, out: Path) -> OutputError | None:
    """The one-line error for a write the disk or a folder refused, naming the file as the user
    will know it (`DIR/calls.parquet`, not the partial folder); None for any other error. A full
    or read-only disk (errors.DISK_ERRNOS) is always a write; the other WRITE_ERRNOS
    (permission denied, no such file...) only on a path in the partial folder: elsewhere they
    may be an input's."""
    if isinstance(exc, OutputError):
        return _as_out(exc, tmp, out)
    code = os_errno(exc)
    if isinstance(exc, AuditorError) or code not in WRITE_ERRNOS:
        return None
    path = _written(tmp, exc)
    inside = path is not None and (path == tmp or tmp in path.parents)
    if code not in DISK_ERRNOS and not inside:
        return None
    if path is None or path == tmp:
        shown = out
    elif inside:
        shown = out / path.relative_to(tmp)
    else:
        shown = path  # a file elsewhere (a work file)
    return OutputError(write_reason(code), str(shown))


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
    made = _missing_parents(final)
    try:
        tmp = _make_partial(final)
    except OSError as exc:
        _remove_made(made)
        code = exc.errno if exc.errno is not None else errno.EIO
        raise OutputError(write_reason(code), str(out)) from None
    try:
        yield tmp
        publish(tmp, final, out, force)
    except BaseException as exc:
        error = write_error(exc, tmp, out) if isinstance(exc, Exception) else None
        shutil.rmtree(tmp, ignore_errors=True)
        _remove_made(made)
        if error is not None:
            raise error from None
        raise
