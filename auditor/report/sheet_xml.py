"""A table's rows as worksheet XML (`<row>` and `<c>` elements), built column by column in
polars rather than cell by cell in Python.

xlsxwriter writes each cell through Python (about 5 us a cell), so a Calls sheet of Excel's
1,048,575 rows x 19 columns cost some 130 s of CPU; these expressions build the same elements
for a whole batch at once. The elements are those xlsxwriter writes in `constant_memory` mode:
numbers as `<v>`, booleans as `t="b"`, text as in-line strings (`t="inlineStr"`), each cell
with its column's style, control characters as `_xHHHH_` and `&`, `<`, `>` escaped.

Every text is escaped here. xlsxwriter itself, in `constant_memory` mode, writes a string that
starts with `<r>` and ends with `</r>` as raw rich-text XML without escaping it, so a caller name
such as `<r>..</r></is><f>HYPERLINK(..)</f><is><r>..</r>` became a live formula: no text from
an input may reach `Worksheet.write_string` unguarded (`safe_text`).
"""

from __future__ import annotations

import polars as pl

# Excel's longest cell text, in UTF-16 code units; a longer one makes Excel refuse the file.
MAX_TEXT_UNITS = 32_767
_CONTROL = [chr(c) for c in (*range(0x00, 0x09), *range(0x0B, 0x20))]
_CONTROL_CLASS = r"[\x00-\x08\x0B-\x1F\x{FFFE}\x{FFFF}]"


def safe_text(text: str) -> str:
    """`text` as `Worksheet.write_string` may take it: one that xlsxwriter would write as raw
    rich-text XML (starts `<r>`, ends `</r>`) gets the same `'` prefix as a formula."""
    if text.startswith("<r>") and text.endswith("</r>"):
        return "'" + text
    return text


def _utf16_cut(text: str) -> str:
    """`text` cut to Excel's MAX_TEXT_UNITS UTF-16 code units (never mid-character)."""
    units = 0
    for i, ch in enumerate(text):
        units += 2 if ord(ch) > 0xFFFF else 1
        if units > MAX_TEXT_UNITS:
            return text[:i]
    return text


def _fit(series: pl.Series) -> pl.Series:
    """Text longer than Excel takes, cut (rare: inputs allow fields up to 64 KiB)."""
    long = series.str.len_chars() > MAX_TEXT_UNITS // 2
    if not long.any():
        return series
    at = long.arg_true()
    return series.scatter(at, [_utf16_cut(v) for v in series.gather(at).to_list()])


def _escaped(col: pl.Expr, has_control: bool) -> pl.Expr:
    """Text as xlsxwriter escapes it: a literal `_xHHHH_` keeps its meaning, control
    characters become `_xHHHH_`, then `&`, `<`, `>` become entities."""
    col = col.str.replace_all(r"(_x[0-9a-fA-F]{4}_)", "_x005F${1}")
    if has_control:
        for ch in (*_CONTROL, "\ufffe", "\uffff"):
            col = col.str.replace_all(ch, f"_x{ord(ch):04X}_", literal=True)
    return (
        col.str.replace_all("&", "&amp;", literal=True)
        .str.replace_all("<", "&lt;", literal=True)
        .str.replace_all(">", "&gt;", literal=True)
    )


def _cell(name: str, dtype: pl.DataType, head: list[pl.Expr], has_control: bool) -> pl.Expr:
    """One column's `<c>` elements, each opened by `head` (`<c r=".." s=".."`); "" where the
    value is null (no cell)."""
    col = pl.col(name)
    if dtype == pl.String:
        preserve = (
            pl.when(col.str.contains(r"^\s|\s$"))
            .then(pl.lit(' xml:space="preserve"'))
            .otherwise(pl.lit(""))
        )
        body = [*head, pl.lit(' t="inlineStr"><is><t'), preserve, pl.lit(">")]
        cell = pl.concat_str([*body, _escaped(col, has_control), pl.lit("</t></is></c>")])
    elif dtype == pl.Boolean:
        value = pl.when(col).then(pl.lit("1")).when(~col).then(pl.lit("0"))
        cell = pl.concat_str([*head, pl.lit(' t="b"><v>'), value, pl.lit("</v></c>")])
    else:
        cell = pl.concat_str([*head, pl.lit("><v>"), col.cast(pl.String), pl.lit("</v></c>")])
        if dtype.is_float():
            error = pl.concat_str([*head, pl.lit(' t="e"><v>#NUM!</v></c>')])
            cell = pl.when(col.is_nan() | col.is_infinite()).then(error).otherwise(cell)
    return cell.fill_null(pl.lit(""))


def rows_xml(batch: pl.DataFrame, first_row: int, styles: list[int]) -> str:
    """The `<row>` elements of `batch` (columns already Excel-ready: numbers, booleans, text),
    its first row at zero-based sheet row `first_row`, column i with style index styles[i]."""
    from xlsxwriter.utility import xl_col_to_name  # xlsxwriter only once a workbook is written

    if batch.height == 0:
        return ""
    columns: list[pl.Series] = []
    controls: list[bool] = []
    for series in batch.iter_columns():
        if series.dtype == pl.String:
            series = _fit(series)
            controls.append(bool(series.str.contains(_CONTROL_CLASS).any()))
        else:
            controls.append(False)
        columns.append(series)
    row = "\x00row"
    frame = pl.DataFrame(columns).with_columns(
        pl.int_range(first_row + 1, first_row + 1 + batch.height).cast(pl.String).alias(row)
    )
    parts: list[pl.Expr] = [pl.lit('<row r="'), pl.col(row), pl.lit('">')]
    for i, (series, style, has_control) in enumerate(zip(columns, styles, controls, strict=True)):
        head = [pl.lit(f'<c r="{xl_col_to_name(i)}'), pl.col(row), pl.lit(f'" s="{style}"')]
        parts.append(_cell(series.name, series.dtype, head, has_control))
    parts.append(pl.lit("</row>"))
    return frame.select(pl.concat_str(parts).str.join("")).item()
