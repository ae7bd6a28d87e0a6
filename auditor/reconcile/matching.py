"""Matching records to Twilio call legs, one to one: the stages every matcher shares.

The stages, each a pure function over frames of row numbers (`__p` a record, `__t` a leg):
1. keys: `key_pairs`, records and legs sharing an exact key (a CallSid), the first record of a
   key claiming its leg, the later ones repeats;
2. numbers -> candidates: `candidate_pairs`, (record, leg) sharing an external number (a
   `number` that is not a DID, `normalize.numbers.normalise_numbers`) with the leg's start in the
   record's window, each pair ranked by a cost (start gap first, then duration gap);
3. one-to-one assignment: `assign_pairs`, mutual unique bests in rounds, ties set apart;
4. spans: `in_spans`, whether a start lies in the time some input covers, and `related_legs`,
   legs of the same call as a matched one (a `<Dial>` parent or child): what may be reported as
   missing on one side.

A matcher is a policy over these stages (`reconcile.cdr`: PBX calls; `reconcile.records`: the
user's own records): it says which keys and number columns identify a record, how wide its window
is (`window_s`, and `__ring`: seconds it reaches past the start), what the cost ranks (`billsec`:
the seconds compared with the leg's duration), and what a match, a tie or no match means for its
statuses. A new matcher (recordings to calls, Voice Insights summaries to calls) plugs in the same
way: select its records as `__p`, `start_utc`, `billsec`, `__ring` and `{c}_e164` / `{c}_kind` of
its number columns, the legs as `__t`, `start_time_utc`, `duration_s` and theirs; take `key_pairs`
where it has an exact key, `candidate_pairs` then `assign_pairs` for the rest; then turn the
`Assignment` and the spans into its own statuses and columns. No per-row Python: every stage is a
few frame operations (the assignment's rounds as many as the ties and chains need).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import polars as pl

EXTERNAL_KIND = "number"  # a party on the public network (not a DID of the account)
# Ranking key: start gap first, then duration gap (capped below the multiplier).
RANK = 10_000_000
_US = 1_000_000  # microseconds per second
_SPARE_S = 2  # around a window when bucketing: gaps are whole seconds, stamps may not be
_MAX_BUCKETS = 64  # buckets one key is spread over at most (about 2 h of ring at 60 s)
_IDX = pl.UInt32  # the type of `__p` and `__t`


class Assignment(NamedTuple):
    """What `assign_pairs` settled: the matched (__p, __t), and the records (`__p`) and legs
    (`__t`) a tie touched that nothing else matched (`ambiguous` to every matcher so far)."""

    matched: pl.DataFrame
    tied_p: pl.DataFrame
    tied_t: pl.DataFrame


def no_assignment() -> Assignment:
    """An assignment of nothing: no record to match."""
    empty = pl.DataFrame(schema={"__p": _IDX, "__t": _IDX})
    return Assignment(empty, empty.select("__p"), empty.select("__t"))


def key_pairs(
    left: pl.DataFrame, legs: pl.DataFrame, key: str
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(matched (__p, __t) by the exact `key`, (__p, __t or null) of the records repeating an
    earlier record's key): the first record of a key (in `left`'s order) claims its leg; a
    record with a null key takes no part."""
    with_key = left.filter(pl.col(key).is_not_null()).select("__p", key)
    first = pl.col(key).is_first_distinct()
    keys = legs.select("__t", key)
    matched = with_key.filter(first).join(keys, on=key, how="inner").select("__p", "__t")
    repeats = (
        with_key.filter(~first)
        .join(keys, on=key, how="left", maintain_order="left")
        .select("__p", "__t")
    )
    return matched, repeats


def _keys(frame: pl.LazyFrame, id_col: str, columns: Sequence[str], *extra: str) -> pl.LazyFrame:
    """(id, number, *extra, __two) for every distinct external number of each record; `__two`:
    the record has two of them (only then may a pair of records share two numbers)."""

    def external(c: str) -> pl.Expr:
        return pl.col(f"{c}_kind") == EXTERNAL_KIND

    def same(a: str, b: str) -> pl.Expr:
        return (external(a) & (pl.col(f"{a}_e164") == pl.col(f"{b}_e164"))).fill_null(False)

    count = pl.sum_horizontal(
        external(c) & ~pl.any_horizontal(pl.lit(False), *(same(a, c) for a in columns[:i]))
        for i, c in enumerate(columns)
    )
    parts = [
        frame.filter(
            external(c) & ~pl.any_horizontal(pl.lit(False), *(same(a, c) for a in columns[:i]))
        ).select(id_col, pl.col(f"{c}_e164").alias("number"), *extra, (count > 1).alias("__two"))
        for i, c in enumerate(columns)
    ]
    return pl.concat(parts)


def candidate_pairs(
    left: pl.LazyFrame,
    legs: pl.LazyFrame,
    window_s: int,
    left_numbers: Sequence[str],
    leg_numbers: Sequence[str],
) -> pl.DataFrame:
    """(__p, __t, __cost) for every (record, leg) sharing an external number with the leg's
    start from `window_s` before the record's start to `__ring + window_s` after it: the
    candidates of every matcher that matches by number (the PBX's, `--records`).

    `left`: `__p`, `start_utc`, `billsec` (seconds compared with the leg's duration, to rank
    pairs of one start gap; null ranks last), `__ring` (seconds the window reaches past the
    start, besides `window_s`) and `{c}_e164` / `{c}_kind` of each of `left_numbers` (see
    `normalise_numbers`); `legs`: `__t`, `start_time_utc`, `duration_s` and those of
    `leg_numbers`. The cost ranks the start gap first, then the duration gap.

    A window join: time is cut in buckets of about the window's width; each left key is spread
    over the buckets its window (with 2 s to spare for sub-second stamps) touches, each leg key
    sits in its start's bucket, and the join is on (number, bucket). The exact window filter
    follows, so the pairs are those of a join on the number alone, without its fan-out on busy
    numbers."""
    bucket_us = max(2 * (window_s + _SPARE_S), 10) * _US
    start_us = pl.col("start_utc").dt.epoch("us")
    first = (start_us - (window_s + _SPARE_S) * _US) // bucket_us
    last = (start_us + (pl.col("__ring").clip(lower_bound=0) + window_s + _SPARE_S) * _US) // (
        bucket_us
    )
    keys = _keys(left, "__p", left_numbers, "start_utc", "billsec", "__ring")
    # A window over more than _MAX_BUCKETS buckets (a ring time of hours or years: a PBX clock
    # gone wrong, a start in year 1) is joined on the number alone: spread over its buckets, one
    # such key could take any memory.
    wide = (last - first) >= _MAX_BUCKETS
    p = (
        keys.filter(~wide)
        .with_columns(pl.int_ranges(first, last + 1).alias("__bucket"))
        .explode("__bucket")
    )
    t = _keys(legs, "__t", leg_numbers, "start_time_utc", "duration_s").with_columns(
        (pl.col("start_time_utc").dt.epoch("us") // bucket_us).alias("__bucket")
    )
    delta = (pl.col("start_time_utc") - pl.col("start_utc")).dt.total_seconds()
    duration_gap = (pl.col("duration_s") - pl.col("billsec")).abs()
    joined = pl.concat(
        [
            p.join(t, on=["number", "__bucket"]).drop("__bucket"),
            keys.filter(wide).join(t.drop("__bucket"), on="number"),
        ],
        how="diagonal",
    )
    pairs = (
        joined.with_columns(delta.alias("__delta"))
        .filter(
            (pl.col("__delta") >= -window_s) & (pl.col("__delta") <= pl.col("__ring") + window_s)
        )
        .select(
            "__p",
            "__t",
            (
                pl.col("__delta").abs() * RANK
                + duration_gap.clip(upper_bound=RANK - 1).fill_null(RANK - 1)
            ).alias("__cost"),
            "__two",
            "__two_right",
        )
        .collect()
    )
    # A pair of records that share two numbers was found twice.
    twice = pairs["__two"] & pairs["__two_right"]
    if not twice.any():
        return pairs.select("__p", "__t", "__cost")
    return pl.concat([pairs.filter(~twice), pairs.filter(twice).unique(["__p", "__t"])]).select(
        "__p", "__t", "__cost"
    )


def assign_pairs(pairs: pl.DataFrame) -> Assignment:
    """(matched pairs, records touched by a tie, legs touched by a tie), one to one, from the
    (__p, __t, __cost) candidates of `candidate_pairs`.

    Each round matches every pair whose two sides are each other's unique best; when no such
    pair is left, the pairs at the lowest remaining cost are all tied: their tied sides drop out.
    A round is a few frame operations; there are as many rounds as the ties and chains need.
    A pair alone on both its sides (the usual case) is matched in the first round whatever the
    others do, so those are taken first, without the window functions.
    """
    alone = (pl.len().over("__p") == 1) & (pl.len().over("__t") == 1)
    split = pairs.select("__p", "__t", "__cost").with_columns(alone.alias("__alone"))
    matched: list[pl.DataFrame] = [split.filter("__alone").select("__p", "__t")]
    touched: list[pl.DataFrame] = []
    rest = split.filter(~pl.col("__alone")).drop("__alone")
    cost = pl.col("__cost")
    while rest.height:
        ranked = rest.with_columns(
            cost.min().over("__p").alias("__p_min"), cost.min().over("__t").alias("__t_min")
        ).with_columns(
            (cost == pl.col("__p_min")).sum().over("__p").alias("__p_n"),
            (cost == pl.col("__t_min")).sum().over("__t").alias("__t_n"),
        )
        mutual = ranked.filter(
            (cost == pl.col("__p_min"))
            & (cost == pl.col("__t_min"))
            & (pl.col("__p_n") == 1)
            & (pl.col("__t_n") == 1)
        ).select("__p", "__t")
        if mutual.height:
            matched.append(mutual)
            drop_p, drop_t = mutual["__p"], mutual["__t"]
        else:
            tied = ranked.filter(cost == cost.min())
            touched.append(tied.select("__p", "__t"))
            drop_p = tied.filter(pl.col("__p_n") > 1)["__p"]
            drop_t = tied.filter(pl.col("__t_n") > 1)["__t"]
        rest = rest.filter(
            ~pl.col("__p").is_in(drop_p.implode()) & ~pl.col("__t").is_in(drop_t.implode())
        )
    empty = pl.DataFrame(schema={"__p": _IDX, "__t": _IDX})
    done = pl.concat(matched)
    ties = pl.concat(touched) if touched else empty
    return Assignment(
        done,
        ties.select("__p").unique().join(done, on="__p", how="anti").select("__p"),
        ties.select("__t").unique().join(done, on="__t", how="anti").select("__t"),
    )


def in_spans(starts: pl.Series, spans: pl.DataFrame) -> pl.Series:
    """Whether each start lies in one of `spans` (`__lo` to `__hi`, both ends included; a span
    with a null end is none). The spans are merged into disjoint intervals and each start is
    looked up by binary search: no cross join of legs with spans. Times are compared as their
    integers: a time polars holds but Python cannot (year 0, -1) is no traceback."""
    spans = (
        spans.select(pl.col("__lo", "__hi").cast(starts.dtype).to_physical())
        .drop_nulls()
        .sort("__lo")
    )
    lows: list[int] = []
    highs: list[int] = []
    for lo, hi in spans.iter_rows():  # one row per file: few
        if highs and lo <= highs[-1]:
            highs[-1] = max(highs[-1], hi)
        else:
            lows.append(lo)
            highs.append(hi)
    if not lows:
        return pl.repeat(False, starts.len(), dtype=pl.Boolean, eager=True).alias("in_span")
    lo_s, hi_s = pl.Series(lows, dtype=pl.Int64), pl.Series(highs, dtype=pl.Int64)
    starts = starts.to_physical()
    at = lo_s.search_sorted(starts, side="right").cast(pl.Int64) - 1  # last interval from <= start
    frame = pl.DataFrame({"start": starts, "at": at, "hi": hi_s.gather(at.clip(lower_bound=0))})
    return frame.select(
        ((pl.col("at") >= 0) & (pl.col("start") <= pl.col("hi"))).fill_null(False).alias("in_span")
    ).to_series()


def related_legs(legs: pl.DataFrame, matched_t: pl.Series) -> pl.Expr:
    """Legs whose parent or child leg is matched (`legs` carries `__t`, `call_sid` and
    `parent_call_sid`; `matched_t` the matched `__t`)."""
    if "parent_call_sid" not in legs.columns:
        return pl.lit(False)
    done = legs.filter(pl.col("__t").is_in(matched_t.implode()))
    sids = done["call_sid"].drop_nulls().implode()
    parents = done["parent_call_sid"].drop_nulls().implode()
    return (pl.col("parent_call_sid").is_in(sids) | pl.col("call_sid").is_in(parents)).fill_null(
        False
    )
