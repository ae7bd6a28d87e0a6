"""Errors that end a run, and the exit codes they map to (one place, as datacompy does)."""

from __future__ import annotations

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
