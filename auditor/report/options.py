"""What the output writers are told (`OutputOptions`): report's own, so that writers import
nothing above them (the pipeline builds one from its `AuditOptions`)."""

from __future__ import annotations

from dataclasses import dataclass

# Data rows an Excel sheet holds below its header (1,048,576 rows in all): a fact about Excel that
# report/xlsx.py cuts the Calls sheet at. Here, in this import-free module, so that the CLI's
# `--xlsx-calls` default costs no import of the writers.
EXCEL_ROWS = 1_048_575


@dataclass(frozen=True)
class OutputOptions:
    """Which optional outputs an audit writes (`--calls-csv`, `--no-xlsx`, `--xlsx-calls`)."""

    calls_csv: bool  # calls.csv, streamed from calls.parquet (which is always written)
    xlsx: bool  # audit.xlsx
    xlsx_calls: int  # legs in audit.xlsx's Calls sheet (see report.xlsx)
