"""Read, normalise and validate every input: the shared first half of `validate` and `audit`.

Conservation holds per file and is asserted: rows read = rows accepted + rows rejected, where a row
is rejected once however many of its columns are bad. PBX CDR lines that were not UTF-8 (read with
`--encoding-fallback`) are counted, accepted or not, in `Ingested.encoding_fallback_rows`; lines
that repeat an earlier line of their file (merged into its call) in `Ingested.repeated_rows`.
"""

from __future__ import annotations

import re
import weakref
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import polars as pl

from auditor.errors import InputError, UsageError
from auditor.ingest.base import ENCODING, SOURCE_FILE, Kind, Reader
from auditor.ingest.detect import detect
from auditor.ingest.files import InputFile, check_encoding_fallback, expand_paths
from auditor.ingest.options import DEFAULT_FALLBACK
from auditor.normalize.contract import check_rows
from auditor.normalize.duplicates import USAGE_DUPLICATES, drop_duplicates
from auditor.normalize.rejects import KEY, REJECT_SCHEMA, drop_rejected, sort_rejects
from auditor.normalize.times import check_zone
from auditor.normalize.usage import normalize_usage
from auditor.pipeline.calls import LOCAL_STAGING, CallParts, CallsStaging, stage_calls_files
from auditor.pipeline.options import (
    NO_PROGRESS,
    STAGE_READ,
    IngestOptions,
    Progress,
)
from auditor.pipeline.workdir import Work
from auditor.schemas import usage as usage_schema
from auditor.schemas.calls import CALLS
from auditor.schemas.checks import ACCOUNT_SID
from auditor.statuses import DstNote


@dataclass
class FileReport:
    file: str
    kind: str
    format: str
    rows_read: int = 0
    rows_accepted: int = 0
    rows_rejected: int = 0

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


class _Removal:
    """Removes a run's work files once: at `close()`, or when nothing holds this any more. Every
    copy of an Ingested (`dataclasses.replace`) shares its one, so that dropping the original
    does not remove the files a copy still reads."""

    def __init__(self, work: Work) -> None:
        self.remove = weakref.finalize(self, work.cleanup)


@dataclass(frozen=True)
class Ingested:
    """Everything read. `calls` is lazy, over Parquet in `work` (it can be far larger than memory):
    keep this object (or a copy of it) alive while it is used, and `close()` it (or let it and
    its copies go) to remove `work`. Frozen: a step that changes it makes a copy."""

    calls: pl.LazyFrame
    usage: pl.DataFrame
    rejects: pl.DataFrame
    files: list[FileReport]
    dst: dict[str, object]
    work: Work = field(repr=False)
    cdrs: pl.DataFrame | None = None  # PBX calls, when PBX CDRs are among the inputs
    # PBX CDR lines that were not UTF-8: the encoding they were read with, and how many input
    # lines (accepted or rejected) needed it.
    encoding_fallback: str = DEFAULT_FALLBACK
    encoding_fallback_rows: int = 0
    repeated_rows: int = 0  # PBX CDR lines identical to an earlier line of their file
    parts: CallParts = field(default_factory=CallParts)  # what `calls` is made of, file by file
    # shared by every copy (an init field, so `replace` passes it on): see `_Removal`
    removal: _Removal | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.removal is None:  # built, not copied: the work files go with the last copy
            object.__setattr__(self, "removal", _Removal(self.work))

    def encoding_summary(self) -> dict[str, object]:
        """summary.json's `encoding`: the fallback and how many PBX lines needed it."""
        return {"fallback": self.encoding_fallback, "rows": self.encoding_fallback_rows}

    def repeats_summary(self) -> dict[str, object]:
        """summary.json's `repeats`: PBX lines written twice, merged into their first's call."""
        return {"rows": self.repeated_rows}

    def close(self) -> None:
        if self.removal is not None:
            self.removal.remove()


def _usage(raw: pl.LazyFrame, formats: dict[str, str]) -> tuple[pl.DataFrame, pl.LazyFrame]:
    """(accepted usage records, rejects); `formats`: file -> format, for telling repeats."""
    canonical, parse_rejects = normalize_usage(raw)
    parse_rejects = parse_rejects.collect().lazy()
    frame = drop_rejected(canonical, parse_rejects).collect()
    accepted, schema_rejects = check_rows(frame, usage_schema.USAGE, usage_schema.SOURCE_NAMES)
    accepted, dup_rejects = drop_duplicates(accepted, USAGE_DUPLICATES, formats)
    return accepted, pl.concat([parse_rejects, schema_rejects, dup_rejects])


def ingest(
    paths: list[str],
    opts: IngestOptions,
    progress: Progress = NO_PROGRESS,
    engine: CallsStaging = LOCAL_STAGING,
    work_root: str | Path | None = None,
) -> Ingested:
    """Every input file read once, normalised, validated; rejects and per-file counts.

    Call logs, usage records and PBX CDRs may come together; PBX rows grouped into one call are
    still counted one by one for conservation. `progress`: the stage "reading files", one step
    per input file. Call-log files are staged as `engine`'s tasks (pipeline/engine.py), in a
    work folder of their own under `work_root` (a folder or an object-store URL; default: the
    system's temporary folder; see pipeline/workdir.py); the engine also finds their duplicate
    SIDs (the partitioned one as tasks, per file and then per SID bucket).
    """
    check_zone(opts.tz)
    if opts.pbx_tz is not None:  # the PBX normaliser loads only where needed
        from auditor.normalize.cdr import check_pbx_zone

        check_pbx_zone(opts.pbx_tz)
    fallback = check_encoding_fallback(opts.read.encoding_fallback)
    files = expand_paths(paths, opts.read.max_inflate, opts.read.exclude)
    if not files:
        raise UsageError("no input files found in " + ", ".join(paths))
    work = Work.create(work_root)
    try:
        return _ingest(files, opts, fallback, progress, engine, work)
    except BaseException:  # nothing is left behind by a run that stops here
        work.cleanup()
        raise


def _ingest(
    files: list[InputFile],
    opts: IngestOptions,
    fallback: str,
    progress: Progress,
    engine: CallsStaging,
    work: Work,
) -> Ingested:
    by_kind: dict[Kind, list[tuple[Reader, InputFile]]] = {}
    reports: list[FileReport] = []
    for file in files:
        reader = detect(file, opts.format, opts.read.cdr_format, fallback)
        by_kind.setdefault(reader.kind, []).append((reader, file))
        reports.append(FileReport(file.name, reader.kind, reader.name))
    unsupported = set(by_kind) - {"calls", "usage", "cdr"}
    if unsupported:
        raise UsageError(f"inputs of kind {unsupported.pop()!r} are not supported by this command")
    progress.stage(STAGE_READ, len(files))

    empty_usage = pl.DataFrame(schema=usage_schema.USAGE.dtypes())
    calls = pl.LazyFrame(schema=CALLS.dtypes())
    dst: dict[str, int] = {"gap": 0, "overlap": 0}
    read: dict[str, int] = {}
    accepted: dict[str, int] = {}
    rejects: list[pl.DataFrame] = []
    parts = CallParts()
    if "calls" in by_kind:
        staged = stage_calls_files(by_kind["calls"], opts, work, progress, engine)
        calls, dst = staged.calls, staged.dst
        read |= staged.read
        accepted |= staged.accepted
        rejects.append(staged.rejects)
        parts = staged.parts
    usage = empty_usage
    if "usage" in by_kind:
        raw = _read_all(by_kind["usage"], opts, progress)
        formats = {file.name: reader.name for reader, file in by_kind["usage"]}
        usage, rej = _usage(raw.lazy(), formats)
        rejects.append(rej.collect())
        _tally(read, raw)
        _tally(accepted, usage)
    cdrs = None
    fallback_rows = repeated_rows = 0
    if "cdr" in by_kind:
        from auditor.normalize.cdr import normalize_cdr, repeated_lines

        raw = _read_all(by_kind["cdr"], opts, progress)
        fallback_rows = int(raw[ENCODING].is_not_null().sum())
        repeated_rows = repeated_lines(raw)
        _tally(read, raw)
        cdrs, keys, rej = normalize_cdr(raw.lazy(), opts.pbx_tz, opts.dst, opts.trunks)
        rejects.append(rej.collect())
        _tally(accepted, keys)

    if opts.account:
        _check_account(opts.account, calls, usage)
    if not opts.account and usage.height:
        accounts = usage["account_sid"].unique().drop_nulls()
        if accounts.len() == 1:
            parts = replace(parts, account_fill=accounts[0])
            calls = calls.with_columns(pl.col("account_sid").fill_null(accounts[0]))
    all_rejects = sort_rejects(
        pl.concat(rejects).lazy() if rejects else pl.LazyFrame(schema=REJECT_SCHEMA)
    ).collect()
    _count(reports, read, accepted, all_rejects)
    dst_summary: dict[str, object] = {"policy": str(opts.dst), "tz": opts.tz, **dst}
    if cdrs is not None:  # accepted PBX calls converted with a note (rejected ones: rejects.csv)
        notes = cdrs["dst_note"]
        dst_summary |= {
            "pbx_tz": opts.pbx_tz,
            "pbx_gap": int((notes == DstNote.GAP.value).sum()),
            "pbx_overlap": int((notes == DstNote.OVERLAP.value).sum()),
        }
    return Ingested(
        calls,
        usage,
        all_rejects,
        reports,
        dst_summary,
        work,
        cdrs,
        encoding_fallback=fallback,
        encoding_fallback_rows=fallback_rows,
        repeated_rows=repeated_rows,
        parts=parts,
    )


def _check_account(account: str, calls: pl.LazyFrame, usage: pl.DataFrame) -> None:
    """`--account SID` must name an account of the inputs: one that is no account SID, or, where
    call-log rows were accepted, one no usage record names (with usage given) or no accepted
    call-log row carries (without usage; written, or filled in where a log has none) is a
    UsageError (exit 2) naming the accounts present, not one reject per call-log row. A
    streaming distinct over the calls."""
    named = set(usage["account_sid"].drop_nulls().unique().to_list())
    logged = calls.select(pl.col("account_sid").drop_nulls().unique()).collect()
    carried = set(logged["account_sid"].to_list())
    valid = re.fullmatch(ACCOUNT_SID, account) is not None
    if valid and (not carried or account in (named or carried)):
        return  # (no accepted call-log row: nothing it stands in for)
    where = ", ".join(sorted((named | carried) - {account})) or "none"
    reason = "is not an account SID (AC + 32 hex)"
    if valid:
        reason = "names no account of the usage records" if named else "matches no row of any input"
    raise UsageError(f"--account {account!r} {reason}; accounts in the inputs: {where}")


def _read_all(
    items: list[tuple[Reader, InputFile]], opts: IngestOptions, progress: Progress
) -> pl.DataFrame:
    """Every file's raw frame, read file by file: polars failing on one (a corrupt Parquet file,
    a column of a type that cannot be text) is an InputError naming that file, not a traceback."""
    frames = []
    for reader, file in items:
        try:
            frames.append(reader.read(file, opts.read).collect())
        except (pl.exceptions.PolarsError, OSError) as exc:
            raise InputError(file.name, f"unreadable ({str(exc).splitlines()[0]})") from None
        progress.advance(rows=frames[-1].height)
    return pl.concat(frames)


def _tally(counts: dict[str, int], frame: pl.DataFrame) -> None:
    """Add `frame`'s rows per source_file to `counts`."""
    for name, n in frame.group_by(SOURCE_FILE).len().iter_rows():
        counts[name] = counts.get(name, 0) + n


def _count(
    reports: list[FileReport],
    read: dict[str, int],
    accepted: dict[str, int],
    rejects: pl.DataFrame,
) -> None:
    """Fill each file's counts and assert conservation: read = accepted + rejected."""
    rejected = dict(rejects.select(KEY).unique().group_by(SOURCE_FILE).len().iter_rows())
    for r in reports:
        r.rows_read, r.rows_accepted, r.rows_rejected = (
            read.get(r.file, 0),
            accepted.get(r.file, 0),
            rejected.get(r.file, 0),
        )
        if r.rows_read != r.rows_accepted + r.rows_rejected:
            raise RuntimeError(
                f"conservation broken for {r.file}: read {r.rows_read}, accepted "
                f"{r.rows_accepted}, rejected {r.rows_rejected}"
            )
