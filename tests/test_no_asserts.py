"""No `assert` statement in auditor/: `python -O` strips them, so a check the code relies on
raises instead (errors.InternalError for a broken invariant of the code itself)."""

from __future__ import annotations

import ast

import pytest
from conftest import ROOT

from auditor.errors import AuditorError, InternalError
from auditor.normalize.times import NAIVE_FORMATS, parse_time_fast

PACKAGE = ROOT / "auditor"


def _asserts() -> dict[str, list[int]]:
    """`file: [line, ...]` of every assert statement under auditor/."""
    found: dict[str, list[int]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        lines = [node.lineno for node in ast.walk(tree) if isinstance(node, ast.Assert)]
        if lines:
            found[path.relative_to(PACKAGE).as_posix()] = sorted(lines)
    return found


def test_no_assert_statement_in_the_package() -> None:
    left = [f"auditor/{f}:{n}" for f, lines in _asserts().items() for n in lines]
    assert not left, f"assert statements (they vanish under python -O): {', '.join(left)}"


def test_a_broken_invariant_is_an_internal_error() -> None:
    """InternalError is a bug, not a known failure: main() reports it as an internal error."""
    assert not issubclass(InternalError, AuditorError)
    with pytest.raises(InternalError, match="needs a zone"):
        parse_time_fast("start_time", NAIVE_FORMATS[0], None)  # a naive shape with no zone
