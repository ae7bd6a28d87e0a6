"""Which PBX channel is the trunk to Twilio: one test, for the normaliser (whose seconds are the
trunk's) and for matching (which calls crossed the trunk)."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl


def trunk_channel(channel: str, trunks: Sequence[str]) -> pl.Expr:
    """`channel` starts with one of the `--trunk` prefixes, case aside (empty ones ignored): the
    one test of a trunk channel, here and in matching (reconcile.cdr.crossed_trunk)."""
    lower = pl.col(channel).str.to_lowercase()
    return pl.any_horizontal(
        pl.lit(False), *(lower.str.starts_with(t.lower()) for t in trunks if t)
    )
