"""The run's progress on a terminal: the pipeline's stages (`pipeline.options.Progress`) drawn
with rich on stderr, one line for the stage under way (files done / total, rows read, time).

Only when stderr is a terminal and `--quiet` is not given: a pipe, a file or a CI log gets
nothing (no escape codes in logs). The display is transient: it is gone when the run ends, and
stdout (the tables, or `--json`) is left as it would be without it.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from auditor.pipeline.options import NO_PROGRESS, STAGE_READ, STAGE_RECORDS
from auditor.pipeline.options import Progress as ProgressSink

# What a stage's steps are: input files while reading, tasks after (the Ray engine's stages).
STEP_UNITS = {STAGE_READ: "files", STAGE_RECORDS: "files"}


class RichProgress:
    """A `pipeline.options.Progress` drawn by a started `rich.progress.Progress`."""

    def __init__(self, progress: Progress) -> None:
        self._progress = progress
        self._task: TaskID | None = None
        self._total: int | None = None
        self._done = 0
        self._rows = 0
        self._unit = "files"

    def stage(self, name: str, total: int | None = None) -> None:
        if self._task is not None:  # the previous stage is done: it leaves the display
            self._progress.remove_task(self._task)
        self._total, self._done, self._rows = total, 0, 0
        self._unit = STEP_UNITS.get(name, "tasks")
        self._task = self._progress.add_task(name, total=total, count=self._count(), rows="")

    def advance(self, n: int = 1, *, rows: int = 0) -> None:
        if self._task is None:
            return
        self._done += n
        self._rows += rows
        rows_text = f"{self._rows:,} rows" if self._rows else ""
        self._progress.update(self._task, advance=n, count=self._count(), rows=rows_text)

    def _count(self) -> str:
        """`done/total files` (or `tasks`) for a stage of known steps, nothing for the others."""
        return "" if self._total is None else f"{self._done}/{self._total} {self._unit}"


def progress_enabled(quiet: bool) -> bool:
    """Draw progress only for a person watching: stderr is a terminal and no `--quiet`."""
    isatty = getattr(sys.stderr, "isatty", None)
    return not quiet and isatty is not None and bool(isatty())


@contextmanager
def terminal_progress(quiet: bool = False) -> Iterator[ProgressSink]:
    """A progress sink for one run: rich on stderr when `progress_enabled`, else one that
    reports nothing. The display stops (and is cleared) when the block ends, error or not."""
    if not progress_enabled(quiet):
        yield NO_PROGRESS
        return
    console = Console(stderr=True)
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.fields[count]}"),
        TextColumn("{task.fields[rows]}"),
        TimeElapsedColumn(),
    )
    # No redirection of stdout / stderr into the display: stdout is the run's result (--json).
    live = Progress(
        *columns, console=console, transient=True, redirect_stdout=False, redirect_stderr=False
    )
    with live as progress:
        yield RichProgress(progress)
