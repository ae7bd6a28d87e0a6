"""Time strings as exports write them -> UTC instants, with the export's own wall time kept.

Accepted shapes: RFC 2822 (`Tue, 31 Aug 2010 20:36:28 +0000`, the REST API), ISO 8601 with an offset
or `Z` (Bulk Export), and naive wall times (Console CSV, PBX CDRs) which need an IANA zone.

A naive time that falls in a DST gap (does not exist) or overlap (exists twice) is never shifted
silently. Policy `reject` sets it aside; `earliest` / `latest` take the earlier / later of the two
UTC instants it could mean (for a gap: the wall time read with the offset after / before the jump)
and the row carries a note saying so.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import polars as pl

from auditor.errors import InternalError, UsageError
from auditor.schemas.dtypes import DT_UTC

UTC = "UTC"
DT_NAIVE = pl.Datetime("us")

RFC2822 = "%a, %d %b %Y %H:%M:%S %z"
RFC2822_WALL = "%a, %d %b %Y %H:%M:%S"
NAIVE_FORMATS = (
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y/%m/%d %H:%M:%S",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M",
    "%Y-%m-%d %H:%M",
)
# A leap second (`23:59:60`; in a local zone any minute's :60) is read by chrono as the next
# second: `2025-11-30 23:59:60` becomes 2025-12-01 00:00:00, a call moved into the next month.
# No export of Twilio's writes one (its clocks smear), so such a time is rejected, not clamped to
# :59 (which would invent a second the export did not say).
LEAP_SECOND = r"\d:[0-5]\d:60(?:[.,]\d*)?(?:\D|$)"
LEAP_SECOND_REASON = "leap second (:60): rejected, not clamped to :59"


def leap_second(s: pl.Expr) -> pl.Expr:
    """Whether the time text `s` has 60 seconds."""
    return s.str.contains(LEAP_SECOND).fill_null(False)


# Far enough from a wall time to be clear of any DST jump it sits in.
_PROBE = pl.duration(hours=6)


class DstPolicy(StrEnum):
    REJECT = "reject"
    EARLIEST = "earliest"
    LATEST = "latest"


def check_zone(tz: str | None) -> str | None:
    """Validate an IANA zone name early, so a typo is one clear line, not a polars error later."""
    if tz is None:
        return None
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise UsageError(
            f"--tz {tz!r} is not an IANA time zone name (e.g. America/New_York)"
        ) from None
    return tz


def _aware(s: pl.Expr) -> pl.Expr:
    """Strings that carry their own offset -> UTC instant (null when not such a string)."""
    return pl.coalesce(
        s.str.to_datetime(RFC2822, strict=False, time_unit="us", time_zone=UTC),
        s.str.to_datetime("%+", strict=False, time_unit="us", time_zone=UTC),
    )


def _aware_wall(s: pl.Expr) -> pl.Expr:
    """The wall-clock part of an offset-carrying string, as written (naive)."""
    return pl.coalesce(
        s.str.replace(r"\s*([+-]\d{4}|GMT|UTC|Z)$", "").str.strptime(
            DT_NAIVE, RFC2822_WALL, strict=False
        ),
        s.str.slice(0, 19)
        .str.replace("T", " ")
        .str.strptime(DT_NAIVE, "%Y-%m-%d %H:%M:%S", strict=False),
    )


def _naive(s: pl.Expr) -> pl.Expr:
    return pl.coalesce(*(s.str.strptime(DT_NAIVE, f, strict=False) for f in NAIVE_FORMATS))


def _localize(wall: pl.Expr, tz: str, ambiguous: Literal["earliest", "latest"]) -> pl.Expr:
    return wall.dt.replace_time_zone(
        tz, ambiguous=ambiguous, non_existent="null"
    ).dt.convert_time_zone(UTC)


def _offset(wall: pl.Expr, tz: str) -> pl.Expr:
    """UTC offset (as a duration) in force at a wall time known to be unambiguous."""
    return wall - _localize(wall, tz, "earliest").dt.replace_time_zone(None)


def parse_time(col: str, tz: str | None, dst: DstPolicy) -> list[pl.Expr]:
    """Expressions adding, for string column `col`:

    `{col}__utc` (UTC instant or null), `{col}__wall` (the time as the export wrote it, naive),
    `{col}__naive` (bool: written without an offset), `{col}__dst` ('gap' | 'overlap' | null).
    A row whose `__dst` is set and whose policy is `reject` has a null `__utc`.
    """
    s = pl.col(col).str.strip_chars()
    s = pl.when((s == "") | leap_second(s)).then(None).otherwise(s)
    aware = _aware(s)
    naive = pl.when(aware.is_null()).then(_naive(s))
    is_naive = aware.is_null() & naive.is_not_null()
    wall = pl.coalesce(_aware_wall(s), naive)
    out = [
        is_naive.alias(f"{col}__naive"),
        wall.alias(f"{col}__wall"),
    ]
    if tz is None:
        out += [aware.alias(f"{col}__utc"), pl.lit(None, pl.String).alias(f"{col}__dst")]
        return out
    early = _localize(naive, tz, "earliest")
    late = _localize(naive, tz, "latest")
    gap = is_naive & early.is_null()
    overlap = is_naive & early.is_not_null() & (early != late)
    # In a gap the wall time could be read with the offset before or after the jump.
    gap_a = (naive - _offset(naive - _PROBE, tz)).dt.replace_time_zone(UTC)
    gap_b = (naive - _offset(naive + _PROBE, tz)).dt.replace_time_zone(UTC)
    if dst is DstPolicy.REJECT:
        local_utc = pl.when(gap | overlap).then(None).otherwise(early)
    elif dst is DstPolicy.EARLIEST:
        local_utc = pl.when(gap).then(pl.min_horizontal(gap_a, gap_b)).otherwise(early)
    else:
        local_utc = pl.when(gap).then(pl.max_horizontal(gap_a, gap_b)).otherwise(late)
    out += [
        pl.coalesce(aware, local_utc).alias(f"{col}__utc"),
        pl.when(gap)
        .then(pl.lit("gap"))
        .when(overlap)
        .then(pl.lit("overlap"))
        .otherwise(None)
        .alias(f"{col}__dst"),
    ]
    return out


def first_naive_cell(
    lf: pl.LazyFrame, columns: list[tuple[str, str]], where: pl.Expr | None = None
) -> dict | None:
    """The first (source_file, source_row, column, value) holding a naive wall time, in file, row
    and column order; `columns` pairs the text column parsed with the name to report."""
    checks = [
        (lf if where is None else lf.filter(where))
        .with_columns(parse_time(parsed, None, DstPolicy.REJECT))
        .filter(pl.col(f"{parsed}__naive"))
        .select(
            "source_file",
            "source_row",
            pl.lit(i).alias("__order"),
            pl.lit(shown).alias("column"),
            pl.col(parsed).alias("value"),
        )
        .head(1)
        for i, (parsed, shown) in enumerate(columns)
    ]
    first = pl.concat(checks).sort("source_file", "source_row", "__order").head(1).collect()
    return first.row(0, named=True) if first.height else None


# Fast paths: one parse per value, for a file whose times all share one shape (the usual case).
# Values the fast path leaves null go to `parse_time`, which tries every shape. A fixed format is
# several times faster than chrono's general `%+`; with a literal Z the wall time is the UTC one.
FAST_AWARE = {
    "%Y-%m-%dT%H:%M:%SZ": True,
    "%Y-%m-%dT%H:%M:%S%.fZ": True,
    "%Y-%m-%dT%H:%M:%S%:z": False,
    "%Y-%m-%dT%H:%M:%S%.f%:z": False,
    RFC2822: False,
}


def sniff_time_format(sample: list[str], tz: str | None) -> str | None:
    """The shape most values of `sample` are written in: a FAST_AWARE format or, with a zone, a
    naive one; None when no shape holds half of them (then every row takes the slow path)."""
    values = pl.Series([v.strip() for v in sample if v and v.strip()], dtype=pl.String)
    if values.is_empty():
        return None
    candidates: list[tuple[str, pl.Expr]] = [
        (fmt, pl.col("v").str.to_datetime(fmt, strict=False, time_unit="us", time_zone=UTC))
        for fmt in FAST_AWARE
    ]
    if tz is not None:
        candidates += [
            (fmt, pl.col("v").str.strptime(DT_NAIVE, fmt, strict=False)) for fmt in NAIVE_FORMATS
        ]
    frame = pl.DataFrame({"v": values})
    parsed_share = frame.select(p.is_not_null().mean().alias(n) for n, p in candidates).row(0)
    best = max(range(len(candidates)), key=lambda i: parsed_share[i])
    # Most values in one shape: that is the fast path; the odd ones take the slow path anyway.
    return candidates[best][0] if parsed_share[best] >= 0.5 else None


def parse_time_fast(col: str, shape: str | None, tz: str | None) -> list[pl.Expr]:
    """The outputs of `parse_time` for values in `shape` (see `sniff_time_format`); `__utc` is
    null for a value of another shape, and for a naive time in a DST gap or overlap, so that such
    rows take the slow path, which says which. `__dst` is always null here."""
    s = pl.col(col)  # as written: a padded value takes the slow path
    s = pl.when(leap_second(s)).then(None).otherwise(s)  # and a leap second
    if shape is None:
        utc, wall = pl.lit(None, DT_UTC), pl.lit(None, DT_NAIVE)
        naive = pl.lit(False)
    elif shape in FAST_AWARE:
        utc = s.str.to_datetime(shape, strict=False, time_unit="us", time_zone=UTC)
        if FAST_AWARE[shape]:  # written in UTC: the wall time is the UTC time, to the second
            wall = utc.dt.replace_time_zone(None)
            wall = wall.dt.truncate("1s") if "%.f" in shape else wall
        else:
            wall = _rfc2822_wall(s) if shape == RFC2822 else _iso_wall(s)
            utc = pl.when(wall.is_not_null()).then(utc)  # both or neither: else the slow path
        naive = pl.lit(False)
    else:
        if tz is None:
            raise InternalError("a naive fast path needs a zone")
        wall = s.str.strptime(DT_NAIVE, shape, strict=False)
        utc = wall.dt.replace_time_zone(
            tz, ambiguous="null", non_existent="null"
        ).dt.convert_time_zone(UTC)
        naive = wall.is_not_null()
    return [
        naive.alias(f"{col}__naive"),
        pl.when(utc.is_not_null()).then(wall).alias(f"{col}__wall"),
        utc.alias(f"{col}__utc"),
        pl.lit(None, pl.String).alias(f"{col}__dst"),
    ]


def _iso_wall(s: pl.Expr) -> pl.Expr:
    """The wall-clock part of an ISO 8601 time with an offset, to the second (as `_aware_wall`)."""
    return (
        s.str.slice(0, 19)
        .str.replace("T", " ", literal=True)
        .str.strptime(DT_NAIVE, "%Y-%m-%d %H:%M:%S", strict=False)
    )


def _rfc2822_wall(s: pl.Expr) -> pl.Expr:
    """The wall-clock part of an RFC 2822 time (as `_aware_wall`)."""
    return s.str.replace(r"\s*([+-]\d{4}|GMT|UTC|Z)$", "").str.strptime(
        DT_NAIVE, RFC2822_WALL, strict=False
    )
