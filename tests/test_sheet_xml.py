"""Worksheet rows built in bulk (report/sheet_xml.py) read back as xlsxwriter's own cell writer
would have them, and XML-hostile text (raw rich-text markup, control characters, `&<>`) stays
inert text."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import openpyxl
import polars as pl
import xlsxwriter
from conftest import FIXTURES, run_cli

from auditor.report import sheet_xml, xlsx

RICH = '<r><t>a</t></r></is><f>HYPERLINK("http://evil.example","x")</f><is><r><t>b</t></r>'
TEXTS = [
    "plain",
    "AT&T <desk> \"quoted\" 'single'",
    " leading and trailing ",
    "_x0041_ looks like an escape",
    "bell\x07 unit\x1f tab\t newline\n",
    "caf\u00e9 \U0001f4de",
    "\ufffe non-character",
    "",
    None,
]


def _table() -> pl.DataFrame:
    n = len(TEXTS)
    return pl.DataFrame(
        {
            "text": TEXTS,
            "count": [0, 1, -5, 2**40, None, 7, 8, 9, 10],
            "price": [-0.0085, 0.1, 1e-7, 1e20, 1 / 3, None, -2.5, 0.0, 12345.678],
            "flag": [True, False, None, True, False, True, False, True, False],
        }
    ).head(n)


def _values(path: Path, sheet: str) -> list[tuple]:
    ws = openpyxl.load_workbook(path)[sheet]
    return [tuple(c.value for c in row) for row in ws.iter_rows()]


def test_bulk_rows_read_back_as_xlsxwriter_writes_them(tmp_path: Path) -> None:
    table = _table()
    ours, theirs = tmp_path / "ours.xlsx", tmp_path / "theirs.xlsx"
    wb = xlsxwriter.Workbook(ours, xlsx.WORKBOOK_OPTIONS)
    xlsx.write_table(wb.add_worksheet("T"), xlsx._formats(wb), table)
    wb.close()
    wb = xlsxwriter.Workbook(theirs, xlsx.WORKBOOK_OPTIONS)
    ws = wb.add_worksheet("T")
    for c, name in enumerate(table.columns):
        ws.write_string(0, c, name)
    for r, row in enumerate(table.iter_rows(), start=1):
        for c, value in enumerate(row):
            if isinstance(value, str):
                ws.write_string(r, c, value)
            elif isinstance(value, bool):
                ws.write_boolean(r, c, value)
            elif value is not None:
                ws.write_number(r, c, value)
    wb.close()
    assert _values(ours, "T") == _values(theirs, "T")
    cells = openpyxl.load_workbook(ours)["T"]
    assert cells["A2"].data_type == "s" and cells["D2"].data_type == "b"
    assert cells["C2"].number_format == xlsx.FORMATS["money"]


def test_nan_and_infinity_are_error_cells_not_formulas(tmp_path: Path) -> None:
    path = tmp_path / "nan.xlsx"
    wb = xlsxwriter.Workbook(path, xlsx.WORKBOOK_OPTIONS)
    xlsx.write_table(
        wb.add_worksheet("T"), xlsx._formats(wb), pl.DataFrame({"x": [math.nan, 1.5, -math.inf]})
    )
    wb.close()
    ws = openpyxl.load_workbook(path)["T"]
    assert [(c.value, c.data_type) for c in ws["A"][1:]] == [
        ("#NUM!", "e"),
        (1.5, "n"),
        ("#NUM!", "e"),
    ]


def test_text_longer_than_excel_takes_is_cut_whole_characters(tmp_path: Path) -> None:
    long = "\U0001f4de" * 20_000  # 40,000 UTF-16 units
    path = tmp_path / "long.xlsx"
    wb = xlsxwriter.Workbook(path, xlsx.WORKBOOK_OPTIONS)
    xlsx.write_table(wb.add_worksheet("T"), xlsx._formats(wb), pl.DataFrame({"x": [long, "short"]}))
    wb.close()
    ws = openpyxl.load_workbook(path)["T"]
    assert ws["A2"].value == "\U0001f4de" * (sheet_xml.MAX_TEXT_UNITS // 2)
    assert ws["A3"].value == "short"


def test_safe_text_guards_raw_rich_text() -> None:
    assert sheet_xml.safe_text(RICH) == "'" + RICH
    assert sheet_xml.safe_text("<r> only opens") == "<r> only opens"


def test_raw_rich_text_in_an_export_stays_text(tmp_path: Path) -> None:
    """xlsxwriter writes `<r>..</r>` text raw in constant_memory mode: through it, this caller
    became a live HYPERLINK formula in the Calls sheet."""
    shutil.copy(FIXTURES / "twilio" / "xml_cells.csv", tmp_path / "xml_cells.csv")
    proc = run_cli(
        "audit", "xml_cells.csv", "--out", "out", "--tz", "UTC",
        "--account", "AC0123456789abcdef0123456789abcdef", cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    wb = openpyxl.load_workbook(tmp_path / "out" / "audit.xlsx")
    for ws in wb:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)
    calls = wb["Calls"]
    header = [c.value for c in calls[1]]
    senders = [r[header.index("from")] for r in calls.iter_rows(min_row=2, values_only=True)]
    # openpyxl leaves Excel's _xHHHH_ escapes as they are stored
    assert senders == [RICH, "+15551234567", "_x005F_x0041_ literal", "bell_x0007_ and_x001F_ unit"]
