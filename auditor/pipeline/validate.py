"""One function per command: it calls the core and writes the outputs; it prints nothing."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl

from auditor.errors import EXIT_FINDINGS, EXIT_OK
from auditor.pipeline.ingest import Ingested, ingest
from auditor.pipeline.options import IngestOptions
from auditor.report.tables import write_csv


@dataclass
class ValidateResult:
    ingested: Ingested
    exit_code: int


def run_validate(paths: list[str], out: Path, opts: IngestOptions) -> ValidateResult:
    """`auditor validate`: canonical calls/usage Parquet and rejects.csv in `out`."""
    ing = ingest(paths, opts)
    try:
        out.mkdir(parents=True, exist_ok=True)
        ing.calls.sink_parquet(out / "calls.parquet", statistics=False)
        ing.calls = pl.scan_parquet(out / "calls.parquet")  # the work folder goes next
        ing.usage.write_parquet(out / "usage.parquet", statistics=False)
        if ing.cdrs is not None:
            ing.cdrs.write_parquet(out / "cdrs.parquet", statistics=False)
        write_csv(ing.rejects, out / "rejects.csv")
    finally:
        ing.close()
    return ValidateResult(ing, EXIT_FINDINGS if ing.rejects.height else EXIT_OK)
