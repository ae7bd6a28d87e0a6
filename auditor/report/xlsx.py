"""audit.xlsx: the audit as one workbook for finance and support, written from the same
`AuditOutcome` as every other output (no figure is computed here).

Sheets, always all of them and in this order: Summary, Reconciliation, Bridge, Unexplained,
Calls, CDR matches, Records, Record groups, Rejects. A sheet whose input was not given (no PBX
CDRs, no `--records`) holds one line saying so, so that the workbook has the same shape on every
run. Each table has a frozen, filtered header row, number formats (money, minutes, counts, UTC
date-times as Excel date-times; headers of date-time columns say UTC) and column widths.

Calls holds the itemized audit (calls.parquet), read lazily in batches, up to `--xlsx-calls` legs
(default and most: Excel's row limit, `MAX_ROWS` data rows below the header): when it is cut, the
cell right of the header and the Summary sheet say how many legs there were and why;
calls.parquet always has all of them. Table rows are built in bulk (`sheet_xml.py`) and put in
the sheet's row file, not written cell by cell through xlsxwriter (about 5 us a cell, 130 s of
CPU for a full Calls sheet); a full sheet now costs some 25 s of CPU, half of it the deflate of
its 1.15 GB of XML. xlsxwriter still writes the workbook around them: styles, column widths,
frozen panes, filters, the Summary sheet, the package.

No cell is ever a formula: the workbook is created with xlsxwriter's `strings_to_formulas`,
`strings_to_urls` and `strings_to_numbers` off, every text cell is an escaped in-line string,
and text a spreadsheet would run (`=`, `+`, `-`, `@`, tab, CR) is prefixed with `'` as in the
CSVs (`cells.py`). Same inputs, same bytes: the creation date in docProps is fixed.

xlsxwriter directly, in `constant_memory` mode (rows are flushed as they are written), rather than
polars `write_excel`: that one takes a DataFrame and passes all its rows to xlsxwriter as Python
tuples at once (`df.rows()`), which at a million legs means millions of Python objects held.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import polars as pl

from auditor.errors import EXIT_FINDINGS, EXIT_OK
from auditor.reconcile.findings import findings_table
from auditor.report.cells import is_text, neutralise_formulas
from auditor.report.options import EXCEL_ROWS
from auditor.report.outdir import writing
from auditor.report.sheet_xml import rows_xml, safe_text
from auditor.result import AuditOutcome, Summary

if TYPE_CHECKING:  # xlsxwriter is imported when a workbook is written, not with this module
    from xlsxwriter.workbook import Workbook
    from xlsxwriter.worksheet import Worksheet

FILE_NAME = "audit.xlsx"
# Data rows an Excel sheet holds below its header (1,048,576 rows in all).
MAX_ROWS = EXCEL_ROWS  # Excel's sheet: 1,048,576 rows, the header row included
BATCH_ROWS = 20_000
WORKBOOK_OPTIONS = {
    "constant_memory": True,
    "strings_to_formulas": False,
    "strings_to_urls": False,
    "strings_to_numbers": False,
    "nan_inf_to_errors": True,
}
CREATED = datetime(2000, 1, 1)  # docProps/core.xml: fixed, so reruns give the same bytes
EXCEL_EPOCH_DAYS = 25_569  # 1970-01-01 as an Excel serial day (1900 date system)
US_PER_DAY = 86_400_000_000

# number formats by kind of column
FORMATS = {
    "money": "#,##0.0000##",
    "minutes": "#,##0.00####",
    "count": "#,##0",
    "id": "0",
    "float": "#,##0.00####",
    "datetime": "yyyy-mm-dd hh:mm:ss",
    "date": "yyyy-mm-dd",
    "text": "@",
    "bool": "General",
    # residuals (usage minus logs) with their sign, as the other outputs show them
    "signed_money": "+#,##0.0000##;-#,##0.0000##;0",
    "signed_minutes": "+#,##0.00####;-#,##0.00####;0",
    "signed_count": "+#,##0;-#,##0;0",
}
WIDTHS = {
    "signed_money": 14,
    "signed_minutes": 14,
    "signed_count": 10,
    "money": 14,
    "minutes": 14,
    "count": 10,
    "id": 8,
    "float": 12,
    "datetime": 20,
}
MIN_WIDTH, MAX_WIDTH = 8, 60

EXIT_WORDS = {
    EXIT_OK: "0: every difference in scope compared and explained, nothing rejected",
    EXIT_FINDINGS: (
        "1: findings (unexplained or not-compared differences, rejected rows, "
        "PBX or own-records findings)"
    ),
}

Formats = dict[str, Any]  # kind -> xlsxwriter Format


def _kind(name: str, dtype: pl.DataType) -> str:
    """How a column is shown: its number format's key in FORMATS."""
    if isinstance(dtype, pl.Datetime):
        return "datetime"
    if isinstance(dtype, pl.Date):
        return "date"
    if isinstance(dtype, pl.Boolean):
        return "bool"
    residual = name.startswith("unexplained_")  # usage minus logs: shown with its sign
    if residual and dtype.is_integer():
        return "signed_count"
    if isinstance(dtype, pl.Decimal | pl.Float32 | pl.Float64):
        if residual:
            return "signed_money" if "price" in name else "signed_minutes"
        if "price" in name:
            return "money"
        return "minutes" if "minutes" in name else "float"
    if dtype.is_integer():
        return "id" if name.endswith("_row") or name == "step" else "count"
    return "text"


def _header(name: str, dtype: pl.DataType) -> str:
    """The header cell: a date-time column says it is UTC."""
    if isinstance(dtype, pl.Datetime) and "utc" not in name.lower():
        return f"{name} (UTC)"
    return name


def excel_ready(frame: pl.LazyFrame) -> pl.LazyFrame:
    """`frame` with every column as the value its cell holds: date-times (UTC instants; naive
    ones as they are) and dates as Excel serial days, Decimals as floats, lists joined with `;`,
    other non-numbers as text, and text neutralised (`cells.py`)."""
    cols = []
    for name, dtype in frame.collect_schema().items():
        col = pl.col(name)
        if isinstance(dtype, pl.Datetime):
            col = col.dt.epoch("us").cast(pl.Float64) / US_PER_DAY + EXCEL_EPOCH_DAYS
        elif isinstance(dtype, pl.Date):
            col = col.cast(pl.Int32).cast(pl.Float64) + EXCEL_EPOCH_DAYS
        elif isinstance(dtype, pl.Decimal):
            col = col.cast(pl.Float64)
        elif isinstance(dtype, pl.List):
            col = col.cast(pl.List(pl.String)).list.join(";")
        elif not (dtype.is_numeric() or isinstance(dtype, pl.Boolean) or is_text(dtype)):
            col = col.cast(pl.String)
        cols.append(col.alias(name))
    return neutralise_formulas(frame.select(cols))


def _width(kind: str, header: str, sample: pl.Series) -> float:
    if kind in WIDTHS:
        return max(WIDTHS[kind], len(header) + 2)
    longest = 0
    if sample.dtype == pl.String and sample.len():
        longest = cast(int, sample.str.len_chars().max() or 0)
    elif kind == "bool":
        longest = 5
    return min(MAX_WIDTH, max(MIN_WIDTH, len(header) + 2, int(longest) + 2))


def _batches(frame: pl.DataFrame | pl.LazyFrame) -> Iterator[pl.DataFrame]:
    if isinstance(frame, pl.DataFrame):
        yield from frame.iter_slices(BATCH_ROWS)
    else:
        yield from frame.collect_batches(chunk_size=BATCH_ROWS)


def write_table(
    ws: Worksheet,
    fmts: Formats,
    frame: pl.DataFrame | pl.LazyFrame,
    first_row: int = 0,
    note: str | None = None,
    freeze: bool = True,
) -> int:
    """`frame` as a table from `first_row`: a bold header row (frozen, with a filter over the
    table when `freeze`), then its rows, each column with its number format and width; `note`
    in the cell right of the header. Returns the next free row. Rows are written in order, as
    constant_memory mode needs."""
    source = frame.lazy()
    schema = source.collect_schema()
    ready = excel_ready(source)
    kinds = [_kind(n, d) for n, d in schema.items()]
    headers = [_header(n, d) for n, d in schema.items()]
    batches = _batches(ready if isinstance(frame, pl.LazyFrame) else ready.collect())
    first = next(batches, None)
    for c, (kind, header) in enumerate(zip(kinds, headers, strict=True)):
        sample = first.to_series(c) if first is not None else pl.Series([], dtype=pl.String)
        ws.set_column(c, c, _width(kind, header, sample), fmts[kind])
    for c, header in enumerate(headers):
        ws.write_string(first_row, c, safe_text(header), fmts["header"])
    if note:
        ws.write_string(first_row, len(headers), safe_text(note), fmts["note"])
    styles = [fmts[kind]._get_xf_index() for kind in kinds]
    row = first_row + 1
    # The header row is flushed to the sheet's row file, then the rows go there in bulk
    # (sheet_xml.py); the sheet's dimensions and next row are set as xlsxwriter's would be.
    ws._write_single_row(row)
    for batch in (b for b in (first, *batches) if b is not None):
        ws.row_data_fh.write(rows_xml(batch, row, styles))
        row += batch.height
    if row > first_row + 1:
        ws._check_dimensions(row - 1, len(headers) - 1)
    ws.previous_row = row
    if freeze:
        ws.freeze_panes(first_row + 1, 0)
        ws.autofilter(first_row, 0, max(row - 1, first_row), len(headers) - 1)
    return row


def _note_sheet(ws: Worksheet, fmts: Formats, text: str) -> None:
    ws.set_column(0, 0, max(MIN_WIDTH, len(text) + 2))
    ws.write_string(0, 0, text, fmts["note"])


def _number(text: str | None) -> float | None:
    return None if text is None else float(Decimal(text))


def summary_rows(summary: Summary, calls_note: str) -> list[tuple[str, Any, str]]:
    """(label, value, kind) for the Summary sheet, from summary.json's figures."""
    un, nc, rej = summary.unexplained, summary.not_compared, summary.rejects
    words = EXIT_WORDS.get(summary.exit_code, str(summary.exit_code))
    rows: list[tuple[str, Any, str]] = [
        ("verdict (exit code)", words, "text"),
        ("period", summary.period, "text"),
        ("unexplained rows (findings, each counted once)", un.rows, "count"),
    ]
    for side, words in (
        (un.above, "billed above the logs"),
        (un.below, "billed below the logs"),
        (un.net, "net (usage minus logs)"),
    ):
        if side is not un.net:
            rows.append((f"unexplained {words}: rows", side.rows, "count"))
        rows += [
            (f"unexplained {words}: calls", side.calls, "signed_count"),
            (f"unexplained {words}: minutes", _number(side.minutes), "signed_minutes"),
        ]
        rows += [
            (f"unexplained {words}: price ({cur})", _number(p), "signed_money")
            for cur, p in sorted(side.price_by_currency.items())
        ]
    rows += [
        ("unexplained calls, absolute values summed", un.calls, "count"),
        ("unexplained minutes, absolute values summed", _number(un.minutes), "minutes"),
    ]
    rows += [
        (f"unexplained price ({cur}), absolute values summed", _number(p), "money")
        for cur, p in sorted(un.price_by_currency.items())
    ]
    rows.append(("unexplained price, absolute, as text", un.price_text(), "text"))
    if un.price_not_compared_rows:
        rows.append(("rows priced in other currencies", un.price_not_compared_rows, "count"))
    rows += [
        ("not-compared rows", nc.count, "count"),
        ("not-compared logged calls", nc.logged_calls, "count"),
        ("not-compared billable calls", nc.billable_calls, "count"),
        ("not-compared usage calls", nc.usage_count, "count"),
        ("rejected input rows", rej.rows, "count"),
        ("rejected cells", rej.cells, "count"),
        ("usage records not one period (unaligned)", len(summary.unaligned_usage), "count"),
    ]
    for key, value in summary.dst.items():
        kind = "count" if isinstance(value, int) else "text"
        rows.append((f"DST {key.replace('_', ' ')}", value, kind))
    if summary.encoding is not None:
        rows.append(
            (
                f"PBX lines not UTF-8 (read as {summary.encoding.get('fallback')})",
                summary.encoding.get("rows"),
                "count",
            )
        )
    if summary.repeats is not None:
        rows.append(("PBX lines written twice (merged)", summary.repeats.get("rows"), "count"))
    for title, counts, none in (
        ("PBX vs Twilio", summary.cdr_matching, "no PBX CDRs given"),
        ("own records vs Twilio", summary.records, "no --records given"),
    ):
        if counts is None:
            rows.append((title, none, "text"))
            continue
        for name, value in counts.as_json().items():
            kind = "minutes" if "minutes" in name else "count"
            rows.append((f"{title}: {name.replace('_', ' ')}", value, kind))
    rows.append(("Calls sheet", calls_note, "text"))
    return rows


def _summary_sheet(ws: Worksheet, fmts: Formats, summary: Summary, calls_note: str) -> None:
    """Label / value rows, then the inputs read (file, format, rows read / accepted / rejected)."""
    rows = summary_rows(summary, calls_note)
    texts = neutralise_formulas(
        pl.DataFrame(
            {"v": [v if k == "text" else None for _, v, k in rows]}, schema={"v": pl.String}
        )
    )["v"].to_list()
    ws.set_column(0, 0, max(len(label) for label, _, _ in rows) + 2)
    ws.set_column(1, 1, 24)
    ws.write_string(0, 0, "item", fmts["header"])
    ws.write_string(0, 1, "value", fmts["header"])
    for r, ((label, value, kind), text) in enumerate(zip(rows, texts, strict=True), start=1):
        ws.write_string(r, 0, label)
        if kind == "text":
            ws.write_string(r, 1, safe_text(text or ""))
        elif value is not None:
            ws.write_number(r, 1, value, fmts[kind])
    ws.freeze_panes(1, 0)
    if summary.inputs:
        ws.write_string(len(rows) + 2, 0, "inputs", fmts["header"])
        write_table(ws, fmts, pl.DataFrame(summary.inputs), first_row=len(rows) + 3, freeze=False)


def _formats(wb: Workbook) -> Formats:
    fmts: Formats = {k: wb.add_format({"num_format": v}) for k, v in FORMATS.items()}
    fmts["header"] = wb.add_format({"bold": True, "bottom": 1, "bg_color": "#DDEBF7"})
    fmts["note"] = wb.add_format({"bold": True, "font_color": "#9C0006"})
    return fmts


def write_workbook(outcome: AuditOutcome, path: Path, calls_rows: int = MAX_ROWS) -> None:
    """audit.xlsx from `outcome`, the Calls sheet cut at `calls_rows` legs (see the module doc)."""
    calls = pl.scan_parquet(outcome.calls, glob=False)
    legs = calls.select(pl.len()).collect().item()
    limit = min(max(calls_rows, 0), MAX_ROWS)
    shown = min(legs, limit)
    why = "Excel's row limit" if limit == MAX_ROWS else f"--xlsx-calls {limit:,}"
    cut = (
        f"cut at {why}: the first {shown:,} of {legs:,} legs; all are in calls.parquet"
        if legs > shown
        else None
    )
    calls_note = cut or f"all {legs:,} legs"
    recon = outcome.reconciliation
    import xlsxwriter

    # its temporary files (constant_memory) in the output's own folder, which a failed run
    # removes, rather than the system's temporary folder
    wb = xlsxwriter.Workbook(str(path), {**WORKBOOK_OPTIONS, "tmpdir": str(path.parent)})
    try:
        wb.set_properties({"created": CREATED, "title": "call-auditor audit"})
        fmts = _formats(wb)
        _summary_sheet(wb.add_worksheet("Summary"), fmts, outcome.summary, calls_note)
        write_table(wb.add_worksheet("Reconciliation"), fmts, recon)
        write_table(wb.add_worksheet("Bridge"), fmts, outcome.bridge)
        # findings first (each counted once), then the parent rows that sum them, marked
        write_table(wb.add_worksheet("Unexplained"), fmts, findings_table(recon))
        write_table(wb.add_worksheet("Calls"), fmts, calls.head(shown), note=cut)
        ws = wb.add_worksheet("CDR matches")
        if outcome.cdr_matches is None:
            _note_sheet(ws, fmts, "No PBX CDRs among the inputs: no PBX matching.")
        else:
            write_table(ws, fmts, outcome.cdr_matches)
        for name, frame in (
            ("Records", outcome.records_matches),
            ("Record groups", outcome.records_groups),
        ):
            ws = wb.add_worksheet(name)
            if frame is None:
                _note_sheet(ws, fmts, "No --records given: own records not compared.")
            else:
                write_table(ws, fmts, frame)
        write_table(wb.add_worksheet("Rejects"), fmts, outcome.rejects)
    finally:
        with writing(path):  # the workbook is written here
            wb.close()
