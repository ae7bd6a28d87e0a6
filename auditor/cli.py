"""The `auditor` command line: parse arguments, call the pipeline, print. Nothing else."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from auditor.errors import EXIT_UNUSABLE, AuditorError
from auditor.normalize.times import DstPolicy
from auditor.pipeline.audit import run_audit
from auditor.pipeline.ingest import FileReport, Ingested
from auditor.pipeline.options import (
    DEFAULT_FALLBACK,
    AuditOptions,
    IngestOptions,
    MatchOptions,
    ReadOptions,
)
from auditor.pipeline.validate import run_validate
from auditor.reconcile.periods import Period
from auditor.report.terminal import print_audit, print_cdr_matching

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Audit telephony billing: Twilio call logs vs usage records vs PBX CDRs, line by line.",
)

Paths = Annotated[list[str], typer.Argument(help="Export files, folders or globs.")]
Out = Annotated[Path, typer.Option("--out", help="Folder for the outputs.")]
Tz = Annotated[
    str | None,
    typer.Option(
        "--tz", help="IANA zone of naive local times in the exports (e.g. America/New_York)."
    ),
]
Dst = Annotated[
    DstPolicy,
    typer.Option("--dst", help="Naive times in a DST gap or overlap: reject, earliest or latest."),
]
Format = Annotated[
    str | None, typer.Option("--format", help="Force this format for every input (skip detection).")
]
Account = Annotated[
    str | None,
    typer.Option("--account", help="Account SID for call logs that carry none (Console CSV)."),
]


PbxTz = Annotated[
    str | None,
    typer.Option("--pbx-tz", help="IANA zone of naive PBX CDR times (Asterisk, FreeSWITCH)."),
]
CdrFormat = Annotated[
    str | None,
    typer.Option("--cdr-format", help="TOML file describing your own PBX CSV (or a shipped name)."),
]
Region = Annotated[
    str, typer.Option("--region", help="Region of national numbers in PBX CDRs (phonenumbers).")
]
EncodingFallback = Annotated[
    str,
    typer.Option(
        "--encoding-fallback",
        help="Encoding of PBX CDR lines that are not UTF-8 (raw caller-ID names); e.g. cp1251.",
    ),
]


def _ingest_options(
    tz: str | None,
    dst: DstPolicy,
    format: str | None,
    account: str | None,
    pbx_tz: str | None,
    cdr_format: str | None,
    region: str,
    encoding_fallback: str,
) -> IngestOptions:
    return IngestOptions(
        tz=tz,
        dst=dst,
        format=format,
        account=account,
        pbx_tz=pbx_tz,
        region=region,
        read=ReadOptions(cdr_format=cdr_format, encoding_fallback=encoding_fallback),
    )


@app.callback()
def _root() -> None:
    """Audit telephony billing: Twilio call logs vs usage records vs PBX CDRs, line by line."""


def _print_files(files: list[FileReport]) -> None:
    width = max((len(f.file) for f in files), default=0)
    for f in files:
        typer.echo(
            f"{f.file:<{width}}  {f.format:<22} read {f.rows_read:>7}  "
            f"accepted {f.rows_accepted:>7}  rejected {f.rows_rejected:>6}"
        )


def _print_encoding(ing: Ingested) -> None:
    """One line when PBX lines were not UTF-8 and were read with the fallback encoding."""
    if ing.encoding_fallback_rows:
        typer.echo(
            f"{ing.encoding_fallback_rows} PBX line(s) not UTF-8: decoded as "
            f"{ing.encoding_fallback} (marked encoding_note)"
        )


@app.command()
def validate(
    paths: Paths,
    out: Out,
    tz: Tz = None,
    dst: Dst = DstPolicy.REJECT,
    format: Format = None,
    account: Account = None,
    pbx_tz: PbxTz = None,
    cdr_format: CdrFormat = None,
    region: Region = "US",
    encoding_fallback: EncodingFallback = DEFAULT_FALLBACK,
) -> None:
    """Read and validate exports; write canonical calls/usage (and cdrs) Parquet and rejects.csv."""
    opts = _ingest_options(tz, dst, format, account, pbx_tz, cdr_format, region, encoding_fallback)
    result = run_validate(paths, out, opts)
    _print_files(result.ingested.files)
    _print_encoding(result.ingested)
    rejects = result.ingested.rejects
    if rejects.height:
        rows = rejects.select("source_file", "source_row").unique().height
        typer.echo(f"{rows} row(s) rejected: see {out / 'rejects.csv'}")
    raise typer.Exit(result.exit_code)


@app.command()
def audit(
    paths: Paths,
    out: Out,
    period: Annotated[
        Period, typer.Option("--period", help="Reconcile per UTC month or per UTC day.")
    ] = Period.MONTH,
    tz: Tz = None,
    dst: Dst = DstPolicy.REJECT,
    pricing: Annotated[
        Path | None,
        typer.Option("--pricing", help="TOML overriding any part of the shipped rules."),
    ] = None,
    format: Format = None,
    account: Account = None,
    pbx_tz: PbxTz = None,
    cdr_format: CdrFormat = None,
    region: Region = "US",
    did: Annotated[
        list[str] | None,
        typer.Option(
            "--did", help="A DID the PBX answers (repeat). Default: from the Twilio logs."
        ),
    ] = None,
    match_window: Annotated[
        int, typer.Option("--match-window", help="Seconds a PBX and Twilio start may differ.")
    ] = 60,
    duration_tolerance: Annotated[
        int, typer.Option("--duration-tolerance", help="Seconds billsec and duration may differ.")
    ] = 2,
    encoding_fallback: EncodingFallback = DEFAULT_FALLBACK,
    calls_csv: Annotated[
        bool,
        typer.Option(
            "--calls-csv", help="Also write calls.csv (hundreds of MB at scale; Parquet always)."
        ),
    ] = False,
) -> None:
    """Reconcile call logs with usage records, and PBX CDRs with call logs, call by call."""
    opts = _ingest_options(tz, dst, format, account, pbx_tz, cdr_format, region, encoding_fallback)
    match = MatchOptions(tuple(did or ()), match_window, duration_tolerance)
    result = run_audit(paths, out, opts, AuditOptions(period, pricing, match, calls_csv))
    _print_files(result.ingested.files)
    _print_encoding(result.ingested)
    console = Console(highlight=False, width=120)
    print_audit(result.recon, result.summary, str(out), console)
    if result.summary.cdr_matching is not None:
        print_cdr_matching(result.summary.cdr_matching, str(out), console)
    raise typer.Exit(result.exit_code)


def main() -> None:
    """Entry point: every known failure becomes one line on stderr and exit code 2."""
    try:
        code = app(standalone_mode=False)  # click returns the code of typer.Exit here
        sys.exit(code if isinstance(code, int) else 0)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except AuditorError as exc:
        typer.echo(f"auditor: error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except (typer.BadParameter, typer.Abort) as exc:
        typer.echo(f"auditor: error: {exc}", err=True)
        sys.exit(EXIT_UNUSABLE)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # last resort (pyo3 panics are BaseException): never a traceback
        if os.environ.get("AUDITOR_DEBUG"):
            raise
        name = type(exc).__name__
        typer.echo(f"auditor: internal error: {name}: {exc} (AUDITOR_DEBUG=1 shows more)", err=True)
        sys.exit(EXIT_UNUSABLE)
