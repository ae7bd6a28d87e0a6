"""summary.json: the audit's typed result (`auditor.result.Summary`) as one deterministic JSON
document (no wall-clock time). Built here from figures computed elsewhere; nothing is totalled."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl

from auditor.reconcile.findings import not_compared_totals, plain, records, unexplained_totals
from auditor.report.outdir import writing
from auditor.result import CdrCounts, RecordsCounts, RejectCounts, Summary


def _with_bridges(recon: pl.DataFrame, bridge: pl.DataFrame) -> list[dict[str, Any]]:
    """Each reconciliation row, with its bridge steps."""
    key = ["account_sid", "period", "category"]
    steps = bridge.group_by(key, maintain_order=True).agg(
        pl.struct(
            pl.col("rule"),
            pl.col("count_delta"),
            pl.col("minutes_delta").cast(pl.String),
        ).alias("bridge")
    )
    out = []
    for row in recon.join(steps, on=key, how="left", maintain_order="left").iter_rows(named=True):
        bridge_steps = row.pop("bridge") or []
        out.append({k: plain(v) for k, v in row.items()} | {"bridge": bridge_steps})
    return out


def build_summary(
    inputs: list[dict[str, Any]],
    recon: pl.DataFrame,
    bridge: pl.DataFrame,
    dst: dict[str, Any],
    rejects: pl.DataFrame,
    unaligned: pl.DataFrame,
    exit_code: int,
    period: str,
    cdr_matching: CdrCounts | None = None,
    encoding: dict[str, Any] | None = None,
    own_records: RecordsCounts | None = None,
    engine: str = "local",
    repeats: dict[str, Any] | None = None,
) -> Summary:
    return Summary(
        inputs=inputs,
        reconciliation=_with_bridges(recon, bridge),
        unexplained=unexplained_totals(recon),
        not_compared=not_compared_totals(recon),
        dst=dst,
        rejects=RejectCounts.of(rejects),
        unaligned_usage=records(
            unaligned.select(
                "source_file", "source_row", "account_sid", "category", "start_date", "end_date"
            )
        ),
        period=period,
        exit_code=exit_code,
        engine=engine,
        cdr_matching=cdr_matching,
        encoding=encoding,
        repeats=repeats,
        records=own_records,
    )


def write_summary(summary: Summary, path: Path) -> None:
    text = json.dumps(summary.as_json(), indent=2, ensure_ascii=False)
    with writing(path):
        path.write_text(text + "\n", encoding="utf-8")
