"""SIGTERM and SIGHUP (docker stop, timeout, a closed terminal) stop a run as Ctrl-C does."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator

from auditor.errors import Terminated

TERMINATING = (signal.SIGTERM, signal.SIGHUP)


@contextlib.contextmanager
def terminate_cleanly() -> Iterator[list[int]]:
    """While the block runs (in the main thread), SIGTERM and SIGHUP raise `Terminated` there,
    as Ctrl-C raises KeyboardInterrupt, and the signal is added to the list yielded (typer turns
    any KeyboardInterrupt into exit 130: the list says which it was). A repeat during the
    clean-up is ignored, so that the clean-up completes. The previous handlers come back
    afterwards (tests call `main` in-process)."""
    received: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield received
        return

    def terminate(signum: int, frame: object) -> None:
        for sig in TERMINATING:
            signal.signal(sig, signal.SIG_IGN)
        received.append(signum)
        raise Terminated(signum)

    previous = {sig: signal.signal(sig, terminate) for sig in TERMINATING}
    try:
        yield received
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
