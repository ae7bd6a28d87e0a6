"""audit.xlsx re-read with openpyxl: sheets in order, the CSVs' row counts, frozen filtered
headers, number formats, hostile text stored as inert text (never a formula), the Calls sheet's
cut at Excel's row limit, `--no-xlsx`, and the same bytes on a rerun."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

import openpyxl
import polars as pl
import pytest
from conftest import FIXTURES, audit_samples, run_cli
from openpyxl.worksheet.worksheet import Worksheet

from auditor.report import xlsx

SHEETS = [
    "Summary",
    "Reconciliation",
    "Bridge",
    "Unexplained",
    "Calls",
    "CDR matches",
    "Records",
    "Record groups",
    "Rejects",
]
HYPERLINK = '=HYPERLINK("http://evil.example","x")'
ACCOUNT = "AC0123456789abcdef0123456789abcdef"


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, openpyxl.Workbook]:
    out = tmp_path_factory.mktemp("xlsx") / "audit"
    proc = audit_samples(out)
    assert proc.returncode == 1, proc.stderr
    return out, openpyxl.load_workbook(out / "audit.xlsx")


def _header(ws: Worksheet) -> list[str]:
    return [c.value for c in ws[1] if c.value is not None]


def _column(ws: Worksheet, name: str) -> list:
    """The data cells of the column headed `name`."""
    idx = _header(ws).index(name) + 1
    return [row[0] for row in ws.iter_rows(min_row=2, min_col=idx, max_col=idx)]


def _data_rows(ws: Worksheet) -> int:
    return ws.max_row - 1


def test_sheets_in_order_and_row_counts_equal_the_csvs(sample) -> None:
    out, wb = sample
    assert wb.sheetnames == SHEETS
    for sheet, csv in (
        ("Reconciliation", "usage_reconciliation.csv"),
        ("Bridge", "bridge.csv"),
        ("CDR matches", "cdr_matches.csv"),
        ("Rejects", "rejects.csv"),
    ):
        frame = pl.read_csv(out / csv, infer_schema=False)
        assert _data_rows(wb[sheet]) == frame.height, sheet
        assert _header(wb[sheet]) == frame.columns, sheet
    recon = pl.read_csv(out / "usage_reconciliation.csv", infer_schema=False)
    findings = recon.filter(pl.col("status").is_in(["unexplained", "not-compared"]))
    assert findings.height > 0
    assert _data_rows(wb["Unexplained"]) == findings.height
    assert set(c.value for c in _column(wb["Unexplained"], "status")) <= {
        "unexplained",
        "not-compared",
    }
    assert (
        _data_rows(wb["Calls"])
        == pl.scan_parquet(out / "calls.parquet").select(pl.len()).collect().item()
    )
    # no --records: the sheets are there and say so
    assert wb["Records"]["A1"].value.startswith("No --records given")


def test_headers_frozen_and_filtered(sample) -> None:
    _, wb = sample
    for name in ("Reconciliation", "Bridge", "Unexplained", "Calls", "CDR matches", "Rejects"):
        ws = wb[name]
        assert ws.freeze_panes == "A2", name
        width = len(_header(ws))
        assert ws.auto_filter.ref == f"A1:{ws.cell(1, width).column_letter}{ws.max_row}", name
        assert ws.column_dimensions["A"].width > 8, name
    assert wb["Summary"].freeze_panes == "A2"


def test_number_formats(sample) -> None:
    _, wb = sample
    recon = wb["Reconciliation"]
    for name, fmt in (
        ("unexplained_price", xlsx.FORMATS["signed_money"]),  # usage minus logs, signed
        ("unexplained_minutes", xlsx.FORMATS["signed_minutes"]),
        ("usage_price", xlsx.FORMATS["money"]),
        ("expected_minutes", xlsx.FORMATS["minutes"]),
        ("usage_count", xlsx.FORMATS["count"]),
    ):
        cells = [c for c in _column(recon, name) if c.value is not None]
        assert cells, name
        assert {c.number_format for c in cells} == {fmt}, name
        assert all(isinstance(c.value, int | float) for c in cells), name
    calls = wb["Calls"]
    assert "start_time_utc" in _header(calls)
    starts = [c for c in _column(calls, "start_time_utc") if c.value is not None]
    assert {c.number_format for c in starts} == {xlsx.FORMATS["datetime"]}
    assert all(isinstance(c.value, datetime) for c in starts)
    # the same instant as calls.parquet holds, naive UTC in the workbook
    first = pl.read_parquet(sample[0] / "calls.parquet")["start_time_utc"][0]
    assert starts[0].value == first.replace(tzinfo=None)
    prices = [c for c in _column(calls, "price") if c.value is not None]
    assert {c.number_format for c in prices} == {xlsx.FORMATS["money"]}
    summary = {r[0]: r[1] for r in wb["Summary"].iter_rows(values_only=True) if r[0]}
    assert summary["verdict (exit code)"].startswith("1: findings")
    # the sample's three findings all bill above the logs (+0.25 + 0.0255 + 0.098 USD)
    above = "unexplained billed above the logs"
    assert summary[f"{above}: price (USD)"] == pytest.approx(0.3735)
    assert summary[f"{above}: calls"] == 1 and summary[f"{above}: minutes"] == 10
    assert summary["unexplained billed below the logs: minutes"] == 0
    assert summary["unexplained net (usage minus logs): price (USD)"] == pytest.approx(0.3735)
    assert summary["unexplained calls, absolute values summed"] == 1
    assert summary["Calls sheet"] == f"all {_data_rows(calls)} legs"


def _formula_audit(tmp_path: Path, *extra: str) -> Path:
    shutil.copy(FIXTURES / "twilio" / "formula_cells.csv", tmp_path / "formula_cells.csv")
    proc = run_cli(
        "audit",
        "formula_cells.csv",
        "--out",
        "out",
        "--tz",
        "UTC",
        "--account",
        ACCOUNT,
        *extra,
        cwd=tmp_path,
    )
    assert proc.returncode == 1, proc.stderr
    return tmp_path / "out"


def test_hostile_text_is_inert_text(tmp_path: Path) -> None:
    out = _formula_audit(tmp_path)
    wb = openpyxl.load_workbook(out / "audit.xlsx")
    for ws in wb:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)
    assert "'" + HYPERLINK in [c.value for c in _column(wb["Calls"], "to")]
    assert [c.value for c in _column(wb["Calls"], "from")].count("'@SUM(A1)") == 1
    values = [c.value for c in _column(wb["Rejects"], "value")]
    assert values == ["'@SUM(A1)", "'" + HYPERLINK]
    # negative prices stay numbers, and E.164 numbers stay as written
    prices = [c.value for c in _column(wb["Calls"], "price")]
    assert all(isinstance(p, float) and p < 0 for p in prices)
    assert "+15551234567" in [c.value for c in _column(wb["Calls"], "from")]


def test_calls_sheet_says_when_cut(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(xlsx, "MAX_ROWS", 2)
    out = _formula_audit(tmp_path)
    wb = openpyxl.load_workbook(out / "audit.xlsx")
    calls = wb["Calls"]
    assert _data_rows(calls) == 2
    note = "cut at Excel's row limit: the first 2 of 3 legs; all are in calls.parquet"
    assert calls.cell(1, len(_header(calls))).value == note
    summary = {r[0]: r[1] for r in wb["Summary"].iter_rows(values_only=True) if r[0]}
    assert summary["Calls sheet"] == note
    assert calls.auto_filter.ref.endswith("3")


def test_no_xlsx_writes_none(tmp_path: Path) -> None:
    out = _formula_audit(tmp_path, "--no-xlsx")
    assert not (out / "audit.xlsx").exists()
    assert (out / "summary.json").exists()


def test_same_bytes_on_rerun(tmp_path: Path) -> None:
    first = _formula_audit(tmp_path).joinpath("audit.xlsx").read_bytes()
    shutil.rmtree(tmp_path / "out")
    assert _formula_audit(tmp_path).joinpath("audit.xlsx").read_bytes() == first


def test_records_sheets(tmp_path: Path) -> None:
    out = tmp_path / "audit"
    proc = audit_samples(
        out,
        "--records",
        "sample_exports/records/notifications_2025-11.csv",
        "--records-format",
        "notification_log",
    )
    assert proc.returncode == 1, proc.stderr
    wb = openpyxl.load_workbook(out / "audit.xlsx")
    matches = pl.read_csv(out / "records_matches.csv", infer_schema=False)
    groups = pl.read_csv(out / "records_groups.csv", infer_schema=False)
    assert _data_rows(wb["Records"]) == matches.height
    assert _header(wb["Records"]) == matches.columns
    assert _data_rows(wb["Record groups"]) == groups.height
    summary = {r[0]: r[1] for r in wb["Summary"].iter_rows(values_only=True) if r[0]}
    assert summary["own records vs Twilio: records"] == 9
