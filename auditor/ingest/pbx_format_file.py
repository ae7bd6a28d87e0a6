r"""A user's description of their own PBX CSV (`--cdr-format FILE`), read from TOML.

```toml
description = "what exports this"      # optional, for people
delimiter = ","                        # one character ("\t" for tabs)
header = true                          # line 1 names the columns; false: [columns] gives positions
null_values = ["\\N", "NULL"]          # optional: cells read as empty
duration_unit = "seconds"              # optional, of duration and billsec: "seconds" (default),
                                       # "milliseconds", "hh:mm:ss" or "mm:ss" (see ingest/units.py)
extension_prefixes = ["Ext."]          # optional: src/dst written `Ext.610` are read as `610`

[columns]      # canonical field = column name (1-based position without a header), or a list of
start = "calldate"                     # them: the first non-empty one is taken
src = ["outbound_cnum", "src"]
dst = "dst"
billsec = "billsec"                    # required: start, src, dst, and billsec (or answer
duration = "duration"                  # and end: billsec = end - answer, 0 unanswered).
                                       # optional: call_key, link_key, answer, end, duration,
                                       # disposition, channel, dstchannel

[time]
format = "%Y-%m-%d %H:%M:%S"           # strftime, "epoch" (Unix seconds, UTC), "epoch_ms" (Unix
zone = "America/New_York"              # milliseconds, UTC); absent or "iso8601": the usual shapes
                                       # (ISO 8601). zone: of naive times; absent: --pbx-tz

[answered]     # how to tell an answered call; absent: rule = "billsec" (no billsec: "answer-time")
column = "disposition"                 # answered when this column holds one of `values`
values = ["ANSWERED"]                  # (case-insensitive) ...
# rule = "answer-time"                 # ... or when the answer column is set,
# rule = "billsec"                     # ... or when billsec > 0
```

An empty billsec on a line the `[answered]` rule (values or answer-time) calls unanswered is 0.
A duration or time not in the declared shape is a reject of its line naming the column.
Shipped examples live in `auditor/pbx_formats/`; `--cdr-format NAME` finds them by file stem.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from auditor.errors import InputError
from auditor.ingest.base import CDR_FIELDS
from auditor.ingest.format_files import FormatFiles
from auditor.ingest.units import DURATION_UNITS, EPOCH_MS, SECONDS

# Every canonical CDR field a format file may map to a column (the rest are the reader's own).
MAPPABLE = tuple(
    f
    for f in CDR_FIELDS
    if f not in ("answered", "time_format", "time_zone", "origin", "encoding", "billsec_derived")
)
REQUIRED = ("start", "src", "dst")
EPOCH = "epoch"
ISO8601 = "iso8601"
AnsweredRule = Literal["values", "answer-time", "billsec"]
Column = str | int


@dataclass(frozen=True)
class CdrFormat:
    """A loaded format file: where each canonical field is and how to read it."""

    source: str
    columns: dict[str, tuple[Column, ...]]
    delimiter: str = ","
    header: bool = True
    null_values: tuple[str, ...] = ()
    time_format: str | None = None
    time_zone: str | None = None
    answered_rule: AnsweredRule = "billsec"
    answered_column: Column | None = None
    answered_values: tuple[str, ...] = ()
    description: str = ""
    duration_unit: str = SECONDS
    extension_prefixes: tuple[str, ...] = ()

    @property
    def derives_billsec(self) -> bool:
        """No billsec column: a line's billsec is end - answer (0 when not answered)."""
        return "billsec" not in self.columns

    def label(self, column: Column) -> str:
        """`column` as a person finds it in the file: its name, or `column N`."""
        return column if isinstance(column, str) else f"column {column}"

    def referenced(self) -> list[Column]:
        """Every column the format reads, in a stable order."""
        cols = [c for field in MAPPABLE for c in self.columns.get(field, ())]
        if self.answered_column is not None:
            cols.append(self.answered_column)
        return list(dict.fromkeys(cols))


FORMATS = FormatFiles("auditor.pbx_formats", "format file")
shipped_formats = FORMATS.shipped  # names of the example format files shipped


def load_cdr_format(spec: str) -> CdrFormat:
    """The format at path `spec`, or the shipped one named `spec`; InputError naming the file
    when it cannot be read or does not describe a usable format."""
    return parse_cdr_format(FORMATS.load(spec).data, spec)


def parse_cdr_format(data: dict, source: str) -> CdrFormat:
    """Check and convert a format file's TOML table."""

    def bad(message: str) -> InputError:
        return InputError(source, message)

    header = data.get("header", True)
    delimiter = data.get("delimiter", ",")
    if not isinstance(header, bool):
        raise bad("header must be true or false")
    if not isinstance(delimiter, str) or len(delimiter) != 1 or delimiter in '"\n':
        raise bad("delimiter must be one character (not a quote or newline)")

    def column(value: object, where: str) -> Column:
        if header and isinstance(value, str) and value.strip():
            return value.strip()
        if not header and isinstance(value, int) and not isinstance(value, bool) and value >= 1:
            return value
        kind = "a column name" if header else "a 1-based column position"
        raise bad(f"{where}: expected {kind}, got {value!r}")

    table = data.get("columns")
    if not isinstance(table, dict):
        raise bad("a [columns] table is required")
    unknown = sorted(set(table) - set(MAPPABLE))
    if unknown:
        raise bad(f"unknown field(s) in [columns]: {', '.join(unknown)} (known: {MAPPABLE})")
    columns: dict[str, tuple[Column, ...]] = {}
    for field, value in table.items():
        values = value if isinstance(value, list) and value else [value]
        columns[field] = tuple(column(v, f"columns.{field}") for v in values)
    missing = [f for f in REQUIRED if f not in columns]
    if "billsec" not in columns and not ("answer" in columns and "end" in columns):
        missing.append("billsec (or answer and end, to derive it)")
    if missing:
        raise bad(f"[columns] must map {', '.join(missing)}")
    unit = data.get("duration_unit", SECONDS)
    if unit not in DURATION_UNITS:
        raise bad(f"duration_unit must be one of {', '.join(DURATION_UNITS)}, got {unit!r}")
    prefixes = data.get("extension_prefixes", [])
    if not isinstance(prefixes, list) or not all(isinstance(p, str) and p for p in prefixes):
        raise bad('extension_prefixes must be a list of non-empty strings (e.g. ["Ext."])')

    time = data.get("time", {})
    if not isinstance(time, dict):
        raise bad("[time] must be a table")
    time_format, zone = time.get("format"), time.get("zone")
    if time_format not in (None, EPOCH, EPOCH_MS, ISO8601) and (
        not isinstance(time_format, str) or "%" not in time_format
    ):
        raise bad(
            'time.format must be a strftime pattern (e.g. "%Y-%m-%d %H:%M:%S"), "iso8601", '
            '"epoch" or "epoch_ms"'
        )
    if time_format == ISO8601:
        time_format = None  # the usual shapes, ISO 8601 among them
    if zone is not None:
        try:
            ZoneInfo(str(zone))
        except (ZoneInfoNotFoundError, ValueError):
            raise bad(f"time.zone {zone!r} is not an IANA time zone name") from None

    # With no billsec column, billsec > 0 cannot tell an answered call: the answer time does.
    default_rule = "billsec" if "billsec" in columns else "answer-time"
    answered = data.get("answered", {"rule": default_rule})
    if not isinstance(answered, dict):
        raise bad("[answered] must be a table")
    rule = answered.get("rule", "values" if "column" in answered else default_rule)
    if rule not in ("values", "answer-time", "billsec"):
        raise bad('answered.rule must be "values", "answer-time" or "billsec"')
    if rule == "billsec" and "billsec" not in columns:
        raise bad('answered.rule = "billsec" needs columns.billsec (or use "answer-time")')
    answered_column: Column | None = None
    answered_values: tuple[str, ...] = ()
    if rule == "values":
        listed = answered.get("values")
        if "column" not in answered or not isinstance(listed, list) or not listed:
            raise bad("[answered] needs a column and a non-empty list of values")
        answered_column = column(answered["column"], "answered.column")
        answered_values = tuple(str(v).strip().upper() for v in listed)
    if rule == "answer-time" and "answer" not in columns:
        raise bad('answered.rule = "answer-time" needs columns.answer')

    nulls = data.get("null_values", [])
    if not isinstance(nulls, list) or not all(isinstance(v, str) for v in nulls):
        raise bad("null_values must be a list of strings")
    return CdrFormat(
        source=source,
        columns=columns,
        delimiter=delimiter,
        header=header,
        null_values=tuple(nulls),
        time_format=time_format,
        time_zone=None if zone is None else str(zone),
        answered_rule=rule,
        answered_column=answered_column,
        answered_values=answered_values,
        description=str(data.get("description", "")),
        duration_unit=unit,
        extension_prefixes=tuple(prefixes),
    )
