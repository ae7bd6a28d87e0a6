r"""The description of a user's own records (`--records-format FORMAT`), read from TOML.

```toml
name = "notification-log"         # optional: how the run names the format (default: file stem)
description = "what writes this"  # optional, for people
delimiter = ","                   # optional, CSV only: one character (default ",")
duration_unit = "seconds"         # optional: how columns.duration is written: "seconds" (default),
                                  # "milliseconds", "hh:mm:ss" or "mm:ss" (see ingest/units.py)

[columns]       # column names in the records file: call_sid, or both to and time, required
call_sid = "twilio_sid"           # the CallSid the API returned (CA + 32 hex)
to = "phone"                      # the called number (any form phonenumbers reads; --region)
from = "caller_id"                # the caller ID the system used
time = "sent_at"                  # when the system placed or logged the call
end = "ended_at"                  # when it ended: the duration is end - time (when no duration)
duration = "talk_seconds"         # the system's own duration, in duration_unit
status = "outcome"                # the system's own outcome (mapped by [status_map])
answered_by = "amd"               # the system's own verdict: "human" (any case) or anything else
group = ["campaign", "ivr_step"]  # columns to break the results down by

[time]
format = "iso8601"                # ISO 8601 / RFC 2822; "epoch" (Unix seconds); "epoch_ms" (Unix
                                  # milliseconds); or strftime
zone = "UTC"                      # IANA zone of naive times (no zone: a naive time is an error)

[status_map]    # the system's outcomes (case and surrounding blanks ignored) -> a Twilio status
delivered = "completed"
failed = "failed"
```

Every key is checked: an unknown one, a value of the wrong type, a zone that is not an IANA name or
a status that is not a Twilio call status stops the run naming the file and the key. Shipped
formats live in `auditor/records_formats/`; `--records-format NAME` finds them by file stem.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from auditor.errors import InputError
from auditor.ingest.format_files import FormatFiles
from auditor.ingest.units import DURATION_UNITS, EPOCH_MS, SECONDS
from auditor.schemas.calls import CALL_STATUSES
from auditor.schemas.outputs import RECORDS_MATCHES

PACKAGE = "auditor.records_formats"
# Canonical fields a format maps to one column each (`group` maps to several).
FIELDS = ("call_sid", "to", "from", "time", "end", "duration", "status", "answered_by")
TOP_KEYS = ("name", "description", "delimiter", "duration_unit", "columns", "time", "status_map")
TIME_KEYS = ("format", "zone")
ISO8601 = "iso8601"
EPOCH = "epoch"


@dataclass(frozen=True)
class RecordsFormat:
    """A loaded format file: which column holds each field and how to read it."""

    source: str  # the path or shipped name given: what errors name
    name: str
    columns: dict[str, str]  # canonical field -> column name in the records file
    group: tuple[str, ...] = ()
    delimiter: str = ","
    time_format: str = ISO8601
    time_zone: str | None = None
    status_map: dict[str, str] = field(default_factory=dict)  # outcome (lower-case) -> status
    description: str = ""
    duration_unit: str = SECONDS

    def referenced(self) -> list[str]:
        """Every column the format reads, fields first then groups, each once."""
        return list(dict.fromkeys([*self.columns.values(), *self.group]))

    def where(self, column: str) -> str:
        """The format key(s) naming `column`, for error messages (`columns.time`, ...)."""
        keys = [f"columns.{k}" for k, v in self.columns.items() if v == column]
        keys += ["columns.group"] if column in self.group else []
        return ", ".join(keys)


FORMATS = FormatFiles(PACKAGE, "records format file")
shipped_formats = FORMATS.shipped  # names of the format files shipped


def load_records_format(spec: str) -> RecordsFormat:
    """The format at path `spec`, or the shipped one named `spec`; InputError naming the file
    when it cannot be read or does not describe a usable format."""
    loaded = FORMATS.load(spec)
    return parse_records_format(loaded.data, spec, loaded.stem)


def _unknown(keys: Any, known: tuple[str, ...], where: str) -> str | None:
    extra = [str(k) for k in keys if k not in known]
    if not extra:
        return None
    return f"unknown key {where}{extra[0]} (known: {', '.join(known)})"


def parse_records_format(data: dict[str, Any], source: str, stem: str = "") -> RecordsFormat:
    """Check and convert a format file's TOML table."""

    def bad(message: str) -> InputError:
        return InputError(source, message)

    if problem := _unknown(data, TOP_KEYS, ""):
        raise bad(problem)
    name = data.get("name", stem or "records")
    description = data.get("description", "")
    delimiter = data.get("delimiter", ",")
    if not isinstance(name, str) or not name.strip():
        raise bad("name must be a non-empty string")
    if not isinstance(description, str):
        raise bad("description must be a string")
    if not isinstance(delimiter, str) or len(delimiter) != 1 or delimiter in '"\r\n':
        raise bad("delimiter must be one character (not a quote or newline)")
    duration_unit = data.get("duration_unit", SECONDS)
    if duration_unit not in DURATION_UNITS:
        raise bad(
            f"duration_unit must be one of {', '.join(DURATION_UNITS)}, got {duration_unit!r}"
        )

    table = data.get("columns")
    if not isinstance(table, dict):
        raise bad("a [columns] table is required")
    if problem := _unknown(table, (*FIELDS, "group"), "columns."):
        raise bad(problem)
    columns: dict[str, str] = {}
    for key in FIELDS:
        if key in table:
            value = table[key]
            if not isinstance(value, str) or not value.strip():
                raise bad(f"columns.{key} must be a column name (a non-empty string)")
            columns[key] = value.strip()
    groups = table.get("group", [])
    groups = [groups] if isinstance(groups, str) else groups
    if not isinstance(groups, list) or not all(isinstance(g, str) and g.strip() for g in groups):
        raise bad("columns.group must be a column name or a list of column names")
    group = tuple(dict.fromkeys(g.strip() for g in groups))
    if "call_sid" not in columns and not ("to" in columns and "time" in columns):
        raise bad("[columns] must map call_sid, or both to and time (to match by number)")
    if "end" in columns and "time" not in columns:
        raise bad("columns.end needs columns.time (the duration is end - time)")
    clash = [g for g in group if g in RECORDS_MATCHES]
    if clash:
        raise bad(
            f"columns.group: {clash[0]!r} is also an output column of records_matches: "
            "group by another column"
        )

    time = data.get("time", {})
    if not isinstance(time, dict):
        raise bad("[time] must be a table")
    if problem := _unknown(time, TIME_KEYS, "time."):
        raise bad(problem)
    time_format = time.get("format", ISO8601)
    if not isinstance(time_format, str) or (
        time_format not in (ISO8601, EPOCH, EPOCH_MS) and "%" not in time_format
    ):
        raise bad(
            'time.format must be "iso8601", "epoch", "epoch_ms" or a strftime pattern '
            '(e.g. "%Y-%m-%d %H:%M:%S")'
        )
    zone = time.get("zone")
    if zone is not None:
        try:
            ZoneInfo(str(zone))
        except (ZoneInfoNotFoundError, ValueError):
            raise bad(f"time.zone {zone!r} is not an IANA time zone name") from None

    status_map_raw = data.get("status_map", {})
    if not isinstance(status_map_raw, dict):
        raise bad("[status_map] must be a table of outcome = Twilio status")
    status_map: dict[str, str] = {}
    for outcome, status in status_map_raw.items():
        if status not in CALL_STATUSES:
            raise bad(
                f"status_map.{outcome}: {status!r} is not a Twilio call status "
                f"({', '.join(CALL_STATUSES)})"
            )
        status_map[str(outcome).strip().lower()] = status
    if status_map and "status" not in columns:
        raise bad("[status_map] needs columns.status (the column it maps)")
    return RecordsFormat(
        source=source,
        name=name.strip(),
        columns=columns,
        group=group,
        delimiter=delimiter,
        time_format=time_format,
        time_zone=None if zone is None else str(zone),
        status_map=status_map,
        description=description,
        duration_unit=duration_unit,
    )
