"""PBX calls against Twilio call legs, call by call: where the PBX and Twilio disagree.

Numbers. Every party is normalised once per distinct value (`phonenumbers`, `region` for national
numbers): a `number` (E.164), an `extension` (digits only, at most `extension_max_digits`), a `did`
(a number of the account: `--did`, or `account_dids` of the Twilio logs) or `unknown` (`s`,
`anonymous`, `client:...`). SIP URIs are read by their user part; a value already written as E.164
is kept as written even when phonenumbers finds it impossible (a misdialled number still meets the
same misdialled number on Twilio). Two written forms are settled by polars expressions instead,
because their answer is known without phonenumbers (and a test checks it against phonenumbers on a
large sample): a value written as E.164 (kept as written, as above), and, with a NANP region, a
national number NXX-NXX-XXXX of 10 digits, or 11 with a leading 1 (phonenumbers strips the country
code of a number too long for the plan and prefixes +1). Every other distinct value goes through
phonenumbers: IDD-prefixed, formatted, short or odd values. The numbers as the files wrote them are
kept beside (`from_raw`, `to_raw`): a value phonenumbers cannot read (`9011441622371154`,
`default`) has no E.164 form but is never blanked.

The trunk. A PBX call is matched against Twilio only when it crossed the trunk: one of its parties
is an external number (a `number` that is not a DID), or its `channel` or `dstchannel` (those of
its originating line) starts with one of the `trunks` prefixes (`--trunk PJSIP/twilio`, compared
without case). A party written as a phone number that phonenumbers cannot read (digits, longer
than an extension, no E.164 form: `89245555937` under `--region US`, `812489398620`) counts as
external too, unless it is the peer name of one of the file's channels (`123654987` calling from
`SIP/123654987-00000000` is a SIP device): a wrong `--region` must not turn every call internal
and the audit silent. Any other call is `internal`: `anonymous` -> extension 99 over a SIP
phone's channel, `1000` -> `s`, a SIP user to an extension, an extension dialling the DID. Twilio
never saw it; it is counted, not matched, not priced.

Matching. The external party is what both sides agree on: outbound, the PBX writes the extension as
the caller while Twilio sees the DID the trunk presents; inbound, the PBX destination may be the
DID or the extension it rang. So a PBX call and a Twilio leg are candidates when they share an
external number (a `number` that is not a DID, on either side of either record) and the leg starts
from `window_s` before the PBX start to `window_s` after the PBX answer (its start when unanswered:
the PBX's ring time counts). A call with no external number that is not internal (`anonymous` to an
extension over a `--trunk` channel, say) cannot be matched and is `pbx-only`. This is an equi-join
on the number and a time bucket (each PBX window spread over the few buckets it touches, so a
number seen a thousand times pairs each call with the legs near it, not with all thousand), then
the exact window filter. polars' `join_asof(strategy="nearest", tolerance=...)` would keep only one
candidate per call, resolve equal distances silently (to the later row) and hand one leg to several
calls, so it can neither report ties nor stay one to one. Candidates are ranked by the start gap,
then the gap between PBX billsec and Twilio duration; a pair is matched when each is the other's
unique best, in rounds until none is left. When the best remaining gap is tied the tied calls and
legs are `ambiguous` (as is the other side of such a tie if nothing else matches it) and are left
unmatched. Candidates and assignment are the stages every matcher shares (`reconcile.matching`);
this module is the PBX's policy on them.

Twilio-only. An unmatched leg is reported only when it could have crossed the PBX trunk (the
`TrunkLegs` rule): its direction is `trunking-originating` / `trunking-terminating`, or one of its
parties is a DID, or it is a SIP URI on one of the PBX's domains; and it starts within the span one
of the PBX files covers (first start - margin to last end + margin, margin = the window). A leg
whose parent or child leg matched a PBX call is part of that call (a `<Dial>` child, say) and is
not reported on its own.

Not compared. The other way round, a PBX call is expected on Twilio only when the Twilio legs
given cover its time: an unmatched, non-internal PBX call that starts outside the span of the
legs (the first leg start - window to the last leg end + window, the end being `end_time_utc`,
else start + duration, else the start; both ends included) is `not-compared`, not `pbx-only`:
nothing was given to compare it with (logs of 2010 say nothing of a call of 2016). The span is
one, over every leg of every call-log file and account: the PBX trunk is one, and the pages of one
export leave gaps between them where no call happened, in which a PBX call is exactly a call
missing from Twilio. Logs of disjoint periods are best audited period by period. `not-compared`
calls are listed apart, counted (`not_compared`), make the exit code 1, and are not priced
(`billed_minutes_delta` null, not in the minutes at stake). With PBX CDRs and no call logs at all,
the audit stops before matching (pipeline/audit.py).

Comparison, for matched pairs: answered (PBX) vs a Twilio status that means answered, and billsec
vs duration beyond `duration_tolerance_s`. `billed_minutes_delta` is Twilio's billed minutes minus
the PBX's under the pricing model (billed seconds = max(minimum, ceil(s / increment) * increment)
for answered / billable calls, 0 otherwise; a 0 s call bills the minimum when `bill_zero_duration`
holds on the day it started, see `rules.model.RuleDates`), a missing side counting 0 (pbx-only,
twilio-only); null for internal, not-compared and ambiguous rows. `billed_minutes_at_stake` sums
its absolute values.

Output: one row per PBX call and per reported leg, sorted by start (PBX, else Twilio), then file
and line. The summary counts rows by status (`ambiguous` counts calls and legs alike).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import polars as pl

from auditor.normalize.numbers import normalise_numbers, number_table
from auditor.normalize.trunks import trunk_channel
from auditor.reconcile.matching import (
    EXTERNAL_KIND,
    RANK,
    Assignment,
    assign_pairs,
    candidate_pairs,
    in_spans,
    related_legs,
)
from auditor.result import CdrCounts
from auditor.rules.billing import billed_seconds, in_dates
from auditor.rules.model import RuleDates
from auditor.schemas import outputs
from auditor.statuses import MatchStatus, Mismatch, count_key

MATCH_SCHEMA = outputs.CDR_MATCHES
MATCH_COLUMNS = tuple(MATCH_SCHEMA)
_RANK = RANK  # the cost's multiplier, as the tests know it
ALWAYS = RuleDates()  # a rule with no dates
M = MatchStatus
# The PBX policy's numbers: both parties of a PBX call, both of a leg.
PBX_NUMBERS = ("src", "dst")
LEG_NUMBERS = ("from", "to")


@dataclass(frozen=True)
class TrunkLegs:
    """Which unmatched Twilio legs are reported as `twilio-only` (see the module docstring)."""

    directions: tuple[str, ...] = ("trunking-originating", "trunking-terminating")
    did_legs: bool = True
    sip_domains: tuple[str, ...] = ()
    margin_s: int | None = None  # around each PBX file's span; None: the match window


def account_dids(calls: pl.DataFrame | pl.LazyFrame, *, region: str = "US") -> list[str]:
    """The account's own numbers as the Twilio logs show them: the called number of inbound and
    trunking-originating legs, the caller ID of outbound-api and trunking-terminating legs."""
    direction = pl.col("direction")
    own = (
        calls.lazy()
        .select(
            pl.when(direction.is_in(["inbound", "trunking-originating"]))
            .then(pl.col("to"))
            .when(direction.is_in(["outbound-api", "trunking-terminating"]))
            .then(pl.col("from"))
            .alias("own")
        )
        .drop_nulls()
        .unique()
        .collect()["own"]
    )
    table = number_table(own, region=region)
    return sorted(table.filter(pl.col("kind") == "number")["e164"].unique().to_list())


# Seconds a PBX call's window reaches past its start besides the match window: its ring time.
_RING = (
    pl.when(pl.col("answered"))
    .then((pl.col("answer_utc") - pl.col("start_utc")).dt.total_seconds())
    .otherwise(0)
    .fill_null(0)
)

# How candidate pairs are found: (PBX calls with __ring, legs, window) -> (__p, __t, __cost).
# `pbx_pairs` here; the partitioned engine finds them month by month (pipeline/partitions.py).
PairsOf = Callable[[pl.LazyFrame, pl.LazyFrame, int], pl.DataFrame]


def pbx_pairs(pbx: pl.LazyFrame, legs: pl.LazyFrame, window_s: int) -> pl.DataFrame:
    """(__p, __t, __cost) for every (PBX call, leg) sharing an external number with the leg's
    start in the window (`candidate_pairs`, the window reaching past the PBX answer: ring time
    counts, `__ring`)."""
    return candidate_pairs(pbx, legs, window_s, PBX_NUMBERS, LEG_NUMBERS)


_assign = assign_pairs  # the PBX matcher's name for it


def _sip_host(col: str) -> pl.Expr:
    return pl.col(col).str.extract(r"(?i)^sips?:[^@]*@([^;:>]+)", 1).str.to_lowercase()


def _in_spans(
    starts: pl.Series, cdr: pl.DataFrame, window_s: int, margin_s: int | None
) -> pl.Series:
    """Whether each start lies in the span one of the PBX files covers (first start - margin to
    last end + margin, both ends included): `in_spans`."""
    margin = pl.duration(seconds=window_s if margin_s is None else margin_s)
    spans = (
        cdr.lazy()
        .group_by("source_file")
        .agg(
            (pl.col("start_utc").min() - margin).alias("__lo"),
            (
                pl.coalesce(
                    "end_utc",
                    pl.col("start_utc") + pl.duration(seconds=pl.col("duration_s")),
                    pl.col("answer_utc") + pl.duration(seconds=pl.col("billsec")),
                    "start_utc",
                ).max()
                + margin
            ).alias("__hi"),
        )
        .collect()
    )
    return in_spans(starts, spans)


def legs_span(legs: pl.DataFrame, window_s: int) -> pl.DataFrame:
    """The one span the Twilio legs cover (`__lo`, `__hi`, for `in_spans`): the first leg start -
    window to the last leg end + window (the end: `end_time_utc`, else start + duration, else
    start). No leg with a start: no span (nulls)."""
    margin = pl.duration(seconds=window_s)
    start = pl.col("start_time_utc")
    ends = [start + pl.duration(seconds=pl.col("duration_s").clip(lower_bound=0)), start]
    if "end_time_utc" in legs.columns:
        ends.insert(0, pl.col("end_time_utc"))
    return (
        legs.lazy()
        .select(
            (start.min() - margin).alias("__lo"),
            (
                pl.max_horizontal(start.max(), pl.coalesce(*ends).filter(start.is_not_null()).max())
                + margin
            ).alias("__hi"),
        )
        .collect()
    )


def _trunk_leg(rule: TrunkLegs) -> pl.Expr:
    """Legs that could have crossed the PBX trunk (the rule); `__in_span`: within a file's span."""
    hit = pl.col("direction").is_in(list(rule.directions))
    if rule.did_legs:
        hit = hit | (pl.col("from_kind") == "did") | (pl.col("to_kind") == "did")
    for domain in (d.lower() for d in rule.sip_domains):
        for col in ("from", "to"):
            host = _sip_host(col)
            hit = hit | (host == domain) | host.str.ends_with("." + domain)
    return pl.col("__in_span") & hit.fill_null(False)


_PBX_COLUMNS = (
    "source_file",
    "source_rows",
    "source_row",
    "start_utc",
    "answer_utc",
    "billsec",
    "answered",
    "src",
    "dst",
    "channel",
    "dstchannel",
)
_CHANNELS = ("channel", "dstchannel")
_LEG_COLUMNS = (
    "source_file",
    "source_row",
    "call_sid",
    "parent_call_sid",
    "direction",
    "from",
    "to",
    "status",
    "start_time_utc",
    "end_time_utc",
    "duration_s",
)


def _pbx_columns(cdr: pl.DataFrame) -> list[pl.Expr]:
    """The columns the matcher reads; a frame without the channels (built by hand) has none."""
    return [
        pl.col(c) if c in cdr.columns or c not in _CHANNELS else pl.lit(None, pl.String).alias(c)
        for c in _PBX_COLUMNS
    ]


# The peer of a channel: `123654987` of `SIP/123654987-00000000`. Not of a Local channel, whose
# name is a dialplan target (`Local/13137572470@LocalSets-...;1`), often the number dialled.
_PEER = r"^(?i:(?:sip|pjsip|iax2|dahdi|sccp|motif|skinny|h323|ooh323|unistim))/([^-@;/]+)"


def channel_peers(cdr: pl.DataFrame) -> list[str]:
    """The peer names the file's channels name (`SIP/123654987-0001` -> `123654987`): devices
    and trunks of the PBX, whatever their names look like."""
    names = [c for c in _CHANNELS if c in cdr.columns]
    if not names:
        return []
    peers = cdr.lazy().select(
        pl.concat([pl.col(c).str.extract(_PEER, 1) for c in names]).drop_nulls().unique()
    )
    return sorted(peers.collect().to_series().to_list())


def _unreadable(party: str, extension_max_digits: int, peers: Sequence[str]) -> pl.Expr:
    """A party written as a phone number phonenumbers cannot read (`89245555937` under --region
    US): digits (with an optional + and visual separators), longer than an extension, with no
    E.164 form, and not the peer name of one of the file's channels (`123654987` calling from
    `SIP/123654987-00000000` is a SIP device, not a number)."""
    raw = pl.col(party).str.strip_chars()
    digits = raw.str.replace_all(r"[\s().\-/]", "").str.strip_prefix("+")
    return (
        (pl.col(f"{party}_kind") == "unknown")
        & digits.str.contains(r"^[0-9]+$")
        & (digits.str.len_chars() > extension_max_digits)
        & ~raw.is_in(list(peers))
    ).fill_null(False)


def crossed_trunk(
    trunks: Sequence[str], extension_max_digits: int = 6, peers: Sequence[str] = ()
) -> pl.Expr:
    """PBX calls that crossed the trunk (see the module docstring): a party is an external number
    (or written as one that phonenumbers cannot read: never taken for internal), or `channel` /
    `dstchannel` starts with one of `trunks` (case aside). `peers`: see `channel_peers`."""
    crossed = (
        (pl.col("src_kind") == EXTERNAL_KIND)
        | (pl.col("dst_kind") == EXTERNAL_KIND)
        | _unreadable("src", extension_max_digits, peers)
        | _unreadable("dst", extension_max_digits, peers)
    )
    if any(trunks):
        crossed = crossed | trunk_channel("channel", trunks) | trunk_channel("dstchannel", trunks)
    return crossed.fill_null(False)


def match_cdrs(
    cdr: pl.DataFrame,
    calls: pl.DataFrame | pl.LazyFrame,
    *,
    dids: Sequence[str],
    region: str = "US",
    window_s: int = 60,
    duration_tolerance_s: int = 2,
    minimum_s: int = 60,
    increment_s: int = 60,
    trunk_legs: TrunkLegs | None = None,
    billable_statuses: Sequence[str] = ("completed",),
    answered_statuses: Sequence[str] = ("completed", "in-progress"),
    bill_zero_duration: bool = True,
    extension_max_digits: int = 6,
    pairs_of: PairsOf = pbx_pairs,
    trunks: Sequence[str] = (),
    bill_zero_dates: RuleDates = ALWAYS,
) -> tuple[pl.DataFrame, CdrCounts]:
    """(`cdr_matches` frame, summary): one row per PBX call and per unmatched trunk leg.
    `pairs_of` finds the candidate pairs (whatever finds them, the same pairs: they are then
    settled once, here, by `assign_pairs`). `trunks`: channel prefixes of the PBX's trunk;
    `bill_zero_dates`: the calls (by start) `bill_zero_duration` applies to.

    `cdr` is the canonical CDR frame (normalize.cdr), `calls` the canonical call frame (a
    LazyFrame is read for the columns the matching needs only). Only those columns are carried.
    The stages: numbers of each side, candidates and assignment (`reconcile.matching`), what
    each side's row came out as, then the comparison of the matched pairs.
    """
    rule = trunk_legs or TrunkLegs()
    pbx = _pbx_side(cdr, region, dids, extension_max_digits, trunks)
    legs = _leg_side(calls, region, dids, extension_max_digits)
    found = assign_pairs(
        pairs_of(
            pbx.lazy().filter(~pl.col("__internal")).with_columns(_RING.alias("__ring")),
            legs.lazy().filter(pl.col("start_time_utc").is_not_null()),
            window_s,
        )
    )
    # PBX calls the legs' time span covers: only those can be missing from Twilio.
    pbx = pbx.with_columns(in_spans(pbx["start_utc"], legs_span(legs, window_s)).alias("__covered"))
    legs = legs.with_columns(
        _in_spans(legs["start_time_utc"], cdr, window_s, rule.margin_s).alias("__in_span")
    ).with_columns(
        _trunk_leg(rule).alias("__trunk"),
        related_legs(legs, found.matched["__t"]).alias("__related"),
    )
    frame = _compare(
        _rows(pbx, legs, found),
        duration_tolerance_s=duration_tolerance_s,
        billed=_biller(minimum_s, increment_s, bill_zero_duration, bill_zero_dates),
        billable_statuses=billable_statuses,
        answered_statuses=answered_statuses,
    )
    return frame, _summary(frame, cdr.height)


def _pbx_side(
    cdr: pl.DataFrame,
    region: str,
    dids: Sequence[str],
    extension_max_digits: int,
    trunks: Sequence[str],
) -> pl.DataFrame:
    """The PBX calls as the matcher reads them (`__p`, their parties' numbers), `__internal`
    where the call never crossed the trunk (`crossed_trunk`)."""
    return normalise_numbers(
        cdr.lazy().with_row_index("__p").select("__p", *_pbx_columns(cdr)),
        PBX_NUMBERS,
        region=region,
        dids=dids,
        extension_max_digits=extension_max_digits,
    ).with_columns(
        ~crossed_trunk(trunks, extension_max_digits, channel_peers(cdr)).alias("__internal")
    )


def _leg_side(
    calls: pl.DataFrame | pl.LazyFrame, region: str, dids: Sequence[str], extension_max_digits: int
) -> pl.DataFrame:
    """The Twilio legs as the matcher reads them (`__t`, their parties' numbers)."""
    present = calls.lazy().collect_schema().names()
    return normalise_numbers(
        calls.lazy().select(c for c in _LEG_COLUMNS if c in present).with_row_index("__t"),
        LEG_NUMBERS,
        region=region,
        dids=dids,
        extension_max_digits=extension_max_digits,
    )


def _pbx_status(tied_p: pl.DataFrame) -> pl.Expr:
    """What an unmatched PBX call is: internal, in a tie, outside the legs' span, or missing."""
    return (
        pl.when(pl.col("__internal"))
        .then(pl.lit(MatchStatus.INTERNAL.value))
        .when(pl.col("__p").is_in(tied_p["__p"].implode()))
        .then(pl.lit(MatchStatus.AMBIGUOUS.value))
        .when(~pl.col("__covered"))
        .then(pl.lit(MatchStatus.NOT_COMPARED.value))
        .otherwise(pl.lit(MatchStatus.PBX_ONLY.value))
    )


def _leg_status(tied_t: pl.DataFrame) -> pl.Expr:
    """What an unmatched leg is: in a tie, a trunk leg of no matched call, else not reported
    (null)."""
    return (
        pl.when(pl.col("__t").is_in(tied_t["__t"].implode()))
        .then(pl.lit(MatchStatus.AMBIGUOUS.value))
        .when(pl.col("__trunk") & ~pl.col("__related"))
        .then(pl.lit(MatchStatus.TWILIO_ONLY.value))
    )


def _rows(pbx: pl.DataFrame, legs: pl.DataFrame, found: Assignment) -> pl.LazyFrame:
    """Every PBX call gives one row, its leg (when matched) gathered beside it: row i of pbx is
    call __p = i, row i of legs is leg __t = i. Then the legs reported on their own. In file
    order (pbx_source_file, its first line; twilio_source_file, _row, call_sid): the output's
    order between rows of one start (see `_compare`)."""
    matched = found.matched
    p_out = pbx.select(
        pl.col("source_file").alias("pbx_source_file"),
        pl.col("source_rows").alias("pbx_source_rows"),
        pl.col("source_row").alias("__pbx_row"),
        pl.col("start_utc").alias("pbx_start_utc"),
        pl.col("billsec").alias("pbx_billsec"),
        pl.col("answered").alias("__pbx_answered"),
        pl.col("src_e164").alias("__p_from"),
        pl.col("dst_e164").alias("__p_to"),
        pl.col("src").alias("__p_from_raw"),
        pl.col("dst").alias("__p_to_raw"),
        _pbx_status(found.tied_p).alias("__p_status"),
    )
    t_out = legs.select(
        pl.col("source_file").alias("twilio_source_file"),
        pl.col("source_row").alias("twilio_source_row"),
        "call_sid",
        pl.col("start_time_utc").alias("twilio_start_utc"),
        pl.col("duration_s").alias("twilio_duration_s"),
        pl.col("status").alias("__status"),
        pl.col("from_e164").alias("__t_from"),
        pl.col("to_e164").alias("__t_to"),
        pl.col("from").alias("__t_from_raw"),
        pl.col("to").alias("__t_to_raw"),
        _leg_status(found.tied_t).alias("__t_status"),
    )
    leg_of_call = pl.repeat(None, pbx.height, dtype=pl.UInt32, eager=True).scatter(
        matched["__p"], matched["__t"]
    )
    calls_rows = pl.concat([p_out, t_out[leg_of_call]], how="horizontal").with_columns(
        pl.when(leg_of_call.is_not_null())
        .then(pl.lit(MatchStatus.MATCHED.value))
        .otherwise(pl.col("__p_status"))
        .alias("match_status")
    )
    done = pl.repeat(False, legs.height, dtype=pl.Boolean, eager=True).scatter(matched["__t"], True)
    leg_rows = t_out.filter(~done & pl.col("__t_status").is_not_null()).with_columns(
        pl.col("__t_status").alias("match_status")
    )
    return pl.concat(
        [
            _in_order(calls_rows, ["pbx_source_file", "__pbx_row"]),
            _in_order(leg_rows, ["twilio_source_file", "twilio_source_row", "call_sid"]),
        ],
        how="diagonal_relaxed",
    ).lazy()


def _biller(
    minimum_s: int, increment_s: int, bill_zero_duration: bool, bill_zero_dates: RuleDates
) -> Callable[[pl.Expr, pl.Expr, pl.Expr], pl.Expr]:
    """(seconds, billable, start) -> billed seconds under the pricing model, a 0 s call billing
    the minimum when `bill_zero_duration` holds on the day it started."""

    def billed(seconds: pl.Expr, billable: pl.Expr, start: pl.Expr) -> pl.Expr:
        zero: bool | pl.Expr = bill_zero_duration
        if bill_zero_duration and not bill_zero_dates.always:
            zero = in_dates(start, bill_zero_dates)  # the rule on the day the call started
        return billed_seconds(
            seconds,
            billable,
            minimum_s=minimum_s,
            increment_s=increment_s,
            bill_zero_duration=zero,
        )

    return billed


def _in_order(frame: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    """`frame` sorted by `keys` (nulls last, ties in frame order); not sorted again when it is in
    that order already, as the matcher's inputs usually are."""
    if _is_sorted(frame, keys):
        return frame
    return frame.sort(keys, nulls_last=True, maintain_order=True)


def _is_sorted(frame: pl.DataFrame, keys: list[str]) -> bool:
    """The rows are in ascending `keys` order, none of them null."""
    ordered: pl.Expr = pl.lit(True)
    for key in reversed(keys):
        col, prev = pl.col(key), pl.col(key).shift(1)
        ordered = (prev < col) | ((prev == col) & ordered)
    first = pl.int_range(pl.len()) == 0
    nulls = pl.any_horizontal(pl.col(k).is_null() for k in keys)
    return bool(frame.select((~nulls & (first | ordered.fill_null(False))).all()).item())


def _compare(
    rows: pl.LazyFrame,
    *,
    duration_tolerance_s: int,
    billed: Callable[[pl.Expr, pl.Expr, pl.Expr], pl.Expr],
    billable_statuses: Sequence[str],
    answered_statuses: Sequence[str],
) -> pl.DataFrame:
    status = pl.col("match_status")
    duration_delta = pl.col("twilio_duration_s") - pl.col("pbx_billsec")
    twilio_billed = billed(
        pl.col("twilio_duration_s"),
        pl.col("__status").is_in(billable_statuses),
        pl.col("twilio_start_utc"),
    )
    pbx_billed = billed(pl.col("pbx_billsec"), pl.col("__pbx_answered"), pl.col("pbx_start_utc"))
    priced = status.is_in([M.MATCHED.value, M.PBX_ONLY.value, M.TWILIO_ONLY.value])
    minutes = (
        pl.when(status == M.PBX_ONLY.value).then(0).otherwise(twilio_billed)
        - pl.when(status == M.TWILIO_ONLY.value).then(0).otherwise(pbx_billed)
    ) / 60
    matched = status == M.MATCHED.value
    duration_off = matched & (duration_delta.abs() > duration_tolerance_s).fill_null(False)
    status_off = matched & (
        pl.col("__pbx_answered") != pl.col("__status").is_in(answered_statuses)
    ).fill_null(False)
    mismatch = pl.concat_str(
        [
            pl.when(duration_off).then(pl.lit(Mismatch.DURATION.value)),
            pl.when(status_off).then(pl.lit(Mismatch.ANSWERED_VS_STATUS.value)),
        ],
        separator=";",
        ignore_nulls=True,
    )
    frame = (
        rows.with_columns(
            pl.coalesce("__t_from", "__p_from").alias("from_e164"),
            pl.coalesce("__t_to", "__p_to").alias("to_e164"),
            pl.when(pl.col("twilio_source_file").is_not_null())
            .then(pl.col("__t_from_raw"))
            .otherwise(pl.col("__p_from_raw"))
            .alias("from_raw"),
            pl.when(pl.col("twilio_source_file").is_not_null())
            .then(pl.col("__t_to_raw"))
            .otherwise(pl.col("__p_to_raw"))
            .alias("to_raw"),
            (pl.col("twilio_start_utc") - pl.col("pbx_start_utc"))
            .dt.total_seconds()
            .alias("start_delta_s"),
            duration_delta.alias("duration_delta_s"),
            pl.when(priced).then(minutes).alias("billed_minutes_delta"),
            pl.when(mismatch != "").then(mismatch).alias("mismatch"),
        )
        .select(pl.col(name).cast(dtype) for name, dtype in MATCH_SCHEMA.items())
        .collect()
    )
    # By start, then file and line: the rows come in file order (PBX calls first), and the sort
    # keeps the order of rows of one start. Gathered in one chunk, so the Parquet written from
    # it is the same bytes run after run.
    start = pl.coalesce("pbx_start_utc", "twilio_start_utc")
    order = frame.select(pl.arg_sort_by(start, nulls_last=True, maintain_order=True)).to_series()
    return frame[order]


def _summary(frame: pl.DataFrame, pbx_calls: int) -> CdrCounts:
    status = pl.col("match_status")
    counts = frame.select(
        *((status == s.value).sum().alias(count_key(s)) for s in MatchStatus),
        pl.col("mismatch")
        .str.contains(Mismatch.DURATION.value)
        .fill_null(False)
        .sum()
        .alias("duration_mismatch"),
        pl.col("mismatch")
        .str.contains(Mismatch.ANSWERED_VS_STATUS.value)
        .fill_null(False)
        .sum()
        .alias("status_mismatch"),
        pl.col("billed_minutes_delta").abs().sum().alias("billed_minutes_at_stake"),
    ).row(0, named=True)
    at_stake = round(float(counts.pop("billed_minutes_at_stake") or 0), 4)
    return CdrCounts(
        pbx_calls=pbx_calls,
        **{k: int(v) for k, v in counts.items()},
        billed_minutes_at_stake=at_stake,
    )
