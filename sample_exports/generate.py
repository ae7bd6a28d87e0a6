#!/usr/bin/env python3
"""Generate the sample Twilio exports of one fictional account, with planted problems.

Writes call logs in every supported format (Console CSV, REST API pages, Bulk Export day files,
Parquet), usage records (API page, CSV, Parquet), `tests/sample_expected.json` (what an audit
must find) and
`README.md`. Deterministic: `random.Random(20251101)`, gzip with mtime 0, Parquet without
statistics, so two runs give byte-identical files.

It deliberately does not import the `auditor` package: the figures in
`tests/sample_expected.json` are an independent computation of the billing model, which the
tests compare the auditor against.

Usage: python sample_exports/generate.py [--out DIR] [--expected FILE]
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import json
import math
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from email.utils import format_datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl

SEED = 20251101
ACCOUNT = "AC5f1a9e0c7b3d24e6a8f0b1c2d3e4f5a6"
NY = ZoneInfo("America/New_York")
PREFIX = "sample_exports"  # how a user running `auditor validate sample_exports/` sees the files
API = f"/2010-04-01/Accounts/{ACCOUNT}"

# The account's numbers: local DIDs, toll-free numbers, PBX numbers behind the SIP trunk.
DIDS = [f"+121255501{n:02d}" for n in range(12)]
TOLLFREE = [f"+188855501{n:02d}" for n in range(3)]
PBX_DIDS = [f"+121255501{n:02d}" for n in range(50, 56)]
PBX_HOST = "pbx.acme.example"
SIP_DOMAIN = "acme.sip.twilio.com"
CLIENTS = ["client:alice", "client:bob"]
SIP_USERS = [f"sip:{u}@{SIP_DOMAIN}" for u in ("alice", "bob", "frontdesk")]
# fmt: off
AREA_CODES = [
    "201", "203", "305", "312", "347", "404", "415", "516", "617",
    "631", "646", "718", "732", "845", "908", "914", "917", "973",
]
# fmt: on
INTERNATIONAL = ["+4420794601", "+349155501", "+4930555010"]  # + 2 digits: UK, Spain, Germany
EXT = "external"  # placeholder: a random outside party
US_TOLLFREE = tuple(f"+1{p}" for p in ("800", "833", "844", "855", "866", "877", "888"))
# fmt: off
CONSOLE_HEADER = [
    "Call Sid", "Date Created", "Start Time", "End Time", "Duration", "From", "To", "Direction",
    "Status", "Price", "Price Unit", "Parent Call Sid",
]

USAGE_CSV_HEADER = [
    "account_sid", "category", "description", "start_date", "end_date", "count", "count_unit",
    "usage", "usage_unit", "price", "price_unit", "as_of",
]
# The Usage Records subresources each record links to: (key, path).
SUBRESOURCES = [
    ("all_time", "AllTime"), ("daily", "Daily"), ("last_month", "LastMonth"),
    ("monthly", "Monthly"), ("this_month", "ThisMonth"), ("today", "Today"),
    ("yearly", "Yearly"), ("yesterday", "Yesterday"),
]
# fmt: on

RATES = {
    "calls-outbound": Decimal("0.0140"),
    "calls-inbound-local": Decimal("0.0085"),
    "calls-inbound-tollfree": Decimal("0.0220"),
    "calls-client": Decimal("0.0040"),
    "calls-sip-inbound": Decimal("0.0040"),
    "calls-sip-outbound": Decimal("0.0040"),
    "trunking-origination": Decimal("0.0034"),
    "trunking-termination": Decimal("0.0050"),
}
LEAVES = tuple(RATES)
ROLLUPS = {
    "calls-inbound": ("calls-inbound-local", "calls-inbound-tollfree"),
    "calls": ("calls-inbound-local", "calls-inbound-tollfree", "calls-outbound"),
    "calls-sip": ("calls-sip-inbound", "calls-sip-outbound"),
}
DESCRIPTIONS = {
    "calls": "Total Calls",
    "calls-inbound": "Inbound Voice Calls",
    "calls-inbound-local": "Inbound Local Calls",
    "calls-inbound-tollfree": "Inbound Toll-Free Calls",
    "calls-outbound": "Outbound Voice Calls",
    "calls-client": "Client Calls",
    "calls-sip": "SIP Calls",
    "calls-sip-inbound": "SIP Inbound Calls",
    "calls-sip-outbound": "SIP Outbound Calls",
    "trunking-origination": "Trunking Origination Minutes",
    "trunking-termination": "Trunking Termination Minutes",
    "sms-outbound": "Outbound SMS",
    "answering-machine-detection": "Answering Machine Detection",
    "calls-recordings": "Call Recordings",
    "totalprice": "Total Price",
}
VOICE_CATEGORIES = tuple(DESCRIPTIONS)[:11]
STATUSES = {
    "queued",
    "ringing",
    "in-progress",
    "completed",
    "busy",
    "failed",
    "no-answer",
    "canceled",
}
UNSETTLED = ("in-progress", "ringing", "queued")

Usage = tuple[int, int, Decimal]  # count, minutes, price of one usage record
# Planted usage discrepancies (November): category -> what usage bills beyond the logs.
DISCREPANCIES: dict[str, Usage] = {
    "calls-outbound": (0, 7, 7 * RATES["calls-outbound"]),
    "calls-inbound-local": (1, 3, 3 * RATES["calls-inbound-local"]),
    "calls-client": (0, 0, Decimal("0.25")),
}
# The same discrepancies in the daily `calls` records, on the day each belongs to.
DAILY_DISCREPANCIES: dict[date, Usage] = {
    date(2025, 11, 20): DISCREPANCIES["calls-outbound"],
    date(2025, 11, 12): DISCREPANCIES["calls-inbound-local"],
}


def money(value: Decimal) -> str:
    """Decimal -> text with exactly 5 decimals (usage records, expected.json)."""
    return format(value.quantize(Decimal("0.00001")), "f")


def category_of(direction: str, frm: str, to: str) -> str:
    """Usage category of one call leg: the billing model's first matching rule."""
    if direction == "trunking-originating":
        return "trunking-origination"
    if direction == "trunking-terminating":
        return "trunking-termination"
    if frm.startswith("client:") or to.startswith("client:"):
        return "calls-client"
    if frm.startswith("sip:") or to.startswith("sip:"):
        return "calls-sip-inbound" if direction == "inbound" else "calls-sip-outbound"
    if direction == "inbound":
        tollfree = to.startswith(US_TOLLFREE)
        return "calls-inbound-tollfree" if tollfree else "calls-inbound-local"
    return "calls-outbound"


def billed_minutes(duration: int) -> int:
    """Per-leg rounding: whole minutes, rounded up, at least one."""
    return max(1, math.ceil(duration / 60))


def formatted(address: str) -> str:
    """`from_formatted` / `to_formatted` as the API shows them."""
    if address.startswith("+1") and len(address) == 12:
        return f"({address[2:5]}) {address[5:8]}-{address[8:]}"
    return address


@dataclass
class Leg:
    """One call leg: its true values, how exports garble it, and where it was written."""

    sid: str
    direction: str
    frm: str
    to: str
    status: str
    start: datetime
    end: datetime | None
    duration: int | None
    parent: str | None = None
    answered_by: str | None = None
    trunk_sid: str | None = None
    phone_number_sid: str | None = None
    queue_time: str = "0"
    price_pending: bool = False
    blank_duration: bool = False  # an unanswered leg whose export leaves duration empty
    price_decimals: int = 5
    corrupt: bool = False  # a planted bad row: not a real billed call
    overrides: dict[str, object] = field(default_factory=dict)  # raw values written instead
    wall_offset: timedelta | None = None  # DST-gap row: the UTC offset the Console wall time used
    tags: list[str] = field(default_factory=list)
    locations: list[tuple[str, int]] = field(default_factory=list)  # (source_file, source_row)

    @property
    def category(self) -> str:
        return category_of(self.direction, self.frm, self.to)

    @property
    def billable(self) -> bool:
        return self.status == "completed" and not self.corrupt

    @property
    def minutes(self) -> int:
        return billed_minutes(self.duration or 0) if self.billable else 0

    @property
    def rated_price(self) -> Decimal | None:
        """The (negative) price Twilio charges a completed leg, also while it is pending."""
        if self.status != "completed":
            return None
        return -(billed_minutes(max(self.duration or 0, 0)) * RATES[self.category])

    @property
    def price_text(self) -> str | None:
        price = None if self.price_pending else self.rated_price
        if price is None:
            return None
        decimals = self.price_decimals
        if price != round(price, decimals):
            decimals = 5
        return f"{price:.{decimals}f}"

    @property
    def created(self) -> datetime:
        return self.start - timedelta(seconds=2 if self.direction == "outbound-api" else 1)

    @property
    def updated(self) -> datetime:
        return (self.end or self.start + timedelta(seconds=2)) + timedelta(seconds=1)


class Traffic:
    """Seeded traffic of the account: scenarios, each creating one or more legs."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.trunk_sid = self.sid("TK")
        self.number_sids = {n: self.sid("PN") for n in (*DIDS, *TOLLFREE)}
        self.legs: list[Leg] = []

    def sid(self, prefix: str) -> str:
        return f"{prefix}{self.rng.getrandbits(128):032x}"

    def external(self, international: float = 0.0) -> str:
        if self.rng.random() < international:
            return f"{self.rng.choice(INTERNATIONAL)}{self.rng.randint(0, 99):02d}"
        return f"+1{self.rng.choice(AREA_CODES)}55501{self.rng.randint(0, 99):02d}"

    def status(self, **weights: int) -> str:
        names = [k.replace("_", "-") for k in weights]
        return self.rng.choices(names, weights=list(weights.values()))[0]

    def talk(self) -> int:
        r = self.rng.random()
        if r < 0.3:
            return self.rng.randint(6, 59)
        return self.rng.randint(60, 300) if r < 0.8 else self.rng.randint(301, 1500)

    def leg(
        self, direction: str, frm: str, to: str, status: str, start: datetime, duration: int,
        ring: int = 0, **extra: object,
    ) -> Leg:  # fmt: skip
        """A settled leg: a completed one lasts `duration`, any other ends after `ring` s."""
        frm, to = (self.external() if a == EXT else a for a in (frm, to))
        duration = duration if status == "completed" else 0
        leg = Leg(
            sid=self.sid("CA"),
            direction=direction,
            frm=frm,
            to=to,
            status=status,
            start=start,
            end=start + timedelta(seconds=duration if status == "completed" else ring),
            duration=duration,
            blank_duration=status != "completed" and self.rng.random() < 0.3,
            price_decimals=self.rng.choice((3, 4, 5, 5)),
            **extra,  # type: ignore[arg-type]
        )
        if direction == "inbound":
            leg.phone_number_sid = self.number_sids.get(to)
        if direction.startswith("trunking"):
            leg.trunk_sid = self.trunk_sid
        self.legs.append(leg)
        return leg

    def dial_child(self, parent: Leg, frm: str, to: str) -> None:
        """A `<Dial>` child leg; the parent lasts ring + talk (+ voicemail if no answer)."""
        status = self.status(completed=76, no_answer=10, busy=7, failed=3, canceled=4)
        start = parent.start + timedelta(seconds=self.rng.randint(2, 9))
        ring = self.rng.randint(4, 25)
        child = self.leg("outbound-dial", frm, to, status, start, self.talk(), ring)
        child.parent = parent.sid
        assert child.end is not None
        tail = self.rng.randint(0, 3) if status == "completed" else self.rng.randint(15, 80)
        parent.end = child.end + timedelta(seconds=tail)
        parent.duration = int((parent.end - parent.start).total_seconds())

    def inbound(self, start: datetime, tollfree: bool = False) -> None:
        """A caller rings a DID or toll-free number; often forwarded to a phone, client or SIP."""
        to = self.rng.choice(TOLLFREE if tollfree else DIDS)
        status = self.status(completed=94, canceled=3, busy=1, failed=2)
        parent = self.leg("inbound", self.external(0.05), to, status, start, self.talk(), 3)
        if status == "completed" and self.rng.random() < 0.7:
            target = self.rng.random()
            if target < 0.5:
                self.dial_child(parent, to, self.external())
            else:
                agents = CLIENTS if target < 0.75 else SIP_USERS
                self.dial_child(parent, parent.frm, self.rng.choice(agents))

    def outbound_api(self, start: datetime) -> None:
        """A call created through the REST API (reminders), some with machine detection (AMD)."""
        status = self.status(completed=68, no_answer=12, busy=8, failed=6, canceled=6)
        amd = None
        if status == "completed" and self.rng.random() < 0.6:
            amd = self.rng.choice(("human", "human", "machine_start", "machine_end_beep"))
        frm = self.rng.choice(DIDS[:4] + TOLLFREE[:1])
        ring = self.rng.randint(5, 30)
        leg = self.leg("outbound-api", frm, self.external(0.08), status, start, self.talk(), ring)
        leg.answered_by, leg.queue_time = amd, str(self.rng.randint(0, 1500))

    def client_outbound(self, start: datetime) -> None:
        """An agent dials out from the browser: client leg plus PSTN child."""
        to = self.external(0.06)
        parent = self.leg("inbound", self.rng.choice(CLIENTS), to, "completed", start, 0)
        self.dial_child(parent, self.rng.choice(DIDS[:4]), to)

    def sip_outbound(self, start: datetime) -> None:
        """A desk phone on the SIP domain dials out: SIP leg plus PSTN child."""
        to = self.external(0.04)
        user = self.rng.choice(SIP_USERS)
        parent = self.leg("inbound", user, f"sip:{to}@{SIP_DOMAIN}", "completed", start, 0)
        self.dial_child(parent, self.rng.choice(DIDS[:4]), to)

    def trunk_originating(self, start: datetime) -> None:
        """PSTN -> PBX over the Elastic SIP trunk."""
        status = self.status(completed=86, no_answer=6, busy=5, failed=3)
        to = f"sip:{self.rng.choice(PBX_DIDS)}@{PBX_HOST}"
        self.leg("trunking-originating", self.external(0.1), to, status, start, self.talk(), 12)

    def trunk_terminating(self, start: datetime) -> None:
        """PBX -> PSTN over the Elastic SIP trunk."""
        status = self.status(completed=80, no_answer=9, busy=6, failed=3, canceled=2)
        frm = f"sip:{self.rng.choice(PBX_DIDS)}@{PBX_HOST}"
        ring = self.rng.randint(5, 30)
        self.leg("trunking-terminating", frm, self.external(0.12), status, start, self.talk(), ring)

    def business_day(self, day: date, scenarios: int) -> None:
        """`scenarios` calls started at random New York business-hours times of `day`."""
        kinds: list[tuple[Callable[[datetime], None], int]] = [
            (self.inbound, 30),
            (lambda s: self.inbound(s, tollfree=True), 9),
            (self.outbound_api, 20),
            (self.client_outbound, 11),
            (self.sip_outbound, 7),
            (self.trunk_originating, 11),
            (self.trunk_terminating, 12),
        ]
        starts = []
        for _ in range(scenarios):
            hour = self.rng.choices(range(8, 19), weights=[2, 5, 6, 6, 4, 5, 6, 6, 5, 3, 1])[0]
            wall = datetime(day.year, day.month, day.day, hour, tzinfo=NY)
            starts.append((wall + timedelta(seconds=self.rng.randint(0, 3599))).astimezone(UTC))
        for start in sorted(starts):
            self.rng.choices([k for k, _ in kinds], weights=[w for _, w in kinds])[0](start)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def local(*args: int) -> datetime:
    """A New York wall time (the first one, in an overlap) as a UTC instant."""
    return datetime(*args, tzinfo=NY).astimezone(UTC)  # type: ignore[misc]


def november(t: Traffic) -> list[Leg]:
    """November 2025: the planted edge cases (fixed times), then the month's ordinary traffic."""
    first = len(t.legs)

    def special(tag: str, *args: object, **extra: object) -> Leg:
        leg = t.leg(*args, **extra)  # type: ignore[arg-type]
        leg.tags.append(tag)
        return leg

    # Completed exactly at the period start (Console: 2025-10-31 20:00:00); 61 s bills 2 min.
    special("period-start", "inbound", EXT, DIDS[0], "completed", utc(2025, 11, 1, 0, 0, 0), 61)
    # Local 2025-10-31 21:15:00 is 2025-11-01 01:15 UTC: October locally, November in UTC.
    special(
        "timezone", "outbound-api", DIDS[1], EXT, "completed", local(2025, 10, 31, 21, 15, 0), 47,
        answered_by="human",
    )  # fmt: skip
    # DST overlap: local 2025-11-02 01:30:00 happens twice; this is the first (EDT, 05:30 UTC).
    when = local(2025, 11, 2, 1, 30, 0)
    special("dst-overlap", "inbound", EXT, TOLLFREE[0], "completed", when, 185)
    # A call SID of 31 hex digits in the Console CSV: a corrupt row, not billed.
    when = local(2025, 11, 4, 11, 7, 42)
    bad = special("bad-sid", "outbound-api", DIDS[2], EXT, "completed", when, 95)
    bad.corrupt, bad.sid = True, bad.sid[:-1]
    # A completed call of 0 s: billed the one-minute minimum.
    special(
        "zero-duration", "outbound-api", DIDS[0], EXT, "completed", local(2025, 11, 10, 10, 2, 11),
        0, answered_by="machine_start",
    )  # fmt: skip
    # An unparseable start time in an API page: a corrupt row, not billed.
    when = local(2025, 11, 10, 14, 44, 5)
    garbled = special("bad-start", "outbound-api", DIDS[3], EXT, "completed", when, 238)
    garbled.corrupt = True
    garbled.overrides["start_time"] = "Sun, 31 Nov 2025 25:61:00 +0000"
    # Exactly 60 s: one minute, nothing to round.
    pbx = f"sip:{PBX_DIDS[0]}@{PBX_HOST}"
    when = local(2025, 11, 12, 9, 31, 0)
    special("exact-minute", "trunking-terminating", pbx, EXT, "completed", when, 60)
    # Late evening 2025-11-15 UTC: on API page 1 and again as line 1 of the 11-16 day file.
    special(
        "duplicate", "outbound-api", DIDS[1], EXT, "completed", utc(2025, 11, 15, 23, 41, 7), 187,
        answered_by="human",
    )  # fmt: skip
    # A negative duration in a Bulk Export day file: a corrupt row, not billed.
    when = local(2025, 11, 19, 15, 12, 40)
    negative = special("negative-duration", "inbound", EXT, DIDS[5], "completed", when, 42)
    negative.corrupt = True
    negative.overrides["duration"] = -42
    # On 2025-11-30 after 00:00 UTC: a period end "<= 2025-11-30 00:00" would miss it.
    when = utc(2025, 11, 30, 15, 20, 44)
    special("period-end-exclusive", "outbound-api", DIDS[0], EXT, "completed", when, 133)
    when = utc(2025, 11, 30, 21, 4, 19)
    pending = special("price-pending", "inbound", EXT, TOLLFREE[1], "completed", when, 412)
    pending.price_pending = True
    # Starts in November, ends in December: November, by its start.
    when = utc(2025, 11, 30, 23, 59, 30)
    special("month-crossing", "inbound", EXT, DIDS[4], "completed", when, 150)
    # Unsettled when exported: no end time, duration or price.
    when = utc(2025, 11, 30, 23, 58, 2)
    live = special("in-progress", "inbound", EXT, DIDS[0], "in-progress", when, 0)
    when += timedelta(seconds=7)
    special("ringing", "outbound-dial", DIDS[0], EXT, "ringing", when, 0).parent = live.sid
    special("queued", "outbound-api", DIDS[2], EXT, "queued", utc(2025, 11, 30, 23, 59, 51), 0)
    for leg in t.legs[-3:]:
        leg.end, leg.duration, leg.blank_duration = None, None, True

    for day in range(1, 31):
        d = date(2025, 11, day)
        if d == date(2025, 11, 27):  # Thanksgiving
            n = 2
        else:
            n = t.rng.randint(2, 4) if d.weekday() >= 5 else t.rng.randint(7, 10)
        t.business_day(d, n)
    return sorted(t.legs[first:], key=lambda leg: leg.start)


def march(t: Traffic) -> list[Leg]:
    """The March 2025 slice around the spring-forward gap (2025-03-09 02:00-03:00 local)."""
    first = len(t.legs)
    t.inbound(local(2025, 3, 8, 10, 12, 33))
    t.outbound_api(local(2025, 3, 8, 15, 40, 9))
    t.leg("inbound", EXT, TOLLFREE[0], "completed", local(2025, 3, 9, 1, 47, 20), 203)
    # Local 02:30:00 does not exist; the call really started 06:30 UTC (the "earliest" reading).
    gap = t.leg("inbound", EXT, DIDS[6], "completed", utc(2025, 3, 9, 6, 30, 0), 95)
    gap.wall_offset = timedelta(hours=-4)
    gap.tags.append("dst-gap")
    t.trunk_originating(local(2025, 3, 9, 3, 15, 48))
    t.client_outbound(local(2025, 3, 10, 9, 5, 17))
    pbx, berlin = f"sip:{PBX_DIDS[1]}@{PBX_HOST}", f"{INTERNATIONAL[2]}42"
    when = local(2025, 3, 10, 11, 30, 2)
    t.leg("trunking-terminating", pbx, berlin, "completed", when, 321)
    return sorted(t.legs[first:], key=lambda leg: leg.start)


def pbx_dst_leg(t: Traffic) -> Leg:
    """For the PBX samples (`pbx/README.md`): a trunk call at local 2025-11-02 01:20, the first
    of the two (EDT). Drawn after all other traffic, so no other leg changes, and listed last on
    API page 1, so no existing row moves."""
    to = f"sip:{PBX_DIDS[2]}@{PBX_HOST}"
    leg = t.leg("trunking-originating", EXT, to, "completed", utc(2025, 11, 2, 5, 20, 0), 247)
    leg.tags.append("pbx-dst")
    return leg


# Rendering -------------------------------------------------------------------------------------
def rfc2822(t: datetime | None) -> str | None:
    return None if t is None else format_datetime(t.astimezone(UTC))


def iso(t: datetime | None, style: str) -> str | None:
    """ISO 8601 UTC in one of the shapes Bulk Export files are seen with."""
    if t is None:
        return None
    suffix = {"z": "Z", "ms": ".000Z", "offset": "+00:00"}[style]
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S") + suffix


def wall(leg: Leg, t: datetime | None) -> str:
    """The naive New York wall time a Console CSV prints."""
    if t is None:
        return ""
    if leg.wall_offset is not None:
        return (t.replace(tzinfo=None) + leg.wall_offset).strftime("%Y-%m-%d %H:%M:%S")
    return t.astimezone(NY).strftime("%Y-%m-%d %H:%M:%S")


def duration_value(leg: Leg) -> int | None:
    if "duration" in leg.overrides:
        return int(leg.overrides["duration"])  # type: ignore[call-overload]
    return None if leg.blank_duration else leg.duration


def api_record(leg: Leg, times: Callable[[datetime | None], object]) -> dict[str, object]:
    """The v2010 Call resource fields, sorted as Twilio serialises them, without the URIs."""
    duration = duration_value(leg)
    return {
        "account_sid": ACCOUNT,
        "answered_by": leg.answered_by,
        "api_version": "2010-04-01",
        "caller_name": None,
        "date_created": times(leg.created),
        "date_updated": times(leg.updated),
        "direction": leg.direction,
        "duration": None if duration is None else str(duration),
        "end_time": times(leg.end),
        "forwarded_from": None,
        "from": leg.frm,
        "from_formatted": formatted(leg.frm),
        "group_sid": None,
        "parent_call_sid": leg.parent,
        "phone_number_sid": leg.phone_number_sid,
        "price": leg.price_text,
        "price_unit": "USD",
        "queue_time": leg.queue_time,
        "sid": leg.sid,
        "start_time": leg.overrides.get("start_time", times(leg.start)),
        "status": leg.status,
        "to": leg.to,
        "to_formatted": formatted(leg.to),
        "trunk_sid": leg.trunk_sid,
    }


def api_call(leg: Leg) -> dict[str, object]:
    """A call as the REST API lists it: RFC 2822 times, subresource_uris and uri."""
    rec = api_record(leg, rfc2822)
    base = f"{API}/Calls/{leg.sid}"
    subs = ["Feedback", "Notifications", "Recordings", "Payments", "Events", "Siprec", "Streams"]
    uris = {s.lower(): f"{base}/{s}.json" for s in subs}
    uris["feedback_summaries"] = f"{API}/Calls/FeedbackSummary.json"
    uris["user_defined_message_subscriptions"] = f"{base}/UserDefinedMessageSubscriptions.json"
    uris["user_defined_messages"] = f"{base}/UserDefinedMessages.json"
    rec["subresource_uris"] = dict(sorted(uris.items()))
    rec["uri"] = f"{base}.json"
    return dict(sorted(rec.items()))


def csv_text(rows: Iterable[Iterable[object]]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    return buf.getvalue()


class Writer:
    """Writes files under `out`; notes each leg's (source_file, source_row) and each file's rows."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.files: dict[str, tuple[str, str, int]] = {}  # source_file -> (format, kind, rows)

    def _path(self, rel: str, fmt: str, kind: str, rows: int) -> tuple[Path, str]:
        path = self.out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        self.files[f"{PREFIX}/{rel}"] = (fmt, kind, rows)
        return path, f"{PREFIX}/{rel}"

    def console_csv(self, rel: str, legs: list[Leg]) -> None:
        path, name = self._path(rel, "twilio-console-csv", "calls", len(legs))
        rows: list[list[object]] = [CONSOLE_HEADER]
        for line, leg in enumerate(legs, start=2):
            duration = duration_value(leg)
            times = [wall(leg, t) for t in (leg.created, leg.start, leg.end)]
            fields = ["" if duration is None else duration, leg.frm, leg.to, leg.direction]
            fields += [leg.status, leg.price_text or "", "USD", leg.parent or ""]
            rows.append([leg.sid, *times, *fields])
            leg.locations.append((name, line))
        path.write_text(csv_text(rows), encoding="utf-8")

    def api_pages(self, rels: list[str], legs: list[Leg], size: int) -> None:
        """Consecutive Calls list pages; next_page_uri carries a PageToken to the next one."""
        pages = [legs[i : i + size] for i in range(0, len(legs), size)]
        assert len(pages) == len(rels)
        query = "StartTime%3E=2025-11-08&StartTime%3C=2025-11-16"

        def uri(n: int, token: str = "") -> str:
            tail = f"&PageToken={token}" if token else ""
            return f"{API}/Calls.json?{query}&PageSize={size}&Page={n}{tail}"

        for n, (rel, page) in enumerate(zip(rels, pages, strict=True)):
            path, name = self._path(rel, "twilio-api-calls", "calls", len(page))
            for index, leg in enumerate(page, start=1):
                leg.locations.append((name, index))
            last = n + 1 == len(pages)
            doc = {
                "calls": [api_call(leg) for leg in page],
                "end": n * size + len(page) - 1,
                "first_page_uri": uri(0),
                "next_page_uri": None if last else uri(n + 1, "PA" + page[-1].sid),
                "page": n,
                "page_size": size,
                "previous_page_uri": uri(n - 1, "PB" + page[0].sid) if n else None,
                "start": n * size,
                "uri": uri(n, "PA" + pages[n - 1][-1].sid) if n else uri(0),
            }
            path.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")

    def bulk_day(self, rel: str, legs: list[Leg], style: str, numbers: bool) -> None:
        """A gzipped JSON-lines day file; `numbers` writes duration as a JSON number."""
        path, name = self._path(rel, "twilio-bulk-export", "calls", len(legs))
        lines = []
        for line, leg in enumerate(legs, start=1):
            rec = api_record(leg, lambda t: iso(t, style))
            if numbers and rec["duration"] is not None:
                rec["duration"] = int(str(rec["duration"]))
            lines.append(json.dumps(rec, sort_keys=True, separators=(",", ":")) + "\n")
            leg.locations.append((name, line))
        path.write_bytes(gzip.compress("".join(lines).encode(), compresslevel=9, mtime=0))

    def calls_parquet(self, rel: str, legs: list[Leg]) -> None:
        path, name = self._path(rel, "twilio-calls-parquet", "calls", len(legs))
        rows = []
        for row, leg in enumerate(legs, start=1):
            rows.append({**api_record(leg, lambda t: t), "duration": duration_value(leg)})
            leg.locations.append((name, row))
        ts = pl.Datetime("us", "UTC")
        typed = {"date_created": ts, "date_updated": ts, "start_time": ts, "end_time": ts}
        schema = {k: typed.get(k, pl.String) for k in rows[0]} | {"duration": pl.Int64}
        pl.DataFrame(rows, schema=schema, orient="row").write_parquet(path, statistics=False)

    def usage_page(self, rel: str, records: list[dict[str, object]]) -> None:
        path, _ = self._path(rel, "twilio-api-usage", "usage", len(records))
        query = "StartDate=2025-11-01&EndDate=2025-11-30&PageSize=50&Page=0"
        uri = f"{API}/Usage/Records/Monthly.json?{query}"
        listed = []
        for rec in records:
            cat = rec["category"]
            subs = {k: f"{API}/Usage/Records/{n}.json?Category={cat}" for k, n in SUBRESOURCES}
            listed.append(dict(sorted({**rec, "subresource_uris": subs}.items())))
        doc = {
            "end": len(records) - 1,
            "first_page_uri": uri,
            "next_page_uri": None,
            "page": 0,
            "page_size": 50,
            "previous_page_uri": None,
            "start": 0,
            "uri": uri,
            "usage_records": listed,
        }
        path.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")

    def usage_csv(self, rel: str, records: list[dict[str, object]]) -> None:
        path, _ = self._path(rel, "twilio-usage-csv", "usage", len(records))
        rows = [["" if r[c] is None else r[c] for c in USAGE_CSV_HEADER] for r in records]
        path.write_text(csv_text([USAGE_CSV_HEADER, *rows]), encoding="utf-8")

    def usage_parquet(self, rel: str, records: list[dict[str, object]]) -> None:
        path, _ = self._path(rel, "twilio-usage-parquet", "usage", len(records))
        schema = dict.fromkeys(records[0], pl.String)
        pl.DataFrame(records, schema=schema, orient="row").write_parquet(path, statistics=False)


# Expected figures ------------------------------------------------------------------------------
@dataclass
class Tally:
    """The log side of one (period, category): what the logs hold and what they predict."""

    logged: int = 0
    billable: int = 0
    seconds: int = 0
    minutes: int = 0
    logged_price: Decimal = Decimal(0)  # |price| of billable legs that carry one
    expected_price: Decimal = Decimal(0)  # rated price of every billable leg (pending included)

    @classmethod
    def of(cls, legs: Iterable[Leg], categories: Iterable[str]) -> Tally:
        t, wanted = cls(), set(categories)
        for leg in (leg for leg in legs if leg.category in wanted):
            t.logged += 1
            if leg.billable and leg.rated_price is not None:
                t.billable += 1
                t.seconds += leg.duration or 0
                t.minutes += leg.minutes
                t.expected_price -= leg.rated_price
                t.logged_price -= 0 if leg.price_pending else leg.rated_price
        return t

    def usage(self, extra: Usage | None = None) -> Usage:
        """What a correct usage record bills, plus a planted discrepancy."""
        count, minutes, price = extra or (0, 0, Decimal(0))
        return self.billable + count, self.minutes + minutes, self.expected_price + price

    def row(self, key: dict[str, object], usage: Usage) -> dict[str, object]:
        count, minutes, price = usage
        return {
            **key,
            "logged_calls": self.logged,
            "billable_calls": self.billable,
            "log_seconds": self.seconds,
            "expected_minutes": self.minutes,
            "logged_price": money(self.logged_price),
            "expected_price": money(self.expected_price),
            "usage_count": count,
            "usage_minutes": minutes,
            "usage_price": money(price),
            "unexplained_count": count - self.billable,
            "unexplained_minutes": minutes - self.minutes,
            "unexplained_price": money(price - self.expected_price),
        }


def month_usage(legs: list[Leg], discrepancies: dict[str, Usage]) -> dict[str, Usage]:
    """Usage per voice category; a roll-up is the sum of its children."""
    usage = {c: Tally.of(legs, [c]).usage(discrepancies.get(c)) for c in LEAVES}
    for parent, children in ROLLUPS.items():
        parts = [usage[c] for c in children]
        usage[parent] = (
            sum(p[0] for p in parts),
            sum(p[1] for p in parts),
            sum((p[2] for p in parts), Decimal(0)),
        )
    return usage


def usage_record(
    category: str, start: str, end: str, values: tuple[int | None, str, str], as_of: str,
    kind: str = "Monthly", units: tuple[str, str] = ("calls", "minutes"),
) -> dict[str, object]:  # fmt: skip
    """One usage record with the API's field names (count/usage/price as strings)."""
    count, usage, price = values
    return {
        "account_sid": ACCOUNT,
        "api_version": "2010-04-01",
        "as_of": as_of,
        "category": category,
        "count": None if count is None else str(count),
        "count_unit": units[0],
        "description": DESCRIPTIONS[category],
        "end_date": end,
        "price": price,
        "price_unit": "usd",
        "start_date": start,
        "uri": f"{API}/Usage/Records/{kind}.json?Category={category}"
        f"&StartDate={start}&EndDate={end}",
        "usage": usage,
        "usage_unit": units[1],
    }


def voice_records(usage: dict[str, Usage], start: str, end: str, as_of: str) -> list[dict]:
    return [
        usage_record(c, start, end, (usage[c][0], str(usage[c][1]), money(usage[c][2])), as_of)
        for c in VOICE_CATEGORIES
    ]


def totalprice(start: str, end: str, prices: Iterable[Decimal], as_of: str) -> dict[str, object]:
    total = money(sum(prices, Decimal(0)))
    return usage_record("totalprice", start, end, (None, total, total), as_of, units=("", "usd"))


# Writing everything ----------------------------------------------------------------------------
def write_calls(w: Writer, nov: list[Leg], mar: list[Leg], dup: Leg) -> None:
    """Split November across the formats by date (each leg in exactly one file, but `dup`)."""
    console, api, parquet = [], [], []
    bulk: dict[date, list[Leg]] = {}
    for leg in nov:
        assert date(2025, 11, 1) <= leg.start.date() <= date(2025, 11, 30)
        if "pbx-dst" in leg.tags:
            continue  # listed last on API page 1 (below)
        if leg.start.astimezone(NY).date() <= date(2025, 11, 7):
            console.append(leg)
        elif leg.start.date() <= date(2025, 11, 15):
            api.append(leg)
        elif leg.start.date() <= date(2025, 11, 23):
            bulk.setdefault(leg.start.date(), [dup] if leg.start.day == 16 else []).append(leg)
        else:
            parquet.append(leg)
    w.console_csv("console_calls_2025-11_new_york.csv", console)
    w.console_csv("console_calls_2025-03-09_new_york.csv", mar)
    api += [leg for leg in nov if "pbx-dst" in leg.tags]
    size = 50
    assert size < len(api) <= 2 * size and api.index(dup) >= size
    w.api_pages(["api_calls_2025-11_page0.json", "api_calls_2025-11_page1.json"], api, size)
    for n, day in enumerate(sorted(bulk)):
        style = ("z", "ms", "offset")[n % 3]
        w.bulk_day(f"bulk_export/{day.isoformat()}.json.gz", bulk[day], style, n % 2 == 1)
    w.calls_parquet("calls_2025-11-24_to_30.parquet", parquet)


def write_usage(w: Writer, nov: list[Leg], mar: list[Leg]) -> tuple[list[dict], list[dict]]:
    """The three usage files; returns expected.json's `monthly` and `daily_calls` rows."""
    nov_usage, mar_usage = month_usage(nov, DISCREPANCIES), month_usage(mar, {})
    as_of, nov_span = "2025-12-01T06:12:44+00:00", ("2025-11-01", "2025-11-30")
    records = voice_records(nov_usage, *nov_span, as_of)
    amd = sum(1 for leg in nov if leg.answered_by and leg.billable)
    others = [  # non-voice rows a voice audit must ignore: category, count, usage, price, units
        ("sms-outbound", 1183, 1183, Decimal("0.0083") * 1183, ("messages", "messages")),
        ("answering-machine-detection", amd, amd, Decimal("0.0075") * amd, ("calls", "calls")),
        ("calls-recordings", 37, 212, Decimal("0.0025") * 212, ("recordings", "minutes")),
    ]
    for cat, count, usage, price, units in others:
        values = (count, str(usage), money(price))
        records.append(usage_record(cat, *nov_span, values, as_of, units=units))
    prices = [nov_usage[c][2] for c in LEAVES] + [o[3] for o in others]
    records.append(totalprice(*nov_span, prices, as_of))
    w.usage_page("usage/2025-11_monthly.json", records)

    mar_as_of, mar_span = "2025-04-01T05:48:09+00:00", ("2025-03-01", "2025-03-31")
    mar_records = voice_records(mar_usage, *mar_span, mar_as_of)
    mar_records.append(totalprice(*mar_span, [mar_usage[c][2] for c in LEAVES], mar_as_of))
    w.usage_csv("usage/2025-03_monthly.csv", mar_records)

    daily_rows, daily_records = [], []
    for day in (date(2025, 11, d) for d in range(1, 31)):
        tally = Tally.of((leg for leg in nov if leg.start.date() == day), ROLLUPS["calls"])
        u = tally.usage(DAILY_DISCREPANCIES.get(day))
        daily_rows.append(tally.row({"date": day.isoformat(), "category": "calls"}, u))
        values = (u[0], str(u[1]), money(u[2]))
        daily_records.append(
            usage_record("calls", day.isoformat(), day.isoformat(), values, as_of, "Daily")
        )
    daily_sum = (
        sum(r["usage_count"] for r in daily_rows),
        sum(r["usage_minutes"] for r in daily_rows),
    )
    assert daily_sum == nov_usage["calls"][:2], "daily `calls` records must add up to the month"
    w.usage_parquet("usage/2025-11_daily_calls.parquet", daily_records)

    monthly = [
        Tally.of(legs, ROLLUPS.get(c, (c,))).row({"period": period, "category": c}, usage[c])
        for period, legs, usage in (("2025-11", nov, nov_usage), ("2025-03", mar, mar_usage))
        for c in VOICE_CATEGORIES
    ]
    return monthly, daily_rows


def reject(leg: Leg, column: str, value: object, reason: str, what: str, n: int = 0) -> dict:
    file, row = leg.locations[n]
    return {
        "source_file": file,
        "source_row": row,
        "column": column,
        "value": str(value),
        "reason_contains": reason,
        "what": what,
    }


def located(leg: Leg) -> list[dict[str, object]]:
    return [{"source_file": f, "source_row": r} for f, r in leg.locations]


def build_expected(
    w: Writer, tags: dict[str, Leg], monthly: list[dict], daily: list[dict]
) -> dict[str, object]:
    """expected.json: rejects, the duplicate, figures per category and day, the planted cases."""
    dup = tags["duplicate"]
    first = "{}:{}".format(*dup.locations[0])
    rejects = [
        reject(
            tags["bad-sid"], "sid", tags["bad-sid"].sid, "not a call SID",
            "call SID has 31 hex digits",
        ),
        reject(
            tags["bad-start"], "start_time", tags["bad-start"].overrides["start_time"],
            "unparseable time", "start time is no real time (31 Nov, 25:61)",
        ),
        reject(tags["negative-duration"], "duration", -42, "negative duration", "duration -42 s"),
        reject(dup, "sid", dup.sid, f"duplicate of {first}", "the same call exported twice", 1),
    ]  # fmt: skip
    rejects.sort(key=lambda r: (r["source_file"], r["source_row"], r["column"]))
    dst_rejects = [
        reject(leg, column, wall(leg, t), f"DST {kind}", f"local time in the DST {kind}")
        for kind in ("overlap", "gap")
        for leg in [tags[f"dst-{kind}"]]
        for column, t in (("start_time", leg.start), ("end_time", leg.end))
    ]

    def rows_rejected(name: str, found: list[dict]) -> int:
        return len({r["source_row"] for r in found if r["source_file"] == name})

    files = [
        {"source_file": name, "format": fmt, "kind": kind, "rows": rows,
         "rejected": rows_rejected(name, rejects),
         "rejected_with_dst_reject": rows_rejected(name, rejects + dst_rejects)}
        for name, (fmt, kind, rows) in sorted(w.files.items())
    ]  # fmt: skip

    def case(tag: str, kind: str, note: str) -> dict[str, object]:
        leg = tags[tag]
        return {"case": tag, "kind": kind, "call_sid": leg.sid, "locations": located(leg),
                "category": leg.category, "status": leg.status, "billed_minutes": leg.minutes,
                "note": note}  # fmt: skip

    def discrepancy(case: str, category: str, day: str | None, note: str) -> dict[str, object]:
        count, minutes, price = DISCREPANCIES[category]
        return {"case": case, "kind": "usage-discrepancy", "period": "2025-11",
                "category": category, "daily_date": day, "count": count, "minutes": minutes,
                "price": money(price), "note": note}  # fmt: skip

    return {
        "account_sid": ACCOUNT,
        "generator": {"command": "python sample_exports/generate.py", "seed": SEED},
        "dst_policy": "earliest",
        "files": files,
        "rejects": rejects,
        "dst_rejects": dst_rejects,
        "duplicate": {
            "call_sid": dup.sid,
            "kept": located(dup)[0],
            "rejected": located(dup)[1],
            "reason_contains": f"duplicate of {first}",
        },
        "monthly": monthly,
        "daily_calls": daily,
        "planted": [
            case("bad-sid", "bad-row", "call SID of 31 hex digits: rejected, not billed"),
            case("bad-start", "bad-row", "unparseable start time: rejected, not billed"),
            case("negative-duration", "bad-row", "duration -42: rejected, not billed"),
            case("duplicate", "duplicate", "the same call in two exports: billed once"),
            discrepancy("over-billed-minutes", "calls-outbound", "2025-11-20", "7 minutes more"),
            discrepancy(
                "call-missing-from-logs", "calls-inbound-local", "2025-11-12",
                "a billed 3-minute call deleted from the account's logs",
            ),
            discrepancy("price-differs", "calls-client", None, "usage price 0.25 above rating"),
            case("period-start", "explained", "completed at exactly 2025-11-01 00:00:00 UTC"),
            case("timezone", "explained", "local 2025-10-31 21:15:00 = 2025-11-01 01:15 UTC"),
            case("dst-overlap", "explained", "local 2025-11-02 01:30:00, first occurrence (EDT)"),
            case("dst-gap", "explained", "local 2025-03-09 02:30:00 (gap) = 06:30 UTC"),
            case("zero-duration", "explained", "completed, 0 s: billed 1 minute"),
            case("exact-minute", "explained", "completed, 60 s: billed 1 minute"),
            case("month-crossing", "explained", "2025-11-30 23:59:30 to 2025-12-01 00:02:00"),
            case("period-end-exclusive", "explained", "starts 2025-11-30 after 00:00 UTC"),
            case("price-pending", "explained", "completed, price still null"),
            *(case(s, "explained", "unsettled: no end, duration or price") for s in UNSETTLED),
        ],
    }  # fmt: skip


# README ----------------------------------------------------------------------------------------
FILE_NOTES = {
    "api_calls_2025-11_page0.json": ("REST API v2010 Calls list, page 0 (RFC 2822 times)",
                                     "UTC start 2025-11-08 .. 2025-11-15"),
    "api_calls_2025-11_page1.json": ("REST API v2010 Calls list, page 1", "continues page 0"),
    "bulk_export/": ("Bulk Export Calls day file (gzip, JSON lines, ISO 8601 UTC)", "UTC day"),
    "calls_2025-11-24_to_30.parquet": ("Parquet, API field names, UTC timestamps",
                                       "UTC start 2025-11-24 .. 2025-11-30"),
    "console_calls_2025-03-09_new_york.csv": ("Console call-log CSV, naive New York times",
                                              "the March slice, 2025-03-08 .. 2025-03-10"),
    "console_calls_2025-11_new_york.csv": ("Console call-log CSV, naive New York times",
                                           "local start 2025-10-31 20:00 .. 2025-11-07"),
    "usage/2025-03_monthly.csv": ("Usage records CSV, API field names",
                                  "March 2025: voice categories, totalprice"),
    "usage/2025-11_daily_calls.parquet": ("Usage records Parquet (all text)",
                                          "daily `calls` records, 2025-11-01 .. 30"),
    "usage/2025-11_monthly.json": ("REST API Usage Records Monthly page",
                                   "November 2025: voice and non-voice categories"),
}  # fmt: skip
EXPLAINED = [  # rule, tags of the legs showing it, what happens
    ("rounding", ["period-start"], "61 s bills 2 minutes: every leg rounds up to whole minutes"),
    ("exact minute", ["exact-minute"], "60 s bills 1 minute"),
    ("zero duration", ["zero-duration"], "`completed` with 0 s bills the 1-minute minimum"),
    ("unbilled statuses", [], "busy / failed / no-answer / canceled: no duration, no price"),
    ("client, SIP, trunking", [], "`client:` legs are `calls-client`, `sip:` legs `calls-sip-*`,"
     " trunk legs `trunking-*`; none of them is in `calls`"),
    ("period start", ["period-start"], "completed at 2025-11-01 00:00:00 UTC (local 10-31 20:00)"),
    ("timezone", ["timezone"], "local 2025-10-31 21:15:00 is 2025-11-01 01:15 UTC: November"),
    ("DST overlap", ["dst-overlap"], "local 2025-11-02 01:30:00 exists twice; the first (EDT)"),
    ("DST gap", ["dst-gap"], "local 2025-03-09 02:30:00 does not exist; started 06:30 UTC"),
    ("start-date attribution", ["month-crossing"], "23:59:30 11-30 to 00:02:00 12-01: November"),
    ("period end exclusive", ["period-end-exclusive"], "starts on 2025-11-30 after 00:00 UTC"),
    ("unsettled", list(UNSETTLED), "in-progress / ringing / queued: not billed yet"),
    ("price pending", ["price-pending"], "completed, price empty; usage bills 7 min x 0.0220"),
]  # fmt: skip


def md_table(header: list[str], rows: Iterable[Iterable[object]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(map(str, r)) + " |" for r in rows])


def at(leg: Leg, n: int = 0) -> str:
    return "`{}:{}`".format(*leg.locations[n])


def signed(value: object) -> str:
    return str(value) if str(value).startswith("-") else f"+{value}"


def readme(w: Writer, tags: dict[str, Leg], expected: dict, counts: tuple[int, int]) -> str:
    files = []
    for name, (_fmt, _, rows) in sorted(w.files.items()):
        rel = name.removeprefix(PREFIX + "/")
        what, span = FILE_NOTES.get(rel) or FILE_NOTES["bulk_export/"]
        files.append([f"`{rel}`", what, rows, rel[12:22] if span == "UTC day" else span])
    rejects = [
        [f"`{r['source_file']}:{r['source_row']}`", r["column"], f"`{r['value']}`", r["what"]]
        for r in expected["rejects"]
    ]
    dst = [
        [f"`{r['source_file']}:{r['source_row']}`", r["column"], f"`{r['value']}`"]
        for r in expected["dst_rejects"]
    ]
    keys = ("unexplained_count", "unexplained_minutes", "unexplained_price")
    off = [
        [r.get("period", r.get("date")), r["category"], *(signed(r[k]) for k in keys)]
        for r in expected["monthly"] + expected["daily_calls"]
        if r[keys[0]] or r[keys[1]] or r[keys[2]] != "0.00000"
    ]
    explained = [
        [rule, ", ".join(at(tags[t]) for t in tagged) or "every file", text]
        for rule, tagged, text in EXPLAINED
    ]
    cols = ["logged_calls", "billable_calls", "log_seconds", "expected_minutes", "expected_price"]
    cols += ["usage_count", "usage_minutes", "usage_price", *keys]
    figures = [[r["period"], r["category"], *(r[c] for c in cols)] for r in expected["monthly"]]
    dup = tags["duplicate"]
    return f"""# Sample Twilio exports

Realistic exports of ONE fictional Twilio account, with planted problems, made by `generate.py`
(seeded; standard library and polars). `python sample_exports/generate.py` regenerates every file
here byte-identically (`--out DIR` writes them elsewhere). The generator does not use the auditor:
`tests/sample_expected.json` is an independent computation of what an audit of these files must
report.

- Account `{ACCOUNT}` ("Acme", a New York office).
- Local numbers `+1 212 555 0100`..`0111`, toll-free `+1 888 555 0100`..`0102`; a PBX on an
  Elastic SIP trunk (`sip:+1212555015x@pbx.acme.example`); browser agents `client:alice` and
  `client:bob`; desk phones on the SIP domain `acme.sip.twilio.com`.
- November 2025 (UTC): {counts[0]} call legs; March 2025: a slice of {counts[1]} legs around the
  US spring-forward gap. All eight call statuses occur.
- PBX CDRs of the same month (Asterisk, FreeSWITCH, CUCM) are in `pbx/`, made by
  `generate_pbx.py`: see `pbx/README.md` (a run on this whole folder needs `--pbx-tz
  America/New_York`). For them the last call of `api_calls_2025-11_page1.json` is a trunk call at
  local 2025-11-02 01:20 (EDT), out of date order.
- Three systems' own records of their calls that month (a notification dispatch log, a Salesforce
  Task export of a dialer, an AI agent's session log) are in `records/`, made by
  `records/generate.py`: see `records/README.md`. They are read with `--records` only: auditing
  this folder leaves `records/` out (it holds a `.auditor-skip` file).

## Files

{md_table(["file", "format", "rows", "content"], files)}

Every November leg is in exactly one file, chosen by its start date, except the planted duplicate.
Console CSVs carry no account column (the auditor takes it from the usage records). Bulk Export
files vary as real ones do: `Z`, `.000Z` or `+00:00` times; duration as text or as a JSON number.

## Planted problems

Bad rows: corrupt records, not billed; `auditor validate` must reject exactly these.

{md_table(["file:line", "column", "value", "problem"], rejects)}

Duplicate: call `{dup.sid}` is at {at(dup)} and again, identical, at {at(dup, 1)}: the same call
exported twice. It is billed once; the second copy is rejected as
`duplicate of {"{}:{}".format(*dup.locations[0])}`.

Usage discrepancies, November (`usage/2025-11_monthly.json`; parents include their children):

- over-billed minutes: `calls-outbound` usage = logs + 7 minutes (same count, price + 7 x 0.0140);
  in the daily `calls` records the 7 minutes sit on 2025-11-20;
- a billed call missing from the logs (deleted from the account): `calls-inbound-local` count + 1,
  minutes + 3, price + 3 x 0.0085; daily `calls` record of 2025-11-12;
- a price that differs: `calls-client` usage price = rated minutes + 0.25 (count, minutes match).

## Expected audit result

With `--dst earliest`, only these rows are unexplained (usage minus logs; monthly records, then
the daily `calls` records):

{md_table(["period", "category", "count", "minutes", "price"], off)}

Everything else is explained by the billing rules:

{md_table(["rule", "where", "what"], explained)}

The billing model: a leg's category is the first rule that matches (`trunking-originating` ->
`trunking-origination`; `trunking-terminating` -> `trunking-termination`; a `client:` party ->
`calls-client`; a `sip:` party -> `calls-sip-inbound` if inbound, else `calls-sip-outbound`;
`inbound` to a US toll-free number -> `calls-inbound-tollfree`; other `inbound` ->
`calls-inbound-local`; else `calls-outbound`). `calls-inbound` = local + toll-free; `calls` =
`calls-inbound` + `calls-outbound`; `calls-sip` = SIP inbound + outbound. Only `completed` legs
bill, each max(1, ceil(seconds / 60)) minutes, at (per minute) outbound 0.0140, inbound local
0.0085, toll-free 0.0220, client 0.0040, SIP 0.0040, trunking origination 0.0034, termination
0.0050. A call belongs to the UTC month and day of its start.

All figures (both months, roll-ups included):

{md_table(["period", "category", *cols], figures)}

`logged_calls` counts every leg of the category, billed or not. `expected_price` rates every
billable leg, the price-pending one included; `logged_price` (in `tests/sample_expected.json`) sums
the prices the logs show. Non-voice usage rows (`sms-outbound`, `answering-machine-detection`,
`calls-recordings`, `totalprice`) are not voice calls and must be ignored.

## Commands

`auditor.toml` here holds the options these files need (`tz` and `pbx-tz` America/New_York,
`dst = "earliest"`); a folder argument skips it (`.toml`), and flags given on the command line win:

```sh
auditor validate sample_exports/ --out validated/ --config sample_exports/auditor.toml
auditor audit sample_exports/ --out audit/ --config sample_exports/auditor.toml
auditor audit sample_exports/ --out audit/ --tz America/New_York --pbx-tz America/New_York
```

With the default `--dst reject` (the last command, or `--dst reject` after the config) the two DST
rows are rejected too (start and end time):

{md_table(["file:line", "column", "value"], dst)}

so the audit also shows those two calls as missing from the logs (a toll-free call in November, a
local inbound call in March, with their parents). With `--dst earliest` the DST rows convert and
only the three planted discrepancies remain.
"""


def generate(out: Path, expected_path: Path) -> None:
    """Write every sample file into `out`."""
    t = Traffic(random.Random(SEED))
    nov, mar = november(t), march(t)
    nov.append(pbx_dst_leg(t))
    assert {leg.status for leg in nov} == STATUSES
    tags = {tag: leg for leg in nov + mar for tag in leg.tags}
    w = Writer(out)
    write_calls(w, nov, mar, tags["duplicate"])
    valid = [leg for leg in nov if not leg.corrupt]
    monthly, daily = write_usage(w, valid, mar)
    expected = build_expected(w, tags, monthly, daily)
    # Beside the tests, not in the exports folder: a folder argument must hold exports only.
    expected_path.parent.mkdir(parents=True, exist_ok=True)
    expected_path.write_text(json.dumps(expected, indent=2) + "\n", encoding="utf-8")
    text = readme(w, tags, expected, (len(nov), len(mar)))
    (out / "README.md").write_text(text, encoding="utf-8")
    (out / "auditor.toml").write_text(CONFIG, encoding="utf-8")


# The settings these files need (`auditor ... --config sample_exports/auditor.toml`).
CONFIG = """\
# Settings for the sample exports:
#   auditor audit sample_exports/ --out audit/ --config sample_exports/auditor.toml
# Keys are the options of `auditor validate` / `audit` without `--`; a flag given on the command
# line wins (e.g. `--dst reject`). Paths in this file (pricing, cdr-format, records,
# records-format) are read from this file's folder. Written by generate.py.

# The Console CSVs carry naive New York times.
tz = "America/New_York"
# Two of those fall in the DST gap and overlap: read them as the earlier instant (marked dst-*).
dst = "earliest"
# Asterisk and FreeSWITCH write local times too.
pbx-tz = "America/New_York"
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    here = Path(__file__).resolve().parent
    parser.add_argument("--out", type=Path, default=here, help="output folder (default: here)")
    parser.add_argument(
        "--expected",
        type=Path,
        default=here.parent / "tests" / "sample_expected.json",
        help="where expected.json goes (default: tests/sample_expected.json)",
    )
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    generate(args.out, args.expected)


if __name__ == "__main__":
    main()
