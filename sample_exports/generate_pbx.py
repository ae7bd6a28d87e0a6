#!/usr/bin/env python3
"""Generate PBX CDR exports of the sample account's November 2025 trunk calls, with planted cases.

The account's PBX sits in front of Twilio's Elastic SIP Trunk. In November 2025 it was migrated
twice, cutting over at 00:00 UTC: a FreePBX/Asterisk box until 2025-11-10, a FreeSWITCH stand-in
from 2025-11-11 to 11-20 while the Cisco CUCM cluster was staged, CUCM from 2025-11-21. So the
month's CDRs come in three formats, one file each, split by date:

- `pbx/asterisk/Master.csv`: Asterisk cdr_csv, 21 columns (loguniqueid, loguserfield,
  newcdrcolumns), no header, local America/New_York times;
- `pbx/freeswitch/Master.csv`: FreeSWITCH mod_cdr_csv `example` template (15 quoted columns),
  local America/New_York times;
- `pbx/cucm/cdr_StandAloneCluster_01_202512010000_1`: CUCM flat file (names line, types line,
  129 columns), epoch UTC times.

It reads the committed Twilio sample in this folder (REST API pages, Bulk Export day files, the
Parquet file, the November Console CSV) itself, finds the November legs whose direction is
`trunking-originating` / `trunking-terminating` and writes each as the PBX would have logged it,
then plants the cases listed in `pbx/README.md`. It also writes that README and
`tests/pbx_sample_expected.json`: what the auditor's call-by-call matching must report, computed
here without the auditor (this file never imports it).

Deterministic: `random.Random(20251102)`; two runs give byte-identical files.

Usage: python sample_exports/generate_pbx.py [--out DIR] [--expected FILE]
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import math
import random
import re
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl

SEED = 20251102
NY = ZoneInfo("America/New_York")
TZ_NAME = "America/New_York"
PREFIX = "sample_exports"  # the folder as a user names it: `auditor audit sample_exports/ ...`
HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CUCM_FIXTURE = ROOT / "tests" / "fixtures" / "pbx" / "cucm_cdr.csv"
TRUNK = ("trunking-originating", "trunking-terminating")
WINDOW_S = 60  # the auditor's default match window
TOLERANCE_S = 2  # the auditor's default duration tolerance
AUDIT_ARGS = [
    "audit", "sample_exports/", "--out", "audit/", "--tz", TZ_NAME, "--dst", "earliest",
    "--pbx-tz", TZ_NAME,
]  # fmt: skip
COMMAND = "auditor " + " ".join(AUDIT_ARGS)

# The PBX's users: extension -> display name.
USERS = {
    "1001": "Alice Smith", "1002": "Bob Jones", "1003": "Carol Diaz", "1004": "Dana Lee",
    "1005": "Evan Park", "1006": "Frank Wu", "1007": "Gina Ruiz", "1008": "Hugo Brandt",
    "1009": "Ines Moreau", "1010": "Jamal Reed", "1011": "Kira Novak", "1012": "Liam Oakes",
}  # fmt: skip
EXTENSIONS = tuple(USERS)
LOGINS = {ext: (name[0] + name.split()[1]).lower() for ext, name in USERS.items()}
# Caller names (CNAM) as the carrier delivers them; "" when none.
CNAM = ["WIRELESS CALLER", "", "NEW YORK NY", "BROOKLYN NY", "HARTFORD CT", "", "ACME SUPPLY CO"]
# A number outside the Twilio sample's numbering (its external numbers are +1 NXX 555-01nn).
PBX_ONLY_NUMBER = "+16175550342"


@dataclass(frozen=True)
class Site:
    key: str
    what: str  # the PBX, as the README names it
    fmt: str  # the auditor's reader name
    rel: str  # the file, under the output folder
    days: tuple[int, int]  # UTC days of November (inclusive) whose trunk legs it logged
    times: str


SITES = [
    Site("asterisk", "FreePBX (Asterisk 20), cdr_csv", "asterisk-cdr-csv",
         "pbx/asterisk/Master.csv", (1, 10), "local America/New_York"),
    Site("freeswitch", "FreeSWITCH 1.10, mod_cdr_csv `example` template", "freeswitch-cdr-csv",
         "pbx/freeswitch/Master.csv", (11, 20), "local America/New_York"),
    Site("cucm", "Cisco CUCM 11.5, CDR flat file", "cucm-cdr",
         "pbx/cucm/cdr_StandAloneCluster_01_202512010000_1", (21, 30), "epoch seconds, UTC"),
]  # fmt: skip


def sec(n: int) -> timedelta:
    return timedelta(seconds=n)


def local(*args: int) -> datetime:
    """A New York wall time (the first one, in an overlap) as a UTC instant."""
    return datetime(*args, tzinfo=NY).astimezone(UTC)  # type: ignore[misc]


def billed_minutes(seconds: int | None, billable: bool) -> int:
    """The billing model: whole minutes rounded up, at least one, for billable calls only."""
    return max(1, math.ceil(max(seconds or 0, 0) / 60)) if billable else 0


# Twilio sample ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class TwilioLeg:
    sid: str
    direction: str
    frm: str
    to: str
    status: str
    start: datetime
    end: datetime | None
    duration: int | None
    source_file: str
    source_row: int

    @property
    def where(self) -> str:
        return f"{self.source_file}:{self.source_row}"

    @property
    def did(self) -> str:
        """The account's number on the trunk: the PBX side's SIP URI user part."""
        uri = self.to if self.direction == "trunking-originating" else self.frm
        found = re.match(r"^sip:(\+\d+)@", uri)
        assert found, uri
        return found.group(1)

    @property
    def external(self) -> str:
        return self.frm if self.direction == "trunking-originating" else self.to

    @property
    def answered(self) -> bool:
        return self.status in ("completed", "in-progress")


def _rfc2822(value: object) -> datetime | None:
    return None if not value else parsedate_to_datetime(str(value)).astimezone(UTC)


def _iso(value: object) -> datetime | None:
    return None if not value else datetime.fromisoformat(str(value)).astimezone(UTC)


def _ny_wall(value: object) -> datetime | None:
    """A Console CSV's naive New York time; in a DST overlap the first (fold 0) instant."""
    if not value:
        return None
    naive = datetime.strptime(str(value), "%Y-%m-%d %H:%M:%S")
    return naive.replace(tzinfo=NY).astimezone(UTC)


def _utc(value: object) -> datetime | None:
    return None if value is None else value.astimezone(UTC)  # type: ignore[attr-defined]


def _records(folder: Path) -> Iterable[tuple[str, int, dict, Callable[[object], object]]]:
    """(source_file, source_row, record with API field names, time parser) of every call row."""

    def name(path: Path) -> str:
        return f"{PREFIX}/{path.relative_to(folder).as_posix()}"

    for path in sorted(folder.glob("api_calls_*.json")):
        calls = json.loads(path.read_text(encoding="utf-8"))["calls"]
        for n, rec in enumerate(calls, start=1):
            yield name(path), n, rec, _rfc2822
    for path in sorted((folder / "bulk_export").glob("*.json.gz")):
        text = gzip.decompress(path.read_bytes()).decode("utf-8")
        for n, line in enumerate(text.splitlines(), start=1):
            if line.strip():
                yield name(path), n, json.loads(line), _iso
    for path in sorted(folder.glob("calls_*.parquet")):
        for n, rec in enumerate(pl.read_parquet(path).iter_rows(named=True), start=1):
            yield name(path), n, rec, _utc
    console = {
        "Call Sid": "sid",
        "Direction": "direction",
        "From": "from",
        "To": "to",
        "Status": "status",
        "Start Time": "start_time",
        "End Time": "end_time",
        "Duration": "duration",
    }
    for path in sorted(folder.glob("console_calls_*.csv")):
        with path.open(newline="", encoding="utf-8") as fh:
            for n, row in enumerate(csv.DictReader(fh), start=2):
                yield name(path), n, {v: row[k] for k, v in console.items()}, _ny_wall


def read_trunk_legs(folder: Path) -> list[TwilioLeg]:
    """The November 2025 trunk legs of the Twilio sample, each once, by start then SID."""
    legs: dict[str, TwilioLeg] = {}
    for source, row, rec, when in _records(folder):
        if rec["direction"] not in TRUNK or rec["sid"] in legs:
            continue
        start = when(rec["start_time"])
        assert isinstance(start, datetime), (source, row)
        if (start.year, start.month) != (2025, 11):
            continue
        end = when(rec["end_time"])
        duration = rec["duration"]
        legs[rec["sid"]] = TwilioLeg(
            sid=rec["sid"],
            direction=rec["direction"],
            frm=rec["from"],
            to=rec["to"],
            status=rec["status"],
            start=start,
            end=end if isinstance(end, datetime) else None,
            duration=None if duration in (None, "") else int(duration),
            source_file=source,
            source_row=row,
        )
    return sorted(legs.values(), key=lambda leg: (leg.start, leg.sid))


def all_numbers(folder: Path) -> set[str]:
    """Every `from` / `to` of every call row of the Twilio sample."""
    return {str(rec[k]) for _, _, rec, _ in _records(folder) for k in ("from", "to")}


# The PBX side ----------------------------------------------------------------------------------
@dataclass
class Row:
    """One CDR record, format-neutral; the writers render it."""

    kind: str  # "out" (PBX -> PSTN), "in" (PSTN -> PBX), "internal"
    caller: str  # the calling number as the PBX writes it
    callee: str  # the called number as the PBX writes it
    start: datetime
    answer: datetime | None
    end: datetime
    outcome: str  # completed | busy | no-answer | canceled | failed
    ext: str  # the extension: caller (out, internal) or the phone that rang (in)
    name: str  # caller name: the user (out, internal) or the CNAM (in)
    did: str | None = None  # the account number presented (out) or called (in)
    external: str | None = None  # the outside party, E.164
    peer: str | None = None  # internal: the extension called
    b_leg: bool = False  # FreeSWITCH: the B-leg record of its call
    split: bool = False  # this record ended with a transfer
    transferred_by: str | None = None  # the record after a transfer: who transferred

    @property
    def billsec(self) -> int:
        return 0 if self.answer is None else int((self.end - self.answer).total_seconds())

    @property
    def duration(self) -> int:
        return int((self.end - self.start).total_seconds())


@dataclass
class Call:
    """One PBX call: one or more records, the Twilio leg it is (if any), a planted case."""

    rows: list[Row]
    leg: TwilioLeg | None
    case: str | None = None
    shape: str | None = None  # transfer, b-leg: why it has several records
    lines: list[int] = field(default_factory=list)

    @property
    def start(self) -> datetime:
        return min(r.start for r in self.rows)

    @property
    def answered(self) -> bool:
        return any(r.answer is not None for r in self.rows)

    @property
    def billsec(self) -> int:
        """From the first answer to the last answered record's hang-up (the whole call's talk)."""
        answered = [r for r in self.rows if r.answer is not None]
        if not answered:
            return 0
        first = min(r.answer for r in answered if r.answer is not None)
        return int((max(r.end for r in answered) - first).total_seconds())

    @property
    def internal(self) -> bool:
        return self.rows[0].kind == "internal"

    @property
    def source_rows(self) -> str:
        return ";".join(str(n) for n in sorted(self.lines))


def jittered(duration: int, rng: random.Random) -> int:
    """Twilio's duration +- 1 s, never across a minute boundary (the billed minutes agree)."""
    keep = billed_minutes(duration, True)
    options = [
        duration + j
        for j in (-1, 0, 1)
        if duration + j >= 1 and billed_minutes(duration + j, True) == keep
    ]
    return rng.choice(options or [duration])


def written(e164: str, rng: random.Random, idd: bool) -> str:
    """An outside number as a user dialled it: E.164 or 10-digit national (US); `idd`: an
    international number may be dialled with the US exit code 011."""
    if e164.startswith("+1") and len(e164) == 12:
        return rng.choice((e164, e164[2:]))
    if idd and rng.random() < 0.5:
        return "011" + e164[1:]
    return e164


def unanswered_end(leg: TwilioLeg, start: datetime, rng: random.Random) -> datetime:
    twilio_end = leg.end or leg.start + sec(10)
    return max(twilio_end + sec(rng.randint(0, 1)), start + sec(1))


def trunk_call(leg: TwilioLeg, rng: random.Random, site: Site) -> Call:
    """A Twilio trunk leg as the PBX logs it (see "How a trunk leg looks" in pbx/README.md)."""
    completed = leg.status == "completed"
    ext = rng.choice(EXTENSIONS)
    if leg.direction == "trunking-terminating":
        start = leg.start - sec(rng.randint(1, 4))  # the user dialled; the INVITE left later
        answer = leg.start + sec(rng.randint(0, 2)) if completed else None
        caller, callee = ext, written(leg.to, rng, idd=site.key == "asterisk")
        kind, name = "out", USERS[ext]
    else:
        start = leg.start + sec(rng.randint(0, 3))  # the INVITE reached the PBX
        answer = start + sec(rng.randint(0, 1)) if completed else None
        caller, callee = leg.frm, rng.choice((leg.did, ext))  # the DID, or the extension it rang
        kind, name = "in", rng.choice(CNAM) if leg.frm.startswith("+1") else ""  # none from abroad
    if answer is not None:
        end = answer + sec(jittered(leg.duration or 0, rng))
    else:
        end = unanswered_end(leg, start, rng)
    row = Row(
        kind=kind,
        caller=caller,
        callee=callee,
        start=start,
        answer=answer,
        end=end,
        outcome=leg.status,
        ext=ext,
        name=name,
        did=leg.did,
        external=leg.external,
    )
    return Call([row], leg)


def transfer(call: Call, rng: random.Random) -> None:
    """Split an answered inbound call: the first phone talks, then transfers it to another one,
    which answers a few seconds later. The whole call's talk time is unchanged."""
    [row] = call.rows
    assert row.kind == "in" and row.answer is not None and row.billsec >= 60
    split_at = row.answer + sec(rng.randint(15, row.billsec - 30))
    other = rng.choice([e for e in EXTENSIONS if e != row.ext])
    second = replace(row, callee=other, ext=other, start=split_at, transferred_by=row.ext,
                     answer=split_at + sec(rng.randint(3, 8)))  # fmt: skip
    row.end, row.split = split_at, True
    call.rows.append(second)
    call.shape = "transfer"


def with_b_leg(call: Call) -> None:
    """FreeSWITCH: the call's B-leg (the trunk side, caller ID = the DID) also written, as
    `legs=ab` does."""
    [row] = call.rows
    assert row.kind == "out" and row.answer is not None and row.did is not None
    call.rows.append(replace(row, caller=row.did, start=row.start + sec(1), b_leg=True))
    call.shape = "b-leg"


def internal_call(rng: random.Random, day: int, answered: bool) -> Call:
    """An extension calling another on `day` (of November): never reaches Twilio."""
    start = local(2025, 11, day, rng.randint(9, 16), rng.randint(0, 59), rng.randint(0, 59))
    ext, peer = rng.sample(EXTENSIONS, 2)
    if answered:
        answer: datetime | None = start + sec(rng.randint(3, 12))
        end, outcome = start + sec(rng.randint(25, 420)), "completed"
    else:
        answer, end, outcome = None, start + sec(rng.randint(15, 30)), "no-answer"
    row = Row(kind="internal", caller=ext, callee=peer, start=start, answer=answer, end=end,
              outcome=outcome, ext=ext, name=USERS[ext], peer=peer)  # fmt: skip
    return Call([row], None)


# Picking the legs of the planted cases and of the multi-record calls ---------------------------
def first(legs: Iterable[TwilioLeg], test: Callable[[TwilioLeg], bool], what: str) -> TwilioLeg:
    for leg in legs:
        if test(leg):
            return leg
    raise SystemExit(f"generate_pbx: no Twilio leg for {what}")


def crosses_minute(leg: TwilioLeg) -> bool:
    """Completed, and 40 s less bills fewer minutes."""
    d = leg.duration or 0
    return leg.status == "completed" and d > 41 and math.ceil(d / 60) != math.ceil((d - 40) / 60)


def build(legs: list[TwilioLeg], rng: random.Random) -> tuple[dict[str, list[Call]], TwilioLeg]:
    """Every site's calls (planted cases marked) and the leg left out of the PBX files."""
    by_site = {
        s.key: [leg for leg in legs if s.days[0] <= leg.start.day <= s.days[1]] for s in SITES
    }
    ast, fs, cucm = by_site["asterisk"], by_site["freeswitch"], by_site["cucm"]

    def completed_in(n: int, direction: str, after: date) -> Callable[[TwilioLeg], bool]:
        return lambda leg: (
            leg.status == "completed"
            and leg.direction == direction
            and (leg.duration or 0) >= n
            and leg.start.date() >= after
        )

    dst = first(ast, lambda leg: leg.start == datetime(2025, 11, 2, 5, 20, tzinfo=UTC), "DST")
    gap = first(ast, lambda leg: crosses_minute(leg) and leg is not dst, "the 40 s gap")
    long_inbound = completed_in(120, "trunking-originating", date(2025, 11, 4))
    ast_transfers = [leg for leg in ast if long_inbound(leg) and leg not in (dst, gap)][:2]
    unanswered = first(
        fs, completed_in(30, "trunking-originating", date(2025, 11, 18)), "NO_ANSWER"
    )
    b_leg = first(fs, completed_in(60, "trunking-terminating", date(2025, 11, 14)), "the B-leg")
    missing = first(cucm, completed_in(60, "trunking-terminating", date(2025, 11, 25)), "omitted")
    cucm_transfers = [leg for leg in cucm if long_inbound(leg)][:2]
    assert len(ast_transfers) == len(cucm_transfers) == 2

    calls: dict[str, list[Call]] = {}
    for site in SITES:
        found: list[Call] = []
        for leg in by_site[site.key]:
            if leg is missing:
                continue
            call = trunk_call(leg, rng, site)
            [row] = call.rows
            if leg is dst:
                call.case = "dst-overlap"
            elif leg is gap:
                assert row.answer is not None
                row.end = row.answer + sec((leg.duration or 0) - 40)
                call.case = "duration-gap"
            elif leg is unanswered:
                row.answer, row.outcome = None, "no-answer"
                row.end = row.start + sec(rng.randint(20, 30))
                call.case = "answered-vs-status"
            elif leg in ast_transfers or leg in cucm_transfers:
                transfer(call, rng)
            elif leg is b_leg:
                with_b_leg(call)
            found.append(call)
        if site.key == "freeswitch":  # an outside call Twilio has no leg for
            start = local(2025, 11, 13, 15, 7, 12)
            row = Row(kind="out", caller="1003", callee=PBX_ONLY_NUMBER[2:], start=start,
                      answer=start + sec(6), end=start + sec(6 + 95), outcome="completed",
                      ext="1003", name=USERS["1003"], did="+12125550151",
                      external=PBX_ONLY_NUMBER)  # fmt: skip
            found.append(Call([row], None, case="pbx-only"))
        # The first on the cut-over day, so each file's span starts before its trunk calls.
        days = (site.days[0], rng.randint(*site.days), rng.randint(*site.days))
        found += [internal_call(rng, d, a) for d, a in zip(days, (True, False, True), strict=True)]
        calls[site.key] = sorted(found, key=lambda c: c.start)
    return calls, missing


# Writers ---------------------------------------------------------------------------------------
def quoted(value: object) -> str:
    return '"' + str(value).replace('"', '""') + '"'


def wall(t: datetime) -> str:
    return t.astimezone(NY).strftime("%Y-%m-%d %H:%M:%S")


def epoch(t: datetime) -> int:
    return int(t.timestamp())


def uuid4(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def in_file_order(calls: list[Call]) -> list[tuple[Call, Row]]:
    """Records as a PBX appends them: when each ends (then starts)."""
    records = [(c, r) for c in calls for r in c.rows]
    order = {id(r): i for i, (_, r) in enumerate(records)}
    return sorted(records, key=lambda cr: (cr[1].end, cr[1].start, order[id(cr[1])]))


def place(records: list[tuple[Call, Row]], first_line: int) -> None:
    for n, (call, _) in enumerate(records, start=first_line):
        call.lines.append(n)


ASTERISK_DISPOSITION = {
    "completed": "ANSWERED",
    "busy": "BUSY",
    "no-answer": "NO ANSWER",
    "canceled": "NO ANSWER",  # CANCEL only with the cancel-disposition option
    "failed": "FAILED",
}


def asterisk(calls: list[Call], rng: random.Random) -> str:
    """cdr_csv with loguniqueid, loguserfield and newcdrcolumns: 21 columns, no header."""
    fields: dict[int, list[str]] = {}
    chan, unique, seq = rng.randint(0x100, 0x1FF), 7, rng.randint(40, 90)
    for call in calls:  # ids are handed out as calls start
        a = call.rows[0]
        uniqueid = f"{epoch(a.start)}.{unique}"
        a_chan = f"PJSIP/twilio-trunk-{chan:08x}" if a.kind == "in" else f"PJSIP/{a.ext}-{chan:08x}"
        chan += 1
        unique += 2
        for row in call.rows:
            if row.kind == "out":
                context, lastdata = "from-internal", f"PJSIP/{row.external}@twilio-trunk,60,T"
                clid = f'"{row.name}" <{row.ext}>'
                peer = "" if row.outcome == "failed" else f"PJSIP/twilio-trunk-{chan:08x}"
            elif row.kind == "in":
                context = "from-trunk" if row.callee == row.did else "from-did-direct"
                if row.transferred_by:
                    context = "from-internal-xfer"
                lastdata, clid = f"PJSIP/{row.ext},30,tr", f'"{row.name}" <{row.caller}>'
                peer = f"PJSIP/{row.ext}-{chan:08x}"
            else:
                context, lastdata = "from-internal", f"PJSIP/{row.peer},20"
                clid, peer = f'"{row.name}" <{row.ext}>', f"PJSIP/{row.peer}-{chan:08x}"
            chan += 1 + rng.randint(0, 2)
            seq += 1
            answer = "" if row.answer is None else quoted(wall(row.answer))
            fields[id(row)] = [
                quoted(""), quoted(row.caller), quoted(row.callee), quoted(context),
                quoted(clid), quoted(a_chan), quoted(peer), quoted("Dial"), quoted(lastdata),
                quoted(wall(row.start)), answer, quoted(wall(row.end)), str(row.duration),
                str(row.billsec), quoted(ASTERISK_DISPOSITION[row.outcome]),
                quoted("DOCUMENTATION"), quoted(uniqueid), quoted(""), quoted(""),
                quoted(uniqueid), str(seq),
            ]  # fmt: skip
    records = in_file_order(calls)
    place(records, 1)
    return "".join(",".join(fields[id(r)]) + "\n" for _, r in records)


FREESWITCH_CAUSE = {
    "completed": "NORMAL_CLEARING",
    "busy": "USER_BUSY",
    "no-answer": "NO_ANSWER",
    "canceled": "ORIGINATOR_CANCEL",
    "failed": "NORMAL_TEMPORARY_FAILURE",
}


def freeswitch(calls: list[Call], rng: random.Random) -> str:
    """mod_cdr_csv, `example` template: 15 columns, every value quoted, no header."""
    fields: dict[int, list[str]] = {}
    for call in calls:
        uuids = [uuid4(rng) for _ in call.rows]
        for i, row in enumerate(call.rows):
            bridged = row.answer is not None
            if call.shape == "b-leg":
                bleg = uuids[1] if i == 0 else ""
            else:
                bleg = uuid4(rng) if bridged else ""
            codec = "" if row.outcome == "failed" else "OPUS" if row.kind == "internal" else "PCMU"
            name = row.name or row.caller
            values = [
                name, row.caller, row.callee, "public" if row.kind == "in" else "default",
                wall(row.start), "" if row.answer is None else wall(row.answer), wall(row.end),
                str(row.duration), str(row.billsec), FREESWITCH_CAUSE[row.outcome], uuids[i],
                bleg, "", codec, codec,
            ]  # fmt: skip
            fields[id(row)] = [quoted(v) for v in values]
    records = in_file_order(calls)
    place(records, 1)
    return "".join(",".join(fields[id(r)]) + "\n" for _, r in records)


TWILIO_IP = "54.172.60.1"  # Twilio's North America Virginia signalling range
CUCM_TRUNK = "TWILIO-ESIP-TRUNK"


def phone_ip(ext: str) -> str:
    return f"10.20.1.{int(ext) - 1000 + 20}"


def ip_int(dotted: str) -> int:
    """CUCM's origIpAddr / destIpAddr: the IPv4 address little-endian, as a signed 32-bit int."""
    a, b, c, d = (int(x) for x in dotted.split("."))
    value = a | b << 8 | c << 16 | d << 24
    return value - (1 << 32) if value >= 1 << 31 else value


def phone(ext: str) -> str:
    return f"SEP0057D2A1{int(ext) - 1000:04X}"


def cucm_header() -> tuple[str, list[str], list[str]]:
    """The names line and types line of the fixture, verbatim, and the names and types."""
    lines = CUCM_FIXTURE.read_text(encoding="utf-8").split("\n")
    names = next(csv.reader([lines[0]]))
    types = lines[1].split(",")
    assert len(names) == len(types) == 129
    return lines[0] + "\n" + lines[1] + "\n", names, types


def cucm_cause(row: Row) -> tuple[int, int]:
    """(origCause_value, destCause_value): the side that cleared the call carries the cause."""
    if row.split:
        return 0, 393216  # call split: the transferring phone left the call
    return {
        "completed": (16, 0) if row.kind == "in" else (0, 16),
        "busy": (0, 17),
        "no-answer": (0, 19),
        "canceled": (16, 0),
        "failed": (0, 41),
    }[row.outcome]


def cucm(calls: list[Call], rng: random.Random) -> str:
    """CUCM CDR flat file: the fixture's names and types lines, then 129-column records."""
    header, names, types = cucm_header()
    fields: dict[int, list[str]] = {}
    call_id, leg_id = 41020 + rng.randint(0, 50), 26881000 + rng.randint(0, 999)
    for call in calls:
        call_id += rng.randint(1, 4)
        for row in call.rows:
            leg_id += 2 + rng.randint(0, 3)
            connected = row.answer is not None
            orig_cause, dest_cause = cucm_cause(row)
            v: dict[str, object] = {
                n: 0 if t == "INTEGER" else "" for n, t in zip(names, types, strict=True)
            }
            if row.kind == "in":
                orig_dev, orig_ip, orig_user = CUCM_TRUNK, TWILIO_IP, ""
                dest_dev, dest_ip, dest_user = phone(row.ext), phone_ip(row.ext), LOGINS[row.ext]
                calling, called, final = row.caller, row.callee, row.ext
                calling_pt, called_pt = "", "PT_INTERNAL"
                out_calling = out_called = ""
            elif row.kind == "out":
                orig_dev, orig_ip, orig_user = phone(row.ext), phone_ip(row.ext), LOGINS[row.ext]
                dest_dev, dest_ip, dest_user = CUCM_TRUNK, TWILIO_IP, ""
                assert row.external is not None
                intl = not row.external.startswith("+1")
                dialled = "9" + ("011" + row.external[1:] if intl else "1" + row.external[2:])
                calling, called, final = row.ext, dialled, dialled
                calling_pt, called_pt = "PT_INTERNAL", "PT_PSTN"
                out_calling, out_called = row.did or "", row.callee
            else:
                assert row.peer is not None
                orig_dev, orig_ip, orig_user = phone(row.ext), phone_ip(row.ext), LOGINS[row.ext]
                dest_dev, dest_ip = phone(row.peer), phone_ip(row.peer)
                dest_user = LOGINS[row.peer]
                calling, called, final = row.ext, row.peer, row.peer
                calling_pt = called_pt = "PT_INTERNAL"
                out_calling = out_called = ""
            reached = connected or row.outcome in ("no-answer", "canceled")  # the phone rang
            v.update(
                cdrRecordType=1, globalCallID_callManagerId=1, globalCallID_callId=call_id,
                origLegCallIdentifier=leg_id, dateTimeOrigination=epoch(row.start),
                origNodeId=1, origIpAddr=ip_int(orig_ip), callingPartyNumber=calling,
                callingPartyUnicodeLoginUserID=orig_user, origCause_value=orig_cause,
                origPrecedenceLevel=4, origRSVPAudioStat="0", origRSVPVideoStat="0",
                destLegIdentifier=leg_id + 1, destNodeId=1 if reached else 0,
                destIpAddr=ip_int(dest_ip) if reached else 0,
                originalCalledPartyNumber=called, finalCalledPartyNumber=final,
                finalCalledPartyUnicodeLoginUserID=dest_user if reached else "",
                destCause_value=dest_cause, destPrecedenceLevel=4, destRSVPAudioStat="0",
                destRSVPVideoStat="0", dateTimeConnect=epoch(row.answer) if row.answer else 0,
                dateTimeDisconnect=epoch(row.end), lastRedirectDn=row.transferred_by or called,
                pkid=uuid4(rng), originalCalledPartyNumberPartition=called_pt,
                callingPartyNumberPartition=calling_pt, finalCalledPartyNumberPartition=called_pt,
                lastRedirectDnPartition="PT_INTERNAL" if row.transferred_by else called_pt,
                duration=row.billsec, origDeviceName=orig_dev,
                destDeviceName=dest_dev if reached or row.outcome == "busy" else "",
                origCallTerminationOnBehalfOf=12 if orig_cause else 0,
                destCallTerminationOnBehalfOf=12 if dest_cause else 0,
                globalCallId_ClusterID="StandAloneCluster", origDTMFMethod=3,
                destDTMFMethod=3 if connected else 0,
                outpulsedCallingPartyNumber=out_calling, outpulsedCalledPartyNumber=out_called,
                origIpv4v6Addr=orig_ip, destIpv4v6Addr=dest_ip if reached else "",
                calledPartyPatternUsage=2 if connected else 7,
                originalCalledPartyPattern=called, finalCalledPartyPattern=final,
                lastRedirectingPartyPattern=row.transferred_by or called,
            )  # fmt: skip
            if connected:
                port = 16384 + 2 * rng.randint(0, 8000)
                v.update(
                    origMediaTransportAddress_IP=ip_int(orig_ip),
                    origMediaTransportAddress_Port=port,
                    origMediaCap_payloadCapability=4, origMediaCap_maxFramesPerPacket=20,
                    destMediaTransportAddress_IP=ip_int(dest_ip),
                    destMediaTransportAddress_Port=port + 2 * rng.randint(1, 4000),
                    destMediaCap_payloadCapability=4, destMediaCap_maxFramesPerPacket=20,
                    origMediaCap_Bandwidth=64, destMediaCap_Bandwidth=64,
                )  # fmt: skip
            fields[id(row)] = [
                str(v[n]) if t == "INTEGER" else quoted(v[n])
                for n, t in zip(names, types, strict=True)
            ]
    records = in_file_order(calls)
    place(records, 3)  # after the names and types lines
    return header + "".join(",".join(fields[id(r)]) + "\n" for _, r in records)


WRITERS = {"asterisk": asterisk, "freeswitch": freeswitch, "cucm": cucm}


# Expected result -------------------------------------------------------------------------------
Result = dict[str, object]  # one row of cdr_matches, as expected


def pbx_only(call: Call, name: str) -> Result:
    minutes = None if call.internal else -billed_minutes(call.billsec, call.answered)
    return {
        "pbx_source_file": name,
        "pbx_source_rows": call.source_rows,
        "call_sid": None,
        "twilio_source_file": None,
        "twilio_source_row": None,
        "match_status": "internal" if call.internal else "pbx-only",
        "mismatch": None,
        "billed_minutes_delta": minutes,
    }


def twilio_only(leg: TwilioLeg) -> Result:
    return {
        "pbx_source_file": None,
        "pbx_source_rows": None,
        "call_sid": leg.sid,
        "twilio_source_file": leg.source_file,
        "twilio_source_row": leg.source_row,
        "match_status": "twilio-only",
        "mismatch": None,
        "billed_minutes_delta": billed_minutes(leg.duration, leg.status == "completed"),
    }


def matched(call: Call, leg: TwilioLeg, name: str) -> Result:
    """A PBX call and its leg: the auditor's comparison, computed from the generator's model."""
    ring = (
        (min(r.answer for r in call.rows if r.answer) - call.start).total_seconds()
        if call.answered
        else 0
    )
    start_delta = (leg.start - call.start).total_seconds()
    assert -WINDOW_S <= start_delta <= ring + WINDOW_S, leg.where
    off = []
    if leg.duration is not None and abs(leg.duration - call.billsec) > TOLERANCE_S:
        off.append("duration")
    if call.answered != leg.answered:
        off.append("answered-vs-status")
    minutes = billed_minutes(leg.duration, leg.status == "completed") - billed_minutes(
        call.billsec, call.answered
    )
    return {
        "pbx_source_file": name,
        "pbx_source_rows": call.source_rows,
        "call_sid": leg.sid,
        "twilio_source_file": leg.source_file,
        "twilio_source_row": leg.source_row,
        "match_status": "matched",
        "mismatch": ";".join(off) or None,
        "billed_minutes_delta": minutes,
    }


def summarize(rows: list[Result], pbx_calls: int) -> dict[str, object]:
    """`summary.json["cdr_matching"]`: rows per status, mismatches, billed minutes at stake."""

    def count(status: str) -> int:
        return sum(1 for r in rows if r["match_status"] == status)

    def mismatches(kind: str) -> int:
        return sum(1 for r in rows if kind in str(r["mismatch"] or "").split(";"))

    stake = sum(abs(int(str(r["billed_minutes_delta"] or 0))) for r in rows)
    return {
        "pbx_calls": pbx_calls,
        "matched": count("matched"),
        "pbx_only": count("pbx-only"),
        "twilio_only": count("twilio-only"),
        "internal": count("internal"),
        "ambiguous": count("ambiguous"),
        "duration_mismatch": mismatches("duration"),
        "status_mismatch": mismatches("answered-vs-status"),
        "billed_minutes_at_stake": float(stake),
    }


def span(calls: Iterable[Call]) -> tuple[datetime, datetime]:
    """The time a PBX file covers, widened by the window: where an unmatched trunk leg is
    `twilio-only`."""
    found = list(calls)
    first_start = min(c.start for c in found)
    last_end = max(r.end for c in found for r in c.rows)
    return first_start - sec(WINDOW_S), last_end + sec(WINDOW_S)


CASES = {  # case -> (title, what happens)
    "pbx-only": (
        "a call only the PBX has",
        "an outside call from extension 1003 that Twilio has no leg for",
    ),
    "twilio-only": (
        "a trunk leg the PBX has no record of",
        "a completed trunking-terminating leg left out of the CUCM file",
    ),
    "duration-gap": (
        "a 40 s duration gap",
        "PBX billsec = Twilio duration - 40 s: one billed minute fewer",
    ),
    "answered-vs-status": (
        "unanswered on the PBX, billed by Twilio",
        "PBX `NO_ANSWER`, answer_stamp empty, billsec 0; Twilio `completed`",
    ),
    "dst-overlap": (
        "a call in the DST overlap",
        "PBX local start 2025-11-02 01:20:0x, which happens twice: the first (EDT)",
    ),
}


def expected(
    calls: dict[str, list[Call]], missing: TwilioLeg, texts: dict[str, str]
) -> dict[str, object]:
    rows: list[Result] = []
    planted: dict[str, Result] = {}
    files = []
    latest: list[Result] = []  # the rows that replace the DST call's under --dst latest
    for site in SITES:
        name = f"{PREFIX}/{site.rel}"
        site_calls = calls[site.key]
        files.append(
            {
                "pbx_source_file": name,
                "format": site.fmt,
                "times": site.times,
                "twilio_utc_days": f"2025-11-{site.days[0]:02d}..2025-11-{site.days[1]:02d}",
                "lines": texts[site.key].count("\n"),
                "records": sum(len(c.rows) for c in site_calls),
                "calls": len(site_calls),
                "trunk_calls": sum(1 for c in site_calls if c.leg is not None),
                "internal_calls": sum(1 for c in site_calls if c.internal),
            }
        )
        for call in site_calls:
            row = pbx_only(call, name) if call.leg is None else matched(call, call.leg, name)
            rows.append(row)
            if call.case:
                planted[call.case] = row
            if call.case == "dst-overlap":
                assert call.leg is not None
                # Read an hour late, the call leaves the file's span as it was without it: the
                # leg must still be inside, to be reported.
                lo, hi = span(c for c in site_calls if c is not call)
                assert lo <= call.leg.start <= hi
                latest = [pbx_only(call, name), twilio_only(call.leg)]
    assert any(lo <= missing.start <= hi for lo, hi in (span(c) for c in calls.values()))
    planted["twilio-only"] = twilio_only(missing)
    rows.append(planted["twilio-only"])
    pbx_calls = sum(len(c) for c in calls.values())
    rows_latest = [r for r in rows if r is not planted["dst-overlap"]] + latest
    cases = [
        {"case": case, "title": CASES[case][0], "what": CASES[case][1], **planted[case]}
        for case in CASES
    ]
    return {
        "generator": {"command": "python sample_exports/generate_pbx.py", "seed": SEED},
        "command": COMMAND,
        "files": files,
        "cdr_matching": summarize(rows, pbx_calls),
        "planted": cases,
        "dst_latest": {
            "note": "--dst latest instead of earliest: the DST call's PBX times read as EST",
            "rows": latest,
            "cdr_matching": summarize(rows_latest, pbx_calls),
        },
        "rows": rows,
    }


# README ----------------------------------------------------------------------------------------
def md_table(header: list[str], rows: Iterable[Iterable[object]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(map(str, r)) + " |" for r in rows])


def at(file: object, rows: object) -> str:
    return f"`{file}:{str(rows).replace(';', ',')}`"


def readme(calls: dict[str, list[Call]], exp: dict) -> str:
    files = [
        [
            f"`{f['pbx_source_file'].removeprefix(PREFIX + '/')}`",
            s.what,
            f["twilio_utc_days"],
            f["times"],
            f["records"],
            f["calls"],
            f["trunk_calls"],
            f["internal_calls"],
        ]
        for s, f in zip(SITES, exp["files"], strict=True)
    ]
    name = {s.key: f"{PREFIX}/{s.rel}" for s in SITES}
    multi, internal = [], []
    for site in SITES:
        for call in calls[site.key]:
            where = at(name[site.key], call.source_rows)
            sid = f"`{call.leg.sid}`" if call.leg else ""
            if call.shape == "transfer":
                first, second = call.rows
                what = "" if site.key == "cucm" else " (same linkedid)"
                multi.append(
                    [
                        where,
                        f"inbound, {first.ext} answered and transferred it to "
                        f"{second.ext}, who answered a few seconds later{what}",
                        sid,
                    ]
                )
            elif call.shape == "b-leg":
                multi.append(
                    [
                        where,
                        "outbound, the A-leg and its B-leg record (the B-leg's "
                        "uuid is the A-leg's bleg_uuid)",
                        sid,
                    ]
                )
            if call.internal:
                row = call.rows[0]
                how = "answered" if call.answered else "not answered"
                internal.append(f"- {where}: {row.ext} -> {row.peer}, {how}")
    planted = []
    for p in exp["planted"]:
        pbx = at(p["pbx_source_file"], p["pbx_source_rows"]) if p["pbx_source_file"] else "-"
        twilio = (
            f"`{p['twilio_source_file']}:{p['twilio_source_row']}` (`{p['call_sid']}`)"
            if p["call_sid"]
            else "-"
        )
        mismatch = f"`{p['mismatch']}`" if p["mismatch"] else "-"
        delta = p["billed_minutes_delta"]
        planted.append(
            [p["title"], pbx, twilio, f"`{p['match_status']}`", mismatch, f"{delta:+d}", p["what"]]
        )
    counts = exp["cdr_matching"]
    latest = exp["dst_latest"]["cdr_matching"]
    summary = [[k, v, latest[k]] for k, v in counts.items()]
    dst = next(p for p in exp["planted"] if p["case"] == "dst-overlap")
    dst_where = at(dst["pbx_source_file"], dst["pbx_source_rows"])
    trunk_legs = sum(f["trunk_calls"] for f in exp["files"]) + 1  # + the one left out
    return f"""# Sample PBX CDR exports

CDRs of the sample account's PBX for November 2025, made by `../generate_pbx.py` (seeded; standard
library and polars; it does not use the auditor). `python sample_exports/generate_pbx.py`
regenerates them byte-identically, with this README and `tests/pbx_sample_expected.json` (what the
auditor's call-by-call matching must report, computed by the generator from the Twilio sample
files it reads itself).

The PBX sits in front of Twilio's Elastic SIP Trunk (`sip:+1212555015x@pbx.acme.example` in the
Twilio logs). In November it was migrated twice, cutting over at 00:00 UTC: a FreePBX (Asterisk)
box logged the trunk calls of 2025-11-01..10, a FreeSWITCH stand-in those of 11-11..20 while the
Cisco CUCM cluster was staged, CUCM those of 11-21..30. Every November Twilio leg whose direction
is `trunking-originating` or `trunking-terminating` ({trunk_legs} of them) is in the PBX file of
its UTC start day, but the one planted as missing. Each file also holds a few internal calls.

## Files

{
        md_table(
            [
                "file",
                "PBX and format",
                "Twilio legs (UTC days)",
                "times",
                "records",
                "calls",
                "trunk calls",
                "internal calls",
            ],
            files,
        )
    }

- Asterisk: cdr_csv with `loguniqueid`, `loguserfield` and `newcdrcolumns` on: 21 columns
  (accountcode .. amaflags, uniqueid, userfield, peeraccount, linkedid, sequence), no header;
  strings quoted, integers bare, the answer field totally empty (`,,`) when unanswered;
  dispositions `ANSWERED`, `BUSY`, `NO ANSWER` (a caller who gave up is `NO ANSWER` too: the
  cancel-disposition option is off). The trunk is `PJSIP/twilio-trunk`.
- FreeSWITCH: the `example` template (caller_id_name, caller_id_number, destination_number,
  context, start_stamp, answer_stamp, end_stamp, duration, billsec, hangup_cause, uuid, bleg_uuid,
  accountcode, read_codec, write_codec), every value quoted, no header; answer_stamp `""` and
  billsec `"0"` when unanswered (`USER_BUSY`, `NO_ANSWER`, `ORIGINATOR_CANCEL`).
- CUCM: the names and types lines of `tests/fixtures/pbx/cucm_cdr.csv` (lines 1-2), then one
  129-column record per line (VARCHAR and UNIQUEIDENTIFIER quoted, INTEGER bare); times epoch UTC,
  `dateTimeConnect` 0 and `duration` 0 when never connected (busy: destCause 17; no answer:
  destCause 19; caller gave up: origCause 16). Trunk calls go through the SIP trunk device
  `{CUCM_TRUNK}`; outbound records carry the digits dialled (`9` + `1` / `011` ...) in
  originalCalledPartyNumber and what was sent to Twilio in outpulsedCallingPartyNumber (the DID)
  and outpulsedCalledPartyNumber (E.164 or 10-digit national).

Each PBX appends a record when it ends, so records are in order of their end time.

Run the audit with the PBX's zone (Asterisk and FreeSWITCH write naive local times):

```sh
{COMMAND}
```

## How a trunk leg looks on the PBX

- `trunking-terminating` (PBX -> PSTN): the caller is an extension (1001..1012), the callee the
  outside number as dialled (E.164 `+1...`, 10-digit national, or `011...` for an international
  number on Asterisk). The PBX starts 1-4 s before Twilio (dialling) and answers 0-2 s after
  Twilio's start; billsec = Twilio's duration +- 1 s (never across a minute boundary).
- `trunking-originating` (PSTN -> PBX): the caller is the outside number, the callee the DID as
  received (`+1212555015x`) or the extension it rang; the PBX starts 0-3 s after Twilio and
  answers within a second; billsec = duration +- 1 s.
- Unanswered legs (busy, no-answer, canceled) are unanswered on the PBX, ending within a second of
  Twilio's end.

Calls written as several records (each one call: the auditor groups them):

{md_table(["PBX file:lines", "what", "Twilio call"], multi)}

A CUCM transfer's records share globalCallID_callId; the first ends with destCause 393216 (call
split), the second names the transferring phone in lastRedirectDn.

Internal calls (extension to extension, never on the trunk: `internal`):

{chr(10).join(internal)}

## Planted cases

{
        md_table(
            [
                "case",
                "PBX file:line(s)",
                "Twilio file:row (call)",
                "match_status",
                "mismatch",
                "billed_minutes_delta",
                "what",
            ],
            planted,
        )
    }

`billed_minutes_delta` is Twilio's billed minutes minus the PBX's (each side rounded up to whole
minutes, at least one, answered / completed calls only; a missing side counts 0). The unanswered
call is a `duration` mismatch as well: the PBX's billsec is 0, Twilio's duration is not.

DST: the overlap call's PBX record, {dst_where},
reads `2025-11-02 01:20:0x`, a New York wall time that happens twice. With `--dst earliest` it is
the first (EDT, 05:20 UTC), Twilio's start, and it matches. With `--dst latest` it would land an
hour late (06:20 UTC), match nothing, and show as `pbx-only` plus its Twilio leg as `twilio-only`
(last column below). With the default `--dst reject` its record is rejected and the leg is
`twilio-only`.

Everything else is `matched` with no mismatch, or `internal`. Only trunk legs are reported as
`twilio-only` (legs to or from a DID too with `--did`), within each PBX file's time span +- the
match window.

## Expected result

`summary.json["cdr_matching"]` (in `tests/pbx_sample_expected.json` too, with every row of
`cdr_matches.csv`):

{md_table(["key", "--dst earliest", "--dst latest"], summary)}
"""


# Main ------------------------------------------------------------------------------------------
def generate(out: Path, expected_path: Path) -> None:
    rng = random.Random(SEED)
    legs = read_trunk_legs(HERE)
    assert PBX_ONLY_NUMBER not in all_numbers(HERE)
    calls, missing = build(legs, rng)
    texts: dict[str, str] = {}
    for site in SITES:
        texts[site.key] = WRITERS[site.key](calls[site.key], rng)
        path = out / site.rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(texts[site.key], encoding="utf-8")
    exp = expected(calls, missing, texts)
    expected_path.parent.mkdir(parents=True, exist_ok=True)
    expected_path.write_text(json.dumps(exp, indent=2) + "\n", encoding="utf-8")
    (out / "pbx" / "README.md").write_text(readme(calls, exp), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--out", type=Path, default=HERE, help="folder to write pbx/ into (default: here)"
    )
    parser.add_argument(
        "--expected",
        type=Path,
        default=ROOT / "tests" / "pbx_sample_expected.json",
        help="where the expected result goes (default: tests/pbx_sample_expected.json)",
    )
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    generate(args.out, args.expected)


if __name__ == "__main__":
    main()
