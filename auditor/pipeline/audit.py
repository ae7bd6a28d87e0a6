"""`auditor audit`: ingest, classify every leg, reconcile logs with usage, build the bridge, write.

Outputs (names and columns are a contract): calls.parquet/.csv, usage_reconciliation.parquet/.csv,
bridge.parquet/.csv, usage_records.parquet/.csv, rejects.csv, summary.json, report.html; with PBX
CDRs among the inputs also cdr_matches.parquet/.csv, with `--records` also
records_matches.parquet/.csv and records_groups.csv (usage records are then optional: without them
the logs-vs-usage files are written empty).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import polars as pl

from auditor.errors import EXIT_FINDINGS, EXIT_OK, InputError, UsageError
from auditor.ingest.files import expand_paths
from auditor.normalize.rejects import DST_REASON
from auditor.normalize.times import DstPolicy
from auditor.pipeline.engine import LOCAL_ENGINE, AuditEngine, PartitionedEngine
from auditor.pipeline.ingest import Ingested, ingest
from auditor.pipeline.options import (
    NO_PROGRESS,
    STAGE_OWN,
    STAGE_PBX,
    STAGE_WRITE,
    AuditOptions,
    IngestOptions,
    MatchOptions,
    Progress,
    RecordsOptions,
)
from auditor.pipeline.records import (
    RecordsInput,
    ingest_records,
    match_own_records,
    merge_records,
    records_inputs,
)
from auditor.pipeline.runner import Runner
from auditor.reconcile.bridge import build_bridge
from auditor.reconcile.cdr import PairsOf, TrunkLegs, account_dids, match_cdrs, pbx_pairs
from auditor.reconcile.coverage import (
    log_coverage,
    tz_offset,
    with_coverage,
    with_dst_hint,
    with_tz_hint,
)
from auditor.reconcile.daily import daily_volumes
from auditor.reconcile.periods import Period
from auditor.reconcile.records import RecordsMatches
from auditor.reconcile.usage import ancestor_map
from auditor.report.manifest import Hashes, input_entries, rule_files, write_manifest
from auditor.report.outdir import atomic_outdir
from auditor.report.summary import build_summary
from auditor.report.write import write_outputs
from auditor.result import AuditOutcome, CdrCounts, Summary
from auditor.rules.model import Rules, load_rules
from auditor.statuses import FINDINGS, UsedAs

NO_CALL_LOGS = (
    "PBX CDRs given but no Twilio call logs: nothing to match them with (add the Calls export "
    "for the same period)"
)  # named after the first PBX CDR file, as every run-ending input problem is


@dataclass
class AuditResult:
    """The run: what was read, where it was written, what it found (`outcome`), its exit code."""

    ingested: Ingested
    out: Path
    outcome: AuditOutcome
    exit_code: int
    records: RecordsMatches | None = field(default=None)  # with --records

    @property
    def summary(self) -> Summary:
        return self.outcome.summary

    @property
    def recon(self) -> pl.DataFrame:
        return self.outcome.reconciliation

    @property
    def bridge(self) -> pl.DataFrame:
        return self.outcome.bridge

    @property
    def cdr_matches(self) -> pl.DataFrame | None:
        return self.outcome.cdr_matches

    @property
    def legs(self) -> pl.DataFrame:
        """The itemized audit as written (calls.parquet): read on demand, it can be large."""
        return pl.read_parquet(self.out / "calls.parquet", glob=False)


def _require_accounts(ing: Ingested) -> None:
    missing = ing.calls.filter(pl.col("account_sid").is_null()).head(1).collect()
    if missing.height:
        first = missing.row(0, named=True)
        accounts = ing.usage["account_sid"].n_unique()
        raise UsageError(
            f"{first['source_file']}: call logs carry no account SID and the usage records name "
            f"{accounts} accounts: pass --account SID"
        )


def _dst_rejected(ing: Ingested, call_files: list[str], audit: AuditOptions) -> dict[str, int]:
    """Call-log rows rejected for a DST gap or overlap, per period of their local time (a
    naive time near a DST change is far from a month's or day's edge)."""
    width = 7 if audit.period is Period.MONTH else 10
    rows = (
        ing.rejects.filter(
            pl.col("source_file").is_in(call_files) & pl.col("reason").str.starts_with(DST_REASON)
        )
        .group_by("source_file", "source_row")
        .agg(pl.col("value").min().str.slice(0, width).alias("period"))
        .group_by("period")
        .len()
    )
    return {p: int(n) for p, n in rows.iter_rows() if p is not None}


def _tz_hint(
    ing: Ingested,
    calls: Path,
    recon: pl.DataFrame,
    rules: Rules,
    opts: IngestOptions,
    audit: AuditOptions,
) -> pl.DataFrame:
    """`recon` with the `tz-offset` hint where moving the naive call-log times by whole hours
    shrinks the call-count residuals (a Console CSV read with the wrong --tz)."""
    if not (recon["unexplained_count"].fill_null(0) != 0).any():
        return recon  # no call-count residual to shrink: the legs are not read again
    naive = ing.calls.filter(pl.col("time_naive").fill_null(False)).select("source_file")
    files = naive.unique().collect()["source_file"].to_list()
    hours = tz_offset(calls, files, recon, ancestor_map(rules), audit.period)
    return recon if hours is None else with_tz_hint(recon, hours, opts.tz, rules.hints)


def _match_pbx(
    cdrs: pl.DataFrame,
    calls: pl.LazyFrame,
    rules: Rules,
    opts: IngestOptions,
    match: MatchOptions,
    pairs_of: PairsOf = pbx_pairs,
) -> tuple[pl.DataFrame, CdrCounts]:
    """PBX calls vs Twilio legs. DID legs are `twilio-only` candidates only when the user names
    the PBX's DIDs (`--did`); trunking legs always are."""
    pricing = rules.pricing_for("trunking-termination")
    return match_cdrs(
        cdrs,
        calls,
        dids=list(match.dids) or account_dids(calls, region=opts.region),
        region=opts.region,
        window_s=match.window_s,
        duration_tolerance_s=match.duration_tolerance_s,
        minimum_s=pricing.minimum_s,
        increment_s=pricing.increment_s,
        trunk_legs=TrunkLegs(did_legs=bool(match.dids)),
        billable_statuses=rules.billable,
        bill_zero_duration=rules.bill_zero_duration,
        bill_zero_dates=rules.bill_zero_dates,
        pairs_of=pairs_of,
        trunks=match.trunks,
    )


def _runner(audit: AuditOptions) -> Runner:
    """Where the partitioned engine's tasks go: Ray (imported, started or joined only here)."""
    from auditor.pipeline.ray_engine import connect

    return connect(audit.engine.ray_address)


def _engine(audit: AuditOptions) -> AuditEngine:
    """The run's engine, picked once (pipeline/engine.py)."""
    if audit.engine.partitioned:  # one task per file, then per account and month
        return PartitionedEngine(_runner(audit))
    return LOCAL_ENGINE


def run_audit(
    paths: list[str],
    out: Path,
    opts: IngestOptions,
    audit: AuditOptions | None = None,
    *,
    force: bool = False,
    records: RecordsOptions | None = None,
    progress: Progress = NO_PROGRESS,
    config: Path | None = None,
) -> AuditResult:
    """The audit of `paths`, written to `out` atomically (see `report.outdir`; `force` replaces a
    non-empty `out`), manifest.json last. The result's `out` is `out`. `progress` hears the
    stages (`options.STAGE_*`) in the order they run. `config`, the settings file the options
    came from, is hashed in the manifest with the inputs."""
    audit = audit or AuditOptions()
    rules = load_rules(audit.pricing)
    files = expand_paths(paths, opts.read.max_inflate, opts.read.exclude)
    extra = rule_files(audit.pricing, opts.read.cdr_format, config)
    if records is not None:  # --records: read besides PATHS (a bad format stops the run here)
        own_files, own_format = records_inputs(records, opts)
        files, extra = [*files, *own_files], extra | own_format
    to_hash = {f.name: f.path for f in files} | {str(p): p for p in extra.values()}
    engine = _engine(audit)  # Ray missing or unreachable: a one-line error before any output
    with atomic_outdir(out, force, [f.path for f in files]) as partial, Hashes(to_hash) as hashes:
        own = (
            None
            if records is None
            else ingest_records(list(records.files), records.format, opts, progress)
        )
        ing = ingest(paths, opts, progress, engine, audit.engine.work)
        try:
            if own is not None:
                ing = merge_records(ing, own)
            # hashed before the report is written: its title block names the input set's digest
            inputs = input_entries([(f.file, f.kind) for f in ing.files], extra, hashes)
            result = _audit(
                ing, partial, opts, audit, rules, own, records, progress, engine, inputs=inputs
            )
        finally:
            ing.close()
        options = {"paths": paths, "ingest": opts, "audit": audit}
        if records is not None:
            options["records"] = records
        write_manifest(partial, "audit", options, inputs)
    published = replace(result.outcome, calls=out / "calls.parquet")
    return replace(result, out=out, outcome=published)


def _about(
    calls: Path, opts: IngestOptions, audit: AuditOptions, inputs: list[dict[str, Any]] | None
) -> dict[str, Any]:
    """report.html's title block: the options that change a figure (as given, defaults
    included), the legs' first and last UTC start, and a digest of the input set (sha256 of
    each input's `path sha256` line, in manifest order): the manifest itself is written after
    the report and hashes it, so the page cannot hold the manifest's hash."""
    span = pl.scan_parquet(calls, glob=False).select(
        pl.col("start_time_utc").min().alias("first"), pl.col("start_time_utc").max().alias("last")
    )
    first, last = span.collect().row(0)
    options = {
        "tz": opts.tz or "(from the export)",
        "dst": str(opts.dst),
        "period": str(audit.period),
        "pricing": str(audit.pricing) if audit.pricing else "(shipped rules)",
        "currency": opts.currency or "(from the export)",
        "account": opts.account or "(all)",
        "pbx-tz": opts.pbx_tz or "(none)",
        "trunk": " ".join(opts.trunks) or "(none)",
        "match-window": str(audit.match.window_s),
        "duration-tolerance": str(audit.match.duration_tolerance_s),
    }
    digest = None
    if inputs is not None:
        lines = "".join(f"{e['path']} {e['sha256']}\n" for e in inputs)
        digest = hashlib.sha256(lines.encode("utf-8")).hexdigest()
    stamp = "%Y-%m-%dT%H:%M:%SZ"
    return {
        "options": options,
        "inputs_sha256": digest,
        "first_start": None if first is None else first.strftime(stamp),
        "last_start": None if last is None else last.strftime(stamp),
    }


def _audit(
    ing: Ingested,
    out: Path,
    opts: IngestOptions,
    audit: AuditOptions,
    rules: Rules,
    own: RecordsInput | None = None,
    records: RecordsOptions | None = None,
    progress: Progress = NO_PROGRESS,
    engine: AuditEngine = LOCAL_ENGINE,
    *,
    inputs: list[dict[str, Any]] | None = None,
) -> AuditResult:
    has_cdr = ing.cdrs is not None
    paired = has_cdr or own is not None  # PBX CDRs or own records: usage is optional
    call_files = [f.file for f in ing.files if f.kind == "calls"]
    if has_cdr and not call_files:
        raise InputError(next(f.file for f in ing.files if f.kind == "cdr"), NO_CALL_LOGS)
    if ing.usage.height or not paired:
        _require_accounts(ing)
    rejected_call_rows = (
        ing.rejects.filter(pl.col("source_file").is_in(call_files))
        .select("source_file", "source_row")
        .unique()
        .height
    )
    groups, rec = engine.classify(
        ing, out, rules, audit.period, opts.region, rejected_call_rows, progress
    )
    if paired and not ing.usage.height:  # a PBX- or records-vs-logs audit: no logs-vs-usage rows
        rec.rows = rec.rows.clear()
    # What the logs and the usage cover per account and month, and a cut export named.
    coverage = log_coverage(out / "calls.parquet", rec.usage_records) if ing.usage.height else []
    rec.rows = with_coverage(rec.rows, coverage, rules.hints)
    if ing.usage.height:  # naive times in the wrong zone: count residuals a whole hour apart
        rec.rows = _tz_hint(ing, out / "calls.parquet", rec.rows, rules, opts, audit)
    if ing.dst.get("policy") == DstPolicy.REJECT.value:  # rows in a DST gap or overlap: rejected
        rec.rows = with_dst_hint(rec.rows, _dst_rejected(ing, call_files, audit), rules.hints)
    bridge = build_bridge(groups, rec.rows, rules)
    findings = rec.rows.filter(pl.col("status").is_in([s.value for s in FINDINGS])).height
    matches, cdr_summary, encoding, repeats = None, None, None, None
    if ing.cdrs is not None:
        progress.stage(STAGE_PBX)
        pairs_of = engine.pbx_pairs(ing.work)
        matches, cdr_summary = _match_pbx(ing.cdrs, ing.calls, rules, opts, audit.match, pairs_of)
        encoding = ing.encoding_summary()  # PBX lines read with --encoding-fallback
        repeats = ing.repeats_summary()  # PBX lines written twice
        findings += cdr_summary.findings
    own_matches = None
    if own is not None and records is not None:
        progress.stage(STAGE_OWN)
        calls_parquet = out / "calls.parquet"
        own_matches = match_own_records(ing, own, calls_parquet, rules, opts, audit.match, records)
        findings += own_matches.counts.findings
    exit_code = EXIT_FINDINGS if (findings or ing.rejects.height) else EXIT_OK
    progress.stage(STAGE_WRITE)
    summary = build_summary(
        [f.as_dict() for f in ing.files],
        rec.rows,
        bridge,
        ing.dst,
        ing.rejects,
        rec.usage_records.filter(pl.col("used_as") == UsedAs.UNALIGNED.value),
        exit_code,
        period=str(audit.period),
        cdr_matching=cdr_summary,
        encoding=encoding,
        own_records=None if own_matches is None else own_matches.counts,
        engine=str(audit.engine.engine),
        repeats=repeats,
    )
    if ing.usage.height:
        summary.extra["coverage"] = [c.as_json() for c in coverage]
    outcome = AuditOutcome(
        summary=summary,
        reconciliation=rec.rows,
        bridge=bridge,
        usage_records=rec.usage_records,
        rejects=ing.rejects,
        calls=out / "calls.parquet",
        cdr_matches=matches,
        records_matches=None if own_matches is None else own_matches.matches,
        records_groups=None if own_matches is None else own_matches.groups,
        daily=daily_volumes(out / "calls.parquet", rec.usage_records, rules, audit.period),
        about=_about(out / "calls.parquet", opts, audit, inputs),
    )
    write_outputs(outcome, out, audit.output)
    return AuditResult(ing, out, outcome, exit_code, own_matches)
