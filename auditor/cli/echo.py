"""The plain lines `validate` and `audit` print around their tables (the settings file read,
the inputs, PBX lines decoded or merged), the console they print on, and JSON on stdout."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console

if TYPE_CHECKING:
    from auditor.pipeline.ingest import FileReport, Ingested


def echo_json(doc: Any) -> None:
    typer.echo(json.dumps(doc, indent=2, ensure_ascii=False))


def console() -> Console:
    """The terminal's console at its real width (COLUMNS, else the terminal's, else 80),
    plain text when piped; no markup (see cli.terminal)."""
    return Console(highlight=False, markup=False)


def echo_files(files: list[FileReport]) -> None:
    from auditor.cli.terminal import print_files  # polars and the findings: only once run

    rows = [(f.file, f.format, f.rows_read, f.rows_accepted, f.rows_rejected) for f in files]
    print_files(rows, console())


def echo_config(config: str | None) -> None:
    """Which settings file the run read (the --config given, or auditor.toml found here)."""
    if config is not None:
        typer.echo(f"settings from {config}")


def echo_encoding(ing: Ingested) -> None:
    """One line when PBX lines were not UTF-8 and were read with the fallback encoding."""
    if ing.encoding_fallback_rows:
        typer.echo(
            f"{ing.encoding_fallback_rows} PBX line(s) not UTF-8: decoded as "
            f"{ing.encoding_fallback} (marked encoding_note)"
        )
    if ing.repeated_rows:
        typer.echo(
            f"{ing.repeated_rows} PBX line(s) repeat an earlier line: merged into its call "
            "(marked repeat_note)"
        )
