"""Where `audit` does its heavy steps: one interface (`AuditEngine`), two engines.

Both give the same outputs byte for byte. The local engine streams polars in this process:
call-log files are staged on its threads, duplicate SIDs found in one pass, every leg classified
and summed in one pass. The partitioned engine (`--engine ray`) runs each step as tasks on a
`Runner`: Ray's (pipeline/ray_engine.py), or threads where tests check the flow itself; one task
per file, per SID bucket, per account and UTC month, per month of PBX candidates (see
pipeline/partitions.py). `audit.py` picks one from `EngineOptions` once, then calls only this
interface; Ray is imported only when its runner is asked for.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Protocol

import polars as pl

from auditor.pipeline.calls import CallsStaging, LocalStaging
from auditor.pipeline.ingest import Ingested
from auditor.pipeline.options import NO_PROGRESS, STAGE_CLASSIFY, STAGE_RECONCILE, Progress
from auditor.pipeline.partitions import (
    classify_partitioned,
    duplicates_by_bucket,
    pbx_pairs_by_month,
)
from auditor.pipeline.runner import Runner
from auditor.pipeline.workdir import Work
from auditor.reconcile.cdr import PairsOf, pbx_pairs
from auditor.reconcile.classify import CALL_AUDIT_COLUMNS, classify_calls, leg_groups
from auditor.reconcile.periods import Period
from auditor.reconcile.usage import UsageReconciliation, reconcile_usage, usage_records_used
from auditor.report.tables import sink_parquet
from auditor.rules.model import Rules


class AuditEngine(CallsStaging, Protocol):
    """The steps an engine runs its own way: staging the call-log files and finding their
    duplicate SIDs (`CallsStaging`, used by `ingest`), classifying and reconciling the legs, and
    finding the PBX matcher's candidate pairs."""

    def classify(
        self,
        ing: Ingested,
        out: Path,
        rules: Rules,
        period: Period,
        region: str,
        rejected_rows: int,
        progress: Progress = NO_PROGRESS,
    ) -> tuple[pl.DataFrame, UsageReconciliation]:
        """Every accepted leg classified and written, itemized in input order, to
        `out`/calls.parquet; summed into leg groups; reconciled with the usage records
        (`rejected_rows`: call-log rows rejected). Returns (the groups, the reconciliation).
        `progress` hears the stages up to STAGE_RECONCILE."""
        ...

    def pbx_pairs(self, work: Work) -> PairsOf:
        """How the PBX matcher finds its candidate pairs (writing, if at all, in `work`)."""
        ...


def _write_legs(legs: pl.LazyFrame, sums: pl.LazyFrame, out: Path) -> pl.DataFrame:
    """One pass over the legs: the itemized audit streams to calls.parquet while summed."""
    _, groups = pl.collect_all([sink_parquet(legs, out, "calls"), sums])
    return groups


class LocalEngine(LocalStaging):
    """This process, streaming: today's default (`--engine local`)."""

    def classify(
        self,
        ing: Ingested,
        out: Path,
        rules: Rules,
        period: Period,
        region: str,
        rejected_rows: int,
        progress: Progress = NO_PROGRESS,
    ) -> tuple[pl.DataFrame, UsageReconciliation]:
        progress.stage(STAGE_CLASSIFY)
        classified = classify_calls(ing.calls, rules, period, region)
        groups = _write_legs(classified.select(CALL_AUDIT_COLUMNS), leg_groups(classified), out)
        progress.stage(STAGE_RECONCILE)
        return groups, reconcile_usage(groups, ing.usage, rules, period, rejected_rows)

    def pbx_pairs(self, work: Work) -> PairsOf:
        return pbx_pairs


LOCAL_ENGINE = LocalEngine()


@dataclass(frozen=True)
class PartitionedEngine:
    """Tasks on `runner` (`--engine ray`): per file, per SID bucket, per account and UTC month."""

    runner: Runner

    def duplicates(
        self,
        merged: pl.LazyFrame,
        files: Sequence[tuple[str, str]],
        ranks: dict[str, int],
        formats: dict[str, str],
        work: Work,
    ) -> pl.DataFrame:
        return duplicates_by_bucket(list(files), ranks, formats, work, self.runner)

    def classify(
        self,
        ing: Ingested,
        out: Path,
        rules: Rules,
        period: Period,
        region: str,
        rejected_rows: int,
        progress: Progress = NO_PROGRESS,
    ) -> tuple[pl.DataFrame, UsageReconciliation]:
        parts = ing.parts
        legs, sums, rows = classify_partitioned(
            list(parts.files),
            parts.duplicates,
            parts.account_fill,
            ing.usage,
            rejected_rows,
            rules,
            period,
            region,
            ing.work,
            self.runner,
            progress,
        )
        groups = _write_legs(legs, sums, out)
        progress.stage(STAGE_RECONCILE)
        return groups, UsageReconciliation(rows, usage_records_used(ing.usage, rules, period))

    def pbx_pairs(self, work: Work) -> PairsOf:
        return partial(pbx_pairs_by_month, runner=self.runner, work=work)
