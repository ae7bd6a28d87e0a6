"""`auditor --help` and `auditor verify` stay quick (issue 20): the CLI imports no writer's heavy
library (matplotlib, Jinja2, xlsxwriter) nor the pipeline, and the pipeline imports those
libraries only when the writer that needs them runs. Checked in a fresh interpreter's
`sys.modules`, which holds whether the machine is fast or loaded (a timing would not)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conftest import ROOT

WRITERS_LIBRARIES = ("matplotlib", "jinja2", "xlsxwriter")
# Nor these, with the CLI alone: the pipeline, and what only a run needs.
RUN_ONLY = (
    "auditor.pipeline.audit",
    "auditor.report.write",
    "auditor.report.xlsx",
    "pandera",
    "pyarrow",
    "ray",
    "rich.progress",
)


def _loaded(module: str, names: tuple[str, ...]) -> list[str]:
    code = (
        f"import json, sys, {module}; "
        f"print(json.dumps([n for n in {list(names)!r} if n in sys.modules]))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return json.loads(proc.stdout)


def test_the_cli_imports_no_writer_library_nor_the_pipeline() -> None:
    assert _loaded("auditor.cli", WRITERS_LIBRARIES + RUN_ONLY) == []


@pytest.mark.parametrize(
    "module", ["auditor.pipeline.audit", "auditor.pipeline.validate", "auditor.pipeline.verify"]
)
def test_the_pipeline_imports_a_writer_library_only_when_it_writes(module: str) -> None:
    assert _loaded(module, WRITERS_LIBRARIES) == []
