"""The `auditor` command line: parse arguments, call the pipeline, print. Nothing else.

One module per command (`validate`, `audit`, `verify`: its args dataclass and what it prints),
their option types (`params`), the config file (`config`), the terminal tables and progress
(`terminal`, `progress`); here the app, `main`, and the one mapping of errors to exit codes
(`exit_code`). The pipeline is imported when a command runs, not for `--help`."""

from __future__ import annotations

import os
import signal
from typing import Annotated

import typer

from auditor import __version__
from auditor.cli.audit import AuditArgs, audit
from auditor.cli.commands import Command, Group, from_args
from auditor.cli.config import config_value_error
from auditor.cli.signals import terminate_cleanly
from auditor.cli.stdout import RUN_EXIT
from auditor.cli.validate import ValidateArgs, validate
from auditor.cli.verify import VerifyArgs, verify
from auditor.errors import EXIT_UNUSABLE, AuditorError, Terminated

app = typer.Typer(
    cls=Group,
    add_completion=False,
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
    help="Audit telephony billing: Twilio call logs vs usage records vs PBX CDRs, line by line.",
)
app.command("validate", cls=Command)(from_args(ValidateArgs, validate))
app.command("audit", cls=Command)(from_args(AuditArgs, audit))
app.command("verify", cls=Command)(from_args(VerifyArgs, verify))


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


def main(argv: list[str] | None = None) -> int:
    """Entry point, returning the exit code (`auditor` and `python -m auditor` pass it to
    sys.exit; tests call it in-process). Usage mistakes get click's usage message and exit 2;
    every known failure is one line on stderr and exit code 2. Ctrl-C, SIGTERM and SIGHUP stop
    the run, leaving no partial output or work folder: exit 130, 143, 129."""
    token = RUN_EXIT.set(None)
    with terminate_cleanly() as received:
        try:
            # click returns a command's return value here (its exit code)
            code = app(args=argv, prog_name="auditor", standalone_mode=False)
            code = code if isinstance(code, int) else 0
        except BaseException as exc:
            code = exit_code(exc)
        finally:
            RUN_EXIT.reset(token)
    if received:
        typer.echo(f"auditor: terminated ({signal.Signals(received[0]).name})", err=True)
        return 128 + received[0]
    return code


def exit_code(exc: BaseException) -> int:
    """The one mapping of what ended a run to its exit code, with its one line on stderr."""
    if isinstance(exc, typer.Exit):  # --help, --version, a closed stdout (see cli.stdout)
        return exc.exit_code
    if isinstance(exc, AuditorError):
        typer.echo(f"auditor: error: {exc}", err=True)
        return exc.exit_code
    if isinstance(exc, typer.TyperException):  # click's: unknown option, bad value, missing...
        from_file = config_value_error(exc)
        if from_file is not None:
            typer.echo(f"auditor: error: {from_file}", err=True)
            return EXIT_UNUSABLE
        show = getattr(exc, "show", None)
        if show is not None:
            show()  # usage line, "Try 'auditor CMD --help'", then the error
        else:
            typer.echo(f"auditor: error: {exc.format_message()}", err=True)
        return EXIT_UNUSABLE
    if isinstance(exc, typer.Abort):
        typer.echo("auditor: error: aborted", err=True)
        return EXIT_UNUSABLE
    if isinstance(exc, Terminated):  # SIGTERM, SIGHUP: main() says which
        return 130
    if isinstance(exc, KeyboardInterrupt):
        typer.echo("auditor: interrupted", err=True)
        return 130
    if isinstance(exc, SystemExit):
        return exc.code if isinstance(exc.code, int) else EXIT_UNUSABLE if exc.code else 0
    if os.environ.get("AUDITOR_DEBUG"):  # last resort (pyo3 panics are BaseException)
        raise exc
    name = type(exc).__name__
    typer.echo(f"auditor: internal error: {name}: {exc} (AUDITOR_DEBUG=1 shows more)", err=True)
    return EXIT_UNUSABLE
