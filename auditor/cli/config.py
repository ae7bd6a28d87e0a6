"""Settings per account: a TOML file holding options of `validate` and `audit` (`--config FILE`,
or `auditor.toml` in the working folder when no `--config` is given).

Keys are the options' names as on the command line without `--` (`tz`, `dst`, `pbx-tz`, `did`,
`match-window`, `records-format`...). Top-level keys apply to every command that has that option
(and are ignored by one that has not: `did` in a file read by `validate`); an `[audit]` or
`[validate]` table holds keys for that command only and wins over the top level. A repeatable
option takes a list (`did = ["+15551230001", "+15551230002"]`) or one value. Command-line flags
override the file. Paths in the file (`pricing`, `cdr-format`, `records`, `records-format`) are
relative to the file's folder; a `cdr-format` or `records-format` that is no file there is a
shipped format's name.

The file is read and checked without click (`load_config`, given each command's options as
`OptionSpec`s); the bridge at the end (`read_config`, `config_value_error`) takes those options
from click and passes what `load_config` returns to click as the command's `default_map`, so
values are converted and checked by click as if typed on the command line.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import typer

from auditor.errors import UsageError

CONFIG_NAME = "auditor.toml"  # read from the working folder when no --config is given
# Options that stay on the command line: the file itself, where to write, and replacing a folder.
NOT_IN_FILE = frozenset({"config", "out", "force", "help"})
# Keys naming files: relative to the config file's folder. The `*-format` ones may be a name.
PATH_KEYS = frozenset({"pricing", "cdr-format", "records", "records-format"})
NAME_OR_PATH_KEYS = frozenset({"cdr-format", "records-format"})
Scalar = str | int | float | bool
CONFIG_META = "auditor.config"  # ctx.meta key: the config file a command read


@dataclass(frozen=True)
class OptionSpec:
    """One option of a command, as the file names it: `key` (`match-window`), the parameter
    name click knows it by (`match_window`), and whether it repeats."""

    key: str
    name: str
    multiple: bool = False


@dataclass(frozen=True)
class Config:
    """A config file read for one command: its path and the command's `default_map`."""

    path: Path
    default_map: dict[str, Any]


def find_config(given: str | None, cwd: Path | None = None) -> Path | None:
    """The config file to read: `--config FILE`, else `auditor.toml` in `cwd` when present."""
    if given is not None:
        return Path(given)
    here = (cwd or Path.cwd()) / CONFIG_NAME
    return Path(CONFIG_NAME) if here.is_file() else None


def read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except FileNotFoundError:
        raise UsageError(f"{path}: config file not found") from None
    except IsADirectoryError:
        raise UsageError(f"{path}: config file is a folder") from None
    except OSError as exc:
        raise UsageError(f"{path}: config file unreadable ({exc.strerror or exc})") from None
    except UnicodeDecodeError:
        raise UsageError(f"{path}: config file is not UTF-8") from None
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{path}: not valid TOML ({exc})") from None


def load_config(
    path: Path, command: str, commands: Mapping[str, Mapping[str, OptionSpec]]
) -> Config:
    """The file at `path` checked against every command's options (`commands`: command name ->
    key -> spec) and turned into `command`'s default_map. An unknown key, a key that must stay
    on the command line and a value of the wrong shape are one-line UsageErrors naming the key."""
    data = read_toml(path)
    every = {key: spec for specs in commands.values() for key, spec in specs.items()}
    top: dict[str, Any] = {}
    tables: dict[str, dict[str, Any]] = {}
    for key, value in data.items():
        if key in commands and isinstance(value, dict):
            tables[key] = value
        else:
            top[key] = value
    _check(path, top, every, "")
    for name, table in tables.items():
        _check(path, table, commands[name], f"[{name}] ")
    own = commands[command]
    merged = {k: v for k, v in top.items() if k in own} | tables.get(command, {})
    folder = path.parent
    default_map = {
        own[key].name: _value(folder, key, own[key], value) for key, value in merged.items()
    }
    return Config(path, default_map)


def _check(
    path: Path, table: Mapping[str, Any], known: Mapping[str, OptionSpec], where: str
) -> None:
    for key, value in table.items():
        if key in NOT_IN_FILE:
            raise UsageError(f"{path}: {where}key '{key}' cannot be set in a config file")
        if key not in known:
            names = ", ".join(sorted(k for k in known if k not in NOT_IN_FILE))
            raise UsageError(f"{path}: {where}unknown key '{key}' (known: {names})")
        spec = known[key]
        items = value if isinstance(value, list) else [value]
        if isinstance(value, list) and not spec.multiple:
            raise UsageError(f"{path}: {where}key '{key}' takes one value, not a list")
        for item in items:
            if not isinstance(item, Scalar):
                kind = "table" if isinstance(item, dict) else type(item).__name__
                raise UsageError(
                    f"{path}: {where}key '{key}' takes a string, number or true/false, not a {kind}"
                )


def _value(folder: Path, key: str, spec: OptionSpec, value: Any) -> Any:
    items: list[Any] = value if isinstance(value, list) else [value]
    if key in PATH_KEYS:
        items = [_relative(folder, key, item) for item in items]
    return items if spec.multiple else items[0]


def _relative(folder: Path, key: str, value: Scalar) -> Scalar:
    """A path in the file, read from the file's folder (a shipped format's name stays as is)."""
    if not isinstance(value, str) or Path(value).is_absolute():
        return value
    joined = folder / value
    if key in NAME_OR_PATH_KEYS and not joined.exists():
        return value  # a shipped name (or a missing file, reported as such by its loader)
    return str(joined)


def _option_specs(command: Any) -> dict[str, OptionSpec]:
    """A click command's options as a config file names them (`--match-window` ->
    `match-window`), for `load_config`."""
    specs = {}
    for param in command.params:
        if getattr(param, "param_type_name", "") != "option" or param.name is None:
            continue
        longs = [o for o in param.opts if o.startswith("--")]
        if longs and longs[0][2:] not in NOT_IN_FILE:
            key = longs[0][2:]
            specs[key] = OptionSpec(key, param.name, bool(getattr(param, "multiple", False)))
    return specs


def read_config(ctx: typer.Context, value: str | None) -> str | None:
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


def config_value_error(exc: Exception) -> str | None:
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
