"""Atomic outputs: DIR appears only complete; a non-empty DIR is refused without --force, replaced
atomically with it; an error leaves nothing; a SIGKILL at any point leaves no DIR that looks
complete (a stale `.DIR.partial-*` folder at most)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import ROOT, audit_samples, run_cli

from auditor.errors import UsageError
from auditor.report import outdir
from auditor.report.outdir import atomic_outdir

HEADER = "Call Sid,Start Time,End Time,Duration,From,To,Direction,Status,Price,Price Unit\n"


def beside(out: Path) -> list[str]:
    """What sits beside `out` in its parent, by name."""
    return sorted(p.name for p in out.parent.iterdir())


def one_line_error(proc: subprocess.CompletedProcess[str], *parts: str) -> None:
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    for part in parts:
        assert part in lines[0], lines[0]


@pytest.mark.parametrize("command", ["audit", "validate"])
def test_non_empty_out_is_refused_and_left_alone(tmp_path: Path, command: str) -> None:
    out = tmp_path / "o"
    out.mkdir()
    (out / "mine.txt").write_text("keep me")
    proc = run_cli(command, str(ROOT / "sample_exports"), "--out", str(out), "--tz", "UTC")
    one_line_error(proc, f"--out {out}", "not empty", "--force")
    assert sorted(p.name for p in out.iterdir()) == ["mine.txt"]
    assert beside(out) == ["o"]  # no partial folder left


def test_empty_out_is_fine(tmp_path: Path) -> None:
    out = tmp_path / "o"
    out.mkdir()
    assert audit_samples(out).returncode == 1
    assert (out / "manifest.json").is_file() and (out / "summary.json").is_file()
    assert beside(out) == ["o"]


def test_force_replaces_the_folder_whole(tmp_path: Path) -> None:
    out = tmp_path / "o"
    out.mkdir()
    (out / "old.txt").write_text("from an earlier run")
    (out / "sub").mkdir()
    (out / "sub" / "deep.txt").write_text("x")
    proc = audit_samples(out, "--force")
    assert proc.returncode == 1, proc.stderr
    names = {p.name for p in out.iterdir()}
    assert "old.txt" not in names and "sub" not in names
    assert {"manifest.json", "summary.json", "report.html", "calls.parquet"} <= names
    assert beside(out) == ["o"]
    assert run_cli("verify", str(out), cwd=ROOT).returncode == 0


def test_force_without_exchange_renames_aside(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Where renameat2(RENAME_EXCHANGE) is not available: old aside, new in, old deleted."""
    monkeypatch.setattr(outdir, "_exchange", lambda a, b: False)
    out = tmp_path / "o"
    out.mkdir()
    (out / "old.txt").write_text("old")
    with atomic_outdir(out, force=True) as partial:
        assert partial.parent == tmp_path and partial.name.startswith(".o.partial-")
        assert not (out / "new.txt").exists()  # nothing shows in DIR while writing
        (partial / "new.txt").write_text("new")
    assert [p.name for p in out.iterdir()] == ["new.txt"]
    assert beside(out) == ["o"]


def test_an_error_removes_the_partial_folder(tmp_path: Path) -> None:
    out = tmp_path / "o"
    with pytest.raises(RuntimeError), atomic_outdir(out) as partial:
        (partial / "half.csv").write_text("a,b\n")
        raise RuntimeError("boom")
    assert beside(out) == []


def test_an_unreadable_input_leaves_nothing(tmp_path: Path) -> None:
    """An input that fails mid-run (exit 2): no DIR, no partial folder; an old DIR untouched."""
    bad = tmp_path / "in" / "calls.csv"
    bad.parent.mkdir()
    bad.write_bytes(HEADER.encode() + b"CA\xff\xfe,2025-11-01 10:00:00\n")
    out = tmp_path / "out" / "o"
    one_line_error(run_cli("audit", str(bad), "--out", str(out)), "not UTF-8")
    assert beside(out) == []
    out.mkdir()
    (out / "old.txt").write_text("old")
    one_line_error(run_cli("audit", str(bad), "--out", str(out), "--force"), "not UTF-8")
    assert [p.name for p in out.iterdir()] == ["old.txt"] and beside(out) == ["o"]


def test_out_that_is_a_file_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "o"
    out.write_text("a file")
    proc = run_cli("validate", str(ROOT / "sample_exports"), "--out", str(out), "--tz", "UTC")
    one_line_error(proc, "not a folder")
    assert out.read_text() == "a file"


def test_force_never_replaces_a_folder_holding_an_input(tmp_path: Path) -> None:
    path = tmp_path / "calls.csv"
    path.write_text(HEADER)
    proc = run_cli("validate", str(path), "--out", str(tmp_path), "--force")
    one_line_error(proc, "holds the input")
    assert path.exists()
    with pytest.raises(UsageError, match="working folder"):
        outdir.check_target(Path.cwd(), force=True)


# SIGKILL at any point ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def big_inputs(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """A generated month of Bulk Export day files and usage: an audit of a second or two."""
    folder = tmp_path_factory.mktemp("gen") / "data"
    generate = [sys.executable, str(ROOT / "benchmarks" / "generate.py")]
    done = subprocess.run(
        [*generate, "--legs", "40000", "--formats", "bulk", "--out", str(folder)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return [str(folder / "bulk_export"), str(folder / "usage" / "monthly")]


def _start(inputs: list[str], out: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "auditor", "audit", *inputs, "--out", str(out), "--calls-csv"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=ROOT,
    )


def _partial_holds(out: Path, name: str) -> bool:
    return any((p / name).exists() for p in out.parent.glob(f".{out.name}.partial-*"))


def _kill_when(proc: subprocess.Popen[bytes], ready, timeout: float = 30.0) -> bool:
    """SIGKILL `proc` as soon as `ready()` holds; False when it ended first."""
    end = time.monotonic() + timeout
    while proc.poll() is None and time.monotonic() < end:
        if ready():
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            return True
        time.sleep(0.002)
    proc.wait(timeout=timeout)
    return False


def _assert_no_dir_or_complete(out: Path) -> bool:
    """After a kill: no DIR at all, or (the run won the race) a complete one that verifies.
    Whatever else is left beside it is a hidden `.partial` folder. True when DIR exists."""
    for name in beside(out):
        assert name == out.name or name.startswith(f".{out.name}.partial-"), name
    if not out.exists():
        return False
    assert run_cli("verify", str(out), cwd=ROOT).returncode == 0
    return True


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="POSIX only")
def test_sigkill_at_any_point_leaves_no_half_written_dir(
    tmp_path: Path, big_inputs: list[str]
) -> None:
    out = tmp_path / "w" / "o"
    out.parent.mkdir()
    points = {
        "0.2 s (reading)": lambda t0: time.monotonic() - t0 > 0.2,
        "calls.parquet being written": lambda t0: _partial_holds(out, "calls.parquet"),
        "summary.json written": lambda t0: _partial_holds(out, "summary.json"),
        "manifest.json written": lambda t0: _partial_holds(out, "manifest.json"),
    }
    killed = 0
    for when, ready in points.items():
        t0 = time.monotonic()
        proc = _start(big_inputs, out)
        killed += _kill_when(proc, lambda r=ready, t=t0: r(t))
        if _assert_no_dir_or_complete(out):
            # the run finished before the kill: start from nothing again
            os.rename(out, tmp_path / f"done-{killed}")
        assert not out.exists(), when
    assert killed >= 3  # most points are reached before the run ends
    assert any(n.startswith(".o.partial-") for n in beside(out))  # killed mid-write: left apart
    # Stale partial folders beside DIR do not stop the next run, and are not mistaken for DIR.
    assert run_cli("audit", *big_inputs, "--out", str(out), cwd=ROOT).returncode == 1
    assert run_cli("verify", str(out), cwd=ROOT).returncode == 0
