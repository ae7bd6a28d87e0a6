"""The commands' options as `Annotated` types: flag, metavar, help and `--help` panel, each
written once and shared by the commands that take it (a command's args dataclass lists them)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from auditor.cli.config import CONFIG_NAME, read_config
from auditor.normalize.times import DstPolicy
from auditor.pipeline.options import Engine
from auditor.reconcile.periods import Period

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
        callback=read_config,
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

# audit's own options
PeriodChoice = Annotated[
    Period,
    typer.Option(
        "--period",
        metavar="month|day",
        rich_help_panel=TIME,
        help="Reconcile per UTC month or per UTC day.",
    ),
]
Pricing = Annotated[
    Path | None,
    typer.Option(
        "--pricing",
        metavar="FILE",
        rich_help_panel=MATCHING,
        help="TOML overriding any part of the shipped rules.",
    ),
]
Did = Annotated[
    list[str] | None,
    typer.Option(
        "--did",
        metavar="NUMBER",
        rich_help_panel=MATCHING,
        help="A DID the PBX answers (repeat). Default: from the Twilio logs.",
    ),
]
MatchWindow = Annotated[
    int,
    typer.Option(
        "--match-window",
        metavar="SECONDS",
        rich_help_panel=MATCHING,
        help="Seconds a PBX call's or a record's start and Twilio's may differ.",
    ),
]
DurationTolerance = Annotated[
    int,
    typer.Option(
        "--duration-tolerance",
        metavar="SECONDS",
        rich_help_panel=MATCHING,
        help="Seconds billsec (or a record's duration) and Twilio's duration may differ.",
    ),
]
MaxDelay = Annotated[
    int,
    typer.Option(
        "--max-delay",
        metavar="SECONDS",
        rich_help_panel=MATCHING,
        help="Seconds after a record's time a call is slow.",
    ),
]
RecordsFrom = Annotated[
    list[str] | None,
    typer.Option(
        "--records-from",
        metavar="NUMBER",
        rich_help_panel=MATCHING,
        help="A caller ID your records' system calls from (repeat): only legs from these "
        "are twilio-only. Default: the records' own from numbers, if mapped.",
    ),
]
RecordsDirection = Annotated[
    list[str] | None,
    typer.Option(
        "--records-direction",
        metavar="DIRECTION",
        rich_help_panel=MATCHING,
        help="A direction of your system's legs (repeat, e.g. outbound-api): only legs of "
        "these are twilio-only.",
    ),
]
CallsCsv = Annotated[
    bool,
    typer.Option(
        "--calls-csv",
        rich_help_panel=OUTPUTS,
        help="Also write calls.csv (hundreds of MB at scale; Parquet always).",
    ),
]
Xlsx = Annotated[
    bool,
    typer.Option(
        "--xlsx/--no-xlsx",
        rich_help_panel=OUTPUTS,
        show_default=False,
        help="Write audit.xlsx (on by default).",
    ),
]
XlsxCalls = Annotated[
    int,
    typer.Option(
        "--xlsx-calls",
        min=0,
        metavar="N",
        rich_help_panel=OUTPUTS,
        help="Legs in audit.xlsx's Calls sheet (default and most: Excel's 1,048,575; a "
        "full sheet costs about 25 s of CPU). calls.parquet always holds every leg.",
    ),
]
EngineChoice = Annotated[
    Engine,
    typer.Option(
        "--engine",
        metavar="local|ray",
        rich_help_panel=ENGINE,
        help="Run here (local) or as Ray tasks: one per input file, then one per account "
        'and UTC month (needs pip install "call-auditor[ray]").',
    ),
]
RayAddress = Annotated[
    str | None,
    typer.Option(
        "--ray-address",
        metavar="ADDRESS",
        rich_help_panel=ENGINE,
        help="With --engine ray: the cluster to join (auto, ray://HOST:10001). Default: "
        "a local Ray with this machine's cores.",
    ),
]
Work = Annotated[
    str | None,
    typer.Option(
        "--work",
        metavar="DIR|URL",
        rich_help_panel=ENGINE,
        help="Folder or object-store URL (s3://bucket/prefix, any polars writes) for the "
        "run's intermediate Parquet; with a cluster, one every node reaches. Default: the "
        "system's temporary folder.",
    ),
]

# verify's
Folder = Annotated[
    Path, typer.Argument(metavar="DIR", help="An output folder holding manifest.json.")
]
InputPaths = Annotated[
    list[str] | None,
    typer.Argument(metavar="PATHS", help="With --inputs: where the inputs are now."),
]
Inputs = Annotated[
    bool,
    typer.Option(
        "--inputs",
        help="Look for the inputs among the PATHS that follow (files, folders, globs), "
        "matched by the path the manifest names or else by file name. Without it each "
        "input is looked for at its path as given to the run, from the working folder; "
        "an input not found there is missing (exit 1).",
    ),
]
