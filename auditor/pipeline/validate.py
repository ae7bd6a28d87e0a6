"""One function per command: it calls the core and writes the outputs; it prints nothing."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import polars as pl

from auditor.errors import EXIT_FINDINGS, EXIT_OK
from auditor.ingest.files import expand_paths
from auditor.pipeline.ingest import Ingested, ingest
from auditor.pipeline.options import (
    NO_PROGRESS,
    STAGE_WRITE,
    IngestOptions,
    Progress,
    RecordsOptions,
)
from auditor.pipeline.records import ingest_records, merge_records, records_inputs
from auditor.report.manifest import Hashes, input_entries, rule_files, write_manifest
from auditor.report.outdir import atomic_outdir, writing
from auditor.report.tables import ROW_GROUP_ROWS, write_csv
from auditor.result import RejectCounts


@dataclass
class ValidateResult:
    ingested: Ingested
    exit_code: int
    out: Path

    def as_dict(self) -> dict[str, Any]:
        """The run as `validate --json` prints it: the inputs read, DST, rejects (and the PBX
        lines decoded or merged), then the exit code."""
        ing = self.ingested
        doc: dict[str, Any] = {
            "inputs": [f.as_dict() for f in ing.files],
            "dst": ing.dst,
            "rejects": asdict(RejectCounts.of(ing.rejects)),
        }
        if ing.cdrs is not None:
            doc["encoding"] = ing.encoding_summary()
            doc["repeats"] = ing.repeats_summary()
        return doc | {"exit_code": self.exit_code}


def run_validate(
    paths: list[str],
    out: Path,
    opts: IngestOptions,
    *,
    force: bool = False,
    progress: Progress = NO_PROGRESS,
    config: Path | None = None,
    records: RecordsOptions | None = None,
) -> ValidateResult:
    """`auditor validate`: canonical calls/usage Parquet and rejects.csv in `out`, written
    atomically (see `report.outdir`; `force` replaces a non-empty `out`), manifest.json last.
    `progress` hears the stages "reading files" and "writing"; `config`, the settings file the
    options came from, is hashed in the manifest with the inputs. With `records` (--records),
    the user's own records are read and checked too: records.parquet, their rejects among the
    others (the matching options do not apply: nothing is matched)."""
    files = expand_paths(paths, opts.read.max_inflate, opts.read.exclude)
    extra = rule_files(cdr_format=opts.read.cdr_format, config=config)
    if records is not None:  # a bad format stops the run here, before anything is read
        own_files, own_format = records_inputs(records, opts)
        files, extra = [*files, *own_files], extra | own_format
    to_hash = {f.name: f.path for f in files} | {str(p): p for p in extra.values()}
    with atomic_outdir(out, force, [f.path for f in files]) as partial, Hashes(to_hash) as hashes:
        own = (
            None
            if records is None
            else ingest_records(list(records.files), records.format, opts, progress)
        )
        ing = ingest(paths, opts, progress)
        try:
            if own is not None:
                ing = merge_records(ing, own, need_calls=False)
                with writing(partial / "records.parquet"):
                    own.records.write_parquet(partial / "records.parquet", statistics=False)
            progress.stage(STAGE_WRITE)
            with writing(partial / "calls.parquet"):
                ing.calls.sink_parquet(
                    partial / "calls.parquet", statistics=False, row_group_size=ROW_GROUP_ROWS
                )
            with writing(partial / "usage.parquet"):
                ing.usage.write_parquet(partial / "usage.parquet", statistics=False)
            if ing.cdrs is not None:
                with writing(partial / "cdrs.parquet"):
                    ing.cdrs.write_parquet(partial / "cdrs.parquet", statistics=False)
            write_csv(ing.rejects, partial / "rejects.csv")
        finally:
            ing.close()
        inputs = input_entries([(f.file, f.kind) for f in ing.files], extra, hashes)
        options: dict[str, object] = {"paths": paths, "ingest": opts}
        if records is not None:
            options["records"] = records
        write_manifest(partial, "validate", options, inputs)
    written = pl.scan_parquet(out / "calls.parquet", glob=False)  # the work folder is gone
    ing = replace(ing, calls=written)
    return ValidateResult(ing, EXIT_FINDINGS if ing.rejects.height else EXIT_OK, out)
