"""Every status and rule name the audit writes into an output column or reads from the rules
file, in one place."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import TypeVar

import polars as pl

from auditor.errors import InternalError

K = TypeVar("K")
V = TypeVar("V")


class ReconStatus(StrEnum):
    """`usage_reconciliation.status`: how an account x period x category came out."""

    MATCH = "match"  # logs and usage agree with no rule needed
    EXPLAINED = "explained"  # they differ, and the rules named in `explained_by` account for it
    UNEXPLAINED = "unexplained"  # a difference no rule explains: a finding
    NOT_COMPARED = "not-compared"  # nothing on the other side covers it: a finding too


class FindingLevel(StrEnum):
    """The `level` of an unexplained or not-compared row in the row tables (terminal,
    report.html, audit.xlsx): every count counts findings; roll-ups repeat them summed."""

    FINDING = "finding"  # the finest level of a finding (`usage_reconciliation.headline`)
    ROLL_UP = "roll-up"  # a parent category summing findings below it: not counted again


class DiffersIn(StrEnum):
    """What an unexplained row differs in (`differs_in` of the row tables)."""

    CALLS = "calls"
    MINUTES = "minutes"
    PRICE = "price"
    PRICE_ONLY = "price only"  # same calls and minutes, another price


class UsedAs(StrEnum):
    """`usage_records.used_as`: what the audit did with a usage record."""

    RECONCILED = "reconciled"  # compared with the logs of its period
    NOT_VOICE = "not-voice"  # not a voice category: out of scope
    UNALIGNED = "unaligned"  # its span is not exactly one period: reported, never split


class MatchStatus(StrEnum):
    """`cdr_matches.match_status`: how a PBX call or a Twilio leg came out of matching."""

    MATCHED = "matched"
    PBX_ONLY = "pbx-only"
    TWILIO_ONLY = "twilio-only"
    INTERNAL = "internal"  # never crossed the trunk (no external number, no trunk channel)
    AMBIGUOUS = "ambiguous"  # a tie the matcher does not break by guess
    # Outside the time span of the Twilio legs given: nothing to compare it with (a finding, but
    # not one Twilio missed: priced at nothing).
    NOT_COMPARED = "not-compared"


class Mismatch(StrEnum):
    """`cdr_matches.mismatch` (`;`-separated when both): what differs on a matched pair."""

    DURATION = "duration"
    ANSWERED_VS_STATUS = "answered-vs-status"


class RecordsMatch(StrEnum):
    """`records_matches.match_status`: how a user's record or a Twilio leg came out of matching
    (`--records`)."""

    MATCHED = "matched"
    RECORDS_ONLY = "records-only"  # no Twilio leg for the record
    TWILIO_ONLY = "twilio-only"  # a leg in the records' time span that no record claims
    AMBIGUOUS = "ambiguous"  # a tie the matcher does not break by guess, or a SID claimed twice


class RecordsFinding(StrEnum):
    """`records_matches.finding` (`;`-separated, in this order): each problem of a row."""

    UNDELIVERED = "undelivered"  # the record says delivered; Twilio has no call or did not connect
    MACHINE_ANSWERED = "machine-answered"  # the record says human or delivered; Twilio: machine
    SLOW = "slow"  # Twilio started more than --max-delay after the record's time
    DURATION = "duration"  # record and Twilio durations differ beyond --duration-tolerance
    STATUS = "status"  # the record's mapped outcome differs from Twilio's status
    RECORDS_ONLY = "records-only"
    TWILIO_ONLY = "twilio-only"
    AMBIGUOUS = "ambiguous"


class CallDirection(StrEnum):
    """Twilio's call directions (`direction` of the call logs; `--records-direction` takes
    these)."""

    INBOUND = "inbound"
    OUTBOUND_API = "outbound-api"
    OUTBOUND_DIAL = "outbound-dial"
    TRUNKING_ORIGINATING = "trunking-originating"  # a call to a DID, delivered to the SIP trunk
    TRUNKING_TERMINATING = "trunking-terminating"  # a call from the SIP trunk out to a number


# The directions as text, in this order: the calls contract's check and its message, the fast
# pass of normalize/calls.py, the check of --records-direction.
CALL_DIRECTIONS = tuple(d.value for d in CallDirection)


# The findings that are no match status: counted beside the statuses (summary.json `records`,
# records_groups), in `RecordsFinding` order.
ROW_FINDINGS = tuple(f for f in RecordsFinding if f.value not in {m.value for m in RecordsMatch})

# Twilio's `answered_by` values (answering machine detection) that mean no human answered.
MACHINE_ANSWERED_BY = (
    "machine_start",
    "machine_end_beep",
    "machine_end_silence",
    "machine_end_other",
    "fax",
)


class DstNote(StrEnum):
    """`dst` (calls) / `dst_note` (PBX calls): a naive local time in a DST gap or overlap, placed
    by `--dst earliest|latest`."""

    GAP = "dst-gap"
    OVERLAP = "dst-overlap"


class Duplicate(StrEnum):
    """How a repeated key's reject reason in rejects.csv begins (`duplicate of FILE:ROW`), and
    the note on a repeat whose final status won over a non-final one."""

    IDENTICAL = "duplicate of"  # the same values as the row kept
    CONFLICTING = "conflicting duplicate of"  # values differ: `(name KEPT vs THIS, ...)` follows
    KEPT_FINAL = "kept the final status"


class FileStatus(StrEnum):
    """`auditor verify`: a file of the manifest as it is now."""

    OK = "OK"
    CHANGED = "changed"
    MISSING = "missing"


def enum_dtype(values: type[StrEnum]) -> pl.Enum:
    """The polars column type of an output column holding `values`."""
    return pl.Enum([v.value for v in values])


def count_key(member: StrEnum) -> str:
    """The summary key that counts the rows of `member` (`RECORDS_ONLY` -> `records_only`)."""
    return member.name.lower()


def in_order(names: Iterable[K], values: Mapping[K, V]) -> dict[K, V]:
    """`values`, one for each of `names` and in their order (a rule's flag per `Rule`, a bridge
    stage's legs per step). A name without a value, or a value of no name, is the auditor's own
    bug: an error here, at once, not a column missing later (nor an `assert`, gone under -O)."""
    order = list(names)
    if set(order) != set(values) or len(order) != len(values):
        missing = [str(n) for n in order if n not in values]
        extra = [str(k) for k in values if k not in order]
        raise InternalError(f"names without a value: {missing}; values of no name: {extra}")
    return {n: values[n] for n in order}


# Statuses that make the exit code non-zero and are listed as findings, in report order.
FINDINGS = (ReconStatus.UNEXPLAINED, ReconStatus.NOT_COMPARED)


class Rule(StrEnum):
    """A rule that touched a leg, in the order `calls.rules` lists them (`;`-separated); the
    reconciliation's `explained_by` names them in the same order."""

    ROUNDING = "rounding"  # billed seconds differ from the duration (minimum, increment)
    UNBILLED_STATUS = "unbilled-status"  # failed, busy, no-answer, canceled: billed nothing
    CLIENT_CATEGORY = "client-category"  # a `client:` leg, in its own category
    SIP_CATEGORY = "sip-category"  # a `sip:` leg, likewise
    TRUNKING_CATEGORY = "trunking-category"  # a trunking leg, likewise
    START_DATE_ATTRIBUTION = "start-date-attribution"  # ends in a later period than it starts
    TIMEZONE = "timezone"  # in another period by the export's local dates than by UTC
    PERIOD_END_EXCLUSIVE = "period-end-exclusive"  # starts on the last day after 00:00 (month)
    DST_GAP = "dst-gap"  # a naive time in a DST gap, placed by --dst
    DST_OVERLAP = "dst-overlap"  # a naive time in a DST overlap, likewise
    UNSETTLED = "unsettled"  # queued, ringing, in-progress: not over yet
    PRICE_PENDING = "price-pending"  # billable, and Twilio has not priced it yet


class BridgeStep(StrEnum):
    """`bridge.rule`, in the order of `bridge.step` (0 to 11): from what a user naively compares
    to the expected figures one rule at a time (see reconcile/bridge.py), then the usage."""

    NAIVE = "naive"  # the export's own dates, every status and category, raw seconds / 60
    PERIOD_END_EXCLUSIVE = Rule.PERIOD_END_EXCLUSIVE.value
    TIMEZONE = Rule.TIMEZONE.value
    UNSETTLED = Rule.UNSETTLED.value
    UNBILLED_STATUS = Rule.UNBILLED_STATUS.value
    CLIENT_CATEGORY = Rule.CLIENT_CATEGORY.value
    SIP_CATEGORY = Rule.SIP_CATEGORY.value
    TRUNKING_CATEGORY = Rule.TRUNKING_CATEGORY.value
    CATEGORY_SPLIT = "category-split"  # the remaining legs of other categories dropped
    ROUNDING = Rule.ROUNDING.value
    EXPECTED = "expected"  # the last step's figures
    UNEXPLAINED = "unexplained"  # usage - expected


# Rules a leg rule of the rules file may name: why a leg is not in the plain voice category.
CATEGORY_RULES = tuple(
    r.value for r in (Rule.CLIENT_CATEGORY, Rule.SIP_CATEGORY, Rule.TRUNKING_CATEGORY)
)
# Number types a leg rule may test the called number for (from phonenumbers).
NUMBER_TYPES = ("tollfree", "mobile")
# The next-check hints the audit looks up in the rules file.
HINTS = (
    "usage-count-above-logs",
    "usage-count-below-logs",
    "usage-minutes-above-logs",
    "usage-minutes-below-logs",
    "usage-price-above-logs",
    "usage-price-below-logs",
    "logs-missing",
    "rows-rejected",
    "currency-mix",
    "currency-unknown",
    "not-compared-usage",
    "not-compared-logs",
    "logs-cut",
    "usage-cut",
    "dst-rejected",
    "tz-offset",
)


class UnconnectedDial(StrEnum):
    """PBX dispositions of a Dial to the trunk that did not connect (Asterisk's
    ast_cdr_disp2str): on an outbound call such a line bills nothing, whatever its billsec."""

    BUSY = "BUSY"
    CONGESTION = "CONGESTION"
    NO_ANSWER = "NO ANSWER"
    FAILED = "FAILED"
