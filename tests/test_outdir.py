"""Atomic outputs: DIR appears only complete; a non-empty DIR is refused without --force, replaced
atomically with it; an error leaves nothing; a SIGKILL at any point leaves no DIR that looks
complete (a stale `.DIR.partial-*` folder at most)."""

from __future__ import annotations

import errno
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
    assert not out.parent.exists()  # the folder made for DIR is removed too
    out.mkdir(parents=True)
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


# --- a disk or a folder that refuses the outputs: one line naming the file, nothing left --------

USAGE_CSV = ROOT / "sample_exports" / "usage" / "2025-03_monthly.csv"


def test_out_below_a_file_is_refused(tmp_path: Path) -> None:
    """`--out FILE/x` (today: internal error: FileExistsError)."""
    file = tmp_path / "FILE"
    file.write_text("a file")
    out = file / "x"
    proc = run_cli("validate", str(USAGE_CSV), "--out", str(out))
    one_line_error(proc, f"--out {out}: {file} is a file, not a folder")
    assert "internal error" not in proc.stderr
    assert file.read_text() == "a file" and beside(file) == ["FILE"]


def test_out_whose_parent_cannot_be_made(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A parent folder the user may not create (`--out /nonexistent/dir/x` as a user): the
    system's words and the folder named; the folders made on the way are removed."""
    real_mkdir = Path.mkdir

    def mkdir(self: Path, *args: object, **kwargs: object) -> None:
        if self.name == "dir":
            raise PermissionError(13, "Permission denied", str(self))
        real_mkdir(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Path, "mkdir", mkdir)
    out = tmp_path / "nonexistent" / "dir" / "x"
    proc = run_cli("validate", str(USAGE_CSV), "--out", str(out))
    one_line_error(proc, f"auditor: error: permission denied while writing {out}")
    assert list(tmp_path.iterdir()) == []


def _full_disk(name: str, polars_style: bool):
    """A writer that creates `name`, then finds the disk full: as polars says it (a
    ComputeError naming the os error, no errno, no file) or as Python does (OSError 28)."""
    import polars as pl

    def write(self: object, file: object, *args: object, **kwargs: object) -> None:
        path = Path(str(file))
        if path.name != name:
            return real(self, file, *args, **kwargs)
        path.write_bytes(b"PAR1")
        if polars_style:
            raise pl.exceptions.ComputeError(
                "parquet: File out of specification: underlying IO error: No space left on "
                "device (os error 28)"
            )
        raise OSError(errno.ENOSPC, "No space left on device")

    real = pl.DataFrame.write_parquet
    return write


@pytest.mark.parametrize("polars_style", [True, False])
def test_a_full_disk_is_one_line_naming_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, polars_style: bool
) -> None:
    """validate writing usage.parquet on a full disk (today: internal error, or polars' words):
    exit 2, `no space left on device while writing DIR/usage.parquet`, no DIR, no partial
    folder; folders made for DIR removed too."""
    import polars as pl

    monkeypatch.setattr(pl.DataFrame, "write_parquet", _full_disk("usage.parquet", polars_style))
    out = tmp_path / "made" / "o"
    proc = run_cli("validate", str(USAGE_CSV), "--out", str(out))
    one_line_error(
        proc, f"auditor: error: no space left on device while writing {out}/usage.parquet"
    )
    assert "internal error" not in proc.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_full_disk_under_audit_and_a_read_only_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """audit: summary.json refused (Python's write: an OSError with no file name), then a
    read-only file system at manifest.json: each named as DIR holds it; nothing left."""
    real = Path.write_text
    refused = {"summary.json": errno.ENOSPC}

    def write_text(self: Path, *args: object, **kwargs: object) -> int:
        if self.name in refused:
            real(self, "")
            raise OSError(refused[self.name], os.strerror(refused[self.name]))
        return real(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Path, "write_text", write_text)
    out = tmp_path / "o"
    proc = audit_samples(out)
    one_line_error(proc, f"no space left on device while writing {out}/summary.json")
    assert beside(out) == []
    refused.clear()
    refused["manifest.json"] = errno.EROFS
    proc = audit_samples(out)
    one_line_error(proc, f"read-only file system while writing {out}/manifest.json")
    assert beside(out) == []


def test_a_full_work_disk_names_the_work_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The work folder's disk full while a call log is staged: a work file named (not the input
    called unreadable, as today), no work folder left in the temporary folder."""
    import tempfile

    import polars as pl

    from auditor.pipeline import calls

    def full(*args: object) -> None:
        raise pl.exceptions.ComputeError(
            "parquet: underlying IO error: No space left on device (os error 28)"
        )

    monkeypatch.setattr(calls, "_split", full)
    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    out = tmp_path / "o"
    proc = run_cli(
        "validate",
        str(ROOT / "sample_exports" / "console_calls_2025-11_new_york.csv"),
        "--out",
        str(out),
        "--tz",
        "UTC",
    )
    one_line_error(
        proc,
        f"no space left on device while writing {temp}/auditor-work-",
        ".good.parquet (a work file: --work DIR puts them elsewhere)",
    )
    assert list(temp.iterdir()) == [] and beside(out) == ["tmp"]
