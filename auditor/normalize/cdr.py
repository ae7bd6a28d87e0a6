"""Raw PBX CDR lines -> the canonical CDR frame, one row per call, plus rejects.

Times: CUCM (and a format file saying `epoch`, or `epoch_ms`: seconds with a fraction once read)
write epoch seconds, which are UTC. Asterisk, FreeSWITCH and most exports write naive local times;
they are placed with the format file's zone or `--pbx-tz`, under the `--dst` policy; without
either, the run stops naming the first such cell.

Grouping: a PBX may write several lines for one call (transfers, queues, dialled legs). Lines with
the same `call_key` in a file are one call; a line whose `link_key` names another's `call_key`
brings that line into its call (FreeSWITCH A/B legs). Lines without a key are chained by channel:
lines of one channel that start before the previous ones ended (within 2 s) are one call, which is
what Asterisk's uniqueid means. The `;1` and `;2` halves of one Asterisk Local channel
(`Local/X@ctx-00000005;1` / `;2`) are chained as one channel: without linkedid each half has a
uniqueid of its own, but they are one call. A line identical to an earlier line of its file (every
field the reader maps) is that line written twice: it joins that line's call, which notes it in
`repeat_note` ("line 326 repeats line 325"); it changes none of the call's figures.

The originating leg: each line gets a rank, 0 when the reader names it the call's originating leg
(Asterisk 21 columns: uniqueid = linkedid), 1 when it was not brought in through another line's
link (not a FreeSWITCH B-leg), is not a half of an Asterisk Local channel (internal: the `;2`
dialplan side's dst is a Local extension such as `ch1` on a trunk call), and is not a B-leg written
under its A-leg's key (a keyed line whose src = dst beside one of the same key whose src differs:
FreeSWITCH's "Outbound Call" 1905 -> 1905 under the uuid of 1902 -> 1905), 2 otherwise. The call's
numbers (`src`, `dst`), `channel` and `dstchannel` are those of its best-ranked line, then of a
line that crossed the trunk (so a Local pair takes the half that dialled out), then the earliest,
then the first in the file, so a trunk call keeps its DID whatever line sorts first.

The trunk: a `channel` or `dstchannel` starting with one of the `trunks` prefixes (`--trunk`);
with none given, a channel that is not `Local/...` whose side's number (`src` for `channel`, `dst`
for `dstchannel`) is external (digits, an optional `+`, more than 6 digits).

Connected and billed: a line is connected when the format says it was answered or its billsec is
above 0, whatever its disposition (Asterisk logs `NO ANSWER`, with AnswerTime = the record's start,
on a dialled leg whose caller was answered): the PBX answering an inbound trunk call is what Twilio
bills. On an outbound call (the trunk is a line's `dstchannel`, never its `channel`) Asterisk counts
billsec from party A's answer, so only a Dial to the trunk whose disposition is not BUSY,
CONGESTION, NO ANSWER or FAILED is connected; the call's other lines (a Congestion or Playback
after a busy Dial) carry no trunk seconds. The call starts at its first line's start, is answered
when any line is connected, lasts until the last line ends, and bills from the first answer to the
last answer + billsec over the connected lines of the best rank (the originating leg's own billsec;
over all connected lines when none of those is connected). Lines of one call share a rank when the
file has no keys, so a chained transfer (same channel, lines following on in time) bills across all
its lines; a single line keeps the PBX's own duration and billsec. A file with no billsec
(a format file mapping answer and end instead, lines marked `billsec_derived`) gives each answered
line end - answer; the reader gives an unanswered one 0.

Encoding: `encoding_note` ("decoded as latin-1") marks a call one of whose lines was not UTF-8 and
was read with `--encoding-fallback`.

Rejects: a line that cannot be parsed or fails the line schema is rejected with its column. A call
is compared whole or not at all, so when one of its lines is rejected the other lines are rejected
too, each naming the line that failed (a partial call would show a false duration mismatch). Every
input line ends either in the accepted lines or in rejects.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import polars as pl
from polars.expr.whenthen import ChainedThen, Then  # the when/then chain's types

from auditor.errors import InputError, InternalError, UsageError
from auditor.ingest.base import CDR_FIELDS, ERROR, SOURCE_FILE, SOURCE_ROW
from auditor.normalize.contract import check_rows
from auditor.normalize.rejects import (
    KEY,
    REJECT_SCHEMA,
    Problem,
    drop_rejected,
    find_problems,
    reader_errors,
    time_problems,
    unparsed,
)
from auditor.normalize.times import DT_NAIVE, DstPolicy, first_naive_cell, parse_time
from auditor.normalize.trunks import trunk_channel
from auditor.normalize.values import blank_to_null, present, whole_number
from auditor.schemas import cdr as cdr_schema
from auditor.schemas.dtypes import DT_UTC
from auditor.statuses import UnconnectedDial

TIME_COLUMNS = ("start", "answer", "end")
EPOCH = "epoch"
CHAIN_SLACK_S = 2  # whole-second stamps: the next line of a channel may start a second "late"
CALL = "__call"
ZONE = "__zone"
RANK = "__rank"
LOCAL_HALF = r"^Local/.*;[12]$"  # either half of an Asterisk Local channel pair
LOCAL_PAIR = r"^(Local/.*);[12]$"  # the channel name both halves share
# Without --trunk: a number of the outside world (digits, an optional +, more than 6 digits;
# extensions are shorter) on a line's side says that side is the trunk.
EXTERNAL_NUMBER = r"^\+?[0-9]{7,}$"
FIRST = "__first"  # the first line of the file identical to this one (itself when none is)
CHAIN = "__chain"  # the channel a line is chained on: a Local channel's name without `;1`/`;2`


def check_pbx_zone(tz: str | None) -> str | None:
    """`--pbx-tz` must be an IANA zone name; say so in one line, not a polars error later."""
    if tz is None:
        return None
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise UsageError(f"--pbx-tz {tz!r} is not an IANA time zone name (e.g. UTC)") from None
    return tz


def _text(col: str) -> str:
    return f"{col}__text"


def _as_text(col: str, formats: list[str]) -> pl.Expr:
    """The time as text `parse_time` reads: values in a format file's strftime format are
    re-written as ISO 8601; epoch values are left to `_epoch`."""
    s = blank_to_null(col)
    fmt = pl.col("time_format")
    out: Then | ChainedThen = pl.when(fmt.is_null()).then(s)
    for f in formats:
        if "%z" in f:
            iso = (
                s.str.to_datetime(f, time_unit="us", strict=False)
                .dt.convert_time_zone("UTC")
                .dt.strftime("%Y-%m-%dT%H:%M:%S%.f+00:00")
            )
        else:
            iso = s.str.strptime(DT_NAIVE, f, strict=False).dt.strftime("%Y-%m-%d %H:%M:%S%.f")
        out = out.when(fmt == f).then(iso)
    return out.otherwise(None).alias(_text(col))


def _epoch(col: str) -> pl.Expr:
    """Epoch seconds, whole or with a fraction (a format file's `epoch_ms`, read in ingest)."""
    s = blank_to_null(col)
    secs = pl.when(s.str.contains(r"^-?\d+$")).then(s.cast(pl.Int64, strict=False))
    micros = pl.when(s.str.contains(r"^-?\d+\.\d+$")).then(
        (s.cast(pl.Float64, strict=False) * 1e6).round(0).cast(pl.Int64, strict=False)
    )
    return pl.coalesce(
        pl.from_epoch(secs, "s").cast(pl.Datetime("us")), pl.from_epoch(micros, "us")
    ).dt.replace_time_zone("UTC")


def _parse_times(col: str, zones: list[str | None], dst: DstPolicy) -> list[pl.Expr]:
    """`{col}__utc`, `__wall`, `__naive`, `__dst` (see parse_time), each row read in its own
    zone (`__zone`), epoch rows from their seconds."""
    per_zone = [(z, parse_time(_text(col), z, dst)) for z in zones]
    out: list[pl.Expr] = []
    for i, suffix in enumerate(("naive", "wall", "utc", "dst")):
        name = f"{col}__{suffix}"
        expr: Then | ChainedThen | None = None
        for zone, exprs in per_zone:
            if not exprs[i].meta.output_name().endswith(suffix):
                raise InternalError(f"parse_time's output {i} is not its {suffix!r} column")
            cond = pl.col(ZONE).is_null() if zone is None else pl.col(ZONE) == zone
            expr = (pl.when(cond) if expr is None else expr.when(cond)).then(exprs[i])
        epoch = pl.col("time_format") == EPOCH
        values = {
            "naive": pl.lit(False),
            "wall": pl.lit(None, DT_NAIVE),
            "utc": _epoch(col),
            "dst": pl.lit(None, pl.String),
        }
        if expr is None:
            raise InternalError(f"{col}: no zone to read the times in")
        out.append(pl.when(epoch.fill_null(False)).then(values[suffix]).otherwise(expr).alias(name))
    return out


# The shape PBXs write (Asterisk, FreeSWITCH): a naive wall time to the second.
PBX_TIME = r"^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}$"
PBX_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
ROW = "__i"
POS = "__pos"
SINGLE = "__single"


def _fast_times(col: str, zones: list[str]) -> tuple[list[pl.Expr], pl.Expr]:
    """The outputs of `_parse_times` for the rows whose answer is plain, and which rows those are.

    Plain: no time format from a format file, a zone, and the time blank or written in the usual
    PBX shape at a wall time that exists once in its zone. For those `parse_time` reads the
    same wall time, finds it naive and neither in a DST gap nor overlap, and places it in its
    zone, which is what these expressions do with one parse per value. Every other row (an
    offset, another shape, a DST edge, a format file's format, epoch seconds) takes
    `_parse_times`."""
    text = pl.col(_text(col))
    wall = pl.when(text.str.contains(PBX_TIME)).then(
        text.str.strptime(DT_NAIVE, PBX_TIME_FORMAT, strict=False)
    )
    utc: pl.Expr = pl.lit(None, DT_UTC)
    for zone in zones:
        placed = wall.dt.replace_time_zone(zone, ambiguous="null", non_existent="null")
        utc = pl.when(pl.col(ZONE) == zone).then(placed.dt.convert_time_zone("UTC")).otherwise(utc)
    plain = (
        pl.col("time_format").is_null()
        & pl.col(ZONE).is_not_null()
        & (text.is_null() | utc.is_not_null())
    )
    exprs = [
        text.is_not_null().alias(f"{col}__naive"),
        wall.alias(f"{col}__wall"),
        utc.alias(f"{col}__utc"),
        pl.lit(None, pl.String).alias(f"{col}__dst"),
    ]
    return exprs, plain


def _parsed_times(staged: pl.LazyFrame, zones: list[str | None], dst: DstPolicy) -> pl.DataFrame:
    """`staged` plus the `_parse_times` outputs of every time column, in input order: the plain
    rows (nearly all) by `_fast_times`, the others by `_parse_times`."""
    exprs: list[pl.Expr] = []
    plain: list[pl.Expr] = []
    for col in TIME_COLUMNS:
        fast, ok = _fast_times(col, [z for z in zones if z is not None])
        exprs += fast
        plain.append(ok)
    frame = (
        staged.with_row_index(ROW)
        .with_columns(*exprs, pl.all_horizontal(plain).alias("__plain"))
        .collect()
    )
    if frame["__plain"].all():
        return frame.drop(ROW, "__plain")
    slow = (
        frame.lazy()
        .filter(~pl.col("__plain"))
        .with_columns(e for c in TIME_COLUMNS for e in _parse_times(c, zones, dst))
    )
    return (
        pl.concat([frame.lazy().filter("__plain"), slow]).sort(ROW).drop(ROW, "__plain").collect()
    )


def require_pbx_zone(staged: pl.LazyFrame, tz: str | None) -> None:
    """Naive PBX times with no zone from the format file nor `--pbx-tz`: stop at the first cell."""
    if tz is not None:
        return
    row = first_naive_cell(
        staged,
        [(_text(c), c) for c in TIME_COLUMNS],
        where=pl.col("time_zone").is_null() & (pl.col("time_format") != EPOCH).fill_null(True),
    )
    if row is not None:
        raise InputError(
            row[SOURCE_FILE],
            f"naive local time {row['value']!r} needs --pbx-tz ZONE (the PBX's IANA zone; "
            "UTC when it writes UTC)",
            row=row[SOURCE_ROW],
            column=row["column"],
        )


def _time_problems(col: str, dst: DstPolicy) -> list[Problem]:
    fmt = pl.col("time_format")
    reason = (
        pl.when(fmt == EPOCH)
        .then(pl.lit("not epoch seconds"))
        .when(fmt.is_not_null())
        .then(pl.concat_str(pl.lit("does not match the format file's time format "), fmt))
        .otherwise(pl.lit("unparseable time (expected YYYY-MM-DD HH:MM:SS or ISO 8601)"))
    )
    return time_problems(col, reason, pl.col(ZONE) if dst is DstPolicy.REJECT else None)


def _problems(dst: DstPolicy) -> list[Problem]:
    """Parse problems of a line the reader could split (the others are reader errors)."""
    problems = [
        Problem("start", ~present("start"), pl.lit(""), "missing start time"),
        *(p for c in TIME_COLUMNS for p in _time_problems(c, dst)),
        unparsed("duration", "not a whole number of seconds"),
        Problem(
            "billsec",
            ~present("billsec") & pl.col("__billsec").is_null(),
            pl.lit(""),
            pl.when(_derived())
            .then(pl.lit("no billsec column, and no answer and end time to derive it from"))
            .otherwise(pl.lit("missing billsec")),
        ),
        unparsed("billsec", "not a whole number of seconds"),
    ]
    ok = pl.col(ERROR).is_null()
    return [Problem(p.column, ok & p.bad, p.value, p.reason) for p in problems]


def _derived() -> pl.Expr:
    return (pl.col("billsec_derived") == "true").fill_null(False)


def _billsec() -> pl.Expr:
    """The line's billsec; in a file with no billsec (`billsec_derived`), end - answer."""
    derived = (pl.col("end__utc") - pl.col("answer__utc")).dt.total_seconds()
    return pl.coalesce(whole_number("billsec"), pl.when(_derived()).then(derived))


def _seconds(col: str) -> pl.Expr:
    return pl.duration(seconds=pl.col(col))


def _with_first(parsed: pl.DataFrame) -> pl.LazyFrame:
    """`parsed` with `__first`: the first line of its file identical to each line in every field
    the reader maps (a line written twice), the line itself when none is; a reader error is
    never a repeat. The window runs only over the lines whose 64-bit hash of those fields is
    seen twice (a collision only sends lines to it), as nearly all lines are written once."""
    same = [SOURCE_FILE, *CDR_FIELDS, ERROR]
    first = parsed[SOURCE_ROW]
    seen_twice = parsed.select(
        pl.struct(same).hash().is_duplicated() & pl.col(ERROR).is_null()
    ).to_series()
    twice = seen_twice.arg_true()
    if twice.len():
        found = parsed[twice].select(pl.col(SOURCE_ROW).min().over(same)).to_series()
        first = first.scatter(twice, found)
    return parsed.lazy().with_columns(first.alias(FIRST))


def _lines(parsed: pl.LazyFrame) -> pl.LazyFrame:
    """One typed row per input line, with the working columns grouping needs."""
    answered_flag = blank_to_null("answered").str.to_lowercase()
    flag = pl.coalesce(
        pl.when(answered_flag.is_in(["true", "false"])).then(answered_flag == "true"),
        pl.col("answer__utc").is_not_null() | (pl.col("__billsec").fill_null(0) > 0),
    )
    parsed = _with_first(parsed.collect())
    lines = parsed.select(
        SOURCE_FILE,
        SOURCE_ROW,
        blank_to_null("call_key").alias("call_key"),
        blank_to_null("link_key").alias("link_key"),
        blank_to_null("src").alias("src"),
        blank_to_null("dst").alias("dst"),
        pl.col("start__utc").alias("start_utc"),
        pl.col("answer__utc").alias("answer_utc"),
        pl.col("end__utc").alias("end_utc"),
        pl.col("start__wall").alias("start_local"),
        pl.any_horizontal(pl.col(f"{c}__naive").fill_null(False) for c in TIME_COLUMNS).alias(
            "time_naive"
        ),
        pl.coalesce(pl.col(f"{c}__dst") for c in TIME_COLUMNS).alias("__dst"),
        pl.col("__duration").alias("duration_s"),
        pl.col("__billsec").alias("billsec"),
        flag.alias("__flag"),
        (flag | (pl.col("__billsec").fill_null(0) > 0)).alias("answered"),
        blank_to_null("disposition").alias("disposition"),
        blank_to_null("channel").alias("channel"),
        blank_to_null("dstchannel").alias("dstchannel"),
        (blank_to_null("origin").str.to_lowercase() == "true").fill_null(False).alias("__origin"),
        pl.when(blank_to_null("encoding").is_not_null())
        .then(pl.concat_str(pl.lit("decoded as "), pl.col("encoding")))
        .alias("encoding_note"),
        FIRST,
    )
    # The line's own duration wins; otherwise its stamps give it.
    span = (pl.col("end_utc") - pl.col("start_utc")).dt.total_seconds()
    lines = lines.with_columns(
        pl.when(pl.col("__dst").is_not_null())
        .then(pl.concat_str(pl.lit("dst-"), pl.col("__dst")))
        .alias("dst_note"),
        pl.coalesce(pl.col("duration_s"), span).alias("__dur"),
    )
    # An answered line without an answer time (FreePBX has none) was answered billsec before it
    # ended; with no end either, at its start.
    answer_at = pl.coalesce(
        pl.col("answer_utc"),
        pl.col("start_utc") + pl.duration(seconds=pl.col("__dur") - pl.col("billsec")),
        pl.col("end_utc") - _seconds("billsec"),
        pl.col("start_utc"),
    )
    return lines.with_columns(
        pl.coalesce(pl.col("end_utc"), pl.col("start_utc") + _seconds("__dur")).alias("__end"),
        pl.when(pl.col("answered")).then(answer_at).alias("__answer"),
    ).with_columns(
        (pl.col("start_utc") + _seconds("__dur")).alias("__dur_end"),
        (pl.col("__answer") + _seconds("billsec")).alias("__bill_end"),
    )


def _group(lines: pl.DataFrame, trunks: tuple[str, ...] = ()) -> pl.DataFrame:
    """Add `__call` (one value per call, file included), `__key` (the call's key for output) and
    `__rank` (0-2, see the module docstring: the originating leg has the lowest), then the trunk's
    side of each line (`_trunk_sides`, with `trunks` the `--trunk` prefixes).

    Work only where it can matter: the link join only when some line names a link, the channel
    chaining only over the channels (of a file) one of whose lines has no key, the final sort
    only when the lines are not in file and line order already."""
    linked = (
        lines.lazy()
        .filter(pl.col("link_key").is_not_null() & pl.col("call_key").is_not_null())
        .sort(SOURCE_FILE, SOURCE_ROW)
        .select(SOURCE_FILE, pl.col("link_key"), pl.col("call_key").alias("__parent"))
        .unique([SOURCE_FILE, "link_key"], keep="first", maintain_order=True)
        .collect()
    )
    keyed = (
        lines.lazy().join(
            linked.lazy(),
            left_on=[SOURCE_FILE, "call_key"],
            right_on=[SOURCE_FILE, "link_key"],
            how="left",
            maintain_order="left",
        )
        if linked.height
        else lines.lazy().with_columns(pl.lit(None, pl.String).alias("__parent"))
    ).with_columns(pl.coalesce("__parent", "call_key").alias("__key"))
    local_half = pl.col("channel").str.contains(LOCAL_HALF).fill_null(False)
    keyed = keyed.with_columns(
        pl.when(pl.col("__origin"))
        .then(0)
        .when(pl.col("__parent").is_null() & ~local_half)
        .then(1)
        .otherwise(2)
        .cast(pl.Int8)
        .alias(RANK)
    )
    # The two halves of a Local channel are chained as one channel: one call (without keys, the
    # `;1` and `;2` halves have uniqueids of their own).
    channel = pl.col("channel")
    local = lines.select(channel.str.starts_with("Local/").any()).item()
    keyed = keyed.with_columns(
        (channel.str.replace(LOCAL_PAIR, "$1") if local else channel).alias(CHAIN)
    )
    chain = [SOURCE_FILE, CHAIN]
    keyless = (
        keyed.filter(pl.col("__key").is_null() & pl.col(CHAIN).is_not_null())
        .select(chain)
        .unique()
        .collect()
    )
    if keyless.height:
        keyed = keyed.collect().lazy()
        prev_end = pl.col("__end").cum_max().shift(1).over(chain)
        new = (
            prev_end.is_null()
            | pl.col("start_utc").is_null()
            | (pl.col("start_utc") > prev_end + pl.duration(seconds=CHAIN_SLACK_S))
        )
        chained = (
            keyed.join(keyless.lazy(), on=chain, how="semi")
            .sort(SOURCE_FILE, CHAIN, "start_utc", SOURCE_ROW, nulls_last=True)
            .with_columns(new.alias("__new"))
            .with_columns(pl.col("__new").cast(pl.Int64).cum_sum().over(chain).alias("__session"))
            .drop("__new")
        )
        rest = keyed.join(keyless.lazy(), on=chain, how="anti")
        keyed = pl.concat([rest.with_columns(pl.lit(None, pl.Int64).alias("__session")), chained])
    else:
        keyed = keyed.with_columns(pl.lit(None, pl.Int64).alias("__session"))
    call = (
        pl.when(pl.col("__key").is_not_null())
        .then(pl.concat_str(pl.lit("k:"), pl.col("__key")))
        .when(pl.col(CHAIN).is_not_null() & pl.col("start_utc").is_not_null())
        .then(pl.concat_str(pl.lit("c:"), pl.col(CHAIN), pl.lit("#"), pl.col("__session")))
        .otherwise(pl.concat_str(pl.lit("r:"), pl.col(SOURCE_ROW)))
    )
    grouped = keyed.with_columns(
        pl.concat_str([pl.col(SOURCE_FILE), call], separator="\x1f").alias(CALL),
        pl.coalesce("__key", "channel").alias("__key"),
    ).drop("__session", CHAIN)
    if keyless.height or not _in_line_order(lines):
        grouped = grouped.sort(SOURCE_FILE, SOURCE_ROW)
    out = grouped.collect()
    if (out[FIRST] != out[SOURCE_ROW]).any():  # a line written twice joins its first's call
        out = out.with_columns(pl.col(CALL).sort_by(SOURCE_ROW).first().over(SOURCE_FILE, FIRST))
    return _trunk_sides(out, trunks)


def repeated_lines(raw: pl.DataFrame) -> int:
    """How many input lines repeat an earlier line of their file (every mapped field equal, as
    `_lines` finds them): each is merged into that line's call, marked `repeat_note`."""
    same = [SOURCE_FILE, *CDR_FIELDS]
    sound = raw.lazy().filter(pl.col(ERROR).is_null())
    counts = sound.select(pl.len(), pl.struct(same).n_unique().alias("distinct")).collect()
    return int(counts["len"][0] - counts["distinct"][0])


def _on_trunk(channel: str, number: str, trunks: tuple[str, ...]) -> pl.Expr:
    """The line's `channel` (or `dstchannel`) is the trunk: it starts with a `--trunk` prefix;
    without any, it is not a Local channel and the party on that side (`src`, or `dst`) is an
    external number."""
    ch = pl.col(channel)
    if any(trunks):
        on = trunk_channel(channel, trunks)
    else:
        on = ~ch.str.starts_with("Local/") & pl.col(number).str.contains(EXTERNAL_NUMBER)
    return (ch.is_not_null() & on).fill_null(False)


def _per_call(lines: pl.DataFrame, over_call: pl.Expr, one_line: pl.Expr) -> pl.Series:
    """`over_call` (a window over `__call`) on the lines of calls of several lines, `one_line`
    (what it gives on a call of one line) on the others: the window over millions of one-line
    calls is the slow part. As in `_calls`, a 64-bit hash collision only sends lines to the
    window, which gives the same value."""
    out = lines.select(one_line.alias("__out")).to_series()
    if out.len() == 1 and lines.height > 1:  # a literal: one value per line
        out = out.extend_constant(out[0], lines.height - 1)
    several = lines.select(~pl.col(CALL).hash().is_unique()).to_series().arg_true()
    if several.len():
        out = out.scatter(several, lines[several].select(over_call).to_series())
    return out


def _trunk_sides(lines: pl.DataFrame, trunks: tuple[str, ...]) -> pl.DataFrame:
    """Which lines' seconds are the trunk's (see the module docstring), `__trunk` (the line
    crossed the trunk: it gives the numbers among lines of one rank), and the rank of a B-leg
    written under its A-leg's key.

    On a call whose trunk is party B only (an outbound call), a line is connected only when it
    is a Dial to the trunk whose disposition is not one of `UnconnectedDial`: Asterisk counts
    billsec from party A's answer, so a BUSY Dial and a Congestion line after it have billsec."""
    a_side = _on_trunk("channel", "src", trunks)
    b_side = _on_trunk("dstchannel", "dst", trunks)
    lines = lines.with_columns(
        a_side.alias("__trunk_a"),
        b_side.alias("__trunk_b"),
        (pl.col("src") == pl.col("dst")).fill_null(False).alias("__self"),
    ).with_columns((pl.col("__trunk_a") | pl.col("__trunk_b")).alias("__trunk"))
    if lines["__self"].any():
        # A keyed line calling its own destination beside one of the same key that does not is
        # a B-leg written under the A-leg's key (FreeSWITCH's "Outbound Call" 1905 -> 1905 under
        # the uuid of 1902 -> 1905): it ranks as one, for the numbers and for billing. Keyless
        # lines (a FreePBX follow-me dialling 1001 from 1001) are left to the channel's order.
        keyed = pl.col("call_key").is_not_null()
        beside = _per_call(lines, (~pl.col("__self") & keyed).any().over(CALL), pl.lit(False))
        b_leg = pl.col("__self") & keyed & (pl.col(RANK) == 1) & pl.lit(beside)
        lines = lines.with_columns(
            pl.when(b_leg).then(pl.lit(2, pl.Int8)).otherwise(pl.col(RANK)).alias(RANK)
        )
    if not lines["__trunk_b"].any():
        return lines.drop("__trunk_a", "__trunk_b")
    trunk_a, trunk_b = pl.col("__trunk_a"), pl.col("__trunk_b")
    outbound = pl.lit(
        _per_call(lines, trunk_b.any().over(CALL) & ~trunk_a.any().over(CALL), trunk_b & ~trunk_a)
    )
    failed = (
        pl.col("disposition")
        .str.strip_chars()
        .str.to_uppercase()
        .is_in([d.value for d in UnconnectedDial])
        .fill_null(False)
    )
    keep = ~outbound | (pl.col("__trunk_b") & ~failed)
    return lines.with_columns(
        (pl.col("answered") & keep).alias("answered"),
        (pl.col("__flag") & keep).alias("__flag"),
        pl.when(keep).then(pl.col("__answer")).alias("__answer"),
        pl.when(keep).then(pl.col("__bill_end")).alias("__bill_end"),
    ).drop("__trunk_a", "__trunk_b")


def _in_line_order(frame: pl.DataFrame) -> bool:
    """The rows are sorted by (file, line) already."""
    file, row = pl.col(SOURCE_FILE), pl.col(SOURCE_ROW)
    prev_file, prev_row = file.shift(1), row.shift(1)
    ordered = (prev_file < file) | ((prev_file == file) & (prev_row <= row))
    return bool(frame.select(ordered.fill_null(True).all()).item())


def _spread(lines: pl.LazyFrame, rejects: pl.LazyFrame) -> pl.LazyFrame:
    """Reject every other line of a call one of whose lines is rejected, naming that line."""
    bad = rejects.select(KEY).unique()
    first_bad = (
        lines.join(bad, on=KEY, how="semi")
        .group_by(CALL)
        .agg(pl.col(SOURCE_ROW).min().alias("__bad_row"))
    )
    return (
        lines.join(first_bad, on=CALL, how="inner")
        .join(bad, on=KEY, how="anti")
        .select(
            SOURCE_FILE,
            SOURCE_ROW,
            pl.lit("(call)").alias("column"),
            pl.coalesce(pl.col("__key"), pl.lit("")).alias("value"),
            pl.concat_str(
                pl.lit("line "), pl.col("__bad_row"), pl.lit(" of the same call was rejected")
            ).alias("reason"),
        )
        .cast(REJECT_SCHEMA)
    )


def _calls(lines: pl.DataFrame) -> pl.DataFrame:
    """One row per call, in file and line order: the aggregation the module docstring describes.

    Most calls are one line; theirs is the line itself (`_single_calls`), so the group-by only
    takes the lines of calls of several lines. A call counts as one line when the 64-bit hash of
    its `__call` is unique: a collision only sends calls to the group-by, which gives the same
    row. `lines` are in file and line order (`_group`), so a call's place is its first line's,
    and the two parts merge without a sort."""
    if not _in_line_order(lines):
        lines = lines.sort(SOURCE_FILE, SOURCE_ROW)
    single = lines.select(pl.col(CALL).hash().is_unique().alias(SINGLE)).to_series()
    if single.all():
        return _single_calls(lines.lazy()).collect()
    numbered = lines.with_columns(single).lazy().with_row_index(POS)
    grouped = _grouped_calls(numbered.filter(~pl.col(SINGLE)), POS).sort(POS).collect()
    return (
        _single_calls(numbered.filter(pl.col(SINGLE)), POS)
        .merge_sorted(grouped.lazy(), key=POS)
        .drop(POS)
        .collect(engine="streaming")  # the one-line calls go straight into the merge
    )


def _single_calls(lines: pl.LazyFrame, *extra: str) -> pl.LazyFrame:
    """`_grouped_calls` of calls of one line, without the group-by: its best rank is its own,
    so it bills when it is connected, and every `first`, `min`, `max` or `any` is the line's own
    value (`any` of a null being false)."""
    answered = pl.col("answered").fill_null(False)
    billed_answer = pl.when(answered).then(pl.col("__answer"))
    return lines.select(
        SOURCE_FILE,
        SOURCE_ROW,
        pl.col(SOURCE_ROW).cast(pl.String).alias("source_rows"),
        pl.lit(1, pl.Int64).alias("row_count"),
        pl.col("__key").alias("call_key"),
        "src",
        "dst",
        "start_utc",
        billed_answer.alias("answer_utc"),
        pl.col("__end").alias("end_utc"),
        "start_local",
        pl.col("time_naive").fill_null(False),
        "dst_note",
        "encoding_note",
        pl.lit(None, pl.String).alias("repeat_note"),  # a repeat joins its first line's call
        (pl.col("__dur_end") - pl.col("start_utc")).dt.total_seconds().alias("duration_s"),
        (pl.when(answered).then(pl.col("__bill_end")) - billed_answer)
        .dt.total_seconds()
        .fill_null(0)
        .alias("billsec"),
        answered.alias("answered"),
        "disposition",
        "channel",
        "dstchannel",
        *extra,
    )


def _grouped_calls(lines: pl.LazyFrame, position: str) -> pl.LazyFrame:
    """One row per call of the lines given, by group-by (see `_calls`), with the `position` of
    its first line."""
    order = [pl.col("start_utc"), pl.col(SOURCE_ROW)]
    by_origin = [pl.col(RANK), ~pl.col("__trunk"), *order]

    def first(col: str) -> pl.Expr:
        return pl.col(col).sort_by(order).first().alias(col)

    def origin(col: str) -> pl.Expr:
        return pl.col(col).sort_by(by_origin).first().alias(col)

    answered = pl.col("answered")
    # The lines billed: the connected lines of the best rank, or every connected line if none.
    best = pl.col("__best")
    billed = pl.col("__billed")
    return (
        lines.with_columns(
            (answered & (pl.col(RANK) == pl.col(RANK).min().over(CALL))).alias("__best")
        )
        .with_columns(
            pl.when(best.any().over(CALL)).then(best).otherwise(answered).alias("__billed")
        )
        .group_by(CALL)
        .agg(
            pl.col(SOURCE_FILE).first(),
            pl.col(SOURCE_ROW).min(),
            pl.col(SOURCE_ROW).sort().cast(pl.String).str.join(";").alias("source_rows"),
            pl.len().cast(pl.Int64).alias("row_count"),
            first("__key").alias("call_key"),
            origin("src"),
            origin("dst"),
            pl.col("start_utc").min(),
            pl.col("__answer").filter(billed).min().alias("answer_utc"),
            pl.col("__end").max().alias("end_utc"),
            first("start_local"),
            pl.col("time_naive").any(),
            pl.col("dst_note").drop_nulls().first(),
            pl.col("encoding_note").drop_nulls().first(),
            pl.format("line {} repeats line {}", pl.col(SOURCE_ROW), pl.col(FIRST))
            .filter(pl.col(FIRST) != pl.col(SOURCE_ROW))  # the lines are in line order
            .str.join("; ")
            .alias("repeat_note"),
            (pl.col("__dur_end").max() - pl.col("start_utc").min())
            .dt.total_seconds()
            .alias("duration_s"),
            (pl.col("__bill_end").filter(billed).max() - pl.col("__answer").filter(billed).min())
            .dt.total_seconds()
            .fill_null(0)
            .alias("billsec"),
            answered.any().alias("answered"),
            # The disposition of a line the PBX itself calls answered, else a connected one.
            pl.col("disposition").sort_by([~pl.col("__flag"), ~answered, *by_origin]).first(),
            origin("channel"),
            origin("dstchannel"),
            pl.col(position).min(),
        )
        .with_columns(pl.col("repeat_note").replace("", None))  # no line repeats another
        .select(*cdr_schema.CDR_COLUMNS, position)
    )


def normalize_cdr(
    raw: pl.LazyFrame, pbx_tz: str | None, dst: DstPolicy, trunks: tuple[str, ...] = ()
) -> tuple[pl.DataFrame, pl.DataFrame, pl.LazyFrame]:
    """(canonical calls, accepted input lines as (source_file, source_row), rejects): naive
    times placed in `pbx_tz` under `dst`, the trunk told by the `trunks` channel prefixes.

    Called by `pipeline_ingest.ingest` for inputs of kind "cdr".
    """
    tz = check_pbx_zone(pbx_tz)
    meta = raw.select(
        pl.col("time_format").drop_nulls().unique().sort().implode(),
        pl.col("time_zone").drop_nulls().unique().sort().implode(),
    ).collect()
    formats = [f for f in meta["time_format"][0].to_list() if f != EPOCH]
    staged = raw.with_columns(
        *(_as_text(c, formats) for c in TIME_COLUMNS),
        pl.coalesce(pl.col("time_zone"), pl.lit(tz, pl.String)).alias(ZONE),
    )
    require_pbx_zone(staged, tz)
    zones: list[str | None] = list(dict.fromkeys([*meta["time_zone"][0].to_list(), tz]))
    parsed = _parsed_times(staged, zones, dst).with_columns(
        whole_number("duration").alias("__duration"),
        _billsec().alias("__billsec"),
    )
    problems = [reader_errors(parsed.lazy()), *_problems(dst)]
    parse_rejects = find_problems(parsed.lazy(), problems).collect()
    lines = _group(_lines(parsed.lazy()).collect(), trunks)
    del parsed  # one full frame at a time: the typed lines from here on

    typed = _without(lines, parse_rejects)
    _, line_rejects = check_rows(typed, cdr_schema.CDR_LINES, cdr_schema.SOURCE_NAMES)
    del typed
    rejected = pl.concat([parse_rejects, line_rejects.collect()])
    if rejected.height:
        rejected = pl.concat([rejected, _spread(lines.lazy(), rejected.lazy()).collect()])

    calls = _calls(_without(lines, rejected))
    accepted, call_checks = check_rows(calls, cdr_schema.CDR_CALLS, cdr_schema.SOURCE_NAMES)
    del calls
    call_rejects = call_checks.collect()
    if call_rejects.height:
        # A call-level failure names the call's first line; its other lines go with it.
        spread = _spread(lines.lazy(), call_rejects.lazy()).collect()
        rejected = pl.concat([rejected, call_rejects, spread])
    keys = _without(lines.select(KEY), rejected)
    return accepted, keys, rejected.lazy()


def _without(frame: pl.DataFrame, rejects: pl.DataFrame) -> pl.DataFrame:
    """`frame` less its rejected lines; `frame` itself (no copy) when nothing is rejected."""
    if not rejects.height:
        return frame
    return drop_rejected(frame.lazy(), rejects.lazy()).collect()
