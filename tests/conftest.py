"""Shared test helpers: fixture paths and a CLI runner that goes through `main()` (exit codes)."""

from __future__ import annotations

import ast
import contextlib
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SAMPLES = ROOT / "sample_exports"


# The CLI draws its terminal output at the real width (rich reads COLUMNS, else the terminal's,
# else 80): every test sees the same 120 columns it was drawn at before, whatever terminal the
# suite runs in, unless it sets its own (monkeypatch.setenv("COLUMNS", ...), as the terminal
# tests do). Set here, not in a fixture, so that module-scoped fixtures' runs see it too.
TEST_COLUMNS = "120"
os.environ["COLUMNS"] = TEST_COLUMNS


@pytest.fixture
def fixtures() -> Path:
    return FIXTURES


# AUDITOR_TEST_SUBPROCESS=1 runs every `run_cli` in a child process instead (slower; the old way).
IN_PROCESS = not os.environ.get("AUDITOR_TEST_SUBPROCESS")


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """`auditor ARGS` through `main(argv)` in this process (starting a Python with polars for
    each call was most of the suite's time): its exit code, and what it wrote on stdout and
    stderr (typer.echo and rich consoles write to sys.stdout / sys.stderr as they are at the
    time of the call). `run_cli_process` runs a real child process."""
    if not IN_PROCESS:
        return run_cli_process(*args, cwd=cwd)
    from auditor.cli import main

    out, err = io.StringIO(), io.StringIO()
    with (
        contextlib.chdir(cwd or Path.cwd()),
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(err),
    ):
        code = main(list(args))
    return subprocess.CompletedProcess(
        ["auditor", *args], code, stdout=out.getvalue(), stderr=err.getvalue()
    )


def run_cli_process(
    *args: str, cwd: Path | None = None, module: bool = True
) -> subprocess.CompletedProcess[str]:
    """`auditor ARGS` in a child process, as a user runs it: real exit code, stdout, stderr.
    `module=False` runs the installed `auditor` console script rather than `python -m auditor`."""
    script = Path(sys.executable).with_name("auditor")
    command = [sys.executable, "-m", "auditor"] if module else [str(script)]
    return subprocess.run([*command, *args], capture_output=True, text=True, cwd=cwd, check=False)


def top_level_imports(script: Path) -> set[str]:
    """Top-level package names a script imports (a generator must not import the auditor)."""
    tree = ast.parse(script.read_text(encoding="utf-8"))
    return {
        name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, (ast.Import, ast.ImportFrom))
        for name in (
            [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
        )
    }


def regenerate(generator: Path, out: Path) -> None:
    """Run a sample generator into `out` (its expected json too) and insist it succeeded."""
    done = subprocess.run(
        [
            sys.executable,
            str(generator),
            "--out",
            str(out),
            "--expected",
            str(out / "expected.json"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def audit_samples(
    out: Path, *extra: str, dst: str = "earliest"
) -> subprocess.CompletedProcess[str]:
    """`auditor audit sample_exports ...` as the READMEs give it: `sample_exports/auditor.toml`
    holds the options (New York Console CSVs and PBX local times, `dst = "earliest"`; `--dst`
    here overrides it), run from the repo root so `source_file` names read `sample_exports/...`."""
    return run_cli(
        "audit",
        "sample_exports",
        "--out",
        str(out),
        "--config",
        "sample_exports/auditor.toml",
        "--dst",
        dst,
        *extra,
        cwd=ROOT,
    )
