"""The partitioned audit (`--engine ray`): accepted calls split by account and UTC month, each
partition classified, summed and reconciled by one task, the results merged as the local engine
writes them; and, as tasks too, the duplicate-SID search (by SID bucket) and the PBX matcher's
candidate pairs (by month).

Calls belong to the period their UTC start falls in, so months are independent: a partition's
legs are summed into the same groups (`leg_groups`, keyed by account and period) as the whole
run's, and reconciled into the same rows. Each partition's itemized legs are written in input
order (file name, row) with an order key, so that calls.parquet is their streaming merge, row
for row the local engine's.

Tasks are module-level functions of picklable arguments, run by a `Runner` (threads or Ray);
each writes only its own files, at paths fixed by its arguments, so a retried task rewrites
the same files.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl

from auditor.ingest.base import SOURCE_FILE, SOURCE_ROW
from auditor.normalize.duplicates import CALL_DUPLICATES, duplicate_verdicts, repeated_rows
from auditor.normalize.rejects import KEY, REJECT_SCHEMA
from auditor.pipeline.options import NO_PROGRESS, STAGE_CLASSIFY, STAGE_SPLIT, Progress
from auditor.pipeline.runner import Runner, Task
from auditor.pipeline.workdir import WORK_PARQUET, Work
from auditor.reconcile.cdr import pbx_pairs
from auditor.reconcile.classify import CALL_AUDIT_COLUMNS, classify_calls, leg_groups
from auditor.reconcile.periods import Period, period_of, usage_period
from auditor.reconcile.usage import KEY as USAGE_KEY
from auditor.reconcile.usage import reconcile_usage
from auditor.rules.model import Rules
from auditor.schemas.calls import CALLS

KEY_SCHEMA = {SOURCE_FILE: pl.String, SOURCE_ROW: pl.Int64}
NONE = "_none"  # a partition key that is null: no account SID, or no time at all
ORDER = "_order"  # file rank << 32 | source_row: input order as one sortable key
ROW_BITS = 32
PBX_SPARE_S = 3  # seconds around a PBX call's window, for sub-second stamps (cdr.py spares 2)
MAX_RING_S = 1 << 33  # seconds (272 years): past any ring time a 1970-2099 call has


@dataclass(frozen=True)
class Partition:
    """One account's one UTC month, and the files (by rank) that hold its rows."""

    account: str
    month: str
    ranks: tuple[int, ...]

    def folder(self, work: Work) -> str:
        return work / f"partitions/account={self.account}/month={self.month}"


def _keys() -> list[pl.Expr]:
    moment = pl.coalesce(pl.col("start_time_utc"), pl.col("end_time_utc"))
    return [
        pl.col("account_sid").fill_null(NONE).alias("__account"),
        period_of(moment, Period.MONTH).fill_null(NONE).alias("__month"),
    ]


def split_file(
    rank: int, good: str, duplicates: pl.DataFrame, account_fill: str | None, work: Work
) -> list[tuple[str, str]]:
    """Task: one file's accepted rows (its staged rows less `duplicates`, KEY columns), the
    account filled as ingest fills it, written to each of its partitions' folders as
    `<rank>.parquet`, in row order. Returns the (account, month) keys it wrote."""
    rows = pl.scan_parquet(good, glob=False)
    if duplicates.height:
        rows = rows.join(duplicates.lazy(), on=KEY, how="anti", maintain_order="left")
    if account_fill is not None:
        rows = rows.with_columns(pl.col("account_sid").fill_null(account_fill))
    keyed = rows.with_columns(_keys())
    keys = keyed.select("__account", "__month").unique().sort("__account", "__month").collect()
    sinks = []
    for account, month in keys.iter_rows():
        folder = Partition(account, month, ()).folder(work)
        part = keyed.filter((pl.col("__account") == account) & (pl.col("__month") == month))
        sinks.append(
            part.drop("__account", "__month").sink_parquet(
                f"{folder}/{rank:06d}.parquet", lazy=True, mkdir=True, **WORK_PARQUET
            )
        )
    if sinks:
        pl.collect_all(sinks)
    return list(keys.iter_rows())


def _empty_groups(rules: Rules, period: Period, region: str) -> pl.DataFrame:
    legs = classify_calls(pl.LazyFrame(schema=CALLS.dtypes()), rules, period, region)
    return leg_groups(legs).collect()


def classify_partition(
    partition: Partition,
    ranks: dict[str, int],
    rules: Rules,
    period: Period,
    region: str,
    work: Work,
    usage: pl.DataFrame,
    rejected_rows: int,
) -> tuple[str | None, pl.DataFrame, pl.DataFrame]:
    """Task: one partition's legs classified, written in input order with ORDER beside them
    (`legs.parquet` in its folder), summed into leg groups, and reconciled against the
    partition's `usage` records. Returns the legs' file (None: a month of usage without
    calls), the groups and the reconciliation rows (a few rows each)."""
    if not partition.ranks:
        groups = _empty_groups(rules, period, region)
        rows = reconcile_usage(groups, usage, rules, period, rejected_rows).rows
        return None, groups, rows
    folder = partition.folder(work)
    calls = pl.concat(
        [pl.scan_parquet(f"{folder}/{r:06d}.parquet", glob=False) for r in partition.ranks],
        how="vertical",
    )
    legs = classify_calls(calls, rules, period, region)
    order = (
        pl.col(SOURCE_FILE).replace_strict(ranks, return_dtype=pl.Int64) * (1 << ROW_BITS)
        + pl.col(SOURCE_ROW).cast(pl.Int64)
    ).alias(ORDER)
    path = f"{folder}/legs.parquet"
    _, groups = pl.collect_all(
        [
            legs.select(*CALL_AUDIT_COLUMNS, order).sink_parquet(path, lazy=True, **WORK_PARQUET),
            leg_groups(legs),
        ]
    )
    rows = reconcile_usage(groups, usage, rules, period, rejected_rows).rows
    return path, groups, rows


def _usage_keys(usage: pl.DataFrame, period: Period) -> pl.DataFrame:
    """`usage` with the (account, month) of the period each record covers exactly (null when
    it covers none: such a record is reconciled in no period, so in no partition)."""
    covers = usage_period(pl.col("start_date"), pl.col("end_date"), period)
    return usage.with_columns(
        pl.col("account_sid").fill_null(NONE).alias("__account"),
        covers.str.slice(0, 7).alias("__month"),
    )


def sid_buckets(rank: int, good: str, work: Work) -> list[str]:
    """Task: one file's call SIDs (with source_file, source_row) split by the SID's last
    character (hex: 16 buckets; the same on every node, unlike a hash) into
    `sids/bucket=<hex of it>/<rank>.parquet`. Returns the buckets it wrote."""
    sids = (
        pl.scan_parquet(good, glob=False)
        .select("call_sid", SOURCE_FILE, SOURCE_ROW)
        .filter(pl.col("call_sid").is_not_null())
        .with_columns(pl.col("call_sid").str.slice(-1).str.encode("hex").alias("__b"))
    )
    buckets = sids.select(pl.col("__b").unique().sort()).collect()["__b"].to_list()
    sinks = []
    for b in buckets:
        sinks.append(
            sids.filter(pl.col("__b") == b)
            .drop("__b")
            .sink_parquet(_sid_file(work, b, rank), lazy=True, mkdir=True, **WORK_PARQUET)
        )
    if sinks:
        pl.collect_all(sinks)
    return buckets


def _sid_file(work: Work, bucket: str, rank: int) -> str:
    return work / f"sids/bucket={bucket}/{rank:06d}.parquet"


def bucket_duplicates(files: list[str]) -> pl.DataFrame:
    """Task: the rows (call_sid, source_file, source_row) of the SIDs repeated among one
    bucket's SIDs (`files`, one per input file that has such SIDs): every repeat of a SID is in
    its bucket, so these are exactly the run's rows of those SIDs."""
    frame = pl.scan_parquet(files, glob=False)
    return repeated_rows(frame, CALL_DUPLICATES.key, ["call_sid", SOURCE_FILE, SOURCE_ROW])


def candidate_rows(good: str, rows: pl.DataFrame) -> pl.DataFrame:
    """Task: the canonical values a duplicate's verdict reads (`CALL_DUPLICATES.columns()`) of
    one file's `rows` (KEY columns), read from its staged calls."""
    return (
        pl.scan_parquet(good, glob=False)
        .join(rows.lazy(), on=KEY, how="semi")
        .select(CALL_DUPLICATES.columns())
        .collect()
    )


def duplicates_by_bucket(
    goods: list[tuple[str, str]],
    ranks: dict[str, int],
    formats: dict[str, str],
    work: Work,
    runner: Runner,
) -> pl.DataFrame:
    """Duplicate call SIDs across every file, as `duplicate_rejects` finds them over the whole
    run: one task per file splits its SIDs into buckets, one task per bucket finds repeats
    (given the files written, by name: an object store is not listed), one task per file with
    repeats reads their values; the verdicts are the local engine's, on the same rows."""
    split = [(sid_buckets, (ranks[name], good, work)) for name, good in goods]
    files: dict[str, list[str]] = {}
    for (name, _), found in zip(goods, _all(runner, split, NO_PROGRESS), strict=True):
        for b in found:
            files.setdefault(b, []).append(_sid_file(work, b, ranks[name]))
    tasks = [(bucket_duplicates, (files[b],)) for b in sorted(files)]
    repeated = pl.concat(
        [
            pl.DataFrame(schema={"call_sid": pl.String, **KEY_SCHEMA}),
            *_all(runner, tasks, NO_PROGRESS),
        ]
    )
    mine = {
        name: part.select(KEY)
        for (name,), part in repeated.partition_by(SOURCE_FILE, as_dict=True).items()
    }
    by_file = [(candidate_rows, (good, mine[name])) for name, good in goods if name in mine]
    rows = _all(runner, by_file, NO_PROGRESS)
    if not rows:
        return pl.DataFrame(schema=REJECT_SCHEMA)
    return duplicate_verdicts(pl.concat(rows), CALL_DUPLICATES, ranks, formats)


def month_pairs(pbx_path: str, legs_path: str, month: str, window_s: int) -> pl.DataFrame:
    """Task: the PBX candidate pairs of one UTC month's legs (those starting in it). The PBX
    calls given to it are every one whose window (start - window_s, answer + window_s) can
    reach into the month, so a call near a month boundary is given to both months; each leg is
    in one month only, so the months' pairs together are the run's, each pair once."""
    lo = datetime.strptime(month, "%Y-%m").replace(tzinfo=UTC)
    hi = (lo + timedelta(days=32)).replace(day=1)
    reach = pl.duration(seconds=window_s + PBX_SPARE_S)
    ring = pl.duration(seconds=pl.col("__ring").clip(0, MAX_RING_S))
    start = pl.col("start_utc")
    pbx = pl.scan_parquet(pbx_path, glob=False).filter(
        (start + ring + reach >= lo) & (start - reach < hi) | start.is_null()
    )
    return pbx_pairs(pbx, pl.scan_parquet(legs_path, glob=False), window_s)


def pbx_pairs_by_month(
    pbx: pl.LazyFrame,
    legs: pl.LazyFrame,
    window_s: int,
    *,
    runner: Runner,
    work: Work,
) -> pl.DataFrame:
    """`cdr.PairsOf` as tasks, one per UTC month of the legs' starts (`month_pairs`); the
    matcher then settles the pairs once, by the same rule as on one machine."""
    pbx_path = work / "pbx/pbx.parquet"
    pbx.sink_parquet(pbx_path, mkdir=True, **WORK_PARQUET)
    months_of = period_of(pl.col("start_time_utc"), Period.MONTH)
    keyed = legs.with_columns(months_of.alias("__month")).collect()
    tasks = []
    for (month,), part in keyed.partition_by("__month", as_dict=True).items():
        path = work / f"pbx/legs-{month}.parquet"
        part.drop("__month").lazy().sink_parquet(path, mkdir=True, **WORK_PARQUET)
        tasks.append((month_pairs, (pbx_path, path, month, window_s)))
    found = _all(runner, sorted(tasks, key=lambda t: str(t[1][2])), NO_PROGRESS)
    if not found:
        return pbx_pairs(pbx.head(0), legs.head(0), window_s)
    return pl.concat(found, how="vertical")


def classify_partitioned(
    parts: list[tuple[str, str]],
    duplicates: pl.DataFrame,
    account_fill: str | None,
    usage: pl.DataFrame,
    rejected_rows: int,
    rules: Rules,
    period: Period,
    region: str,
    work: Work,
    runner: Runner,
    progress: Progress = NO_PROGRESS,
) -> tuple[pl.LazyFrame, pl.LazyFrame, pl.DataFrame]:
    """Every file split into partitions (one task per file), every partition classified and
    reconciled against its month's usage (one task per partition; a month of usage without
    calls is a partition too). Returns the itemized legs in input order (CALL_AUDIT_COLUMNS,
    a lazy merge of the partitions' files), the leg groups of them all and the reconciliation
    rows of them all (sorted as `reconcile_usage` sorts them: every row is of one account and
    period, so of one partition)."""
    ranks = {name: i for i, (name, _) in enumerate(parts)}
    split = [
        (
            split_file,
            (
                ranks[name],
                good,
                duplicates.filter(pl.col(SOURCE_FILE) == name).select(KEY),
                account_fill,
                work,
            ),
        )
        for name, good in parts
    ]
    by_key: dict[tuple[str, str], list[int]] = {}
    progress.stage(STAGE_SPLIT, len(split))
    for (name, _), outcome in zip(parts, _all(runner, split, progress), strict=True):
        for key in outcome:
            by_key.setdefault(key, []).append(ranks[name])
    keyed_usage = _usage_keys(usage, period)
    for key in keyed_usage.select("__account", "__month").drop_nulls().unique().iter_rows():
        by_key.setdefault(key, [])
    partitions = [Partition(a, m, tuple(r)) for (a, m), r in sorted(by_key.items())]
    tasks = []
    for p in partitions:
        mine = keyed_usage.filter(
            (pl.col("__account") == p.account) & (pl.col("__month") == p.month)
        )
        args = (
            p,
            ranks,
            rules,
            period,
            region,
            work,
            mine.drop("__account", "__month"),
            rejected_rows,
        )
        tasks.append((classify_partition, args))
    progress.stage(STAGE_CLASSIFY, len(tasks))
    results = _all(runner, tasks, progress)
    paths = [path for path, _, _ in results if path is not None]
    if not paths:  # no accepted calls: the empty frames the local engine would give
        empty = classify_calls(pl.LazyFrame(schema=CALLS.dtypes()), rules, period, region)
        legs = empty.select(CALL_AUDIT_COLUMNS)
    else:
        legs = pl.scan_parquet(paths[0], glob=False)
        for path in paths[1:]:
            legs = legs.merge_sorted(pl.scan_parquet(path, glob=False), key=ORDER)
        legs = legs.select(CALL_AUDIT_COLUMNS)
    groups = pl.concat([_empty_groups(rules, period, region), *(g for _, g, _ in results)])
    if not results:  # nor any usage: the rows of nothing, as the local engine gives them
        rows = reconcile_usage(groups, usage, rules, period, rejected_rows).rows
    else:
        rows = pl.concat([r for _, _, r in results], how="vertical").sort(USAGE_KEY)
    return legs, groups.lazy(), rows


def _all(runner: Runner, tasks: list[Task], progress: Progress) -> list[Any]:
    """Every task's result, one progress step each as it completes; the first failure in
    task order is raised."""
    outcomes = runner.run(tasks, lambda _i, _o: progress.advance())
    return [o.get() for o in outcomes]
