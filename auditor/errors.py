"""Errors that end a run, and the exit codes they map to (one place, as datacompy does)."""

from __future__ import annotations

import errno
import os
import re

EXIT_OK = 0
EXIT_FINDINGS = 1  # rows rejected or differences unexplained; outputs are still written
EXIT_UNUSABLE = 2  # an input could not be read at all, or the run could not be done


class AuditorError(Exception):
    """A run-ending problem, reported as one line and exit code 2."""

    exit_code = EXIT_UNUSABLE


class InputError(AuditorError):
    """An input that cannot be read at all: names the file, and the row and column when known."""

    def __init__(
        self, file: str, message: str, row: int | None = None, column: str | None = None
    ) -> None:
        self.file, self.message, self.row, self.column = file, message, row, column
        super().__init__(str(self))

    def __str__(self) -> str:
        where = self.file if self.row is None else f"{self.file}:{self.row}"
        col = f": column {self.column}" if self.column else ""
        return f"{where}{col}: {self.message}"


class NotUtf8Error(InputError):
    """A text input that is not UTF-8 (detection may still try it as a PBX CDR file, which
    decodes such lines with `--encoding-fallback`)."""


class UsageError(AuditorError):
    """Options that do not fit together (e.g. naive times without --tz)."""


class OutputError(AuditorError):
    """An output (or work file) that could not be written: a full or read-only disk, a folder
    that is missing, a file, or not ours. One line naming the path, as `reason while writing
    PATH`."""

    def __init__(self, reason: str, path: str) -> None:
        self.reason, self.path = reason, path
        super().__init__(f"{reason} while writing {path}")


class InternalError(RuntimeError):
    """A broken invariant of the code itself (a bug, never a bad input or option): raised where
    an `assert` would vanish under `python -O`. Deliberately not an AuditorError: the CLI's last
    resort reports it as `auditor: internal error: ...` and exit code 2 (EXIT_UNUSABLE), and
    AUDITOR_DEBUG=1 shows its traceback."""


# What a disk or a folder refuses a writer: these errnos, met while writing, are the run's
# one-line OutputError, never an internal error (nor an input called unreadable).
WRITE_ERRNOS = frozenset(
    {
        errno.ENOSPC,
        errno.EDQUOT,
        errno.EROFS,
        errno.EACCES,
        errno.EPERM,
        errno.ENOTDIR,
        errno.ENOENT,
        errno.EEXIST,
        errno.EISDIR,
        errno.EFBIG,
    }
)
# The ones no input causes: a disk full or read-only (an unreadable input is EACCES or ENOENT).
DISK_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EFBIG})
_OS_ERROR = re.compile(r"\(os error (\d+)\)|\[Errno (\d+)\]")


def os_errno(exc: BaseException) -> int | None:
    """The errno of an OSError, or of an error raised from one (xlsxwriter's FileCreateError),
    or of a polars error that wraps one (polars says `... (os error 28)` in its message and
    sets no errno)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, OSError) and seen.errno is not None:
            return seen.errno
        seen = seen.__cause__ or seen.__context__
    found = _OS_ERROR.search(str(exc)) if isinstance(exc, Exception) else None
    return int(found.group(1) or found.group(2)) if found else None


def write_reason(code: int) -> str:
    """`no space left on device` for ENOSPC: the system's words, in lower case."""
    text = os.strerror(code)
    return text[:1].lower() + text[1:]


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP (docker stop, timeout, Kubernetes, a closed terminal), raised in the
    main thread as Ctrl-C's KeyboardInterrupt is, so that the same clean-up runs (no partial
    output folder, no work folder left); the run exits 128 + the signal's number."""

    def __init__(self, signum: int) -> None:
        self.signum = signum
        super().__init__(signum)
