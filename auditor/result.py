"""The typed result of an audit: what every writer (summary.json, the terminal, report.html)
reads, so that no figure is re-derived or a key re-spelled in several places."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from auditor.statuses import Duplicate


@dataclass(frozen=True)
class UnexplainedTotals:
    """The headline unexplained rows, summed (absolute values); prices per currency only."""

    rows: int
    calls: int
    minutes: str
    price: str | None  # the total when there is one currency, else null
    currency: str | None
    price_by_currency: dict[str, str]
    price_not_compared_rows: int  # rows whose prices are in different currencies

    def price_text(self) -> str:
        """The price with its currency, per currency when there are several ("0" when none)."""
        parts = [f"{price} {cur}" for cur, price in self.price_by_currency.items()]
        return " + ".join(parts) if parts else "0"


@dataclass(frozen=True)
class NotComparedTotals:
    """Rows nothing on the other side covers; calls counted at the finest level only."""

    count: int
    logged_calls: int
    billable_calls: int
    usage_count: int
    rows: list[dict[str, Any]]


@dataclass(frozen=True)
class RejectCounts:
    """summary.json `rejects`: rows and cells rejected; among the rows, the repeats of a key
    with the kept row's values (`duplicates`) and those whose values differ."""

    rows: int  # input rows rejected
    cells: int  # (row, column) problems
    duplicates: int = 0  # rows rejected as `duplicate of FILE:ROW` (identical repeats)
    conflicting_duplicates: int = 0  # rows rejected as `conflicting duplicate of FILE:ROW (...)`

    @classmethod
    def of(cls, rejects: pl.DataFrame) -> RejectCounts:
        """The counts of a rejects frame (REJECT_SCHEMA)."""
        reason = pl.col("reason")
        dups = rejects.select(
            reason.str.starts_with(f"{Duplicate.IDENTICAL} ").sum().alias("identical"),
            reason.str.starts_with(f"{Duplicate.CONFLICTING} ").sum().alias("conflicting"),
        ).row(0)
        return cls(
            rows=rejects.select("source_file", "source_row").unique().height,
            cells=rejects.height,
            duplicates=int(dups[0] or 0),
            conflicting_duplicates=int(dups[1] or 0),
        )

    def duplicates_text(self) -> str:
        """What the terminal adds to the rejected rows' line ("" without duplicates)."""
        if not (self.duplicates or self.conflicting_duplicates):
            return ""
        return (
            f" (of which {self.duplicates} duplicate(s), "
            f"{self.conflicting_duplicates} conflicting duplicate(s))"
        )


@dataclass(frozen=True)
class CdrCounts:
    """PBX calls vs Twilio legs, counted (summary.json `cdr_matching`)."""

    pbx_calls: int
    matched: int
    pbx_only: int
    twilio_only: int
    internal: int
    ambiguous: int
    not_compared: int  # PBX calls outside the Twilio legs' span: nothing to compare them with
    duration_mismatch: int
    status_mismatch: int
    billed_minutes_at_stake: float

    @property
    def findings(self) -> int:
        """What makes the exit code 1: calls on one side only, PBX calls that could not be
        compared, and mismatched pairs."""
        return (
            self.pbx_only
            + self.twilio_only
            + self.not_compared
            + self.duration_mismatch
            + self.status_mismatch
        )


@dataclass(frozen=True)
class RecordsCounts:
    """The user's own records vs Twilio legs, counted (summary.json `records`): rows by match
    status (`ambiguous` counts records and legs alike), rows per finding, and the billed minutes
    at stake on `duration` findings (Twilio's billed minutes minus what the record's duration
    would bill under the same pricing model, in absolute value)."""

    records: int
    matched: int
    records_only: int
    twilio_only: int
    ambiguous: int
    undelivered: int
    machine_answered: int
    slow: int
    duration: int
    status: int
    billed_minutes_at_stake: float

    @property
    def findings(self) -> int:
        """Non-zero when a row has a finding (what makes the exit code 1); rows with several
        findings count once per finding."""
        return (
            self.records_only
            + self.twilio_only
            + self.ambiguous
            + self.undelivered
            + self.machine_answered
            + self.slow
            + self.duration
            + self.status
        )


@dataclass(frozen=True)
class Summary:
    """summary.json, typed. Key order is the JSON's."""

    inputs: list[dict[str, Any]]
    reconciliation: list[dict[str, Any]]
    unexplained: UnexplainedTotals
    not_compared: NotComparedTotals
    dst: dict[str, Any]
    rejects: RejectCounts
    unaligned_usage: list[dict[str, Any]]
    period: str
    exit_code: int
    engine: str = "local"  # `--engine`: the one key a Ray run's summary.json differs in
    cdr_matching: CdrCounts | None = None
    encoding: dict[str, Any] | None = None
    repeats: dict[str, Any] | None = None  # PBX lines written twice (`Ingested.repeats_summary`)
    records: RecordsCounts | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        """The document summary.json holds (PBX keys only with PBX CDRs among the inputs,
        `records` only with --records)."""
        doc = asdict(self)
        doc.pop("extra")
        exit_code = doc.pop("exit_code")
        for key in ("cdr_matching", "encoding", "repeats", "records"):
            if doc[key] is None:
                doc.pop(key)
        return doc | self.extra | {"exit_code": exit_code}


@dataclass
class AuditOutcome:
    """Everything one audit found, typed: the one thing every output is written from
    (`report.write`), so that a new output is one new writer and no writer derives a figure.

    `calls` is the itemized audit, `calls.parquet` in the output folder: it is as large as the
    input, so it is streamed while the legs are summed, not held here; writers read it lazily.
    """

    summary: Summary
    reconciliation: pl.DataFrame  # usage_reconciliation
    bridge: pl.DataFrame
    usage_records: pl.DataFrame
    rejects: pl.DataFrame
    calls: Path
    cdr_matches: pl.DataFrame | None = None  # with PBX CDRs among the inputs
    records_matches: pl.DataFrame | None = None  # with --records
    records_groups: pl.DataFrame | None = None
    daily: pl.DataFrame | None = None  # per UTC day: logs vs daily usage (`reconcile.daily`)
    # report.html's title block: the options that change figures, the input set's digest and the
    # legs' first and last start (`pipeline.audit._about`); None outside a run
    about: dict[str, Any] | None = None


def headline(recon: pl.DataFrame, status: str) -> pl.DataFrame:
    """The rows of a finding at its finest level (see `usage_reconciliation.headline`)."""
    return recon.filter(pl.col("headline") & (pl.col("status") == status))
