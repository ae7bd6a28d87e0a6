"""benchmarks/run.py --records at a small size: the CRM log the generator writes is matched with
exactly the planted cases (figures for 1 M records vs 1 M legs belong in benchmarks/RESULTS.md).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from conftest import ROOT


def test_records_mode_finds_exactly_the_planted_cases(tmp_path: Path) -> None:
    cmd = [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--legs", "3000", "--records"]
    cmd += ["--input", "parquet", "--skip", "floor", "--data", str(tmp_path / "data")]
    cmd += ["--json", str(tmp_path / "report.json")]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    checks = {name: passed for name, passed, _ in report["checks"]}
    assert checks == {
        "auditor exit code": True,
        "auditor records = planted": True,
        "auditor finds exactly the planted record cases": True,
        "auditor rejects nothing": True,
    }
