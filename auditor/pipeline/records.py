"""`--records`: read and normalise the user's own records, one file at a time, with the same
bookkeeping as every input (a `FileReport` per file, rejects, conservation asserted: rows read =
rows accepted + rows rejected)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import polars as pl

from auditor.errors import UsageError
from auditor.ingest.base import SOURCE_FILE
from auditor.ingest.files import InputFile, expand_paths
from auditor.ingest.format_files import format_path
from auditor.ingest.records import read_records
from auditor.ingest.records_format_file import RecordsFormat, load_records_format
from auditor.normalize.records import normalize_records
from auditor.normalize.rejects import KEY, REJECT_SCHEMA, sort_rejects
from auditor.pipeline.ingest import FileReport, Ingested
from auditor.pipeline.options import (
    NO_PROGRESS,
    STAGE_RECORDS,
    IngestOptions,
    MatchOptions,
    Progress,
    RecordsOptions,
)
from auditor.reconcile.records import LEG_COLUMNS, RecordsMatches, match_records
from auditor.rules.model import Rules
from auditor.statuses import CALL_DIRECTIONS

KIND = "records"
OWN_CALL_COLUMNS = ("answered_by", "price_unit")  # from the canonical logs: not in calls.parquet


@dataclass
class RecordsInput:
    """The accepted records of every `--records` file (file and row order), their rejects and
    one report per file."""

    format: RecordsFormat
    records: pl.DataFrame
    rejects: pl.DataFrame
    files: list[FileReport]
    inputs: list[InputFile]


def ingest_records(
    paths: list[str], spec: str, opts: IngestOptions, progress: Progress = NO_PROGRESS
) -> RecordsInput:
    """Every records file read once and normalised under the format `spec` (a path or a shipped
    name); `progress`: the stage "reading records", one step per file."""
    fmt = load_records_format(spec)
    files = expand_paths(paths, opts.read.max_inflate, opts.read.exclude)
    if not files:
        raise UsageError("--records: no records file found in " + ", ".join(paths))
    progress.stage(STAGE_RECORDS, len(files))
    reports: list[FileReport] = []
    accepted: list[pl.DataFrame] = []
    rejects: list[pl.DataFrame] = []
    for file in files:
        raw = read_records(file, fmt)
        records, rejected = normalize_records(raw, fmt, region=opts.region, dst=opts.dst)
        report = FileReport(file.name, KIND, fmt.name, rows_read=raw.height)
        report.rows_accepted = records.height
        report.rows_rejected = rejected.select(KEY).unique().height
        if report.rows_read != report.rows_accepted + report.rows_rejected:
            raise RuntimeError(
                f"conservation broken for {file.name}: read {report.rows_read}, accepted "
                f"{report.rows_accepted}, rejected {report.rows_rejected}"
            )
        reports.append(report)
        accepted.append(records)
        rejects.append(rejected)
        progress.advance(rows=raw.height)
    frame = pl.concat(accepted, how="vertical_relaxed")
    all_rejects = pl.concat([pl.DataFrame(schema=REJECT_SCHEMA), *rejects]).sort(
        SOURCE_FILE, "source_row", "column", "reason"
    )
    return RecordsInput(fmt, frame, all_rejects, reports, files)


def records_inputs(
    records: RecordsOptions, opts: IngestOptions
) -> tuple[list[InputFile], dict[str, Path]]:
    """(the records files, {"records-format": path} when the format is a file): what the run
    reads besides its PATHS, for manifest.json and the output folder's safety check. Checks the
    options and loads the format first, so that a bad one stops the run before anything else."""
    check_records_options(records)
    load_records_format(records.format)
    files = expand_paths(list(records.files), opts.read.max_inflate, opts.read.exclude)
    path = format_path(records.format)
    return files, ({} if path is None else {"records-format": path})


def check_records_options(records: RecordsOptions) -> None:
    """Options that cannot work, said before anything is read."""
    if not records.files:
        raise UsageError("--records-format needs --records FILE (your own records)")
    if records.max_delay_s < 0:
        raise UsageError(f"--max-delay {records.max_delay_s} must be 0 or more seconds")
    unknown = [d for d in records.directions if d not in CALL_DIRECTIONS]
    if unknown:
        raise UsageError(
            f"--records-direction {unknown[0]!r} is not a call direction "
            f"({', '.join(CALL_DIRECTIONS)})"
        )


def merge_records(ing: Ingested, own: RecordsInput, need_calls: bool = True) -> Ingested:
    """`ing` with the records files among the run's inputs: their reports after the others,
    their rejects among the others (rejects.csv, summary.json and the exit code see them as
    any input's).
    For an audit (`need_calls`) Twilio call logs must be among the inputs: records are held
    against them."""
    if need_calls and not any(f.kind == "calls" for f in ing.files):
        raise UsageError("--records needs Twilio call logs among the inputs (PATHS)")
    rejects = pl.concat([ing.rejects, own.rejects], how="vertical_relaxed")
    return replace(
        ing, files=[*ing.files, *own.files], rejects=sort_rejects(rejects.lazy()).collect()
    )


def match_own_records(
    ing: Ingested,
    own: RecordsInput,
    calls_parquet: Path,
    rules: Rules,
    opts: IngestOptions,
    match: MatchOptions,
    records: RecordsOptions,
) -> RecordsMatches:
    """The records against the classified legs (calls.parquet: category, billed minutes) with
    each leg's `answered_by` and currency from the canonical logs (`ing.calls`)."""
    wanted = [c for c in LEG_COLUMNS if c not in OWN_CALL_COLUMNS]
    classified = pl.scan_parquet(calls_parquet, glob=False).select(wanted)
    extra = ing.calls.select(*KEY, *OWN_CALL_COLUMNS)
    # calls.parquet is written from the logs in their order: side by side (checked), else joined.
    # Lazy: the matcher reads it once, and lets it go when done.
    aligned = classified.select(KEY).collect().equals(extra.select(KEY).collect())
    legs = (
        pl.concat([classified, extra.select(OWN_CALL_COLUMNS)], how="horizontal")
        if aligned
        else classified.join(extra, on=KEY, how="left", maintain_order="left")
    )
    return match_records(
        own.records,
        legs,
        rules=rules,
        has_status="status" in own.format.columns,
        region=opts.region,
        window_s=match.window_s,
        duration_tolerance_s=match.duration_tolerance_s,
        max_delay_s=records.max_delay_s,
        from_numbers=records.from_numbers,
        directions=records.directions,
    )
