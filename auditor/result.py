"""The typed result of an audit: what every writer (summary.json, the terminal, report.html)
reads, so that no figure is re-derived or a key re-spelled in several places."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from auditor.statuses import ROW_FINDINGS, Duplicate, RecordsFinding, RecordsMatch, count_key


def signed(text: str) -> str:
    """A signed figure as the outputs show it: `+3`, `-5`, `0` (usage minus logs)."""
    return text if text.startswith("-") or text in ("0", "") else f"+{text}"


@dataclass(frozen=True)
class SideTotals:
    """One side of the unexplained headline rows, each figure with its sign (usage minus
    logs): `above` sums the positive residuals (billed above the logs), `below` the negative
    ones (billed below them), `net` both. `rows`: the rows with a figure on that side (a row
    can be on both: more calls billed, fewer minutes); all of them in `net`. Prices per
    currency."""

    rows: int = 0
    calls: int = 0
    minutes: str = "0"
    price_by_currency: dict[str, str] = field(default_factory=dict)

    def price_text(self) -> str:
        """Signed prices with their currency ("0" when none)."""
        parts = [f"{signed(p)} {cur}" for cur, p in self.price_by_currency.items()]
        return " + ".join(parts) if parts else "0"

    def text(self) -> str:
        """`+1 call(s), +10 minute(s), +0.3735 USD`."""
        return (
            f"{signed(str(self.calls))} call(s), {signed(self.minutes)} minute(s), "
            f"{self.price_text()}"
        )


def _side(value: SideTotals | dict[str, Any]) -> SideTotals:
    return value if isinstance(value, SideTotals) else SideTotals(**value)


@dataclass(frozen=True)
class UnexplainedTotals:
    """The headline unexplained rows (one per finding, at its finest level). `calls`,
    `minutes`, `price`, `price_by_currency` are gross: the sum of absolute values, what is at
    stake either way. `above`, `below` and `net` give the same figures signed (usage minus
    logs): billed above the logs, billed below them, and the net. Prices per currency only."""

    rows: int
    calls: int
    minutes: str
    price: str | None  # the total when there is one currency, else null
    currency: str | None
    price_by_currency: dict[str, str]
    price_not_compared_rows: int  # rows whose prices are in different currencies
    above: SideTotals = field(default_factory=SideTotals)
    below: SideTotals = field(default_factory=SideTotals)
    net: SideTotals = field(default_factory=SideTotals)

    def __post_init__(self) -> None:  # rebuilt from summary.json: the sides come as dicts
        for name in ("above", "below", "net"):
            object.__setattr__(self, name, _side(getattr(self, name)))

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

    def as_json(self) -> dict[str, int | float]:
        """summary.json `cdr_matching`, in its key order (the fields')."""
        return asdict(self)

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
    would bill under the same pricing model, in absolute value). Keyed by the enums, so that a
    new status or finding is counted, written and shown with no field added here."""

    records: int
    statuses: Mapping[RecordsMatch, int]  # rows per match status
    found: Mapping[RecordsFinding, int]  # rows per finding (a status that is one included)
    billed_minutes_at_stake: float

    @property
    def findings(self) -> int:
        """Non-zero when a row has a finding (what makes the exit code 1); rows with several
        findings count once per finding."""
        return sum(self.found[f] for f in RecordsFinding)

    def as_json(self) -> dict[str, int | float]:
        """summary.json `records`, in its key order: the records, rows per match status, per
        finding that is no status (`ROW_FINDINGS`), the minutes at stake."""
        return {
            "records": self.records,
            **{count_key(s): self.statuses[s] for s in RecordsMatch},
            **{count_key(f): self.found[f] for f in ROW_FINDINGS},
            "billed_minutes_at_stake": self.billed_minutes_at_stake,
        }

    def __getattr__(self, name: str) -> int | float:
        """A count by its summary.json key (`counts.records_only`): the keys follow the enums."""
        if name.startswith("_") or name in _RECORDS_FIELDS:  # not set yet (copy, unpickling)
            raise AttributeError(name)
        try:
            return self.as_json()[name]
        except KeyError:
            raise AttributeError(name) from None

    def findings_first(self) -> list[tuple[str, int]]:
        """(key, rows) of every finding in `RecordsFinding` order, then the matched rows and the
        records: the terminal's table."""
        return [
            *((count_key(f), self.found[f]) for f in RecordsFinding),
            (count_key(RecordsMatch.MATCHED), self.statuses[RecordsMatch.MATCHED]),
            ("records", self.records),
        ]


_RECORDS_FIELDS = ("records", "statuses", "found", "billed_minutes_at_stake")


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

    def reasons(self) -> list[str]:
        """What makes the exit code non-zero, in words (the verdict of every output)."""
        reasons = []
        if self.unexplained.rows:
            reasons.append(f"{self.unexplained.rows} difference(s) no rule explains")
        if self.not_compared.count:
            reasons.append(f"{self.not_compared.count} row(s) not compared")
        if self.rejects.rows:
            reasons.append(f"{self.rejects.rows} input row(s) rejected")
        if self.cdr_matching is not None and self.cdr_matching.findings:
            reasons.append(f"{self.cdr_matching.findings} PBX finding(s)")
        if self.records is not None and self.records.findings:
            reasons.append(f"{self.records.findings} finding(s) on your records")
        return reasons

    def as_json(self) -> dict[str, Any]:
        """The document summary.json holds (PBX keys only with PBX CDRs among the inputs,
        `records` only with --records)."""
        doc = asdict(self)
        doc.pop("extra")
        exit_code = doc.pop("exit_code")
        for key in ("cdr_matching", "encoding", "repeats", "records"):
            if doc[key] is None:
                doc.pop(key)
        if self.records is not None:
            doc["records"] = self.records.as_json()
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
