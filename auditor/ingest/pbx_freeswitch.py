"""FreeSWITCH `mod_cdr_csv`: no header, one CDR per line, in one of the shipped templates.

- `example` (the vanilla config's default-template, 15 columns): caller_id_name, caller_id_number,
  destination_number, context, start_stamp, answer_stamp, end_stamp, duration, billsec,
  hangup_cause, uuid, bleg_uuid, accountcode, read_codec, write_codec;
- built-in `default` (the first 13 of those; note the space before the last field's quote);
- `sql` (the same 13 inside `INSERT INTO cdr VALUES (...);`).

Every value is wrapped in quotes by the template and nothing is escaped, so a quote inside a value
makes the record impossible to split with certainty: such a line is kept with `_error` (a reject
naming its line), never guessed at. Times are the server's local time (`--pbx-tz`). Answered means
answer_stamp set or billsec > 0; hangup_cause is not a test of answered (NORMAL_CLEARING is logged
for IVR-answered and never-connected legs alike). uuid is the call; with `legs=ab` the B-leg's
record joins its A-leg through the A-leg's bleg_uuid (so the A-leg is the call's originating leg).
A line that is not UTF-8 (a caller_id_name in Latin-1) is decoded with `--encoding-fallback`.
"""

from __future__ import annotations

import re
from typing import ClassVar

import polars as pl

from auditor.errors import InputError
from auditor.ingest.base import Kind, conform
from auditor.ingest.files import InputFile
from auditor.ingest.options import ReadOptions
from auditor.ingest.pbx_lines import (
    FIELDS,
    LINE,
    OK,
    bool_text,
    common_width,
    is_datetime,
    is_integer,
    physical_lines,
    to_columns,
)

EXAMPLE = (
    "caller_id_name",
    "caller_id_number",
    "destination_number",
    "context",
    "start_stamp",
    "answer_stamp",
    "end_stamp",
    "duration",
    "billsec",
    "hangup_cause",
    "uuid",
    "bleg_uuid",
    "accountcode",
    "read_codec",
    "write_codec",
)
TEMPLATES: dict[int, tuple[str, ...]] = {15: EXAMPLE, 13: EXAMPLE[:13]}
SQL = r"^\s*INSERT\s+INTO\s+\S+\s+VALUES\s*\((.*)\)\s*;?\s*$"
STRICT = r'^"[^"]*"(?:, ?"[^"]*")*$'
UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
CAUSE = re.compile(r"^[A-Z][A-Z0-9_]*$")
BROKEN = (
    "a quote inside a value (FreeSWITCH does not escape values), so the fields cannot be told apart"
)
RENAME = {
    "caller_id_number": "src",
    "destination_number": "dst",
    "start_stamp": "start",
    "answer_stamp": "answer",
    "end_stamp": "end",
    "hangup_cause": "disposition",
    "uuid": "call_key",
    "bleg_uuid": "link_key",
}


def _body(line: pl.Expr) -> pl.Expr:
    """The quoted values of a line, without the `sql` template's INSERT wrapper."""
    return pl.coalesce(line.str.extract(SQL, 1), line).str.strip_chars()


def split_template(lines: pl.DataFrame) -> pl.DataFrame:
    """`__ok` (every value quoted, no quote inside one) and `__fields` (the values)."""
    body = _body(pl.col(LINE))
    inner = body.str.slice(1, body.str.len_chars() - 2).str.replace_all('", "', '","', literal=True)
    return lines.with_columns(
        body.str.contains(STRICT).alias(OK),
        inner.str.split('","').alias(FIELDS),
    )


def _head_fields(head: str, limit: int = 5) -> list[list[str]]:
    found: list[list[str]] = []
    for line in (ln.rstrip("\r") for ln in head.split("\n") if ln.strip()):
        sql = re.match(SQL, line)
        body = (sql.group(1) if sql else line).strip()
        if not re.match(STRICT, body):
            found.append([])
        else:
            found.append(re.sub(r'", "', '","', body[1:-1]).split('","'))
        if len(found) == limit:
            break
    return found


def looks_like_cdr(fields: list[str]) -> bool:
    return (
        len(fields) in TEMPLATES
        and is_datetime(fields[4])
        and (fields[5] == "" or is_datetime(fields[5]))
        and is_datetime(fields[6])
        and is_integer(fields[7])
        and is_integer(fields[8])
        and CAUSE.match(fields[9]) is not None
        and UUID.match(fields[10]) is not None
    )


class FreeSwitchCdrCsv:
    name: ClassVar[str] = "freeswitch-cdr-csv"
    kind: ClassVar[Kind] = "cdr"

    def sniff(self, file: InputFile, head: str) -> bool:
        rows = _head_fields(head)
        return bool(rows) and 2 * sum(looks_like_cdr(r) for r in rows) > len(rows)

    def read(self, file: InputFile, options: ReadOptions) -> pl.LazyFrame:
        lines = split_template(physical_lines(file, options.encoding_fallback))
        width = common_width(lines, tuple(TEMPLATES))
        if width is None:
            raise InputError(
                file.name, "not FreeSWITCH cdr_csv: no record in the example/default/sql template"
            )
        raw = to_columns(lines, TEMPLATES[width], BROKEN).rename(RENAME)
        billsec = pl.col("billsec").str.strip_chars().cast(pl.Int64, strict=False)
        answered = (pl.col("answer").str.strip_chars().fill_null("") != "") | (
            billsec.fill_null(0) > 0
        )
        raw = raw.with_columns(
            pl.when(pl.col("_error").is_null()).then(bool_text(answered)).alias("answered")
        )
        return conform(raw, self.kind, file)
