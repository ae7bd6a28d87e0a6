"""`auditor verify`: re-hash an output folder and its inputs against its manifest, and print
one line per file."""

from __future__ import annotations

from dataclasses import dataclass

import typer

from auditor.cli.echo import echo_json
from auditor.cli.params import Folder, InputPaths, Inputs, JsonOut, Quiet
from auditor.cli.stdout import ran


@dataclass(kw_only=True)
class VerifyArgs:
    """`auditor verify`'s arguments and options, in `--help` order."""

    folder: Folder
    paths: InputPaths = None
    inputs: Inputs = False
    quiet: Quiet = False
    json_out: JsonOut = False


def verify(args: VerifyArgs) -> int:
    """Re-hash DIR's outputs and the run's inputs against DIR/manifest.json.

    One line per file: OK, changed or missing (a file in DIR the manifest does not name: changed).

    Exit 0 only when every file is OK, 1 otherwise, 2 when DIR has no readable manifest.
    """
    from auditor.pipeline.verify import run_verify
    from auditor.statuses import FileStatus

    if args.paths and not args.inputs:
        raise typer.BadParameter(
            "paths after DIR name where the inputs are: pass --inputs before them",
            param_hint="PATHS",
        )
    if args.inputs and not args.paths:
        raise typer.BadParameter(
            "--inputs needs the paths where the inputs are", param_hint="PATHS"
        )
    result = run_verify(args.folder, args.paths if args.inputs else None)
    ran(result.exit_code)
    if args.json_out:
        echo_json(result.as_dict())
    elif not args.quiet:
        width = max((len(str(s)) for s in FileStatus), default=0)
        for c in result.checked:
            extra = f"  (at {c.found_at})" if c.found_at else f"  ({c.note})" if c.note else ""
            typer.echo(f"{c.status:<{width}}  {c.role:<6}  {c.path}{extra}")
        counts = ", ".join(
            f"{n} {s}" for s in FileStatus if (n := result.count(s)) or s is FileStatus.OK
        )
        typer.echo(f"{result.folder}: {counts} ({result.command} run, manifest.json)")
    return result.exit_code
