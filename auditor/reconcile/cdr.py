"""PBX calls against Twilio call legs, call by call: where the PBX and Twilio disagree.

Numbers. Every party is normalised once per distinct value (`phonenumbers`, `region` for national
numbers): a `number` (E.164), an `extension` (digits only, at most `extension_max_digits`), a `did`
(a number of the account: `--did`, or `account_dids` of the Twilio logs) or `unknown` (`s`,
`anonymous`, `client:...`). SIP URIs are read by their user part; a value already written as
E.164 is kept as written even when phonenumbers finds it impossible (a misdialled number still
meets the same misdialled number on Twilio). A PBX call whose parties are all extensions or DIDs
is `internal`: it never reached Twilio, and is counted, not matched.

Matching. The external party is what both sides agree on: outbound, the PBX writes the extension
as the caller while Twilio sees the DID the trunk presents; inbound, the PBX destination may be the
DID or the extension it rang. So a PBX call and a Twilio leg are candidates when they share an
external number (a `number` that is not a DID, on either side of either record) and the leg starts
from `window_s` before the PBX start to `window_s` after the PBX answer (its start when unanswered:
the PBX's ring time counts). A call with no external number that is not internal (`anonymous` to
an extension, say) cannot be matched and is `pbx-only`. This is an equi-join on the number, then
a window filter: polars' `join_asof(strategy="nearest", tolerance=...)` would keep only one
candidate per call, resolve equal distances silently (to the later row) and hand one leg to several
calls, so it can neither report ties nor stay one to one. Candidates are ranked by the start gap,
then the gap between PBX billsec and Twilio duration; a pair is matched when each is the other's
unique best, in rounds until none is left. When the best remaining gap is tied the tied calls and
legs are `ambiguous` (as is the other side of such a tie if nothing else matches it) and are left
unmatched.

Twilio-only. An unmatched leg is reported only when it could have crossed the PBX trunk (the
`TrunkLegs` rule): its direction is `trunking-originating` / `trunking-terminating`, or one of its
parties is a DID, or it is a SIP URI on one of the PBX's domains; and it starts within the span one
of the PBX files covers (first start - margin to last end + margin, margin = the window). A leg
whose parent or child leg matched a PBX call is part of that call (a `<Dial>` child, say) and is
not reported on its own.

Comparison, for matched pairs: answered (PBX) vs a Twilio status that means answered, and billsec
vs duration beyond `duration_tolerance_s`. `billed_minutes_delta` is Twilio's billed minutes minus
the PBX's under the pricing model (billed seconds = max(minimum, ceil(s / increment) * increment)
for answered / billable calls, 0 otherwise), a missing side counting 0 (pbx-only, twilio-only);
null for internal and ambiguous rows. `billed_minutes_at_stake` sums its absolute values.

Output: one row per PBX call and per reported leg, sorted by start (PBX, else Twilio), then file
and line. The summary counts rows by status (`ambiguous` counts calls and legs alike).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import phonenumbers
import polars as pl

from auditor.rules.billing import billed_seconds

MATCH_SCHEMA: dict[str, pl.DataType] = {
    "pbx_source_file": pl.String(),
    "pbx_source_rows": pl.String(),
    "twilio_source_file": pl.String(),
    "twilio_source_row": pl.Int64(),
    "call_sid": pl.String(),
    "from_e164": pl.String(),
    "to_e164": pl.String(),
    "pbx_start_utc": pl.Datetime("us", "UTC"),
    "twilio_start_utc": pl.Datetime("us", "UTC"),
    "start_delta_s": pl.Int64(),
    "pbx_billsec": pl.Int64(),
    "twilio_duration_s": pl.Int64(),
    "duration_delta_s": pl.Int64(),
    "billed_minutes_delta": pl.Float64(),
    "match_status": pl.String(),
    "mismatch": pl.String(),
}
MATCH_COLUMNS = tuple(MATCH_SCHEMA)
STATUSES = ("matched", "pbx-only", "twilio-only", "internal", "ambiguous")
INTERNAL_KINDS = ("extension", "did")
_URI = re.compile(r"^(?:sips?|tel):([^@;>]+)", re.IGNORECASE)
_VISUAL = re.compile(r"[\s().\-/]")
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")
# Ranking key: start gap first, then duration gap (capped below the multiplier).
_RANK = 10_000_000


@dataclass(frozen=True)
class TrunkLegs:
    """Which unmatched Twilio legs are reported as `twilio-only` (see the module docstring)."""

    directions: tuple[str, ...] = ("trunking-originating", "trunking-terminating")
    did_legs: bool = True
    sip_domains: tuple[str, ...] = ()
    skip_related: bool = True
    margin_s: int | None = None  # around each PBX file's span; None: the match window


def _classify(value: str, region: str, extension_max_digits: int) -> tuple[str | None, str]:
    """(normalised value, kind) of one party as written."""
    text = value.strip()
    uri = _URI.match(text)
    if uri:
        text = uri.group(1)
    elif ":" in text:
        return None, "unknown"  # client:alice, and other non-telephone endpoints
    text = _VISUAL.sub("", text)
    if text.isdigit() and len(text) <= extension_max_digits:
        return text, "extension"
    if _E164.match(text):
        return text, "number"
    if not text.lstrip("+").isdigit():
        return None, "unknown"
    try:
        parsed = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None, "unknown"
    if not phonenumbers.is_possible_number(parsed):
        return None, "unknown"
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164), "number"


def number_table(
    values: pl.Series, *, region: str = "US", extension_max_digits: int = 6
) -> pl.DataFrame:
    """(raw, e164, kind) for each distinct non-null value: phonenumbers runs once per value."""
    distinct = values.cast(pl.String).drop_nulls().unique().sort().to_list()
    facts = [_classify(v, region, extension_max_digits) for v in distinct]
    return pl.DataFrame(
        {
            "raw": distinct,
            "e164": [f[0] for f in facts],
            "kind": [f[1] for f in facts],
        },
        schema={"raw": pl.String, "e164": pl.String, "kind": pl.String},
    )


def _did_set(dids: Sequence[str], region: str, extension_max_digits: int) -> list[str]:
    table = number_table(
        pl.Series(list(dids), dtype=pl.String),
        region=region,
        extension_max_digits=extension_max_digits,
    )
    return table.filter(pl.col("kind") == "number")["e164"].to_list()


def _attach(
    frame: pl.DataFrame, columns: Sequence[str], table: pl.DataFrame, dids: list[str]
) -> pl.DataFrame:
    out = frame.lazy()
    for col in columns:
        facts = table.lazy().select(
            pl.col("raw").alias(col),
            pl.col("e164").alias(f"{col}_e164"),
            pl.when(pl.col("e164").is_in(dids) & (pl.col("kind") == "number"))
            .then(pl.lit("did"))
            .otherwise(pl.col("kind"))
            .alias(f"{col}_kind"),
        )
        out = out.join(facts, on=col, how="left", maintain_order="left").with_columns(
            pl.col(f"{col}_kind").fill_null("unknown")
        )
    return out.collect()


def normalise_numbers(
    frame: pl.DataFrame,
    columns: Sequence[str],
    *,
    region: str = "US",
    dids: Sequence[str] = (),
    extension_max_digits: int = 6,
) -> pl.DataFrame:
    """`frame` plus `{col}_e164` (E.164; an extension's digits; null when unknown) and
    `{col}_kind` (`number` | `did` | `extension` | `unknown`) for each of `columns`."""
    values = pl.concat([frame[c].cast(pl.String) for c in columns]) if columns else pl.Series([])
    table = number_table(values, region=region, extension_max_digits=extension_max_digits)
    return _attach(frame, columns, table, _did_set(dids, region, extension_max_digits))


def account_dids(calls: pl.DataFrame, *, region: str = "US") -> list[str]:
    """The account's own numbers as the Twilio logs show them: the called number of inbound and
    trunking-originating legs, the caller ID of outbound-api and trunking-terminating legs."""
    own = pl.concat(
        [
            calls.filter(pl.col("direction").is_in(["inbound", "trunking-originating"]))["to"],
            calls.filter(pl.col("direction").is_in(["outbound-api", "trunking-terminating"]))[
                "from"
            ],
        ]
    )
    table = number_table(own, region=region)
    return sorted(table.filter(pl.col("kind") == "number")["e164"].unique().to_list())


def _keys(frame: pl.DataFrame, id_col: str, columns: Sequence[str]) -> pl.DataFrame:
    """(id, number) for every external number of each record."""
    parts = [
        frame.filter(pl.col(f"{c}_kind") == "number").select(
            id_col, pl.col(f"{c}_e164").alias("number")
        )
        for c in columns
    ]
    return pl.concat(parts).unique()


def _candidate_pairs(pbx: pl.DataFrame, legs: pl.DataFrame, window_s: int) -> pl.DataFrame:
    """Every (PBX call, leg) sharing an external number with the leg's start in the window."""
    ring = (
        pl.when(pl.col("answered"))
        .then((pl.col("answer_utc") - pl.col("start_utc")).dt.total_seconds())
        .otherwise(0)
        .fill_null(0)
    )
    p = pbx.lazy().select("__p", "start_utc", "billsec", ring.alias("__ring"))
    t = legs.lazy().select("__t", "start_time_utc", "duration_s")
    delta = (pl.col("start_time_utc") - pl.col("start_utc")).dt.total_seconds()
    duration_gap = (pl.col("duration_s") - pl.col("billsec")).abs()
    return (
        _keys(pbx, "__p", ("src", "dst"))
        .lazy()
        .join(_keys(legs, "__t", ("from", "to")).lazy(), on="number")
        .select("__p", "__t")
        .unique()
        .join(p, on="__p")
        .join(t, on="__t")
        .with_columns(delta.alias("__delta"))
        .filter(
            (pl.col("__delta") >= -window_s) & (pl.col("__delta") <= pl.col("__ring") + window_s)
        )
        .select(
            "__p",
            "__t",
            (
                pl.col("__delta").abs() * _RANK
                + duration_gap.clip(upper_bound=_RANK - 1).fill_null(_RANK - 1)
            ).alias("__cost"),
        )
        .sort("__p", "__t")
        .collect()
    )


def _assign(pairs: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """(matched pairs, PBX calls touched by a tie, legs touched by a tie).

    Each round matches every pair whose two sides are each other's unique best; when no such
    pair is left, the pairs at the lowest remaining cost are all tied: their tied sides drop out.
    A round is a few frame operations; there are as many rounds as the ties and chains need.
    """
    matched: list[pl.DataFrame] = []
    touched: list[pl.DataFrame] = []
    rest = pairs.select("__p", "__t", "__cost")
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
    empty = pl.DataFrame(schema={"__p": pl.UInt32, "__t": pl.UInt32})
    done = pl.concat(matched) if matched else empty
    ties = pl.concat(touched) if touched else empty
    return (
        done,
        ties.select("__p").unique().join(done, on="__p", how="anti").select("__p"),
        ties.select("__t").unique().join(done, on="__t", how="anti").select("__t"),
    )


def _sip_host(col: str) -> pl.Expr:
    return pl.col(col).str.extract(r"(?i)^sips?:[^@]*@([^;:>]+)", 1).str.to_lowercase()


def _trunk_leg(legs: pl.DataFrame, cdr: pl.DataFrame, rule: TrunkLegs, window_s: int) -> pl.Expr:
    """Legs that could have crossed the PBX trunk (the rule) within a PBX file's span."""
    margin = pl.duration(seconds=window_s if rule.margin_s is None else rule.margin_s)
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
    )
    in_span = (
        legs.lazy()
        .select("__t", "start_time_utc")
        .join(spans, how="cross")
        .filter(pl.col("start_time_utc").is_between(pl.col("__lo"), pl.col("__hi")))
        .select("__t")
        .unique()
        .collect()["__t"]
    )
    hit = pl.col("direction").is_in(list(rule.directions))
    if rule.did_legs:
        hit = hit | (pl.col("from_kind") == "did") | (pl.col("to_kind") == "did")
    for domain in (d.lower() for d in rule.sip_domains):
        for col in ("from", "to"):
            host = _sip_host(col)
            hit = hit | (host == domain) | host.str.ends_with("." + domain)
    return pl.col("__t").is_in(in_span.implode()) & hit.fill_null(False)


def _related(legs: pl.DataFrame, matched_t: pl.Series) -> pl.Expr:
    """Legs whose parent or child leg is matched."""
    if "parent_call_sid" not in legs.columns:
        return pl.lit(False)
    done = legs.filter(pl.col("__t").is_in(matched_t.implode()))
    sids = done["call_sid"].drop_nulls().implode()
    parents = done["parent_call_sid"].drop_nulls().implode()
    return (pl.col("parent_call_sid").is_in(sids) | pl.col("call_sid").is_in(parents)).fill_null(
        False
    )


def match_cdrs(
    cdr: pl.DataFrame,
    calls: pl.DataFrame,
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
) -> tuple[pl.DataFrame, dict[str, int | float]]:
    """(`cdr_matches` frame, summary): one row per PBX call and per unmatched trunk leg.

    `cdr` is the canonical CDR frame (normalize.cdr), `calls` the canonical call frame.
    """
    rule = trunk_legs or TrunkLegs()
    values = pl.concat(
        [cdr[c].cast(pl.String) for c in ("src", "dst")]
        + [calls[c].cast(pl.String) for c in ("from", "to")]
    )
    table = number_table(values, region=region, extension_max_digits=extension_max_digits)
    own = _did_set(dids, region, extension_max_digits)
    pbx = _attach(cdr.with_row_index("__p"), ("src", "dst"), table, own)
    legs = _attach(calls.with_row_index("__t"), ("from", "to"), table, own)
    legs_timed = legs.filter(pl.col("start_time_utc").is_not_null())

    has_external = pl.col("__p").is_in(_keys(pbx, "__p", ("src", "dst"))["__p"].implode())
    internal = (
        ~has_external
        & pl.col("src_kind").is_in(INTERNAL_KINDS)
        & pl.col("dst_kind").is_in(INTERNAL_KINDS)
    )
    pbx = pbx.with_columns(internal.alias("__internal"))
    pairs = _candidate_pairs(pbx.filter(~pl.col("__internal")), legs_timed, window_s)
    matched, tied_p, tied_t = _assign(pairs)

    legs = legs.with_columns(
        _trunk_leg(legs_timed, cdr, rule, window_s).alias("__trunk"),
        _related(legs, matched["__t"]).alias("__related"),
    )
    p_out = pbx.select(
        "__p",
        pl.col("source_file").alias("pbx_source_file"),
        pl.col("source_rows").alias("pbx_source_rows"),
        pl.col("source_row").alias("__pbx_row"),
        pl.col("start_utc").alias("pbx_start_utc"),
        pl.col("billsec").alias("pbx_billsec"),
        pl.col("answered").alias("__pbx_answered"),
        pl.col("src_e164").alias("__p_from"),
        pl.col("dst_e164").alias("__p_to"),
        "__internal",
    )
    t_out = legs.select(
        "__t",
        pl.col("source_file").alias("twilio_source_file"),
        pl.col("source_row").alias("twilio_source_row"),
        "call_sid",
        pl.col("start_time_utc").alias("twilio_start_utc"),
        pl.col("duration_s").alias("twilio_duration_s"),
        pl.col("status").alias("__status"),
        pl.col("from_e164").alias("__t_from"),
        pl.col("to_e164").alias("__t_to"),
        "__trunk",
        "__related",
    )
    pbx_status = (
        pl.when(pl.col("__internal"))
        .then(pl.lit("internal"))
        .when(pl.col("__p").is_in(tied_p["__p"].implode()))
        .then(pl.lit("ambiguous"))
        .otherwise(pl.lit("pbx-only"))
    )
    leg_status = (
        pl.when(pl.col("__t").is_in(tied_t["__t"].implode()))
        .then(pl.lit("ambiguous"))
        .when(pl.col("__trunk") & ~pl.col("__related"))
        .then(pl.lit("twilio-only"))
    )
    rows = pl.concat(
        [
            matched.join(p_out, on="__p")
            .join(t_out, on="__t")
            .with_columns(pl.lit("matched").alias("match_status")),
            p_out.join(matched, on="__p", how="anti").with_columns(
                pbx_status.alias("match_status")
            ),
            t_out.join(matched, on="__t", how="anti")
            .with_columns(leg_status.alias("match_status"))
            .filter(pl.col("match_status").is_not_null()),
        ],
        how="diagonal_relaxed",
    )

    def billed(seconds: pl.Expr, billable: pl.Expr) -> pl.Expr:
        return billed_seconds(
            seconds,
            billable,
            minimum_s=minimum_s,
            increment_s=increment_s,
            bill_zero_duration=bill_zero_duration,
        )

    frame = _compare(
        rows,
        duration_tolerance_s=duration_tolerance_s,
        billed=billed,
        billable_statuses=billable_statuses,
        answered_statuses=answered_statuses,
    )
    return frame, _summary(frame, cdr.height)


def _compare(
    rows: pl.DataFrame,
    *,
    duration_tolerance_s: int,
    billed: Callable[[pl.Expr, pl.Expr], pl.Expr],
    billable_statuses: Sequence[str],
    answered_statuses: Sequence[str],
) -> pl.DataFrame:
    status = pl.col("match_status")
    duration_delta = pl.col("twilio_duration_s") - pl.col("pbx_billsec")
    twilio_billed = billed(pl.col("twilio_duration_s"), pl.col("__status").is_in(billable_statuses))
    pbx_billed = billed(pl.col("pbx_billsec"), pl.col("__pbx_answered"))
    priced = status.is_in(["matched", "pbx-only", "twilio-only"])
    minutes = (
        pl.when(status == "pbx-only").then(0).otherwise(twilio_billed)
        - pl.when(status == "twilio-only").then(0).otherwise(pbx_billed)
    ) / 60
    matched = status == "matched"
    duration_off = matched & (duration_delta.abs() > duration_tolerance_s).fill_null(False)
    status_off = matched & (
        pl.col("__pbx_answered") != pl.col("__status").is_in(answered_statuses)
    ).fill_null(False)
    mismatch = pl.concat_str(
        [
            pl.when(duration_off).then(pl.lit("duration")),
            pl.when(status_off).then(pl.lit("answered-vs-status")),
        ],
        separator=";",
        ignore_nulls=True,
    )
    return (
        rows.lazy()
        .with_columns(
            pl.coalesce("__t_from", "__p_from").alias("from_e164"),
            pl.coalesce("__t_to", "__p_to").alias("to_e164"),
            (pl.col("twilio_start_utc") - pl.col("pbx_start_utc"))
            .dt.total_seconds()
            .alias("start_delta_s"),
            duration_delta.alias("duration_delta_s"),
            pl.when(priced).then(minutes).alias("billed_minutes_delta"),
            pl.when(mismatch != "").then(mismatch).alias("mismatch"),
        )
        .sort(
            pl.coalesce("pbx_start_utc", "twilio_start_utc"),
            "pbx_source_file",
            "__pbx_row",
            "twilio_source_file",
            "twilio_source_row",
            "call_sid",
            nulls_last=True,
        )
        .select(pl.col(name).cast(dtype) for name, dtype in MATCH_SCHEMA.items())
        .collect()
    )


def _summary(frame: pl.DataFrame, pbx_calls: int) -> dict[str, int | float]:
    status = pl.col("match_status")
    counts = frame.select(
        (status == "matched").sum().alias("matched"),
        (status == "pbx-only").sum().alias("pbx_only"),
        (status == "twilio-only").sum().alias("twilio_only"),
        (status == "internal").sum().alias("internal"),
        (status == "ambiguous").sum().alias("ambiguous"),
        pl.col("mismatch")
        .str.contains("duration")
        .fill_null(False)
        .sum()
        .alias("duration_mismatch"),
        pl.col("mismatch")
        .str.contains("answered-vs-status")
        .fill_null(False)
        .sum()
        .alias("status_mismatch"),
        pl.col("billed_minutes_delta").abs().sum().alias("billed_minutes_at_stake"),
    ).row(0, named=True)
    out: dict[str, int | float] = {"pbx_calls": pbx_calls}
    out.update({k: int(v) for k, v in counts.items() if k != "billed_minutes_at_stake"})
    out["billed_minutes_at_stake"] = round(float(counts["billed_minutes_at_stake"] or 0), 4)
    return out
