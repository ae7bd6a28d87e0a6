"""Every status and rule name the audit writes into an output column or reads from the rules
file, in one place."""

from __future__ import annotations

from enum import StrEnum


class ReconStatus(StrEnum):
    """`usage_reconciliation.status`: how an account x period x category came out."""

    MATCH = "match"  # logs and usage agree with no rule needed
    EXPLAINED = "explained"  # they differ, and the rules named in `explained_by` account for it
    UNEXPLAINED = "unexplained"  # a difference no rule explains: a finding
    NOT_COMPARED = "not-compared"  # nothing on the other side covers it: a finding too


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
