"""The help a person reads (issue 19, points 10 and 11): `auditor audit --help` at 80 columns keeps
every option's name whole, prints its text literally (no bracket eaten as rich markup), shows no
type label beside a flag, and groups the options in the same panels on validate and audit;
`--version` / `-V` print the version; `-h` works wherever `--help` does."""

from __future__ import annotations

import re
import tomllib

import pytest
import typer
import typer.rich_utils
from conftest import ROOT, run_cli

import auditor
from auditor.cli import app

PANELS = ("Inputs", "Time", "Rules and matching", "Outputs")


def _help(monkeypatch: pytest.MonkeyPatch, *args: str, width: int = 80) -> str:
    # rich reads COLUMNS when typer makes its console (one per help page; not a terminal here);
    # typer's TERMINAL_WIDTH, read when it was imported, would win over it
    monkeypatch.setenv("COLUMNS", str(width))
    monkeypatch.setattr(typer.rich_utils, "MAX_WIDTH", None)
    proc = run_cli(*args)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def _long_names(command: str) -> list[str]:
    click_command = typer.main.get_command(app).commands[command]  # type: ignore[attr-defined]
    names = [
        opt
        for param in click_command.params
        if param.param_type_name == "option"
        for opt in [*param.opts, *param.secondary_opts]
        if opt.startswith("--")
    ]
    assert len(names) > 10
    return names


@pytest.mark.parametrize("command", ["audit", "validate"])
def test_help_at_80_columns_keeps_names_and_text(
    monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    text = _help(monkeypatch, command, "--help")
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= 80
    assert "…" not in text  # rich cuts a name that does not fit with an ellipsis
    for name in _long_names(command):  # e.g. --duration-tolerance, not --duration-toler…
        assert re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", text), name
    # rich markup would eat these brackets as style tags
    assert "[audit]" in text and "[validate]" in text
    if command == "audit":
        assert '"call-auditor[ray]"' in text
    # no type labels: the name and the metavar say what a value is
    assert not re.search(r"<(bool|str|int|float|path|list\[str\])>", text), text
    assert "BOOLEAN" not in text
    titles = re.findall(r"^╭─ (.+?) ─", text, flags=re.MULTILINE)
    panels = [*PANELS, "Engine"] if command == "audit" else list(PANELS)
    assert [t for t in titles if t in panels] == panels  # in this order
    assert "╭─ Options " in text  # the -h/--help line only
    assert len(lines) < 160, len(lines)  # 240 lines before the panels and metavars


def test_same_option_same_panel_on_both_commands() -> None:
    group = typer.main.get_command(app)
    panels: dict[str, dict[str, str | None]] = {}
    for command in ("audit", "validate"):
        for param in group.commands[command].params:  # type: ignore[attr-defined]
            panels.setdefault(param.name, {})[command] = getattr(param, "rich_help_panel", None)
    shared = {name: by for name, by in panels.items() if len(by) == 2}
    assert len(shared) > 15
    for name, by in shared.items():
        assert by["audit"] == by["validate"], name
        assert name == "paths" or by["audit"] is not None, name  # every option in a panel


@pytest.mark.parametrize("flag", ["--version", "-V"])
def test_version(flag: str) -> None:
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert auditor.__version__ == version
    proc = run_cli(flag)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, f"call-auditor {version}\n", "")


@pytest.mark.parametrize("args", [[], ["validate"], ["audit"], ["verify"]])
def test_short_help(monkeypatch: pytest.MonkeyPatch, args: list[str]) -> None:
    short = _help(monkeypatch, *args, "-h")
    assert short.lstrip().startswith(f"Usage: auditor {' '.join(args)}".rstrip())
    assert short == _help(monkeypatch, *args, "--help")
    assert "-h" in short
