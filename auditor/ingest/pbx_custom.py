"""A user's own PBX CSV, described by a TOML format file (`--cdr-format FILE`, see
`pbx_format_file`): delimiter, header or not, which column holds each canonical field, the time
format and zone, and how to tell an answered call.

A CSV says nothing of its meaning, so content alone cannot pick this reader: `sniff` is always
False and the caller chooses it (`--format pbx-custom-csv`, or `sniff_with` once the format file is
loaded). Records are split line by line like the other PBX readers, so a malformed line is a
reject with its line number; in header mode the header is line 1 of the count, not a row. A line
that is not UTF-8 is decoded with `--encoding-fallback` and marked.

The format's units are applied here, so the normaliser reads what it reads from every PBX: a
`duration_unit` other than seconds and `epoch_ms` times become whole seconds and epoch seconds
(a value not in that shape rejects its line, naming the column), `extension_prefixes` are cut
from src and dst, an empty billsec on a line the `[answered]` rule calls unanswered is 0, and a
format with no billsec column marks its lines `billsec_derived` (end - answer, see normalize.cdr).
"""

from __future__ import annotations

import re
from typing import ClassVar

import polars as pl

from auditor.errors import InputError, InternalError, UsageError
from auditor.ingest.base import ENCODING, ERROR, ERROR_COLUMN, SOURCE_ROW, Kind, conform
from auditor.ingest.files import InputFile
from auditor.ingest.options import ReadOptions
from auditor.ingest.pbx_format_file import EPOCH, CdrFormat, Column, load_cdr_format
from auditor.ingest.pbx_lines import (
    FIELDS,
    OK,
    bool_text,
    common_width,
    head_records,
    physical_lines,
    split_csv,
    to_columns,
)
from auditor.ingest.units import (
    DURATION_SHAPES,
    EPOCH_MS,
    SECONDS,
    duration_seconds,
    epoch_ms_as_seconds,
)

BROKEN = "broken CSV quoting"


def _key(column: Column) -> str:
    return column.strip().lower() if isinstance(column, str) else f"#{column}"


def sniff_with(head: str, fmt: CdrFormat) -> bool:
    """True when the head fits `fmt`: every named column in the header line, or (no header) the
    first line at least as wide as the highest position the format reads."""
    first = head_records(head, limit=1, delimiter=fmt.delimiter)
    if not first:
        return False
    if fmt.header:
        names = {n.strip().lower() for n in first[0]}
        return all(isinstance(c, str) and c.lower() in names for c in fmt.referenced())
    return len(first[0]) >= max(int(c) for c in fmt.referenced())


def _fields_by_key(file: InputFile, fmt: CdrFormat, lines: pl.DataFrame) -> pl.DataFrame:
    """String columns named by `_key` of the format's columns, plus `source_row`, `_error` and
    `encoding`."""
    if fmt.header:
        header = lines.head(1)
        names = [str(n or "").strip() for n in header[FIELDS][0]]
        data = lines.slice(1)
        position = {n.lower(): i for i, n in reversed(list(enumerate(names)))}
        missing = [str(c) for c in fmt.referenced() if _key(c) not in position]
        if missing:
            raise InputError(
                file.name,
                f"column(s) named in {fmt.source} missing: {', '.join(missing)}",
                row=int(header[SOURCE_ROW][0]),
            )
        width = len(names)
    else:
        data = lines
        width = common_width(lines) or 0
        highest = max(int(c) for c in fmt.referenced())
        if width < highest:
            raise InputError(
                file.name, f"{fmt.source} reads column {highest}, the records have {width}"
            )
        position = {f"#{i + 1}": i for i in range(width)}
    wanted = {_key(c): position[_key(c)] for c in fmt.referenced()}
    cols = to_columns(data, [f"c{i}" for i in range(width)], BROKEN)
    nulls = list(fmt.null_values)
    values = [
        pl.col(f"c{i}").str.strip_chars().pipe(_null_if, nulls).alias(key)
        for key, i in wanted.items()
    ]
    return cols.select(SOURCE_ROW, *values, "_error", ENCODING)


def _read_units(
    fmt: CdrFormat, values: dict[str, pl.Expr]
) -> tuple[dict[str, pl.Expr], list[tuple[str, pl.Expr]]]:
    """The format's fields as the text the normaliser reads: durations in whole seconds, epoch
    milliseconds as epoch seconds, `src`/`dst` without an extension prefix (`Ext.610` -> `610`);
    and for each converted field (where, message): the column as the user knows it and, on a
    line whose value is not in the declared shape, why (null on the others)."""
    out = dict(values)
    checks: list[tuple[str, pl.Expr]] = []

    def convert(name: str, value: pl.Expr, shape: str, key: str) -> None:
        where = f"{'/'.join(fmt.label(c) for c in fmt.columns[name])} ({name})"
        message = pl.when(values[name].is_not_null() & value.is_null()).then(
            pl.concat_str(pl.lit("'"), values[name], pl.lit(f"' is not {shape} ({key})"))
        )
        out[name] = value
        checks.append((where, message))

    if fmt.duration_unit != SECONDS:
        for name in ("duration", "billsec"):
            if name in values:
                seconds = duration_seconds(values[name], fmt.duration_unit).cast(pl.String)
                convert(name, seconds, DURATION_SHAPES[fmt.duration_unit], "duration_unit")
    if fmt.time_format == EPOCH_MS:
        for name in ("start", "answer", "end"):
            if name in values:
                convert(
                    name, epoch_ms_as_seconds(values[name]), "epoch milliseconds", "time.format"
                )
    if fmt.extension_prefixes:
        prefix = "(?i)^(?:" + "|".join(re.escape(p) for p in fmt.extension_prefixes) + ")"
        for name in ("src", "dst"):
            if name in values:
                out[name] = values[name].str.replace(prefix, "")
    return out, checks


def _null_if(value: pl.Expr, nulls: list[str]) -> pl.Expr:
    blank = (value == "") | value.is_in(nulls) if nulls else value == ""
    return pl.when(blank).then(None).otherwise(value)


class CustomCdrCsv:
    name: ClassVar[str] = "pbx-custom-csv"
    kind: ClassVar[Kind] = "cdr"

    def sniff(self, file: InputFile, head: str) -> bool:
        return False

    def read(self, file: InputFile, options: ReadOptions) -> pl.LazyFrame:
        if options.cdr_format is None:
            raise UsageError(f"{file.name}: reading a custom PBX CSV needs --cdr-format FILE")
        fmt = load_cdr_format(options.cdr_format)
        lines = split_csv(physical_lines(file, options.encoding_fallback), fmt.delimiter)
        if not lines.filter(pl.col(OK)).height:
            raise InputError(file.name, f"no well-formed {fmt.delimiter!r}-separated line")
        raw = _fields_by_key(file, fmt, lines)

        def field(name: str) -> pl.Expr:
            cols = fmt.columns.get(name, ())
            if not cols:
                return pl.lit(None, pl.String)
            return pl.coalesce([pl.col(_key(c)) for c in cols])

        values, checks = _read_units(fmt, {name: field(name) for name in fmt.columns})
        error = pl.coalesce(pl.col(ERROR), *(message for _, message in checks))
        error_column = pl.when(pl.col(ERROR).is_null()).then(
            pl.coalesce(
                *(pl.when(message.is_not_null()).then(pl.lit(where)) for where, message in checks),
                pl.lit(None, pl.String),
            )
        )
        billsec = values.get("billsec", pl.lit(None, pl.String))
        if fmt.answered_rule == "values":
            if fmt.answered_column is None:  # load_cdr_format requires it with this rule
                raise InternalError(f"{fmt.source}: answered.rule 'values' without a column")
            flag = pl.col(_key(fmt.answered_column)).str.to_uppercase()
            answered = flag.is_in(list(fmt.answered_values))
        elif fmt.answered_rule == "answer-time":
            answered = values["answer"].is_not_null()
        else:
            answered = billsec.cast(pl.Int64, strict=False).fill_null(0) > 0
        if fmt.answered_rule != "billsec":
            # A PBX leaves billsec empty on a call nobody answered (3CX): that is 0 seconds.
            unanswered = billsec.is_null() & ~answered
            values["billsec"] = pl.when(unanswered).then(pl.lit("0")).otherwise(billsec)
        canonical = raw.select(
            SOURCE_ROW,
            *(value.alias(name) for name, value in values.items()),
            pl.when(error.is_null()).then(bool_text(answered)).alias("answered"),
            pl.lit("true" if fmt.derives_billsec else None, pl.String).alias("billsec_derived"),
            pl.lit(EPOCH if fmt.time_format == EPOCH_MS else fmt.time_format, pl.String).alias(
                "time_format"
            ),
            pl.lit(fmt.time_zone, pl.String).alias("time_zone"),
            error.alias(ERROR),
            error_column.alias(ERROR_COLUMN),
            ENCODING,
        )
        return conform(canonical, self.kind, file)
