"""How a command is made: click classes whose help prints as written (`Command`, `Group`), and a
typed args dataclass as a command's parameters (`from_args`)."""

from __future__ import annotations

import dataclasses
import inspect
import typing
from collections.abc import Callable
from typing import Any, TypeVar

import typer.core
from rich.markup import escape

from auditor.cli.stdout import stdout_may_close

A = TypeVar("A")


def plain_help(params: list[Any]) -> None:
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


class _PlainHelp:
    """What the `auditor` group and its commands share: the help option without type labels
    (see `plain_help`), and a closed stdout ending the command quietly (`stdout_may_close`)."""

    def get_help_option(self, ctx: Any) -> Any:
        option = super().get_help_option(ctx)  # type: ignore[misc]
        if option is not None:
            plain_help([option])
        return option

    def make_context(self, *args: Any, **kwargs: Any) -> Any:
        with stdout_may_close(parsing=True):  # --help, --version
            return super().make_context(*args, **kwargs)  # type: ignore[misc]

    def invoke(self, ctx: Any) -> Any:
        with stdout_may_close(parsing=False):
            return super().invoke(ctx)  # type: ignore[misc]


class Command(_PlainHelp, typer.core.TyperCommand):
    """A command whose help shows its text literally and no type labels (see `plain_help`)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        plain_help(self.params)
        if self.help:  # one line per paragraph: rich mode would keep the docstring's breaks
            paragraphs = inspect.cleandoc(self.help).split("\n\n")
            self.help = "\n\n".join(" ".join(p.split()) for p in paragraphs)
            if typer.core.HAS_RICH:
                self.help = escape(self.help)


class Group(_PlainHelp, typer.core.TyperGroup):
    """The `auditor` group, with the same help as its commands (see `plain_help`)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        plain_help(self.params)


def from_args(args_type: type[A], run: Callable[[A], int]) -> Callable[..., int]:
    """A typer command callback whose parameters are `args_type`'s fields (a dataclass of
    `Annotated` option types, in `--help` order) and which calls `run` with them as one
    `args_type`. Its help is `run`'s docstring; it returns the command's exit code."""
    hints = typing.get_type_hints(args_type, include_extras=True)
    params = [
        inspect.Parameter(
            field.name,
            inspect.Parameter.KEYWORD_ONLY,
            default=inspect.Parameter.empty
            if field.default is dataclasses.MISSING
            else field.default,
            annotation=hints[field.name],
        )
        for field in dataclasses.fields(args_type)  # type: ignore[arg-type]
    ]

    def callback(**values: Any) -> int:
        return run(args_type(**values))

    callback.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    callback.__doc__ = run.__doc__
    callback.__name__ = run.__name__
    return callback
