"""Imports run down the layers only, and no packages import each other in a cycle (issue 20).

Every module of `auditor/` is read with `ast` (not imported): each import at any depth counts,
inside functions and under `if TYPE_CHECKING` too, since either is an arrow a reader follows.
A module belongs to its top-level package (`auditor/ingest/base.py`: `ingest`), or is one of its
own (`auditor/cli.py`: `cli`); `auditor/__init__.py` is `auditor`. Within a package imports are
free. An import of a package in a higher layer is an arrow up; packages of one layer may import
each other one way only (a cycle is reported). Each failure names file:line and the arrow.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from conftest import ROOT

PACKAGE = ROOT / "auditor"

# Top to bottom. A unit may import its own layer's others (one way) and any layer below.
LAYERS: tuple[frozenset[str], ...] = (
    # the CLI: arguments, config, terminal presentation and progress (auditor/cli/)
    frozenset({"cli", "__main__"}),
    frozenset({"pipeline"}),  # one module per command; the engines; the pipeline's options
    frozenset({"report"}),  # output writers
    frozenset({"reconcile"}),  # classification, reconciliations, matchers, findings
    frozenset({"normalize"}),  # raw text -> canonical frames, contract checks, duplicates
    frozenset({"ingest"}),  # readers, file handling, read options
    frozenset({"rules", "schemas"}),  # the billing rules; the canonical frames' contracts, dtypes
    frozenset({"result"}),  # typed outcomes and counts (may import statuses)
    # leaves: enums, errors, the package's version, and the data packages (TOML only)
    frozenset({"statuses", "errors", "auditor", "pbx_formats", "records_formats"}),
)
DATA_PACKAGES = ("pbx_formats", "records_formats")

# Known arrows up, by file, each with the reason it is still there; none may be added.
EXEMPT: dict[str, str] = {}


@dataclass(frozen=True)
class Arrow:
    """One import of package `target` by module `file` (relative to the repository), of `unit`."""

    file: str
    line: int
    unit: str
    target: str
    name: str  # the module imported, as written (resolved if relative)

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.unit} imports {self.name} ({self.target})"


def unit_of(path: Path, package: Path) -> str:
    """The layer unit of a module: its top-level package, or its own name at the top."""
    parts = path.relative_to(package).parts
    if len(parts) > 1:
        return parts[0]
    return package.name if parts[0] == "__init__.py" else Path(parts[0]).stem


def _module_parts(path: Path, package: Path) -> list[str]:
    """`auditor/ingest/base.py` -> ["auditor", "ingest", "base"] (a package's __init__: itself)."""
    parts = [package.name, *path.relative_to(package).with_suffix("").parts]
    return parts[:-1] if parts[-1] == "__init__" else parts


def _imported(node: ast.Import | ast.ImportFrom, path: Path, package: Path) -> list[str]:
    """The modules `node` imports, as absolute dotted names (`from auditor import cli` names
    `auditor.cli`, so a submodule imported from a package counts as that submodule)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if node.level:  # relative: from the module's package, `level - 1` packages up
        here = _module_parts(path, package)
        if path.name != "__init__.py":
            here = here[:-1]
        base = here[: len(here) - (node.level - 1)]
        module = ".".join([*base, *([node.module] if node.module else [])])
    else:
        module = node.module or ""
    if module == package.name:
        return [f"{module}.{alias.name}" for alias in node.names]
    return [module]


def arrows(package: Path, repo: Path) -> list[Arrow]:
    """Every import from one unit of `package` to another, in file and line order."""
    found = []
    for path in sorted(package.rglob("*.py")):
        unit = unit_of(path, package)
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Import | ast.ImportFrom):
                continue
            for name in _imported(node, path, package):
                parts = name.split(".")
                if parts[0] != package.name:
                    continue
                target = parts[1] if len(parts) > 1 else package.name
                if not (package / target).is_dir() and not (package / f"{target}.py").exists():
                    target = package.name  # `from auditor import __version__`
                if target != unit:
                    rel = path.relative_to(repo).as_posix()
                    found.append(Arrow(rel, node.lineno, unit, target, name))
    return sorted(found, key=lambda a: (a.file, a.line, a.name))


def layer_of(layers: tuple[frozenset[str], ...]) -> dict[str, int]:
    """Unit -> its layer's index (0 is the top)."""
    return {unit: i for i, layer in enumerate(layers) for unit in layer}


def arrows_up(found: list[Arrow], layers: tuple[frozenset[str], ...]) -> list[str]:
    """Each import of a higher layer's unit, and each unit in no layer, as a message."""
    rank = layer_of(layers)
    bad = []
    for arrow in found:
        unplaced = [u for u in (arrow.unit, arrow.target) if u not in rank]
        if unplaced:
            bad.append(f"{arrow}: {', '.join(unplaced)} is in no layer of LAYERS")
        elif rank[arrow.target] < rank[arrow.unit]:
            bad.append(f"{arrow}: an arrow up ({arrow.target} is above {arrow.unit})")
    return bad


def cycles(found: list[Arrow]) -> list[str]:
    """Each group of units that import each other in a cycle, with the arrows between them."""
    graph: dict[str, set[str]] = defaultdict(set)
    for arrow in found:
        graph[arrow.unit].add(arrow.target)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[set[str]] = []

    def visit(unit: str) -> None:  # Tarjan's strongly connected components
        index[unit] = low[unit] = len(index)
        stack.append(unit)
        for target in sorted(graph[unit]):
            if target not in index:
                visit(target)
                low[unit] = min(low[unit], low[target])
            elif target in stack:
                low[unit] = min(low[unit], index[target])
        if low[unit] == index[unit]:
            group = set()
            while True:
                member = stack.pop()
                group.add(member)
                if member == unit:
                    break
            if len(group) > 1:
                groups.append(group)

    for unit in sorted(graph):
        if unit not in index:
            visit(unit)
    bad = []
    for group in groups:
        edges: dict[tuple[str, str], list[Arrow]] = defaultdict(list)
        for arrow in found:
            if arrow.unit in group and arrow.target in group:
                edges[arrow.unit, arrow.target].append(arrow)
        lines = [
            f"{unit} -> {target}: {at[0]}" + (f" (and {len(at) - 1} more)" if len(at) > 1 else "")
            for (unit, target), at in sorted(edges.items())
        ]
        bad.append(f"cycle between {', '.join(sorted(group))}:\n    " + "\n    ".join(lines))
    return bad


def _not_exempt(found: list[Arrow]) -> list[Arrow]:
    return [a for a in found if a.file not in EXEMPT]


def test_no_import_runs_up_a_layer() -> None:
    bad = arrows_up(_not_exempt(arrows(PACKAGE, ROOT)), LAYERS)
    assert not bad, f"{len(bad)} import(s) against the layers:\n" + "\n".join(bad)


def test_no_package_import_cycle() -> None:
    bad = cycles(_not_exempt(arrows(PACKAGE, ROOT)))
    assert not bad, "packages importing each other in a cycle:\n" + "\n".join(bad)


def test_exemptions_are_still_needed() -> None:
    """An exemption goes as soon as its file moves or stops importing upwards."""
    found = arrows(PACKAGE, ROOT)
    up = {a.file for a in found if a.file in EXEMPT and arrows_up([a], LAYERS)}
    stale = [f"{file} ({why})" for file, why in EXEMPT.items() if file not in up]
    assert not stale, "remove from EXEMPT, no longer needed: " + ", ".join(stale)


def test_every_unit_has_a_layer() -> None:
    units = {unit_of(p, PACKAGE) for p in PACKAGE.rglob("*.py")}
    missing = sorted(units - set(layer_of(LAYERS)))
    assert not missing, f"modules or packages in no layer of LAYERS: {missing}"


def test_data_packages_hold_toml_only() -> None:
    for name in DATA_PACKAGES:
        files = {p.name for p in (PACKAGE / name).iterdir() if p.name != "__pycache__"}
        assert {f for f in files if not f.endswith(".toml")} == {"__init__.py"}, name
        init = ast.parse((PACKAGE / name / "__init__.py").read_text(encoding="utf-8"))
        assert not [n for n in ast.walk(init) if isinstance(n, ast.Import | ast.ImportFrom)]


def _plant(root: Path, files: dict[str, str]) -> Path:
    package = root / "auditor"
    for rel, text in files.items():
        path = package / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return package


def test_the_checks_find_planted_arrows(tmp_path: Path) -> None:
    """The checks see imports in functions, under TYPE_CHECKING and relative ones, and name
    every offending arrow with its file and line."""
    package = _plant(
        tmp_path,
        {
            "__init__.py": "",
            "statuses.py": "",
            "ingest/__init__.py": "",
            "ingest/base.py": (
                "from typing import TYPE_CHECKING\n"
                "if TYPE_CHECKING:\n"
                "    from auditor.pipeline.options import X\n"
                "def f():\n"
                "    import auditor.report.write\n"
                "from ..statuses import S\n"
            ),
            "pipeline/__init__.py": "",
            "pipeline/options.py": "from auditor.ingest import base\n",
            "report/__init__.py": "from .. import pipeline\n",
            "report/write.py": "",
            "rules/__init__.py": "from auditor.schemas import x\n",
            "schemas/__init__.py": "from auditor import rules\n",
        },
    )
    found = arrows(package, tmp_path)
    up = arrows_up(found, LAYERS)
    assert [m.split(":")[:2] for m in up] == [
        ["auditor/ingest/base.py", "3"],
        ["auditor/ingest/base.py", "5"],
        ["auditor/report/__init__.py", "1"],
    ]
    assert "ingest imports auditor.pipeline.options (pipeline)" in up[0]
    assert "an arrow up (report is above ingest)" in up[1]
    found_cycles = cycles(found)
    assert len(found_cycles) == 2  # ingest -> pipeline -> ingest (and report), rules <-> schemas
    assert any("cycle between rules, schemas" in c for c in found_cycles)
    assert "schemas -> rules: auditor/schemas/__init__.py:1: schemas imports auditor.rules" in (
        "".join(found_cycles)
    )
