"""Progress: the pipeline reports its stages in order through `pipeline.options.Progress`; the CLI
draws them on stderr only when stderr is a terminal and `--quiet` is not given."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import pytest
from conftest import SAMPLES, run_cli
from rich.console import Console
from rich.progress import Progress

from auditor.cli import main
from auditor.cli.progress import RichProgress, progress_enabled
from auditor.pipeline.audit import run_audit
from auditor.pipeline.options import (
    STAGE_CLASSIFY,
    STAGE_OWN,
    STAGE_PBX,
    STAGE_READ,
    STAGE_RECONCILE,
    STAGE_RECORDS,
    STAGE_SPLIT,
    STAGE_WRITE,
    IngestOptions,
    RecordsOptions,
)
from auditor.pipeline.validate import run_validate

CALLS = str(SAMPLES / "api_calls_2025-11_page0.json")
BULK = str(SAMPLES / "bulk_export")  # 8 day files, staged on several threads
USAGE = str(SAMPLES / "usage")
PBX = str(SAMPLES / "pbx" / "asterisk" / "Master.csv")
RECORDS = str(SAMPLES / "records" / "notifications_2025-11.csv")


class Recorder:
    """A Progress sink that keeps what it heard: stages with their totals, steps and rows."""

    def __init__(self) -> None:
        self.stages: list[tuple[str, int | None]] = []
        self.steps: dict[str, int] = {}
        self.rows: dict[str, int] = {}

    def stage(self, name: str, total: int | None = None) -> None:
        self.stages.append((name, total))
        self.steps[name], self.rows[name] = 0, 0

    def advance(self, n: int = 1, *, rows: int = 0) -> None:
        name = self.stages[-1][0]
        self.steps[name] += n
        self.rows[name] += rows


def test_audit_reports_every_stage_in_order(tmp_path: Path) -> None:
    seen = Recorder()
    records = RecordsOptions((RECORDS,), "notification_log")
    opts = IngestOptions(pbx_tz="America/New_York", account="AC5f1a9e0c7b3d24e6a8f0b1c2d3e4f5a6")
    result = run_audit(
        [CALLS, BULK, USAGE, PBX], tmp_path / "o", opts, records=records, progress=seen
    )
    names = [name for name, _ in seen.stages]
    assert names == [
        STAGE_RECORDS, STAGE_READ, STAGE_CLASSIFY, STAGE_RECONCILE, STAGE_PBX, STAGE_OWN,
        STAGE_WRITE,
    ]  # fmt: skip
    totals = dict(seen.stages)
    files = [f for f in result.ingested.files if f.kind != "records"]
    own = [f for f in result.ingested.files if f.kind == "records"]
    assert totals[STAGE_READ] == seen.steps[STAGE_READ] == len(files) == 13  # 1 + 8 + 3 + 1
    assert seen.rows[STAGE_READ] == sum(f.rows_read for f in files)
    assert totals[STAGE_RECORDS] == seen.steps[STAGE_RECORDS] == len(own) == 1
    assert seen.rows[STAGE_RECORDS] == own[0].rows_read
    assert totals[STAGE_CLASSIFY] is None


def test_validate_reports_reading_then_writing(tmp_path: Path) -> None:
    seen = Recorder()
    run_validate([CALLS, USAGE], tmp_path / "o", IngestOptions(), progress=seen)
    assert [name for name, _ in seen.stages] == [STAGE_READ, STAGE_WRITE]
    assert seen.steps[STAGE_READ] == 4  # page 0 and three usage files


def test_a_failing_file_is_still_named_in_input_order(tmp_path: Path) -> None:
    """Files are staged on threads and progress advances as each completes; the error raised
    is the first failing file in input order, as before."""
    bad = [tmp_path / "a_calls.csv", tmp_path / "b_calls.csv"]
    for p in bad:
        p.write_bytes(b"\x1f\x8b\x08\x00garbage")  # gzip magic, corrupt body
    done = run_cli("validate", *map(str, bad), "--out", str(tmp_path / "o"))
    assert done.returncode == 2
    assert done.stderr.startswith(f"auditor: error: {bad[0]}"), done.stderr


class FakeTty(io.StringIO):
    def isatty(self) -> bool:
        return True


def _run_on_tty(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), FakeTty()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return code, out.getvalue(), err.getvalue()


def test_progress_is_drawn_on_a_terminal_stderr(tmp_path: Path) -> None:
    code, out, err = _run_on_tty("audit", CALLS, USAGE, "--out", str(tmp_path / "o"), "--json")
    assert code == 1, err
    for stage in (STAGE_READ, STAGE_CLASSIFY, STAGE_RECONCILE, STAGE_WRITE):
        assert stage in err
    assert "files" in err
    assert out == (tmp_path / "o" / "summary.json").read_text()  # stdout untouched


def test_quiet_draws_nothing_even_on_a_terminal(tmp_path: Path) -> None:
    code, out, err = _run_on_tty("audit", CALLS, USAGE, "--out", str(tmp_path / "o"), "-q")
    assert (code, out, err) == (1, "", "")


def test_nothing_on_stderr_when_it_is_not_a_terminal(tmp_path: Path) -> None:
    done = run_cli("audit", CALLS, USAGE, "--out", str(tmp_path / "o"))
    assert done.returncode == 1
    assert done.stderr == ""
    assert "reading files" not in done.stdout


def test_progress_enabled(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stderr", FakeTty())
    assert progress_enabled(quiet=False)
    assert not progress_enabled(quiet=True)
    monkeypatch.setattr("sys.stderr", io.StringIO())
    assert not progress_enabled(quiet=False)


def test_steps_are_files_while_reading_and_tasks_after() -> None:
    """The Ray engine's stages count tasks, not files (`done/total tasks`)."""
    with Progress(console=Console(file=io.StringIO())) as bar:
        sink = RichProgress(bar)
        sink.stage(STAGE_READ, 3)
        sink.advance(rows=10)
        assert bar.tasks[-1].fields["count"] == "1/3 files"
        sink.stage(STAGE_SPLIT, 4)
        sink.advance()
        sink.advance()
        assert bar.tasks[-1].fields["count"] == "2/4 tasks"
