"""SIGTERM and SIGHUP (docker stop, timeout, Kubernetes, a closed terminal) stop a run as Ctrl-C
does: no `.DIR.partial-*` beside DIR, no work folder, nothing in the temporary folder; exit
128 + the signal (143, 129; 130 for SIGINT).

The run is `python -m auditor audit sample_exports/ ...` in a child process, held at a known point
rather than raced: a driver wraps the step that counts a staged call-log file (it runs in the
main thread, once the work folder holds that file's Parquet) to say so in a marker file and then
wait; the test signals it there. No timing is asserted: the waits are guards against a hang.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import ROOT

DRIVER = """
import pathlib, sys, time
import auditor.pipeline.calls as calls

count = calls._count

def held(path):
    pathlib.Path(sys.argv[1]).touch()  # a call-log file is staged in the work folder
    time.sleep(120)  # the signal's handler raises here
    return count(path)

calls._count = held
from auditor.cli import main

sys.exit(main(sys.argv[2:]))
"""


@pytest.mark.skipif(not hasattr(signal, "SIGHUP"), reason="POSIX only")
@pytest.mark.parametrize(
    ("sig", "code"), [(signal.SIGTERM, 143), (signal.SIGHUP, 129), (signal.SIGINT, 130)]
)
def test_a_signal_leaves_nothing_behind(tmp_path: Path, sig: signal.Signals, code: int) -> None:
    driver, ready = tmp_path / "driver.py", tmp_path / "ready"
    driver.write_text(DRIVER)
    temp = tmp_path / "tmp"  # the child's TMPDIR: its work folder, and any temporary file
    temp.mkdir()
    out = tmp_path / "out" / "o"
    out.parent.mkdir()
    args = ["audit", "sample_exports", "--out", str(out), "--config", "sample_exports/auditor.toml"]
    proc = subprocess.Popen(
        [sys.executable, str(driver), str(ready), *args],
        cwd=ROOT,
        env={**os.environ, "TMPDIR": str(temp)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120  # a guard, not a measure
        while not ready.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert ready.exists(), proc.communicate()
        work = [p.name for p in temp.iterdir()]
        assert len(work) == 1 and work[0].startswith("auditor-work-"), work
        assert any(p.name.startswith(".o.partial-") for p in out.parent.iterdir())
        proc.send_signal(sig)
        _, stderr = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == code, stderr
    assert "Traceback" not in stderr and "internal error" not in stderr, stderr
    if sig != signal.SIGINT:
        assert stderr.strip() == f"auditor: terminated ({sig.name})"
    assert list(temp.iterdir()) == []  # no work folder, no temporary file
    assert list(out.parent.iterdir()) == []  # no DIR, no partial folder
