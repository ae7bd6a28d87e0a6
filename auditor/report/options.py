"""What the output writers are told (`OutputOptions`): report's own, so that writers import
nothing above them (the pipeline builds one from its `AuditOptions`)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class OutputOptions:
    """Which optional outputs an audit writes (`--calls-csv`, `--no-xlsx`, `--xlsx-calls`)."""

    calls_csv: bool  # calls.csv, streamed from calls.parquet (which is always written)
    xlsx: bool  # audit.xlsx
    xlsx_calls: int  # legs in audit.xlsx's Calls sheet (see report.xlsx)
