"""`auditor validate`: read and check the inputs, write them canonical, print what was read."""

from __future__ import annotations

from dataclasses import dataclass

import typer

from auditor.cli.echo import echo_config, echo_encoding, echo_files, echo_json
from auditor.cli.inputs import config_path, ingest_options, records_options
from auditor.cli.params import (
    Account,
    CdrFormat,
    ConfigFile,
    Currency,
    Dst,
    EncodingFallback,
    Exclude,
    Force,
    Format,
    JsonOut,
    MaxInflate,
    Out,
    Paths,
    PbxTz,
    Quiet,
    RecordsFiles,
    RecordsFormatName,
    Region,
    Trunk,
    Tz,
)
from auditor.cli.stdout import ran
from auditor.ingest.options import DEFAULT_FALLBACK, DEFAULT_MAX_INFLATE
from auditor.normalize.times import DstPolicy


@dataclass(kw_only=True)
class ValidateArgs:
    """`auditor validate`'s options, in `--help` order."""

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
    tz: Tz = None
    dst: Dst = DstPolicy.REJECT
    pbx_tz: PbxTz = None
    region: Region = "US"
    trunk: Trunk = None
    out: Out
    force: Force = False
    quiet: Quiet = False
    json_out: JsonOut = False


def validate(args: ValidateArgs) -> int:
    """Read and validate exports (and --records); write canonical calls/usage (cdrs, records)
    Parquet and rejects.csv."""
    from auditor.cli.progress import terminal_progress
    from auditor.ingest.files import reading_stdin
    from auditor.pipeline.validate import run_validate
    from auditor.result import RejectCounts

    opts = ingest_options(args)
    own = records_options(args)
    with reading_stdin(args.paths, args.records or ()), terminal_progress(args.quiet) as progress:
        result = run_validate(
            args.paths,
            args.out,
            opts,
            force=args.force,
            progress=progress,
            config=config_path(args),
            records=own,
        )
    ran(result.exit_code)
    if args.json_out:
        echo_json(result.as_dict())
    elif not args.quiet:
        ing = result.ingested
        echo_config(args.config)
        echo_files(ing.files)
        echo_encoding(ing)
        counts = RejectCounts.of(ing.rejects)
        if counts.rows:
            typer.echo(
                f"{counts.rows} row(s) rejected{counts.duplicates_text()}: "
                f"see {args.out / 'rejects.csv'}"
            )
    return result.exit_code
