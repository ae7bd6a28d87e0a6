"""Every status value the audit writes into an output column, in one place."""

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
