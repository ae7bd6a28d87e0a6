"""`auditor audit`: reconcile the inputs, write the audit, print its summary."""

from __future__ import annotations

from dataclasses import dataclass

import typer

from auditor.cli.echo import console, echo_config, echo_encoding, echo_files
from auditor.cli.inputs import config_path, ingest_options, records_options
from auditor.cli.params import (
    Account,
    CallsCsv,
    CdrFormat,
    ConfigFile,
    Currency,
    Did,
    Dst,
    DurationTolerance,
    EncodingFallback,
    EngineChoice,
    Exclude,
    Force,
    Format,
    JsonOut,
    MatchWindow,
    MaxDelay,
    MaxInflate,
    Out,
    Paths,
    PbxTz,
    PeriodChoice,
    Pricing,
    Quiet,
    RayAddress,
    RecordsDirection,
    RecordsFiles,
    RecordsFormatName,
    RecordsFrom,
    Region,
    Trunk,
    Tz,
    Work,
    Xlsx,
    XlsxCalls,
)
from auditor.cli.stdout import ran
from auditor.errors import UsageError
from auditor.ingest.options import DEFAULT_FALLBACK, DEFAULT_MAX_INFLATE
from auditor.normalize.times import DstPolicy
from auditor.pipeline.options import (
    AuditOptions,
    Engine,
    EngineOptions,
    MatchOptions,
)
from auditor.reconcile.periods import Period
from auditor.report.options import EXCEL_ROWS


@dataclass(kw_only=True)
class AuditArgs:
    """`auditor audit`'s options, in `--help` order."""

    paths: Paths
    config: ConfigFile = None
    format: Format = None
    account: Account = None
    currency: Currency = None
    cdr_format: CdrFormat = None
    records: RecordsFiles = None
    records_format: RecordsFormatName = None
    exclude: Exclude = None
    encoding_fallback: EncodingFallback = DEFAULT_FALLBACK
    max_inflate: MaxInflate = DEFAULT_MAX_INFLATE
    period: PeriodChoice = Period.MONTH
    tz: Tz = None
    dst: Dst = DstPolicy.REJECT
    pbx_tz: PbxTz = None
    pricing: Pricing = None
    region: Region = "US"
    did: Did = None
    trunk: Trunk = None
    match_window: MatchWindow = 60
    duration_tolerance: DurationTolerance = 2
    max_delay: MaxDelay = 60
    records_from: RecordsFrom = None
    records_direction: RecordsDirection = None
    out: Out
    force: Force = False
    calls_csv: CallsCsv = False
    xlsx: Xlsx = True
    xlsx_calls: XlsxCalls = EXCEL_ROWS
    quiet: Quiet = False
    json_out: JsonOut = False
    engine: EngineChoice = Engine.LOCAL
    ray_address: RayAddress = None
    work: Work = None

    def audit_options(self) -> AuditOptions:
        """The period, rules, matching, outputs and engine of the run."""
        match = MatchOptions(
            tuple(self.did or ()),
            self.match_window,
            self.duration_tolerance,
            tuple(self.trunk or ()),
        )
        if self.ray_address is not None and self.engine is not Engine.RAY:
            raise UsageError("--ray-address needs --engine ray")
        engine = EngineOptions(self.engine, self.ray_address, self.work)
        return AuditOptions(
            self.period, self.pricing, match, self.calls_csv, self.xlsx, self.xlsx_calls, engine
        )


def audit(args: AuditArgs) -> int:
    """Reconcile call logs with usage records, and PBX CDRs or your own records with call logs,
    call by call."""
    from auditor.cli.progress import terminal_progress
    from auditor.cli.terminal import print_audit, print_cdr_matching, print_records, print_verdict
    from auditor.ingest.files import reading_stdin
    from auditor.pipeline.audit import run_audit

    opts = ingest_options(args)
    audit_opts = args.audit_options()
    own = records_options(args, args.max_delay, args.records_from, args.records_direction)
    with reading_stdin(args.paths, args.records or ()), terminal_progress(args.quiet) as progress:
        result = run_audit(
            args.paths,
            args.out,
            opts,
            audit_opts,
            force=args.force,
            records=own,
            progress=progress,
            config=config_path(args),
        )
    ran(result.exit_code)
    if args.json_out:  # summary.json as written, byte for byte
        typer.echo((args.out / "summary.json").read_text(encoding="utf-8"), nl=False)
        return result.exit_code
    if args.quiet:
        return result.exit_code
    out = str(args.out)
    echo_config(args.config)
    echo_files(result.ingested.files)
    echo_encoding(result.ingested)
    shown = console()
    print_audit(result.recon, result.summary, out, shown)
    if result.summary.cdr_matching is not None:
        print_cdr_matching(result.summary.cdr_matching, out, shown)
    if result.records is not None:
        print_records(result.records.counts, result.records.groups, out, shown)
    print_verdict(result.summary, out, shown)
    return result.exit_code
