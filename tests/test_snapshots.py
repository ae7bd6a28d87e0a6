"""Golden snapshots of the sample audit: any change of output content is a reviewed diff.

The README's first command (`auditor audit sample_exports/ --out DIR --config
sample_exports/auditor.toml`: `--tz America/New_York --dst earliest --pbx-tz America/New_York`),
plus `--calls-csv`, runs once; each output below must equal, byte for byte, its copy in
`tests/snapshots/sample_audit/`. The sample includes the PBX CDRs of
`sample_exports/pbx/`, so `cdr_matches.csv` is the PBX snapshot. `calls.csv` is kept as its header
and first CALLS_HEAD_LINES lines (`calls_head.csv`).

After an intended change of output, regenerate and review the diff before committing:

    AUDITOR_UPDATE_SNAPSHOTS=1 pytest tests/test_snapshots.py
    git diff tests/snapshots/
"""

from __future__ import annotations

import difflib
import os
import re

import pytest
from conftest import ROOT, audit_samples

SNAPSHOTS = ROOT / "tests" / "snapshots" / "sample_audit"
UPDATE_ENV = "AUDITOR_UPDATE_SNAPSHOTS"
UPDATE = os.environ.get(UPDATE_ENV, "") not in ("", "0")
HINT = f"{UPDATE_ENV}=1 pytest tests/test_snapshots.py"
CALLS_HEAD_LINES = 200
DIFF_LINES = 40
# snapshot name -> output file it is taken from
FILES = {
    "summary.json": "summary.json",
    "usage_reconciliation.csv": "usage_reconciliation.csv",
    "bridge.csv": "bridge.csv",
    "cdr_matches.csv": "cdr_matches.csv",
    "usage_records.csv": "usage_records.csv",
    "rejects.csv": "rejects.csv",
    "calls_head.csv": "calls.csv",
}
# what would make a snapshot depend on the machine or the moment it was taken
MACHINE_SPECIFIC = re.compile(
    rb"/tmp/|/home/|/work/|/Users/|\b[A-Za-z]:\\|pytest-of-"
    rb"|\b20(?!25-)\d\d-\d\d-\d\dT\d\d:\d\d"  # a timestamp of a year the sample does not hold
)


def _head(data: bytes, lines: int) -> bytes:
    """The header line plus the first `lines` lines after it."""
    return b"".join(data.splitlines(keepends=True)[: lines + 1])


@pytest.fixture(scope="module")
def sample_audit(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """The sample audit's outputs, as snapshot name -> bytes."""
    out = tmp_path_factory.mktemp("snapshot_audit")
    proc = audit_samples(out, "--calls-csv")
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    assert proc.returncode == 1, proc.stderr  # the planted problems
    got = {name: (out / source).read_bytes() for name, source in FILES.items()}
    got["calls_head.csv"] = _head(got["calls_head.csv"], CALLS_HEAD_LINES)
    return got


def _diff(expected: bytes, actual: bytes, name: str) -> str:
    lines = list(
        difflib.unified_diff(
            expected.decode("utf-8", "replace").splitlines(),
            actual.decode("utf-8", "replace").splitlines(),
            f"tests/snapshots/sample_audit/{name}",
            f"{name} (this run)",
            lineterm="",
        )
    )
    shown = "\n".join(lines[:DIFF_LINES])
    more = f"\n... {len(lines) - DIFF_LINES} more diff line(s)" if len(lines) > DIFF_LINES else ""
    return shown + more


@pytest.mark.parametrize("name", list(FILES))
def test_sample_audit_matches_its_snapshot(sample_audit: dict[str, bytes], name: str) -> None:
    actual = sample_audit[name]
    path = SNAPSHOTS / name
    if UPDATE:
        if not path.exists() or path.read_bytes() != actual:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(actual)
            print(f"snapshot updated: {path.relative_to(ROOT)}")
        return
    assert path.exists(), f"no snapshot {path.relative_to(ROOT)}: run {HINT}"
    expected = path.read_bytes()
    if actual != expected:
        pytest.fail(
            f"{name} differs from its snapshot:\n{_diff(expected, actual, name)}\n"
            f"If the change is intended, regenerate with `{HINT}` and review `git diff`.",
            pytrace=False,
        )


@pytest.mark.parametrize("name", list(FILES))
def test_snapshot_holds_nothing_machine_specific(sample_audit: dict[str, bytes], name: str) -> None:
    """No absolute path and no wall-clock time: the bytes must not depend on where or when."""
    found = MACHINE_SPECIFIC.search(sample_audit[name])
    assert found is None, f"{name} holds {found.group(0)!r}" if found else ""


def test_snapshots_cover_the_pbx_sample(sample_audit: dict[str, bytes]) -> None:
    """cdr_matches.csv holds every sample PBX file, so it is the PBX snapshot."""
    text = sample_audit["cdr_matches.csv"].decode("utf-8")
    for pbx in ("asterisk/Master.csv", "freeswitch/Master.csv", "cucm/cdr_StandAloneCluster"):
        assert f"sample_exports/pbx/{pbx}" in text
