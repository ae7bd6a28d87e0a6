"""The one step that writes an audit's output files, each by its own writer, from one
`AuditOutcome`: adding an output is adding a writer here.

Order: tables first, audit.xlsx, summary.json, then report.html; manifest.json is written after
this step by the pipeline, because it hashes what these wrote. `calls.parquet` is already in the
folder (it is streamed by the classify pass: see `AuditOutcome`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import polars as pl

from auditor.report.options import OutputOptions
from auditor.report.summary import write_summary
from auditor.report.tables import csv_ready, sink_csv, sink_parquet, write_csv, write_table
from auditor.report.xlsx import FILE_NAME as XLSX_NAME
from auditor.report.xlsx import write_workbook
from auditor.result import AuditOutcome

Writer = Callable[[AuditOutcome, Path, OutputOptions], None]


def _calls_csv(outcome: AuditOutcome, folder: Path, options: OutputOptions) -> None:
    """calls.csv, opt-in (`--calls-csv`): streamed from calls.parquet."""
    if options.calls_csv:
        sink_csv(pl.scan_parquet(outcome.calls, glob=False), folder, "calls")


def _logs_vs_usage(outcome: AuditOutcome, folder: Path, options: OutputOptions) -> None:
    write_table(outcome.reconciliation, folder, "usage_reconciliation")
    write_table(outcome.bridge, folder, "bridge")
    write_table(outcome.usage_records, folder, "usage_records")


def _rejects(outcome: AuditOutcome, folder: Path, options: OutputOptions) -> None:
    write_csv(outcome.rejects, folder / "rejects.csv")


def _cdr_matches(outcome: AuditOutcome, folder: Path, options: OutputOptions) -> None:
    if outcome.cdr_matches is not None:
        write_table(outcome.cdr_matches, folder, "cdr_matches")


def _records(outcome: AuditOutcome, folder: Path, options: OutputOptions) -> None:
    """records_matches.parquet / .csv (as many rows as records: both stream from the frame, side
    by side) and records_groups.csv."""
    if outcome.records_matches is None:
        return
    matches = outcome.records_matches.lazy()
    csv = csv_ready(matches).sink_csv(folder / "records_matches.csv", lazy=True)
    pl.collect_all([sink_parquet(matches, folder, "records_matches"), csv])
    if outcome.records_groups is not None:
        write_csv(outcome.records_groups, folder / "records_groups.csv")


def _summary(outcome: AuditOutcome, folder: Path, options: OutputOptions) -> None:
    write_summary(outcome.summary, folder / "summary.json")


def _html(outcome: AuditOutcome, folder: Path, options: OutputOptions) -> None:
    from auditor.report.html import write_report  # Jinja2 and matplotlib: only when it runs

    write_report(outcome, folder / "report.html")


def _xlsx(outcome: AuditOutcome, folder: Path, options: OutputOptions) -> None:
    """audit.xlsx, on by default (`--no-xlsx` skips it)."""
    if options.xlsx:
        write_workbook(outcome, folder / XLSX_NAME, options.xlsx_calls)


WRITERS: tuple[Writer, ...] = (
    _calls_csv,
    _logs_vs_usage,
    _rejects,
    _cdr_matches,
    _records,
    _xlsx,
    _summary,
    _html,
)


def write_outputs(outcome: AuditOutcome, folder: Path, options: OutputOptions) -> None:
    """Every output file of the audit but calls.parquet and manifest.json, into `folder`."""
    for writer in WRITERS:
        writer(outcome, folder, options)
