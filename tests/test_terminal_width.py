"""The terminal summary at the terminal's real width (issue 19, point 9), through the in-process
CLI (`auditor.cli.main`, rich reading COLUMNS): no line longer than the width, values wrapped
rather than cut with `…` (two campaigns that differ only at their end must read apart), numbers
right-aligned, plain text (no escape codes) when piped, the verdict line last, and no
per-period table when no usage was given.

The run is test_records_findings's own records (dispatch log + Calls page, with the `campaign`
group), its campaigns renamed to long values alike but for their ends."""

from __future__ import annotations

from pathlib import Path

import pytest
from audit_inputs import calls_page
from conftest import run_cli
from test_records_findings import FORMAT, LEGS, RECORDS, write_records

CAMPAIGNS = {
    "a": "snow-day-reminder-campaign-north",
    "b": "snow-day-reminder-campaign-south",
    "c": "snow-day-reminder-campaign-east",
}
SHOWN = (CAMPAIGNS["a"], CAMPAIGNS["b"])  # the groups with a finding (c: ambiguous only)


def _inputs(tmp: Path) -> None:
    calls_page(tmp / "calls.json", LEGS)
    (tmp / "dispatch.toml").write_text(FORMAT, encoding="utf-8")
    write_records(tmp / "dispatch.csv", [(*r[:-1], CAMPAIGNS[r[-1]]) for r in RECORDS])


def _run(tmp: Path, columns: int, monkeypatch: pytest.MonkeyPatch, *extra: str) -> str:
    monkeypatch.setenv("COLUMNS", str(columns))
    done = run_cli(
        "audit", "calls.json", "--out", "out", "--records", "dispatch.csv",
        "--records-format", "dispatch.toml", *extra, cwd=tmp,
    )  # fmt: skip
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode == 1, done.stdout + done.stderr
    return done.stdout


@pytest.mark.parametrize("columns", [80, 200])
def test_fits_the_width_and_cuts_no_value(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, columns: int
) -> None:
    _inputs(tmp_path)
    text = _run(tmp_path, columns, monkeypatch)
    lines = text.splitlines()
    too_long = [line for line in lines if len(line) > columns]
    assert not too_long, "\n".join(too_long)
    assert "…" not in text  # wrapped, never cut
    assert "\x1b[" not in text  # piped: plain text
    assert "Your records vs Twilio" in text
    if columns == 200:  # room enough: each campaign whole on its row, its counts right-aligned
        for value in SHOWN:
            row = next(line for line in lines if f" {value} " in line)
            cells = [c.strip() for c in row.strip("│").split("│")]
            assert cells[1] == value
        header = next(line for line in lines if "┃ group" in line)
        records_at = header.index("records") + len("records")  # right-aligned under it
        north = next(line for line in lines if CAMPAIGNS["a"] in line)
        assert north[records_at - 1].isdigit() and north[records_at] == " "
    else:  # folded over lines, but every character kept: the ends tell the campaigns apart
        folded = "".join(
            line.split("│")[2].strip() for line in lines if line.count("│") > 12
        )  # the group table's value column
        for value in SHOWN:
            assert value in folded
    # the verdict, last, says where to look
    assert lines[-1] == "FINDINGS (exit 1): open out/report.html"
    assert lines[-2].startswith("audit written to out/: ")


def test_no_usage_no_empty_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _inputs(tmp_path)
    text = _run(tmp_path, 100, monkeypatch)
    assert "No usage records among the inputs" in text
    assert "┃ period" not in text and "not-compared" not in text  # the per-period table
