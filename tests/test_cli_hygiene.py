"""CLI hygiene: usage mistakes get click's usage message and exit 2 (never "internal error");
`main(argv)` returns the exit code, so tests run the CLI in-process; the installed script and
`python -m auditor` pass that code on."""

from __future__ import annotations

import contextlib
import io
import shutil
from pathlib import Path

import polars as pl
import pytest
from conftest import ROOT, SAMPLES, run_cli, run_cli_process

from auditor.cli import main


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["audit", "sample_exports", "--out", "x", "--bogus"], "No such option: --bogus"),
        (["validate", "sample_exports", "--out", "x", "--bogus"], "No such option: --bogus"),
        (["verify", "x", "--bogus"], "No such option: --bogus"),
        (["audit", "sample_exports"], "Missing option '--out'"),
        (["audit", "sample_exports", "--out", "x", "--dst", "never"], "Invalid value for '--dst'"),
        (["audit", "sample_exports", "--out", "x", "--match-window", "soon"], "'--match-window'"),
        (["nonsense"], "No such command 'nonsense'"),
    ],
)
def test_usage_mistakes_get_usage_and_exit_2(args: list[str], says: str) -> None:
    proc = run_cli(*args, cwd=ROOT)
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert proc.stderr.startswith("Usage: auditor"), proc.stderr
    assert says in proc.stderr
    assert "internal error" not in proc.stderr + proc.stdout
    assert "Traceback" not in proc.stderr
    assert not (ROOT / "x").exists()


def test_main_returns_the_exit_code() -> None:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        assert main(["--help"]) == 0
        assert main(["audit", "--help"]) == 0
        assert main(["verify", "/nonexistent/folder"]) == 2
    assert "Usage: auditor" in out.getvalue()
    assert err.getvalue().startswith("auditor: error: /nonexistent/folder/manifest.json")


def test_in_process_runs_capture_echo_and_rich_output(tmp_path: Path) -> None:
    """typer.echo (the file lines) and the rich console (the tables) both land in stdout."""
    proc = run_cli(
        "audit", str(SAMPLES / "usage"), str(SAMPLES / "api_calls_2025-11_page0.json"),
        "--out", str(tmp_path / "o"),
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    assert "api_calls_2025-11_page0.json" in proc.stdout  # typer.echo
    assert "┃ period" in proc.stdout or "period" in proc.stdout.splitlines()[-3]  # rich table
    assert f"audit written to {tmp_path / 'o'}/" in proc.stdout  # rich console.print


def test_installed_script_and_module_pass_the_exit_code_on(tmp_path: Path) -> None:
    """A real process each: the console script (`sys.exit(main())`) and `python -m auditor`."""
    module = run_cli_process("validate", "sample_exports", "--out", "x", "--bogus", cwd=ROOT)
    assert module.returncode == 2 and "No such option: --bogus" in module.stderr
    script = run_cli_process(
        "validate", str(SAMPLES / "api_calls_2025-11_page0.json"), "--out", str(tmp_path / "o"),
        module=False,
    )  # fmt: skip
    assert script.returncode == 1, script.stderr  # the page holds a planted bad row
    assert "1 row(s) rejected" in script.stdout
    assert (tmp_path / "o" / "manifest.json").is_file()


def test_ci_runs_ruff_after_the_tests() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    tests = ci.index(".venv/bin/pytest")
    assert tests < ci.index("ruff check auditor tests benchmarks")
    assert tests < ci.index("ruff format --check auditor tests benchmarks")


def test_brackets_in_paths_are_names_not_globs_or_markup(tmp_path: Path) -> None:
    """`[` and `]` are legal in file names: polars would read them as a glob, rich as markup
    (`[/]` closes a tag): both used to end the run with an internal error."""
    shutil.copy(SAMPLES / "api_calls_2025-11_page0.json", tmp_path / "calls[1].json")
    shutil.copy(SAMPLES / "calls_2025-11-24_to_30.parquet", tmp_path / "calls[2].parquet")
    proc = run_cli(
        "audit", "calls[1].json", "calls[2].parquet", "--out", "[/]audit", cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    assert "internal error" not in proc.stderr
    assert "audit written to [/]audit/" in proc.stdout
    legs = pl.read_parquet(tmp_path / "[/]audit" / "calls.parquet", glob=False)
    assert set(legs["source_file"]) == {"calls[1].json", "calls[2].parquet"}
