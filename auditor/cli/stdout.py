"""A stdout closed by its reader (`auditor audit ... | head -1`, a pager quit early): not a
finding and not an error. Once a command's run is done (`ran`), or while help or the version
prints, a closed stdout ends the printing, not the exit code."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from contextvars import ContextVar

import typer

# The exit code of the run a command did, set before it prints (see `stdout_closed`).
RUN_EXIT: ContextVar[int | None] = ContextVar("auditor_run_exit", default=None)


def ran(exit_code: int) -> None:
    """The command's work is done (outputs written) and its exit code is `exit_code`."""
    RUN_EXIT.set(exit_code)


def stdout_closed() -> int:
    """stdout was closed by its reader. Exit as the command would have (0 when nothing ran yet,
    e.g. `--help`), quietly: no traceback, no message; what is still buffered goes to /dev/null,
    so that Python's flush at exit does not complain either (rich's console has done the same)."""
    with contextlib.suppress(OSError, ValueError, AttributeError):  # not a real file: in-process
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    code = RUN_EXIT.get()
    return 0 if code is None else code


def _stdout_is_devnull() -> bool:
    """Is stdout now /dev/null (rich's console points it there when its pipe breaks)?"""
    try:
        out, null = os.fstat(sys.stdout.fileno()), os.stat(os.devnull)
    except (OSError, ValueError, AttributeError):
        return False
    return (out.st_dev, out.st_ino) == (null.st_dev, null.st_ino)


@contextlib.contextmanager
def stdout_may_close(parsing: bool) -> Iterator[None]:
    """A closed stdout while a command prints (after its run: `ran`) or while help or the
    version prints (`parsing`) ends the command with `stdout_closed`'s exit code. It arrives as
    BrokenPipeError from typer.echo, or as SystemExit(1) from a rich console, which has pointed
    stdout at /dev/null first; typer would turn either into exit 1."""
    was_null = _stdout_is_devnull()
    try:
        yield
    except BrokenPipeError:
        if not parsing and RUN_EXIT.get() is None:  # a pipe broke mid-run: not a clean end
            raise
        raise typer.Exit(stdout_closed()) from None
    except SystemExit:
        if was_null or not _stdout_is_devnull() or (not parsing and RUN_EXIT.get() is None):
            raise
        raise typer.Exit(stdout_closed()) from None
