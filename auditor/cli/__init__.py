"""The `auditor` command line: parse arguments, call the pipeline, print. Nothing else."""

from __future__ import annotations

import contextlib
import inspect
import json
import os
import re
import signal
import sys
import threading
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any

import typer
import typer.core
from rich.console import Console
from rich.markup import escape

from auditor import __version__
from auditor.config import CONFIG_NAME, NOT_IN_FILE, OptionSpec, find_config, load_config
from auditor.errors import EXIT_UNUSABLE, AuditorError, Terminated, UsageError
from auditor.ingest.files import reading_stdin
from auditor.normalize.times import DstPolicy
from auditor.pipeline.audit import run_audit
from auditor.pipeline.ingest import FileReport, Ingested
from auditor.pipeline.options import (
    DEFAULT_FALLBACK,
    DEFAULT_MAX_INFLATE,
    EXCEL_ROWS,
    AuditOptions,
    Engine,
    EngineOptions,
    IngestOptions,
    MatchOptions,
    ReadOptions,
    RecordsOptions,
)
from auditor.pipeline.validate import run_validate
from auditor.pipeline.verify import run_verify
from auditor.reconcile.periods import Period
from auditor.report.progress import terminal_progress
from auditor.report.terminal import (
    print_audit,
    print_cdr_matching,
    print_files,
    print_records,
    print_verdict,
)
from auditor.result import RejectCounts
from auditor.schemas.checks import CURRENCY
from auditor.statuses import FileStatus


def _plain_help(params: list[Any]) -> None:
    """Help as written: brackets escaped where rich markup would eat them (`call-auditor[ray]`,
    `[audit]`), and no type label beside a flag or an argument (`<bool>`, `<list[str]>`: the
    name and metavar say it)."""
    rich = typer.core.HAS_RICH
    for param in params:
        if rich and getattr(param, "help", None):
            param.help = escape(param.help)
        if getattr(param, "is_flag", False) or getattr(param, "param_type_name", "") == "argument":
            param.display_type_rich = _no_type


def _no_type(ctx: Any) -> None:
    return None


# The exit code of the run a command did, set before it prints: a stdout closed under it
# (`auditor audit ... | head -1`) then ends the printing, not the exit code (see `_stdout_closed`).
_RUN_EXIT: ContextVar[int | None] = ContextVar("auditor_run_exit", default=None)


def _ran(exit_code: int) -> None:
    """The command's work is done (outputs written) and its exit code is `exit_code`."""
    _RUN_EXIT.set(exit_code)


def _stdout_closed() -> int:
    """stdout was closed by its reader (`| head -1`, a pager quit early): not a finding, and
    not an error. Exit as the command would have (0 when nothing ran yet, e.g. `--help`),
    quietly: no traceback, no message; what is still buffered goes to /dev/null, so that
    Python's flush at exit does not complain either (rich's console has done the same)."""
    with contextlib.suppress(OSError, ValueError, AttributeError):  # not a real file: in-process
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    code = _RUN_EXIT.get()
    return 0 if code is None else code


def _stdout_is_devnull() -> bool:
    """Is stdout now /dev/null (rich's console points it there when its pipe breaks)?"""
    try:
        out, null = os.fstat(sys.stdout.fileno()), os.stat(os.devnull)
    except (OSError, ValueError, AttributeError):
        return False
    return (out.st_dev, out.st_ino) == (null.st_dev, null.st_ino)


@contextlib.contextmanager
def _stdout_may_close(parsing: bool) -> Iterator[None]:
    """A closed stdout while a command prints (after its run: `_ran`) or while help or the
    version prints (`parsing`) ends the command with `_stdout_closed`'s exit code. It arrives as
    BrokenPipeError from typer.echo, or as SystemExit(1) from a rich console, which has pointed
    stdout at /dev/null first; typer would turn either into exit 1."""
    was_null = _stdout_is_devnull()
    try:
        yield
    except BrokenPipeError:
        if not parsing and _RUN_EXIT.get() is None:  # a pipe broke mid-run: not a clean end
            raise
        raise typer.Exit(_stdout_closed()) from None
    except SystemExit:
        if was_null or not _stdout_is_devnull() or (not parsing and _RUN_EXIT.get() is None):
            raise
        raise typer.Exit(_stdout_closed()) from None


class _PlainHelp:
    """What the `auditor` group and its commands share: the help option without type labels
    (see `_plain_help`), and a closed stdout ending the command quietly (`_stdout_may_close`)."""

    def get_help_option(self, ctx: Any) -> Any:
        option = super().get_help_option(ctx)
        if option is not None:
            _plain_help([option])
        return option

    def make_context(self, *args: Any, **kwargs: Any) -> Any:
        with _stdout_may_close(parsing=True):  # --help, --version
            return super().make_context(*args, **kwargs)

    def invoke(self, ctx: Any) -> Any:
        with _stdout_may_close(parsing=False):
            return super().invoke(ctx)


class _Command(_PlainHelp, typer.core.TyperCommand):
    """A command whose help shows its text literally and no type labels (see `_plain_help`)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _plain_help(self.params)
        if self.help:  # one line per paragraph: rich mode would keep the docstring's breaks
            paragraphs = inspect.cleandoc(self.help).split("\n\n")
            self.help = "\n\n".join(" ".join(p.split()) for p in paragraphs)
            if typer.core.HAS_RICH:
                self.help = escape(self.help)


class _Group(_PlainHelp, typer.core.TyperGroup):
    """The `auditor` group, with the same help as its commands (see `_plain_help`)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _plain_help(self.params)


app = typer.Typer(
    cls=_Group,
    add_completion=False,
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
    help="Audit telephony billing: Twilio call logs vs usage records vs PBX CDRs, line by line.",
)

# `--help` panels, the same on every command (typer's rich_help_panel).
INPUTS = "Inputs"
TIME = "Time"
MATCHING = "Rules and matching"
OUTPUTS = "Outputs"
ENGINE = "Engine"

Paths = Annotated[
    list[str],
    typer.Argument(
        metavar="PATHS",
        help="Export files, folders or globs; - reads one file from standard input.",
        show_default=False,
    ),
]
Out = Annotated[
    Path,
    typer.Option(
        "--out",
        metavar="DIR",
        rich_help_panel=OUTPUTS,
        help="Folder for the outputs: written beside it as .DIR.partial-XXXXXXXX and renamed into "
        "place when complete (a killed run may leave that hidden folder: delete it). An existing "
        "non-empty folder is refused without --force.",
    ),
]
Force = Annotated[
    bool,
    typer.Option(
        "--force",
        rich_help_panel=OUTPUTS,
        help="Replace a non-empty --out folder (atomically, once complete).",
    ),
]
Tz = Annotated[
    str | None,
    typer.Option(
        "--tz",
        metavar="ZONE",
        rich_help_panel=TIME,
        help="IANA zone of naive local times in the exports (e.g. America/New_York).",
    ),
]
Dst = Annotated[
    DstPolicy,
    typer.Option(
        "--dst",
        metavar="reject|earliest|latest",
        rich_help_panel=TIME,
        help="Naive times in a DST gap or overlap: reject, earliest or latest.",
    ),
]
Format = Annotated[
    str | None,
    typer.Option(
        "--format",
        metavar="NAME",
        rich_help_panel=INPUTS,
        help="Force this format for every input (skip detection).",
    ),
]
Account = Annotated[
    str | None,
    typer.Option(
        "--account",
        metavar="SID",
        rich_help_panel=INPUTS,
        help="Account SID for call logs that carry none (Console CSV).",
    ),
]

Currency = Annotated[
    str | None,
    typer.Option(
        "--currency",
        metavar="CODE",
        rich_help_panel=INPUTS,
        help="Currency (ISO 4217, e.g. USD) of call-log prices that carry no price_unit (pre-2012 "
        "pages, SDK fixtures); never overrides one that is there. Without it such prices are not "
        "compared.",
    ),
]


PbxTz = Annotated[
    str | None,
    typer.Option(
        "--pbx-tz",
        metavar="ZONE",
        rich_help_panel=TIME,
        help="IANA zone of naive PBX CDR times (Asterisk, FreeSWITCH).",
    ),
]
CdrFormat = Annotated[
    str | None,
    typer.Option(
        "--cdr-format",
        metavar="FILE|NAME",
        rich_help_panel=INPUTS,
        help="TOML file describing your own PBX CSV (or a shipped name).",
    ),
]
Region = Annotated[
    str,
    typer.Option(
        "--region",
        metavar="CC",
        rich_help_panel=MATCHING,
        help="Region (phonenumbers) of numbers written without a country code, in PBX CDRs, "
        "your records and call logs (e.g. to tell a toll-free or mobile callee).",
    ),
]
EncodingFallback = Annotated[
    str,
    typer.Option(
        "--encoding-fallback",
        metavar="CODEC",
        rich_help_panel=INPUTS,
        help="Encoding of PBX CDR lines that are not UTF-8 (raw caller-ID names); e.g. cp1251.",
    ),
]
MaxInflate = Annotated[
    float,
    typer.Option(
        "--max-inflate",
        metavar="RATIO",
        rich_help_panel=INPUTS,
        help="Refuse a gzip or Parquet input inflating past this multiple of its size (at "
        "least 1 GiB).",
    ),
]
Trunk = Annotated[
    list[str] | None,
    typer.Option(
        "--trunk",
        metavar="PREFIX",
        rich_help_panel=MATCHING,
        help="Channel prefix of the PBX's trunk to Twilio (repeat; e.g. PJSIP/twilio): a PBX "
        "call on it crossed the trunk. Calls with no external number and no trunk channel are "
        "internal.",
    ),
]
Exclude = Annotated[
    list[str] | None,
    typer.Option(
        "--exclude",
        metavar="GLOB",
        rich_help_panel=INPUTS,
        help="Leave out the files a folder or a glob finds whose name, or path below the "
        "folder, matches GLOB (repeat; e.g. invoice.csv, 'archive/*'). A file named on its own "
        "is always read.",
    ),
]
CONFIG_META = "auditor.config"  # ctx.meta key: the config file a command read


def _option_specs(command: Any) -> dict[str, OptionSpec]:
    """A click command's options as a config file names them (`--match-window` ->
    `match-window`), for `config.load_config`."""
    specs = {}
    for param in command.params:
        if getattr(param, "param_type_name", "") != "option" or param.name is None:
            continue
        longs = [o for o in param.opts if o.startswith("--")]
        if longs and longs[0][2:] not in NOT_IN_FILE:
            key = longs[0][2:]
            specs[key] = OptionSpec(key, param.name, bool(getattr(param, "multiple", False)))
    return specs


def _read_config(ctx: typer.Context, value: str | None) -> str | None:
    """`--config FILE` (eager: read before every other option), or `auditor.toml` in the
    working folder: its values become the command's defaults (click's `default_map`), so that
    a flag given on the command line wins and click converts and checks the file's values."""
    if ctx.resilient_parsing:
        return value
    path = find_config(value)
    if path is None:
        return value
    group = ctx.parent.command if ctx.parent is not None else None
    commands = getattr(group, "commands", {ctx.info_name: ctx.command})
    specs = {name: _option_specs(cmd) for name, cmd in commands.items() if name != "verify"}
    config = load_config(path, str(ctx.info_name), specs)
    ctx.default_map = {**(ctx.default_map or {}), **config.default_map}
    ctx.meta[CONFIG_META] = str(path)
    return str(path)


RecordsFiles = Annotated[
    list[str] | None,
    typer.Option(
        "--records",
        metavar="FILE",
        rich_help_panel=INPUTS,
        help="Your own records of the calls (CSV, JSON lines, Parquet; repeat): each is "
        "matched with the Twilio leg it should have (needs --records-format).",
    ),
]
RecordsFormatName = Annotated[
    str | None,
    typer.Option(
        "--records-format",
        metavar="FILE|NAME",
        rich_help_panel=INPUTS,
        help="TOML file describing your records (or a shipped name: notification_log, "
        "salesforce_task, ai_agent_sessions).",
    ),
]
ConfigFile = Annotated[
    str | None,
    typer.Option(
        "--config",
        metavar="FILE",
        rich_help_panel=INPUTS,
        is_eager=True,
        callback=_read_config,
        help=f"TOML file of options (keys as the flags without --, e.g. tz, dst, pbx-tz, did, "
        f"match-window; [audit] / [validate] tables for one command); flags override it. "
        f"Default: {CONFIG_NAME} in the working folder, when present.",
    ),
]
Quiet = Annotated[
    bool,
    typer.Option(
        "--quiet",
        "-q",
        rich_help_panel=OUTPUTS,
        help="Print nothing but errors (on stderr): no progress, no tables; the exit code and "
        "the output files tell the result.",
    ),
]
JsonOut = Annotated[
    bool,
    typer.Option(
        "--json",
        rich_help_panel=OUTPUTS,
        help="Print the run's summary as JSON on stdout instead of tables (audit: exactly "
        "summary.json), for scripts.",
    ),
]


def _echo_json(doc: Any) -> None:
    typer.echo(json.dumps(doc, indent=2, ensure_ascii=False))


def _ingest_options(
    tz: str | None,
    dst: DstPolicy,
    format: str | None,
    account: str | None,
    pbx_tz: str | None,
    cdr_format: str | None,
    region: str,
    encoding_fallback: str,
    max_inflate: float = DEFAULT_MAX_INFLATE,
    trunks: tuple[str, ...] = (),
    currency: str | None = None,
    exclude: tuple[str, ...] = (),
) -> IngestOptions:
    if currency is not None and not re.fullmatch(CURRENCY, currency):
        raise UsageError(f"--currency {currency!r}: not a currency code (3 capitals, e.g. USD)")
    return IngestOptions(
        tz=tz,
        dst=dst,
        format=format,
        account=account,
        currency=currency,
        pbx_tz=pbx_tz,
        region=region,
        read=ReadOptions(
            cdr_format=cdr_format,
            encoding_fallback=encoding_fallback,
            max_inflate=max_inflate,
            exclude=exclude,
        ),
        trunks=trunks,
    )


def _print_version(value: bool) -> None:
    """`--version` / `-V`: the tool's name and version, then exit 0."""
    if value:
        typer.echo(f"call-auditor {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            "-V",
            is_eager=True,
            callback=_print_version,
            help="Print the version (call-auditor X.Y.Z) and exit.",
        ),
    ] = False,
) -> None:
    """Audit telephony billing: Twilio call logs vs usage records vs PBX CDRs, line by line."""


def _console() -> Console:
    """The terminal's console at its real width (COLUMNS, else the terminal's, else 80),
    plain text when piped; no markup (see report.terminal)."""
    return Console(highlight=False, markup=False)


def _print_files(files: list[FileReport]) -> None:
    rows = [(f.file, f.format, f.rows_read, f.rows_accepted, f.rows_rejected) for f in files]
    print_files(rows, _console())


def _records_options(
    files: list[str] | None,
    spec: str | None,
    max_delay: int = 60,
    from_numbers: list[str] | tuple[str, ...] = (),
    directions: list[str] | tuple[str, ...] = (),
) -> RecordsOptions | None:
    """`--records` and its options, or None without them; --records needs --records-format."""
    if not files and spec is None:
        return None
    if spec is None:
        raise UsageError("--records needs --records-format FORMAT (a shipped name or a file)")
    return RecordsOptions(
        tuple(files or ()), spec, max_delay, tuple(from_numbers), tuple(directions)
    )


def _config_path(config: str | None) -> Path | None:
    """The settings file read (the --config given, or auditor.toml found here): the manifest
    hashes it with the inputs."""
    return Path(config) if config is not None else None


def _print_config(config: str | None) -> None:
    """Which settings file the run read (the --config given, or auditor.toml found here)."""
    if config is not None:
        typer.echo(f"settings from {config}")


def _print_encoding(ing: Ingested) -> None:
    """One line when PBX lines were not UTF-8 and were read with the fallback encoding."""
    if ing.encoding_fallback_rows:
        typer.echo(
            f"{ing.encoding_fallback_rows} PBX line(s) not UTF-8: decoded as "
            f"{ing.encoding_fallback} (marked encoding_note)"
        )
    if ing.repeated_rows:
        typer.echo(
            f"{ing.repeated_rows} PBX line(s) repeat an earlier line: merged into its call "
            "(marked repeat_note)"
        )


@app.command(cls=_Command)
def validate(
    paths: Paths,
    *,
    config: ConfigFile = None,
    format: Format = None,
    account: Account = None,
    currency: Currency = None,
    cdr_format: CdrFormat = None,
    records: RecordsFiles = None,
    records_format: RecordsFormatName = None,
    exclude: Exclude = None,
    encoding_fallback: EncodingFallback = DEFAULT_FALLBACK,
    max_inflate: MaxInflate = DEFAULT_MAX_INFLATE,
    tz: Tz = None,
    dst: Dst = DstPolicy.REJECT,
    pbx_tz: PbxTz = None,
    region: Region = "US",
    trunk: Trunk = None,
    out: Out,
    force: Force = False,
    quiet: Quiet = False,
    json_out: JsonOut = False,
) -> None:
    """Read and validate exports (and --records); write canonical calls/usage (cdrs, records)
    Parquet and rejects.csv."""
    opts = _ingest_options(
        tz,
        dst,
        format,
        account,
        pbx_tz,
        cdr_format,
        region,
        encoding_fallback,
        max_inflate,
        tuple(trunk or ()),
        currency,
        tuple(exclude or ()),
    )
    own = _records_options(records, records_format)
    with reading_stdin(paths, records or ()), terminal_progress(quiet) as progress:
        result = run_validate(
            paths,
            out,
            opts,
            force=force,
            progress=progress,
            config=_config_path(config),
            records=own,
        )
    _ran(result.exit_code)
    ing = result.ingested
    counts = RejectCounts.of(ing.rejects)
    if json_out:
        doc: dict[str, Any] = {
            "inputs": [f.as_dict() for f in ing.files],
            "dst": ing.dst,
            "rejects": asdict(counts),
        }
        if ing.cdrs is not None:
            doc["encoding"] = ing.encoding_summary()
            doc["repeats"] = ing.repeats_summary()
        _echo_json(doc | {"exit_code": result.exit_code})
    elif not quiet:
        _print_config(config)
        _print_files(ing.files)
        _print_encoding(ing)
        if counts.rows:
            typer.echo(
                f"{counts.rows} row(s) rejected{counts.duplicates_text()}: "
                f"see {out / 'rejects.csv'}"
            )
    raise typer.Exit(result.exit_code)


@app.command(cls=_Command)
def audit(
    paths: Paths,
    *,
    config: ConfigFile = None,
    format: Format = None,
    account: Account = None,
    currency: Currency = None,
    cdr_format: CdrFormat = None,
    records: RecordsFiles = None,
    records_format: RecordsFormatName = None,
    exclude: Exclude = None,
    encoding_fallback: EncodingFallback = DEFAULT_FALLBACK,
    max_inflate: MaxInflate = DEFAULT_MAX_INFLATE,
    period: Annotated[
        Period,
        typer.Option(
            "--period",
            metavar="month|day",
            rich_help_panel=TIME,
            help="Reconcile per UTC month or per UTC day.",
        ),
    ] = Period.MONTH,
    tz: Tz = None,
    dst: Dst = DstPolicy.REJECT,
    pbx_tz: PbxTz = None,
    pricing: Annotated[
        Path | None,
        typer.Option(
            "--pricing",
            metavar="FILE",
            rich_help_panel=MATCHING,
            help="TOML overriding any part of the shipped rules.",
        ),
    ] = None,
    region: Region = "US",
    did: Annotated[
        list[str] | None,
        typer.Option(
            "--did",
            metavar="NUMBER",
            rich_help_panel=MATCHING,
            help="A DID the PBX answers (repeat). Default: from the Twilio logs.",
        ),
    ] = None,
    trunk: Trunk = None,
    match_window: Annotated[
        int,
        typer.Option(
            "--match-window",
            metavar="SECONDS",
            rich_help_panel=MATCHING,
            help="Seconds a PBX call's or a record's start and Twilio's may differ.",
        ),
    ] = 60,
    duration_tolerance: Annotated[
        int,
        typer.Option(
            "--duration-tolerance",
            metavar="SECONDS",
            rich_help_panel=MATCHING,
            help="Seconds billsec (or a record's duration) and Twilio's duration may differ.",
        ),
    ] = 2,
    max_delay: Annotated[
        int,
        typer.Option(
            "--max-delay",
            metavar="SECONDS",
            rich_help_panel=MATCHING,
            help="Seconds after a record's time a call is slow.",
        ),
    ] = 60,
    records_from: Annotated[
        list[str] | None,
        typer.Option(
            "--records-from",
            metavar="NUMBER",
            rich_help_panel=MATCHING,
            help="A caller ID your records' system calls from (repeat): only legs from these "
            "are twilio-only. Default: the records' own from numbers, if mapped.",
        ),
    ] = None,
    records_direction: Annotated[
        list[str] | None,
        typer.Option(
            "--records-direction",
            metavar="DIRECTION",
            rich_help_panel=MATCHING,
            help="A direction of your system's legs (repeat, e.g. outbound-api): only legs of "
            "these are twilio-only.",
        ),
    ] = None,
    out: Out,
    force: Force = False,
    calls_csv: Annotated[
        bool,
        typer.Option(
            "--calls-csv",
            rich_help_panel=OUTPUTS,
            help="Also write calls.csv (hundreds of MB at scale; Parquet always).",
        ),
    ] = False,
    xlsx: Annotated[
        bool,
        typer.Option(
            "--xlsx/--no-xlsx",
            rich_help_panel=OUTPUTS,
            show_default=False,
            help="Write audit.xlsx (on by default).",
        ),
    ] = True,
    xlsx_calls: Annotated[
        int,
        typer.Option(
            "--xlsx-calls",
            min=0,
            metavar="N",
            rich_help_panel=OUTPUTS,
            help="Legs in audit.xlsx's Calls sheet (default and most: Excel's 1,048,575; a "
            "full sheet costs about 25 s of CPU). calls.parquet always holds every leg.",
        ),
    ] = EXCEL_ROWS,
    quiet: Quiet = False,
    json_out: JsonOut = False,
    engine: Annotated[
        Engine,
        typer.Option(
            "--engine",
            metavar="local|ray",
            rich_help_panel=ENGINE,
            help="Run here (local) or as Ray tasks: one per input file, then one per account "
            'and UTC month (needs pip install "call-auditor[ray]").',
        ),
    ] = Engine.LOCAL,
    ray_address: Annotated[
        str | None,
        typer.Option(
            "--ray-address",
            metavar="ADDRESS",
            rich_help_panel=ENGINE,
            help="With --engine ray: the cluster to join (auto, ray://HOST:10001). Default: "
            "a local Ray with this machine's cores.",
        ),
    ] = None,
    work: Annotated[
        str | None,
        typer.Option(
            "--work",
            metavar="DIR|URL",
            rich_help_panel=ENGINE,
            help="Folder or object-store URL (s3://bucket/prefix, any polars writes) for the "
            "run's intermediate Parquet; with a cluster, one every node reaches. Default: the "
            "system's temporary folder.",
        ),
    ] = None,
) -> None:
    """Reconcile call logs with usage records, and PBX CDRs or your own records with call logs,
    call by call."""
    opts = _ingest_options(
        tz,
        dst,
        format,
        account,
        pbx_tz,
        cdr_format,
        region,
        encoding_fallback,
        max_inflate,
        tuple(trunk or ()),
        currency,
        tuple(exclude or ()),
    )
    match = MatchOptions(tuple(did or ()), match_window, duration_tolerance, tuple(trunk or ()))
    if ray_address is not None and engine is not Engine.RAY:
        raise UsageError("--ray-address needs --engine ray")
    engine_opts = EngineOptions(engine, ray_address, work)
    audit_opts = AuditOptions(period, pricing, match, calls_csv, xlsx, xlsx_calls, engine_opts)
    own = _records_options(
        records, records_format, max_delay, records_from or [], records_direction or []
    )
    with reading_stdin(paths, records or ()), terminal_progress(quiet) as progress:
        result = run_audit(
            paths,
            out,
            opts,
            audit_opts,
            force=force,
            records=own,
            progress=progress,
            config=_config_path(config),
        )
    _ran(result.exit_code)
    if json_out:  # summary.json as written, byte for byte
        typer.echo((out / "summary.json").read_text(encoding="utf-8"), nl=False)
        raise typer.Exit(result.exit_code)
    if quiet:
        raise typer.Exit(result.exit_code)
    _print_config(config)
    _print_files(result.ingested.files)
    _print_encoding(result.ingested)
    console = _console()
    print_audit(result.recon, result.summary, str(out), console)
    if result.summary.cdr_matching is not None:
        print_cdr_matching(result.summary.cdr_matching, str(out), console)
    if result.records is not None:
        print_records(result.records.counts, result.records.groups, str(out), console)
    print_verdict(result.summary, str(out), console)
    raise typer.Exit(result.exit_code)


@app.command(cls=_Command)
def verify(
    folder: Annotated[
        Path, typer.Argument(metavar="DIR", help="An output folder holding manifest.json.")
    ],
    paths: Annotated[
        list[str] | None,
        typer.Argument(metavar="PATHS", help="With --inputs: where the inputs are now."),
    ] = None,
    inputs: Annotated[
        bool,
        typer.Option(
            "--inputs",
            help="Look for the inputs among the PATHS that follow (files, folders, globs), "
            "matched by the path the manifest names or else by file name. Without it each "
            "input is looked for at its path as given to the run, from the working folder; "
            "an input not found there is missing (exit 1).",
        ),
    ] = False,
    quiet: Quiet = False,
    json_out: JsonOut = False,
) -> None:
    """Re-hash DIR's outputs and the run's inputs against DIR/manifest.json.

    One line per file: OK, changed or missing (a file in DIR the manifest does not name: changed).

    Exit 0 only when every file is OK, 1 otherwise, 2 when DIR has no readable manifest.
    """
    if paths and not inputs:
        raise typer.BadParameter(
            "paths after DIR name where the inputs are: pass --inputs before them",
            param_hint="PATHS",
        )
    if inputs and not paths:
        raise typer.BadParameter(
            "--inputs needs the paths where the inputs are", param_hint="PATHS"
        )
    result = run_verify(folder, paths if inputs else None)
    _ran(result.exit_code)
    if json_out:
        files = [
            {"role": c.role, "path": c.path, "status": str(c.status)}
            | ({"found_at": c.found_at} if c.found_at else {})
            | ({"note": c.note} if c.note else {})
            for c in result.checked
        ]
        counts = {str(s): result.count(s) for s in FileStatus}
        _echo_json(
            {
                "folder": str(result.folder),
                "command": result.command,
                "files": files,
                "counts": counts,
                "exit_code": result.exit_code,
            }
        )
        raise typer.Exit(result.exit_code)
    if quiet:
        raise typer.Exit(result.exit_code)
    width = max((len(str(s)) for s in FileStatus), default=0)
    for c in result.checked:
        extra = f"  (at {c.found_at})" if c.found_at else f"  ({c.note})" if c.note else ""
        typer.echo(f"{c.status:<{width}}  {c.role:<6}  {c.path}{extra}")
    counts = ", ".join(
        f"{n} {s}" for s in FileStatus if (n := result.count(s)) or s is FileStatus.OK
    )
    typer.echo(f"{result.folder}: {counts} ({result.command} run, manifest.json)")
    raise typer.Exit(result.exit_code)


def _config_value_error(exc: Exception) -> str | None:
    """A bad value click found in a config file's defaults, as one line naming the file and key
    (None when the value came from the command line)."""
    ctx, param = getattr(exc, "ctx", None), getattr(exc, "param", None)
    if ctx is None or param is None or param.name is None or CONFIG_META not in ctx.meta:
        return None
    source = ctx.get_parameter_source(param.name)
    if source is None or source.name != "DEFAULT_MAP":
        return None
    longs = [o for o in param.opts if o.startswith("--")]
    key = longs[0][2:] if longs else param.name
    message = getattr(exc, "message", str(exc))
    return f"{ctx.meta[CONFIG_META]}: key '{key}': {message}"


TERMINATING = (signal.SIGTERM, signal.SIGHUP)


@contextlib.contextmanager
def _terminate_cleanly() -> Iterator[list[int]]:
    """While the block runs (in the main thread), SIGTERM and SIGHUP raise `Terminated` there,
    as Ctrl-C raises KeyboardInterrupt, and the signal is added to the list yielded (typer turns
    any KeyboardInterrupt into exit 130: the list says which it was). A repeat during the
    clean-up is ignored, so that the clean-up completes. The previous handlers come back
    afterwards (tests call `main` in-process)."""
    received: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield received
        return

    def terminate(signum: int, frame: object) -> None:
        for sig in TERMINATING:
            signal.signal(sig, signal.SIG_IGN)
        received.append(signum)
        raise Terminated(signum)

    previous = {sig: signal.signal(sig, terminate) for sig in TERMINATING}
    try:
        yield received
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def main(argv: list[str] | None = None) -> int:
    """Entry point, returning the exit code (`auditor` and `python -m auditor` pass it to
    sys.exit; tests call it in-process). Usage mistakes get click's usage message and exit 2;
    every known failure is one line on stderr and exit code 2. Ctrl-C, SIGTERM and SIGHUP stop
    the run, leaving no partial output or work folder: exit 130, 143, 129."""
    token = _RUN_EXIT.set(None)
    with _terminate_cleanly() as received:
        try:
            code = _main(argv)
        except Terminated:  # raised outside typer's own handling
            code = 130
        finally:
            _RUN_EXIT.reset(token)
    if received:
        typer.echo(f"auditor: terminated ({signal.Signals(received[0]).name})", err=True)
        return 128 + received[0]
    return code


def _main(argv: list[str] | None) -> int:
    try:
        # click returns a command's return value here, and the code of a typer.Exit
        code = app(args=argv, prog_name="auditor", standalone_mode=False)
        return code if isinstance(code, int) else 0
    except typer.Exit as exc:
        return exc.exit_code
    except AuditorError as exc:
        typer.echo(f"auditor: error: {exc}", err=True)
        return exc.exit_code
    except typer.TyperException as exc:  # click's errors: unknown option, bad value, missing...
        from_file = _config_value_error(exc)
        if from_file is not None:
            typer.echo(f"auditor: error: {from_file}", err=True)
            return EXIT_UNUSABLE
        show = getattr(exc, "show", None)
        if show is not None:
            show()  # usage line, "Try 'auditor CMD --help'", then the error
        else:
            typer.echo(f"auditor: error: {exc.format_message()}", err=True)
        return EXIT_UNUSABLE
    except typer.Abort:
        typer.echo("auditor: error: aborted", err=True)
        return EXIT_UNUSABLE
    except Terminated:
        raise  # main() says which signal
    except KeyboardInterrupt:
        typer.echo("auditor: interrupted", err=True)
        return 130
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else EXIT_UNUSABLE if exc.code else 0
    except BaseException as exc:  # last resort (pyo3 panics are BaseException): never a traceback
        if os.environ.get("AUDITOR_DEBUG"):
            raise
        name = type(exc).__name__
        typer.echo(f"auditor: internal error: {name}: {exc} (AUDITOR_DEBUG=1 shows more)", err=True)
        return EXIT_UNUSABLE
