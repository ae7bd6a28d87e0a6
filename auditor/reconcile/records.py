"""Your own records against Twilio's call legs: did every alert, dialer attempt or agent session get
the call Twilio logged and billed (`auditor audit ... --records FILE --records-format FORMAT`)?

Matching, one to one:
1. By CallSid where the record has one: exact. A SID in two records matches the first of them
   (file, then row order); the others are `ambiguous` (shown beside the leg, never counted for
   its minutes or price). A record whose SID is in no log is `records-only`.
2. A record with no SID, by the called number (E.164) and its time: the PBX matcher's own
   candidates and assignment (`cdr.candidate_pairs`, `cdr.assign_pairs`): a leg to the same
   number starting within `window_s` of the record's time, closest start, then closest duration,
   each the other's unique best, in rounds; ties are `ambiguous` on both sides and left unmatched.
   Legs claimed by a SID are not candidates.
3. `twilio-only`: a leg no record claims that starts inside the span of a records file (its
   first to last record time, the time of a record without one taken from its matched leg,
   widened by `window_s`), from the user's system: from one of `from_numbers` (`--records-from`;
   default: the records' own `from` numbers when the format maps them) and of one of
   `directions` (`--records-direction`), when given. A leg whose parent or child leg matched a
   record is part of that call and is not reported.

Findings, per row, `;`-separated in `RecordsFinding` order:
- `undelivered`: the record says delivered (its outcome maps to a billable status, or the format
  maps no outcome at all) and Twilio shows an unbilled status (failed, busy, no-answer, canceled:
  `twilio_status` says which), or there is no Twilio call (`records-only`);
- `machine-answered`: Twilio's `answered_by` is a machine or fax while the record says human (its
  own verdict starts with `human`, any case) or, with no verdict of its own, says delivered;
- `slow`: Twilio's start is more than `max_delay_s` after the record's time (`delay_s`);
- `duration`: the durations differ by more than `duration_tolerance_s` (unless that is
  `undelivered`: a call that never connected is that one problem, counted once); the billed
  minutes at stake are Twilio's billed minutes minus what the record's duration would bill on
  the same leg (its category's pricing model, `rules/billing.py`), in absolute value;
- `status`: the mapped outcome differs from Twilio's status (unless that is `undelivered`);
- `records-only`, `twilio-only`, `ambiguous`: the match status.

Rows are in time order (the record's time, else the leg's start), then the records in input order,
then the legs in log order. `billed_minutes` and `price` are Twilio's (the leg's billed minutes
under its category's pricing model, its price as logged) on matched and twilio-only rows.
`records_groups` sums, per group column and value, the records, matches and findings, and the
billed minutes and price (absolute, only where one currency) of the matched legs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from auditor.errors import UsageError
from auditor.normalize.numbers import normalise_numbers, number_table
from auditor.reconcile.cdr import (
    assign_pairs,
    candidate_pairs,
    in_spans,
    related_legs,
)
from auditor.reconcile.classify import category_billed_seconds
from auditor.result import RecordsCounts
from auditor.rules.model import Rules
from auditor.schemas.records import GROUP_PREFIX, GROUP_SCHEMA, MATCH_SCHEMA, MINUTES
from auditor.statuses import MACHINE_ANSWERED_BY, RecordsFinding, RecordsMatch

LEG_COLUMNS = (
    "source_file",
    "source_row",
    "call_sid",
    "parent_call_sid",
    "direction",
    "from",
    "to",
    "status",
    "start_time_utc",
    "duration_s",
    "answered_by",
    "category",
    "billable",
    "billed_seconds",
    "billed_minutes",
    "price",
    "price_unit",
)
_IDX = pl.UInt32
F = RecordsFinding
M = RecordsMatch


@dataclass(frozen=True)
class RecordsMatches:
    """What `match_records` found: the rows of `records_matches` (output columns, then the
    group columns as the format names them), `records_groups`, and the counts."""

    matches: pl.DataFrame
    groups: pl.DataFrame
    counts: RecordsCounts


def _own_numbers(numbers: Sequence[str], region: str) -> list[str]:
    """`--records-from` numbers as E.164; UsageError for one that is no phone number."""
    table = number_table(pl.Series(list(numbers), dtype=pl.String), region=region)
    bad = table.filter(pl.col("kind") != "number")["raw"].to_list()
    if bad:
        raise UsageError(f"--records-from {bad[0]!r} is not a phone number (E.164 or national)")
    return sorted(table["e164"].unique().to_list())


def _sid_pairs(recs: pl.DataFrame, legs: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(matched (__p, __t) by SID, (__p, __t or null) of the records repeating an earlier SID)."""
    with_sid = recs.filter(pl.col("call_sid").is_not_null()).select("__p", "call_sid")
    first = pl.col("call_sid").is_first_distinct()
    sids = legs.select("__t", "call_sid")
    matched = with_sid.filter(first).join(sids, on="call_sid", how="inner").select("__p", "__t")
    repeats = (
        with_sid.filter(~first)
        .join(sids, on="call_sid", how="left", maintain_order="left")
        .select("__p", "__t")
    )
    return matched, repeats


def _number_pairs(
    recs: pl.DataFrame, legs: pl.DataFrame, claimed: pl.Series, window_s: int
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """The PBX matcher over the records with no SID and the legs no SID claimed."""
    left = recs.filter(
        pl.col("call_sid").is_null()
        & pl.col("to_e164").is_not_null()
        & pl.col("time_utc").is_not_null()
    ).select(
        "__p",
        pl.col("time_utc").alias("start_utc"),
        pl.col("duration_s").alias("billsec"),
        pl.lit(0, pl.Int64).alias("__ring"),
        "to_e164",
        pl.lit("number").alias("to_kind"),
    )
    empty = pl.DataFrame(schema={"__p": _IDX, "__t": _IDX})
    if not left.height:
        return empty, empty.select("__p"), empty.select("__t")
    right = legs.filter(
        ~pl.col("__t").is_in(claimed.implode()) & pl.col("start_time_utc").is_not_null()
    ).select("__t", "start_time_utc", "duration_s", "to_e164", "to_kind")
    pairs = candidate_pairs(left.lazy(), right.lazy(), window_s, ("to",), ("to",))
    return assign_pairs(pairs)


def _scatter(n: int, index: pl.Series, values: pl.Series) -> pl.Series:
    return pl.repeat(None, n, dtype=_IDX, eager=True).scatter(index, values)


def _flags(rules: Rules, has_status: bool, max_delay_s: int, tolerance_s: int) -> list[pl.Expr]:
    """One boolean column per finding, `__f:NAME` (see the module docstring)."""
    status = pl.col("match_status")
    matched = status == M.MATCHED.value
    if has_status:
        delivered = pl.col("__rec_status").is_in(list(rules.billable)).fill_null(False)
    else:
        delivered = pl.lit(True)
    verdict = pl.col("__rec_answered_by").str.strip_chars().str.to_lowercase()
    unsaid = pl.when(verdict.is_null() | (verdict == "")).then(delivered)
    human = unsaid.otherwise(verdict.str.starts_with("human"))
    twilio_status = pl.col("twilio_status")
    undelivered = (matched & delivered & twilio_status.is_in(list(rules.unbilled))) | (
        (status == M.RECORDS_ONLY.value) & delivered
    )
    flags = {
        F.UNDELIVERED: undelivered,
        F.MACHINE_ANSWERED: matched
        & pl.col("answered_by").is_in(list(MACHINE_ANSWERED_BY))
        & human,
        F.SLOW: matched & (pl.col("delay_s") > max_delay_s),
        # A call Twilio did not deliver is `undelivered` only: its duration differs because it
        # never connected, the same problem, counted once.
        F.DURATION: matched
        & (pl.col("duration_delta_s").abs() > tolerance_s)
        & ~undelivered.fill_null(False),
        F.STATUS: matched
        & (pl.col("__rec_status") != twilio_status)
        & ~undelivered.fill_null(False),
        F.RECORDS_ONLY: status == M.RECORDS_ONLY.value,
        F.TWILIO_ONLY: status == M.TWILIO_ONLY.value,
        F.AMBIGUOUS: status == M.AMBIGUOUS.value,
    }
    assert tuple(flags) == tuple(RecordsFinding)
    return [expr.fill_null(False).alias(f"__f:{name}") for name, expr in flags.items()]


def match_records(
    records: pl.DataFrame,
    legs: pl.DataFrame | pl.LazyFrame,
    *,
    rules: Rules,
    has_status: bool,
    region: str = "US",
    window_s: int = 60,
    duration_tolerance_s: int = 2,
    max_delay_s: int = 60,
    from_numbers: Sequence[str] = (),
    directions: Sequence[str] = (),
) -> RecordsMatches:
    """Match `records` (the canonical records frame, `group:NAME` columns riding along) with
    `legs` (the classified call legs of calls.parquet plus `answered_by` and `price_unit`; a
    LazyFrame is read for the columns needed only). `has_status`: the format maps an outcome.

    The matching works on row numbers (`__p` a record, `__t` a leg); the output's columns are
    gathered once, in output order, at the end."""
    groups = [c for c in records.columns if c.startswith(GROUP_PREFIX)]
    recs = records.with_row_index("__p")
    present = legs.lazy().collect_schema().names()
    leg_frame = legs.lazy().select(c for c in LEG_COLUMNS if c in present).collect()
    leg_frame = normalise_numbers(leg_frame.with_row_index("__t"), ["to"], region=region)

    sid_matched, repeats = _sid_pairs(recs, leg_frame)
    nt_matched, tied_p, tied_t = _number_pairs(recs, leg_frame, sid_matched["__t"], window_s)
    matched = pl.concat([sid_matched, nt_matched])
    leg_of = _scatter(recs.height, matched["__p"], matched["__t"])
    # A record repeating a SID is shown beside its leg (`ambiguous`: never counted for it).
    shown = leg_of.clone().scatter(repeats["__p"], repeats["__t"]) if repeats.height else leg_of
    ambiguous = pl.concat([repeats["__p"], tied_p["__p"]])
    per_record = pl.DataFrame({"__leg": leg_of, "__shown": shown}).with_row_index("__p")
    per_record = per_record.with_columns(
        pl.when(pl.col("__leg").is_not_null())
        .then(pl.lit(M.MATCHED.value))
        .when(pl.col("__p").is_in(ambiguous.implode()))
        .then(pl.lit(M.AMBIGUOUS.value))
        .otherwise(pl.lit(M.RECORDS_ONLY.value))
        .alias("match_status")
    )

    # Legs reported on their own: tied ones, and twilio-only ones in a records file's span (a
    # record without a time is placed at its matched leg's start).
    placed = pl.DataFrame(
        {
            "file": recs["source_file"],
            "time": recs["time_utc"],
            "leg": leg_frame["start_time_utc"].gather(leg_of),
        }
    )
    when = pl.coalesce("time", "leg")
    spans = placed.group_by("file").agg(
        (when.min() - pl.duration(seconds=window_s)).alias("__lo"),
        (when.max() + pl.duration(seconds=window_s)).alias("__hi"),
    )
    done = pl.repeat(False, leg_frame.height, dtype=pl.Boolean, eager=True)
    if matched.height:
        done = done.scatter(matched["__t"], True)
    scope = pl.lit(True)
    own = (
        _own_numbers(from_numbers, region)
        if from_numbers
        else sorted(records["from_e164"].drop_nulls().unique().to_list())
    )
    if own:
        leg_frame = normalise_numbers(leg_frame, ["from"], region=region)
        scope = scope & pl.col("from_e164").is_in(own)
    if directions:
        scope = scope & pl.col("direction").is_in(list(directions))
    leg_status = (
        pl.when(pl.col("__done"))
        .then(None)
        .when(pl.col("__t").is_in(tied_t["__t"].implode()))
        .then(pl.lit(M.AMBIGUOUS.value))
        .when(pl.col("__in_span") & scope.fill_null(False) & ~pl.col("__related"))
        .then(pl.lit(M.TWILIO_ONLY.value))
    )
    per_leg = (
        leg_frame.select(
            "__t",
            "start_time_utc",
            "call_sid",
            "parent_call_sid",
            "from",
            "direction",
            *(["from_e164"] if own else []),
        )
        .with_columns(
            done.alias("__done"),
            in_spans(leg_frame["start_time_utc"], spans).alias("__in_span"),
            related_legs(leg_frame, matched["__t"]).alias("__related"),
        )
        .select("__t", leg_status.alias("match_status"))
        .filter(pl.col("match_status").is_not_null())
    )
    thin = pl.concat(
        [
            per_record.select("__p", pl.col("__shown").alias("__t"), "match_status"),
            per_leg.select(pl.lit(None, _IDX).alias("__p"), "__t", "match_status"),
        ]
    )
    mine = recs.select(
        pl.col("source_file").alias("records_source_file"),
        pl.col("source_row").alias("records_source_row"),
        pl.col("call_sid").alias("__r_sid"),
        pl.col("to_e164").alias("__r_to"),
        pl.col("time_utc").alias("record_time_utc"),
        pl.col("duration_s").alias("record_duration_s"),
        pl.col("status").alias("__rec_status"),
        pl.col("answered_by").alias("__rec_answered_by"),
        *groups,
    )
    twilio = leg_frame.select(
        pl.col("source_file").alias("twilio_source_file"),
        pl.col("source_row").alias("twilio_source_row"),
        pl.col("call_sid").alias("__t_sid"),
        pl.col("to_e164").alias("__t_to"),
        pl.col("start_time_utc").alias("twilio_start_utc"),
        pl.col("duration_s").alias("twilio_duration_s"),
        pl.col("status").alias("twilio_status"),
        "answered_by",
        "category",
        "billable",
        "billed_seconds",
        "billed_minutes",
        "price",
        "price_unit",
    )
    del recs, leg_frame
    # Output order: by time (the record's, else the leg's start), then the records in input order
    # (file, row), then the legs in log order: row numbers stand for (file, row), both being in
    # input order.
    times = pl.DataFrame(
        {
            "time": mine["record_time_utc"].gather(thin["__p"]),
            "start": twilio["twilio_start_utc"].gather(thin["__t"]),
            "__p": thin["__p"],
            "__t": thin["__t"],
        }
    )
    order = times.select(
        pl.arg_sort_by([pl.coalesce("time", "start"), "__p", "__t"], nulls_last=True)
    ).to_series()
    del times
    thin = thin[order]
    wide = pl.concat(
        [mine[thin["__p"]], twilio[thin["__t"]], thin.select("match_status")], how="horizontal"
    )
    del mine, twilio, thin
    return _finish(
        wide,
        groups,
        records.height,
        rules,
        has_status=has_status,
        max_delay_s=max_delay_s,
        tolerance_s=duration_tolerance_s,
    )


def _finish(
    rows: pl.DataFrame,
    groups: list[str],
    n_records: int,
    rules: Rules,
    *,
    has_status: bool,
    max_delay_s: int,
    tolerance_s: int,
) -> RecordsMatches:
    """The derived columns and findings of `rows` (in output order), the counts and groups."""
    status = pl.col("match_status")
    matched = status == M.MATCHED.value
    priced = matched | (status == M.TWILIO_ONLY.value)
    rows = rows.with_columns(
        pl.coalesce("__t_sid", "__r_sid").alias("call_sid"),
        pl.coalesce("__r_to", "__t_to").alias("to_e164"),
        pl.when(matched)
        .then((pl.col("twilio_start_utc") - pl.col("record_time_utc")).dt.total_seconds())
        .alias("delay_s"),
        pl.when(matched)
        .then(pl.col("twilio_duration_s") - pl.col("record_duration_s"))
        .alias("duration_delta_s"),
        pl.when(priced).then(pl.col("billed_minutes")).alias("billed_minutes"),
        pl.when(priced).then(pl.col("price")).alias("price"),
        pl.when(priced).then(pl.col("price_unit")).alias("__unit"),
    )
    rows = rows.with_columns(_flags(rules, has_status, max_delay_s, tolerance_s))
    finding = pl.concat_str(
        [pl.when(pl.col(f"__f:{f}")).then(pl.lit(f.value)) for f in RecordsFinding],
        separator=";",
        ignore_nulls=True,
    )
    record_billed = category_billed_seconds(
        rules,
        pl.col("record_duration_s"),
        pl.col("billable"),
        pl.coalesce("twilio_start_utc", "record_time_utc"),  # as if the leg had lasted it
    )
    at_stake = (pl.col("billed_seconds") - record_billed).abs().cast(pl.Float64) / 60
    rows = rows.with_columns(
        pl.when(finding != "").then(finding).alias("finding"),
        pl.when(pl.col(f"__f:{F.DURATION}")).then(at_stake).otherwise(0.0).alias("__at_stake"),
    )
    out = rows.select(
        *(pl.col(c).cast(t) for c, t in MATCH_SCHEMA.items()),
        *(pl.col(g).alias(g.removeprefix(GROUP_PREFIX)) for g in groups),
    )
    return RecordsMatches(out, _groups(rows, groups), _counts(rows, n_records))


def _counts(rows: pl.DataFrame, n_records: int) -> RecordsCounts:
    status = pl.col("match_status")
    got = rows.select(
        (status == M.MATCHED.value).sum().alias("matched"),
        (status == M.RECORDS_ONLY.value).sum().alias("records_only"),
        (status == M.TWILIO_ONLY.value).sum().alias("twilio_only"),
        (status == M.AMBIGUOUS.value).sum().alias("ambiguous"),
        *(
            pl.col(f"__f:{f}").sum().alias(f.name.lower())
            for f in (F.UNDELIVERED, F.MACHINE_ANSWERED, F.SLOW, F.DURATION, F.STATUS)
        ),
        pl.col("__at_stake").sum().alias("billed_minutes_at_stake"),
    ).row(0, named=True)
    at_stake = round(float(got.pop("billed_minutes_at_stake") or 0), 4)
    return RecordsCounts(
        records=n_records,
        **{k: int(v) for k, v in got.items()},
        billed_minutes_at_stake=at_stake,
    )


def _groups(rows: pl.DataFrame, groups: list[str]) -> pl.DataFrame:
    """One row per group column x value (records only: a twilio-only leg has no group)."""
    status = pl.col("match_status")
    matched = status == M.MATCHED.value
    mine = rows.lazy().filter(pl.col("records_source_file").is_not_null())
    unit = pl.col("__unit").filter(matched & pl.col("price").is_not_null())
    frames = []
    for i, g in enumerate(groups):
        per = (
            mine.group_by(pl.col(g).alias("value"))
            .agg(
                pl.len().alias("records"),
                matched.sum().alias("matched"),
                (status == M.RECORDS_ONLY.value).sum().alias("records_only"),
                (status == M.AMBIGUOUS.value).sum().alias("ambiguous"),
                *(
                    pl.col(f"__f:{f}").sum().alias(f.name.lower())
                    for f in (F.UNDELIVERED, F.MACHINE_ANSWERED, F.SLOW, F.DURATION, F.STATUS)
                ),
                pl.col("billed_minutes").filter(matched).sum().cast(MINUTES),
                pl.col("price").filter(matched).abs().sum().alias("__price"),
                unit.n_unique().alias("__units"),
                unit.unique().sort().str.join(";").alias("currency"),
                pl.col("__at_stake").sum().round(4).alias("billed_minutes_at_stake"),
            )
            .with_columns(
                pl.lit(g.removeprefix(GROUP_PREFIX)).alias("group"),
                pl.lit(i).alias("__order"),
                pl.when(pl.col("__units") <= 1).then(pl.col("__price")).alias("price"),
                pl.when(pl.col("currency") != "").then(pl.col("currency")).alias("currency"),
            )
        )
        frames.append(per.collect())
    if not frames:
        return pl.DataFrame(schema=GROUP_SCHEMA)
    return (
        pl.concat(frames, how="diagonal_relaxed")
        .sort("__order", "value", nulls_last=False)
        .select(pl.col(c).cast(t) for c, t in GROUP_SCHEMA.items())
    )
