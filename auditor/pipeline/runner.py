"""Where the pipeline's independent tasks run: threads of this process, or Ray tasks.

A task is a module-level function and its arguments (picklable: Ray ships them to a worker).
`run` returns each task's outcome in the order given, a result or the exception it raised, so
that a caller reports the first failure in input order whichever finished first; `done` hears
each task as it completes (from the calling thread), for progress.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Any, Protocol

WORKERS = max(2, os.cpu_count() or 1)  # threads at once in this process


@dataclass(frozen=True)
class Outcome:
    """One task's result, or the exception it raised."""

    value: Any = None
    error: BaseException | None = None

    def get(self) -> Any:
        if self.error is not None:
            raise self.error
        return self.value


Task = tuple[Callable[..., Any], tuple[Any, ...]]


def no_report(index: int, outcome: Outcome) -> None:
    pass


class Runner(Protocol):
    """Runs tasks; see the module doc."""

    name: str

    def run(
        self, tasks: Sequence[Task], done: Callable[[int, Outcome], None] = no_report
    ) -> list[Outcome]: ...


class ThreadRunner:
    """Tasks on threads of this process: polars releases the GIL while it reads and writes."""

    name = "local"

    def __init__(self, workers: int = WORKERS) -> None:
        self.workers = workers

    def run(
        self, tasks: Sequence[Task], done: Callable[[int, Outcome], None] = no_report
    ) -> list[Outcome]:
        outcomes: list[Outcome | None] = [None] * len(tasks)
        with ThreadPoolExecutor(max_workers=self.workers) as pool:
            futures = {pool.submit(fn, *args): i for i, (fn, args) in enumerate(tasks)}
            try:
                for future in as_completed(futures):
                    i = futures[future]
                    error = future.exception()
                    outcome = Outcome(None, error) if error else Outcome(future.result())
                    outcomes[i] = outcome
                    done(i, outcome)
            except BaseException:  # Ctrl-C, SIGTERM: start no more tasks, let running ones end
                pool.shutdown(wait=True, cancel_futures=True)
                raise
        return [o for o in outcomes if o is not None]


THREADS = ThreadRunner()
