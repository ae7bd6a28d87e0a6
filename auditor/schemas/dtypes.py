"""The dtypes canonical frames and outputs share, each defined once: contracts, normalisers and
reconciliations import them from here, so a column's type cannot drift between them."""

from __future__ import annotations

import polars as pl

from auditor.statuses import DstNote

DT_UTC = pl.Datetime("us", "UTC")  # every instant: UTC, microseconds
MONEY = pl.Decimal(38, 10)  # Money is a Decimal, never a float: prices carry up to 5+ decimals.
MINUTES = pl.Decimal(38, 6)  # billed and usage minutes
DST_NOTES = tuple(n.value for n in DstNote)  # the values of a `dst` column
