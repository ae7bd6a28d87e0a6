"""Match a file's column headers to canonical field names, forgiving case and separators.

Twilio publishes no Console CSV header, so `Call Sid`, `CallSid`, `call_sid` and `sid` must all
find the `sid` field; a file that lacks a required field is refused with the names it lacks.
"""

from __future__ import annotations

import re

from auditor.errors import InputError

# Spellings seen in exports that are not the API name with separators removed.
ALIASES = {
    "callsid": "sid",
    "sid": "sid",
    "accountsid": "account_sid",
    "parentcallsid": "parent_call_sid",
    "parentsid": "parent_call_sid",
    "from": "from",
    "caller": "from",
    "to": "to",
    "called": "to",
    "durationseconds": "duration",
    "durations": "duration",
    "currency": "price_unit",
    "startdate": "start_date",
    "enddate": "end_date",
    "startday": "start_date",
    "endday": "end_date",
}


def squash(header: str) -> str:
    """`Call Sid` / `call_sid` / `CALL-SID` -> `callsid`."""
    return re.sub(r"[^0-9a-z]", "", header.strip().lower())


def map_headers(headers: list[str], fields: tuple[str, ...]) -> dict[str, str]:
    """{file header: canonical field} for every header that names a field (first one wins)."""
    lookup = {squash(f): f for f in fields}
    mapping: dict[str, str] = {}
    taken: set[str] = set()
    for header in headers:
        key = squash(header)
        field = ALIASES.get(key, lookup.get(key))
        if field in fields and field not in taken:
            mapping[header] = field
            taken.add(field)
    return mapping


def require(mapping: dict[str, str], required: tuple[str, ...], file: str) -> None:
    missing = [f for f in required if f not in mapping.values()]
    if missing:
        raise InputError(file, f"required column(s) missing: {', '.join(missing)}", row=1)
