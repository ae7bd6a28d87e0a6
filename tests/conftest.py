"""Shared test helpers: fixture paths and a CLI runner that goes through `main()` (exit codes)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SAMPLES = ROOT / "sample_exports"


@pytest.fixture
def fixtures() -> Path:
    return FIXTURES


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """`auditor ARGS` in a child process, as a user runs it: real exit code, stdout, stderr."""
    return subprocess.run(
        [sys.executable, "-m", "auditor", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        check=False,
    )
