"""Call logs, file by file, in one streaming pass each: the part of ingest that must scale.

Each file is read once and split into two Parquet files in the work folder: the rows that pass
the fast parse and every row check (nearly all, written as canonical calls) and the rows that
need a second look (few, kept as their raw text). The second look is the full parse
(`normalize_calls`) and the contract's row checks on that small frame: it rejects what is wrong,
naming file, row and column, and accepts the rest (e.g. a time written in a rarer shape).
Duplicate call SIDs are found on a 64-bit hash of the SID and confirmed exactly on the few
candidates, whose canonical values only are then read from the staged Parquet and compared
(`normalize.duplicates.Duplicates`: identical or conflicting; a final status wins over a
non-final one, so the row kept may be the later one).

The accepted calls come back as a LazyFrame over the work files, in `source_file`, `source_row`
order, so that later steps stream them too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol

import polars as pl

from auditor.errors import DISK_ERRNOS, InputError, OutputError, os_errno, write_reason
from auditor.ingest.base import SOURCE_FILE, SOURCE_ROW, Reader
from auditor.ingest.files import InputFile
from auditor.normalize.calls import BAD, RAW, TIME_COLUMNS, normalize_calls, stage_calls
from auditor.normalize.calls import require_zone_for_naive as require_zone
from auditor.normalize.contract import check_rows
from auditor.normalize.duplicates import CALL_DUPLICATES, duplicate_rejects
from auditor.normalize.rejects import KEY, REJECT_SCHEMA, drop_rejected
from auditor.normalize.times import sniff_time_format
from auditor.pipeline.options import NO_PROGRESS, IngestOptions, Progress
from auditor.pipeline.runner import THREADS, Outcome, Runner
from auditor.pipeline.workdir import WORK_PARQUET, Work
from auditor.schemas.calls import CALLS, SOURCE_NAMES
from auditor.statuses import DstNote

SAMPLE_ROWS = 500  # values per time column the file's one shape is told from


@dataclass(frozen=True)
class CallParts:
    """What the accepted calls are made of, for an engine that reads them file by file (the
    partitioned one): each call-log file's staged rows as (source_file, Parquet path or URL in
    the run's Work), in name order (what the calls concatenate); the rows rejected as duplicates
    (REJECT_SCHEMA), to drop from them; and the account SID ingest filled in, if any."""

    files: tuple[tuple[str, str], ...] = ()
    duplicates: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=REJECT_SCHEMA))
    account_fill: str | None = None


@dataclass(frozen=True)
class StagedCalls:
    calls: pl.LazyFrame  # accepted canonical calls, sorted by source_file, source_row
    rejects: pl.DataFrame  # REJECT_SCHEMA, one row per bad cell
    read: dict[str, int]  # rows read per file
    accepted: dict[str, int]  # rows accepted per file
    dst: dict[str, int]  # naive times in a DST gap / overlap (before any reject)
    parts: CallParts = field(default_factory=CallParts)


class CallsStaging(Protocol):
    """An engine's first step (pipeline/engine.py): where the files' staging tasks run, and how
    the duplicate call SIDs among the staged files are found."""

    @property
    def runner(self) -> Runner: ...

    def duplicates(
        self,
        merged: pl.LazyFrame,
        files: Sequence[tuple[str, str]],
        ranks: dict[str, int],
        formats: dict[str, str],
        work: Work,
    ) -> pl.DataFrame:
        """The rejects (REJECT_SCHEMA) of every row whose call SID an earlier row has: `merged`
        is every staged row (name order), `files` each file's (source_file, path) in input
        order, `ranks` their input ranks, `formats` their readers' names."""
        ...


class LocalStaging:
    """Staging in this process: files on its threads, duplicates in one streaming pass."""

    runner: Runner = THREADS

    def duplicates(
        self,
        merged: pl.LazyFrame,
        files: Sequence[tuple[str, str]],
        ranks: dict[str, int],
        formats: dict[str, str],
        work: Work,
    ) -> pl.DataFrame:
        return duplicate_rejects(merged, CALL_DUPLICATES, ranks, formats)


LOCAL_STAGING = LocalStaging()


@dataclass(frozen=True)
class _Part:
    file: InputFile
    good: str  # in the run's Work: a local path or a URL
    bad: str


def _shapes(raw: pl.LazyFrame, tz: str | None) -> dict[str, str | None]:
    """The one shape each time column of a file is written in, from its first values."""
    sample = raw.select(TIME_COLUMNS).head(SAMPLE_ROWS).collect()
    return {c: sniff_time_format(sample[c].drop_nulls().to_list(), tz) for c in TIME_COLUMNS}


def _split(raw: pl.LazyFrame, part: _Part, opts: IngestOptions) -> None:
    """One pass over a file: good rows -> canonical Parquet, bad rows -> raw Parquet."""
    staged = stage_calls(raw, opts.tz, _shapes(raw, opts.tz), opts.account, opts.currency)
    good = staged.filter(~pl.col(BAD)).select(CALLS.dtypes().keys())
    bad = staged.filter(pl.col(BAD)).select(*KEY, pl.col(RAW).struct.unnest())
    pl.collect_all(
        [
            good.sink_parquet(part.good, lazy=True, **WORK_PARQUET),
            bad.sink_parquet(part.bad, lazy=True, **WORK_PARQUET),
        ]
    )


def _stage_file(reader: Reader, file: InputFile, opts: IngestOptions, part: _Part) -> None:
    try:
        _split(reader.read(file, opts.read), part, opts)
    # OSError: polars inflating a corrupt or truncated gzip file itself; the fallback reads it
    # through InputFile, which names the file ("corrupt gzip data", exit 2).
    except (pl.exceptions.PolarsError, OSError) as exc:
        code = os_errno(exc)
        if code in DISK_ERRNOS:  # the work folder's disk, not the input: say so
            where = f"{part.good} (a work file: --work DIR puts them elsewhere)"
            raise OutputError(write_reason(code), where) from None
        fallback = getattr(reader, "read_fallback", None)
        if fallback is None:
            raise InputError(file.name, f"unreadable ({str(exc).splitlines()[0]})") from None
        _split(fallback(file, opts.read), part, opts)


def _count(path: str) -> int:
    return pl.scan_parquet(path, glob=False).select(pl.len()).collect().item()


def stage_calls_files(
    items: list[tuple[Reader, InputFile]],
    opts: IngestOptions,
    work: Work,
    progress: Progress = NO_PROGRESS,
    engine: CallsStaging = LOCAL_STAGING,
) -> StagedCalls:
    """Every call-log file staged, second-looked and de-duplicated (see module docstring), as
    `engine`'s tasks. `progress` advances by one step per file staged (from this thread, as
    files complete)."""
    parts = [
        _Part(f, work / f"calls-{i:05d}.good.parquet", work / f"calls-{i:05d}.bad.parquet")
        for i, (_, f) in enumerate(items)
    ]
    # Files are staged two (or cpu_count, or Ray's) at a time: a gzip file is inflated on one
    # thread, so one file at a time leaves the other cores idle while it is decoded.
    read: dict[str, int] = {}

    def staged(i: int, outcome: Outcome) -> None:
        if outcome.error is None:
            read[parts[i].file.name] = _count(parts[i].good) + _count(parts[i].bad)
        progress.advance(rows=read.get(parts[i].file.name, 0))

    # Absolute paths: a task may run in another process (a Ray worker) with another cwd.
    tasks = [
        (_stage_file, (reader, replace(file, path=file.path.resolve()), opts, part))
        for (reader, file), part in zip(items, parts, strict=True)
    ]
    for outcome in engine.runner.run(tasks, staged):  # the first failure in input order
        outcome.get()
    read = {p.file.name: read[p.file.name] for p in parts}  # input order

    # The second look, on the few bad rows of every file together.
    bad = pl.concat([pl.scan_parquet(p.bad, glob=False) for p in parts], how="vertical")
    require_zone(bad, opts.tz)
    lazy, lazy_rejects = normalize_calls(bad, opts.tz, opts.dst, opts.account, opts.currency)
    canonical = lazy.collect()
    dst = {
        "gap": int((canonical["dst"] == DstNote.GAP.value).sum()),
        "overlap": int((canonical["dst"] == DstNote.OVERLAP.value).sum()),
    }
    parse_rejects = lazy_rejects.collect()
    second = drop_rejected(canonical.lazy(), parse_rejects.lazy()).collect()
    recovered, schema_rejects = check_rows(second, CALLS, SOURCE_NAMES)

    # Recovered rows go back into their file's part, in row order (a merge of two sorted runs,
    # one file at a time; most files have none). Then every part holds its file's accepted rows
    # in row order, and the parts in name order are the output order: no sort of the whole.
    # The merge is a new file (an object store cannot rename), the part then points to it.
    for i, part in enumerate(parts):
        mine = recovered.filter(pl.col(SOURCE_FILE) == part.file.name)
        if mine.height:
            merged_path = part.good.removesuffix(".parquet") + ".merged.parquet"
            pl.scan_parquet(part.good, glob=False).merge_sorted(
                mine.lazy(), key=SOURCE_ROW
            ).sink_parquet(merged_path, **WORK_PARQUET)
            parts[i] = replace(part, good=merged_path)
    by_name = sorted(parts, key=lambda p: p.file.name)
    merged = pl.concat([pl.scan_parquet(p.good, glob=False) for p in by_name], how="vertical")
    input_ranks = {p.file.name: i for i, p in enumerate(parts)}
    formats = {file.name: reader.name for reader, file in items}
    goods = [(p.file.name, p.good) for p in parts]
    dup_rejects = engine.duplicates(merged, goods, input_ranks, formats, work)
    calls = merged
    if dup_rejects.height:
        calls = calls.join(
            dup_rejects.lazy().select(KEY), on=KEY, how="anti", maintain_order="left"
        )
    rejects = pl.concat([parse_rejects, schema_rejects.collect(), dup_rejects]).cast(REJECT_SCHEMA)

    accepted = {p.file.name: _count(p.good) for p in parts}  # recovered rows merged in
    for name, n in dup_rejects.group_by(SOURCE_FILE).len().iter_rows():
        accepted[name] -= n
    named = tuple((p.file.name, p.good) for p in by_name)
    return StagedCalls(calls, rejects, read, accepted, dst, CallParts(named, dup_rejects))
