"""Every status and rule name the audit writes into an output column or reads from the rules
file, in one place."""

from __future__ import annotations

from enum import StrEnum

import polars as pl


class ReconStatus(StrEnum):
    """`usage_reconciliation.status`: how an account x period x category came out."""

    MATCH = "match"  # logs and usage agree with no rule needed
    EXPLAINED = "explained"  # they differ, and the rules named in `explained_by` account for it
    UNEXPLAINED = "unexplained"  # a difference no rule explains: a finding
    NOT_COMPARED = "not-compared"  # nothing on the other side covers it: a finding too


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
    INTERNAL = "internal"  # extension to extension: Twilio never saw it
    AMBIGUOUS = "ambiguous"  # a tie the matcher does not break by guess


class Mismatch(StrEnum):
    """`cdr_matches.mismatch` (`;`-separated when both): what differs on a matched pair."""

    DURATION = "duration"
    ANSWERED_VS_STATUS = "answered-vs-status"


class DstNote(StrEnum):
    """`dst` (calls) / `dst_note` (PBX calls): a naive local time in a DST gap or overlap, placed
    by `--dst earliest|latest`."""

    GAP = "dst-gap"
    OVERLAP = "dst-overlap"


def enum_dtype(values: type[StrEnum]) -> pl.Enum:
    """The polars column type of an output column holding `values`."""
    return pl.Enum([v.value for v in values])


# Statuses that make the exit code non-zero and are listed as findings, in report order.
FINDINGS = (ReconStatus.UNEXPLAINED, ReconStatus.NOT_COMPARED)


# Rules a leg rule of the rules file may name: why a leg is not in the plain voice category.
CATEGORY_RULES = ("client-category", "sip-category", "trunking-category")
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
    "not-compared-usage",
    "not-compared-logs",
)
