"""The pipeline's options: the CLI builds them, the pipeline passes them down. The layers below
own theirs (`ingest.options.ReadOptions`, `report.options.OutputOptions`) or are handed the
values they use, so nothing below the pipeline imports this module."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Protocol

from auditor.ingest.options import ReadOptions
from auditor.normalize.times import DstPolicy
from auditor.reconcile.periods import Period
from auditor.report.options import EXCEL_ROWS, OutputOptions


@dataclass(frozen=True)
class IngestOptions:
    """How inputs are read and their times placed (`--tz`, `--dst`, `--format`, ...)."""

    tz: str | None = None
    dst: DstPolicy = DstPolicy.REJECT
    format: str | None = None
    account: str | None = None
    currency: str | None = None  # `--currency`: the currency of call-log prices with no price_unit
    pbx_tz: str | None = None  # zone of naive PBX CDR times (Asterisk, FreeSWITCH write local time)
    region: str = "US"  # phonenumbers region for national numbers in PBX CDRs
    # `--trunk PREFIX`: PBX channels starting with one of these are the trunk to Twilio (e.g.
    # `PJSIP/twilio`); none given: normalize/cdr.py's fallback rule (an external number's side)
    trunks: tuple[str, ...] = ()
    read: ReadOptions = field(default_factory=ReadOptions)


@dataclass(frozen=True)
class MatchOptions:
    """How PBX calls are matched to Twilio legs (`--did`, `--match-window`, ...)."""

    dids: tuple[str, ...] = ()
    window_s: int = 60
    duration_tolerance_s: int = 2
    trunks: tuple[str, ...] = ()  # `--trunk`: channel prefixes; a call on one crossed the trunk


@dataclass(frozen=True)
class RecordsOptions:
    """`--records`: the user's own records and how they are held against Twilio's legs (the
    match window and duration tolerance are MatchOptions', shared with the PBX matching)."""

    files: tuple[str, ...]  # `--records FILE` (repeat): files, folders or globs
    format: str  # `--records-format`: a shipped format name or a TOML file
    max_delay_s: int = 60  # `--max-delay`: Twilio's start this long after the record is `slow`
    from_numbers: tuple[str, ...] = ()  # `--records-from`: the caller IDs of the user's system
    directions: tuple[str, ...] = ()  # `--records-direction`: the directions of its legs


class Engine(StrEnum):
    """Where `audit` runs (`--engine`): this process (streaming polars), or Ray tasks, one per
    input file, then one per account and UTC month (pipeline/ray_engine.py)."""

    LOCAL = "local"
    RAY = "ray"


@dataclass(frozen=True)
class EngineOptions:
    """`--engine`, `--ray-address`, `--work`."""

    engine: Engine = Engine.LOCAL
    ray_address: str | None = None  # None: a local Ray with this machine's cores
    work: str | None = None  # folder or object-store URL for the tasks' Parquet (workdir.py)

    @property
    def partitioned(self) -> bool:
        """Whether the run is split into tasks per file and per account and month."""
        return self.engine is Engine.RAY


@dataclass(frozen=True)
class AuditOptions:
    """What `auditor audit` adds to ingest: the period, the rules file, matching, outputs."""

    period: Period = Period.MONTH
    pricing: Path | None = None
    match: MatchOptions = field(default_factory=MatchOptions)
    calls_csv: bool = False  # calls.csv is hundreds of MB at scale: opt-in (calls.parquet always)
    xlsx: bool = True  # audit.xlsx (`--no-xlsx` skips it): see report.xlsx
    xlsx_calls: int = EXCEL_ROWS  # legs in audit.xlsx's Calls sheet (`--xlsx-calls`; report.xlsx)
    engine: EngineOptions = field(default_factory=EngineOptions)

    @property
    def output(self) -> OutputOptions:
        """The writers' part of these options."""
        return OutputOptions(self.calls_csv, self.xlsx, self.xlsx_calls)


class Progress(Protocol):
    """Where a run reports how far it is (the CLI draws it on a terminal; see
    `cli.progress`). Stages come one after another; `advance` counts steps of the current
    stage (input files) and the rows they held. The pipeline calls it from its main thread only."""

    def stage(self, name: str, total: int | None = None) -> None:
        """A new stage begins (the previous one is done): `total` steps, or None when unknown."""

    def advance(self, n: int = 1, *, rows: int = 0) -> None:
        """`n` more steps of the current stage are done, having read `rows` rows."""


class NoProgress:
    """The default `Progress`: reports nothing."""

    def stage(self, name: str, total: int | None = None) -> None:
        pass

    def advance(self, n: int = 1, *, rows: int = 0) -> None:
        pass


NO_PROGRESS: Progress = NoProgress()

# Stage names, in the order a run reports them (tests and the display rely on them).
STAGE_RECORDS = "reading records"
STAGE_READ = "reading files"
STAGE_SPLIT = "splitting by month"  # --engine ray: tasks done / total from here on
STAGE_CLASSIFY = "classifying"
STAGE_RECONCILE = "reconciling"
STAGE_PBX = "matching PBX"
STAGE_OWN = "matching records"
STAGE_WRITE = "writing"
