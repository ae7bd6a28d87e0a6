"""`auditor audit`: ingest, classify every leg, reconcile logs with usage, build the bridge, write.

Outputs (names and columns are a contract): calls.parquet/.csv, usage_reconciliation.parquet/.csv,
bridge.parquet/.csv, usage_records.parquet/.csv, rejects.csv, summary.json.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from auditor.errors import EXIT_FINDINGS, EXIT_OK, UsageError
from auditor.pipeline_ingest import Ingested, IngestOptions, ingest
from auditor.reconcile.bridge import build_bridge
from auditor.reconcile.classify import CALL_AUDIT_COLUMNS, classify_calls
from auditor.reconcile.periods import Period
from auditor.reconcile.usage import reconcile_usage
from auditor.report.summary import build_summary, write_summary
from auditor.report.tables import write_csv, write_table
from auditor.rules.model import load_rules


@dataclass
class AuditResult:
    ingested: Ingested
    legs: pl.DataFrame
    recon: pl.DataFrame
    bridge: pl.DataFrame
    summary: dict[str, Any]
    exit_code: int


def _require_accounts(ing: Ingested) -> None:
    missing = ing.calls.filter(pl.col("account_sid").is_null())
    if missing.height:
        first = missing.row(0, named=True)
        accounts = ing.usage["account_sid"].n_unique()
        raise UsageError(
            f"{first['source_file']}: call logs carry no account SID and the usage records name "
            f"{accounts} accounts: pass --account SID"
        )


def run_audit(
    paths: list[str],
    out: Path,
    opts: IngestOptions,
    period: Period = Period.MONTH,
    pricing: Path | None = None,
) -> AuditResult:
    rules = load_rules(pricing)
    ing = ingest(paths, opts)
    _require_accounts(ing)
    legs = classify_calls(ing.calls, rules, period, opts.region)
    call_rejects = ing.rejects.join(
        pl.DataFrame(
            [f.file for f in ing.files if f.kind == "calls"], schema={"source_file": pl.String}
        ),
        on="source_file",
    )
    rejected_call_rows = call_rejects.select("source_file", "source_row").unique().height
    rec = reconcile_usage(legs, ing.usage, rules, period, rejected_call_rows)
    bridge = build_bridge(legs, rec.rows, rules)
    unexplained = rec.rows.filter(pl.col("status") == "unexplained").height
    exit_code = EXIT_FINDINGS if (unexplained or ing.rejects.height) else EXIT_OK
    summary = build_summary(
        [f.as_dict() for f in ing.files],
        rec.rows,
        bridge,
        ing.dst,
        ing.rejects,
        rec.usage_records.filter(pl.col("used_as") == "unaligned"),
        exit_code,
        extra={"period": str(period)},
    )
    out.mkdir(parents=True, exist_ok=True)
    write_table(legs.select(CALL_AUDIT_COLUMNS).sort("source_file", "source_row"), out, "calls")
    write_table(rec.rows, out, "usage_reconciliation")
    write_table(bridge, out, "bridge")
    write_table(rec.usage_records, out, "usage_records")
    write_csv(ing.rejects, out / "rejects.csv")
    write_summary(summary, out / "summary.json")
    return AuditResult(ing, legs, rec.rows, bridge, summary, exit_code)
