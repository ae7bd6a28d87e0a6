"""What the call logs and the usage records cover, per account and UTC month, and the likely
cause when one side stops short of the other.

Logs cut at the 16th against a whole month of usage read exactly like calls deleted from the
account; this names the cut instead. Per account and month: the first and last leg start, the
UTC days of the month with no leg at all, and the days some voice usage record covers (a monthly
record covers every day of its span, a daily one its day). Causes, on the month's edges only:

- `logs-cut`: the logs stop at least `CUT_MIN_DAYS` days before (or start that long after) the
  days usage covers, while they have traffic on `CUT_MIN_LEG_DAYS` days or more and between
  their first and last day no run of days without legs is as long as the edge's:
  `logs end 2025-11-16T23:58Z; usage runs to 11-30: the export looks cut`;
- `usage-cut`: usage covers the month's days only up to (or from) a day before the last (after
  the first) day of the logs: `usage ends 2025-11-20; logs run to 11-30: the usage export looks
  cut` (daily usage pages that stop early, a record covering part of the month), on logs as
  busy as above.

The logs are read from calls.parquet as one group-by per account and UTC day (only the per-day
counts are collected); usage records are few.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import polars as pl

from auditor.reconcile.periods import Period, period_of
from auditor.statuses import ReconStatus, UsedAs

CUT_MIN_DAYS = 2  # an edge run of days without legs shorter than this is a quiet day, not a cut
CUT_MIN_LEG_DAYS = 7  # logs with traffic on fewer days are too sparse to call a gap a cut
COVERAGE_KEY = ["account_sid", "period"]
COUNT_KEY = ["account_sid", "period", "category"]


@dataclass(frozen=True)
class Coverage:
    """One account's one UTC month: what the logs and the usage records cover."""

    account_sid: str | None
    period: str  # YYYY-MM
    first_start: datetime | None
    last_start: datetime | None
    days_without_legs: list[date]
    usage_first_day: date | None
    usage_last_day: date | None
    cause: str | None  # a hint key (`logs-cut`, `usage-cut`) or None
    note: str | None  # the named cause, for the reconciliation rows' notes

    def as_json(self) -> dict[str, Any]:
        def iso(v: date | datetime | None) -> str | None:
            if isinstance(v, datetime):
                return v.strftime("%Y-%m-%dT%H:%M:%SZ")
            return None if v is None else v.isoformat()

        return {
            "account_sid": self.account_sid,
            "period": self.period,
            "first_start": iso(self.first_start),
            "last_start": iso(self.last_start),
            "days_without_legs": [iso(d) for d in self.days_without_legs],
            "usage_first_day": iso(self.usage_first_day),
            "usage_last_day": iso(self.usage_last_day),
            "cause": self.cause,
            "note": self.note,
        }


def _month_days(period: str) -> list[date]:
    first = date.fromisoformat(period + "-01")
    nxt = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    return [first + timedelta(days=i) for i in range((nxt - first).days)]


def _longest_run(days: list[date], within: list[date]) -> int:
    """The longest run of consecutive `within` days that are in `days`."""
    best = run = 0
    have = set(days)
    for d in within:
        run = run + 1 if d in have else 0
        best = max(best, run)
    return best


def _minute(ts: datetime) -> str:
    return ts.strftime("%Y-%m-%dT%H:%MZ")


def _cause(
    month: list[date],
    leg_days: list[date],
    first: datetime,
    last: datetime,
    usage_days: list[date],
) -> tuple[str | None, str | None]:
    """(hint key, note) for one account-month, or (None, None)."""
    if not usage_days:
        return None, None
    first_day, last_day = first.date(), last.date()
    u_first, u_last = min(usage_days), max(usage_days)
    gaps = [d for d in month if d not in set(leg_days)]
    inner = [d for d in month if first_day <= d <= last_day]
    inner_gap = _longest_run(gaps, inner)
    tail = (u_last - last_day).days
    head = (first_day - u_first).days
    busy = len(leg_days) >= CUT_MIN_LEG_DAYS
    if busy and tail >= CUT_MIN_DAYS and tail > inner_gap:
        return "logs-cut", (
            f"logs end {_minute(last)}; usage runs to {u_last:%m-%d}: the export looks cut"
        )
    if busy and head >= CUT_MIN_DAYS and head > inner_gap:
        return "logs-cut", (
            f"logs start {_minute(first)}; usage runs from {u_first:%m-%d}: the export looks cut"
        )
    if busy and u_last < last_day:
        return "usage-cut", (
            f"usage ends {u_last.isoformat()}; logs run to {last_day:%m-%d}: "
            "the usage export looks cut"
        )
    if busy and u_first > first_day:
        return "usage-cut", (
            f"usage starts {u_first.isoformat()}; logs run from {first_day:%m-%d}: "
            "the usage export looks cut"
        )
    return None, None


def _usage_days(usage_records: pl.DataFrame) -> dict[tuple[str | None, str], list[date]]:
    """(account, month) -> the days some voice usage record covers (spans clipped per month)."""
    voice = usage_records.filter(
        (pl.col("used_as").cast(pl.String) != UsedAs.NOT_VOICE.value)
        & pl.col("start_date").is_not_null()
        & pl.col("end_date").is_not_null()
        & (pl.col("end_date") >= pl.col("start_date"))
    )
    days = (
        voice.select("account_sid", pl.date_ranges("start_date", "end_date").alias("day"))
        .explode("day")
        .select("account_sid", pl.col("day").dt.strftime("%Y-%m").alias("period"), "day")
        .unique()
        .sort("account_sid", "period", "day", nulls_last=True)
    )
    out: dict[tuple[str | None, str], list[date]] = {}
    for account, period, day in days.iter_rows():
        out.setdefault((account, period), []).append(day)
    return out


def log_coverage(calls: Path, usage_records: pl.DataFrame) -> list[Coverage]:
    """Coverage per account and UTC month of the logged legs (calls.parquet, scanned: one
    group-by per account and day), sorted by account and month."""
    per_day = (
        pl.scan_parquet(calls, glob=False)
        .filter(pl.col("start_time_utc").is_not_null())
        .group_by("account_sid", pl.col("start_time_utc").dt.date().alias("day"))
        .agg(
            pl.col("start_time_utc").min().alias("first"),
            pl.col("start_time_utc").max().alias("last"),
        )
        .with_columns(pl.col("day").dt.strftime("%Y-%m").alias("period"))
        .sort("account_sid", "day", nulls_last=True)
        .collect()
    )
    usage_days = _usage_days(usage_records)
    out = []
    for (account, period), part in per_day.group_by(COVERAGE_KEY, maintain_order=True):
        first, last = cast(datetime, part["first"].min()), cast(datetime, part["last"].max())
        leg_days = part["day"].to_list()
        month = _month_days(str(period))
        used = [d for d in usage_days.get((account, str(period)), []) if d in set(month)]
        cause, note = _cause(month, leg_days, first, last, used)
        out.append(
            Coverage(
                account_sid=account,
                period=str(period),
                first_start=first,
                last_start=last,
                days_without_legs=[d for d in month if d not in set(leg_days)],
                usage_first_day=min(used) if used else None,
                usage_last_day=max(used) if used else None,
                cause=cause,
                note=note,
            )
        )
    return out


def with_coverage(
    recon: pl.DataFrame, coverage: list[Coverage], hints: dict[str, str]
) -> pl.DataFrame:
    """`recon` with each named cause added to the `notes` of its account-month's rows that are
    not a match (unexplained or not compared), and its hint put first in their `next_check`."""
    named = [c for c in coverage if c.cause is not None]
    if not named or not recon.height:
        return recon
    causes = pl.DataFrame(
        {
            "account_sid": [c.account_sid for c in named],
            "__month": [c.period for c in named],
            "__note": [c.note for c in named],
            "__hint": [hints.get(str(c.cause), str(c.cause)) for c in named],
        },
        schema={
            "account_sid": pl.String,
            "__month": pl.String,
            "__note": pl.String,
            "__hint": pl.String,
        },
    )
    findings = [ReconStatus.UNEXPLAINED.value, ReconStatus.NOT_COMPARED.value]
    finding = pl.col("status").cast(pl.String).is_in(findings)
    hit = finding & pl.col("__note").is_not_null()
    joined = recon.with_columns(pl.col("period").str.slice(0, 7).alias("__month")).join(
        causes, on=["account_sid", "__month"], how="left", maintain_order="left"
    )
    return joined.with_columns(
        pl.when(hit)
        .then(
            pl.when(pl.col("notes").fill_null("") == "")
            .then(pl.col("__note"))
            .otherwise(pl.format("{}; {}", "__note", "notes"))
        )
        .otherwise(pl.col("notes"))
        .alias("notes"),
        pl.when(hit)
        .then(
            pl.when(pl.col("next_check").fill_null("") == "")
            .then(pl.col("__hint"))
            .otherwise(pl.format("{} | {}", "__hint", "next_check"))
        )
        .otherwise(pl.col("next_check"))
        .alias("next_check"),
    ).select(recon.columns)


def with_dst_hint(
    recon: pl.DataFrame, dst_rejected: dict[str, int], hints: dict[str, str]
) -> pl.DataFrame:
    """`recon` with the `dst-rejected` hint put first in the `next_check` of its unexplained
    rows where usage bills more calls than the logs hold, in a period (`YYYY-MM` or
    `YYYY-MM-DD`) where `dst_rejected[period]` call-log rows were rejected for a DST gap or
    overlap (`--dst reject`): they are likely those calls. The hint's `{rows}` is that count."""
    if not dst_rejected or not recon.height:
        return recon
    text = hints.get("dst-rejected", "dst-rejected")
    per = pl.DataFrame(
        {"period": list(dst_rejected), "__dst": [str(n) for n in dst_rejected.values()]},
        schema={"period": pl.String, "__dst": pl.String},
    )
    joined = recon.join(per, on="period", how="left", maintain_order="left")
    before, rows, after = text.partition("{rows}")
    hint = pl.concat_str(pl.lit(before), pl.col("__dst"), pl.lit(after)) if rows else pl.lit(text)
    hit = (
        (pl.col("status").cast(pl.String) == ReconStatus.UNEXPLAINED.value)
        & (pl.col("unexplained_count") > 0)
        & pl.col("__dst").is_not_null()
    ).fill_null(False)
    return joined.with_columns(
        pl.when(hit)
        .then(
            pl.when(pl.col("next_check").fill_null("") == "")
            .then(hint)
            .otherwise(pl.concat_str(hint, pl.lit(" | "), "next_check"))
        )
        .otherwise(pl.col("next_check"))
        .alias("next_check")
    ).select(recon.columns)


TZ_MAX_HOURS = 14  # UTC offsets run from -12 to +14: no zone is further off


def tz_offset(
    calls: Path,
    naive_files: list[str],
    recon: pl.DataFrame,
    ancestors: pl.DataFrame,
    period: Period,
) -> int | None:
    """The whole-hour shift k of the naive call-log times (the legs of `naive_files`) that
    shrinks the call-count residuals of the compared rows most, none growing: the times look
    read in a zone k hours off (`--tz UTC` for a Console CSV of a zone at UTC-k). None when no
    shift helps. Cheap: only the per-hour counts of billable legs within `TZ_MAX_HOURS` of a
    period edge are collected; `ancestors` is (leaf, category) for the roll-up."""
    compared = recon.filter(
        pl.col("usage_source_file").is_not_null() & pl.col("unexplained_count").is_not_null()
    ).select(*COUNT_KEY, "unexplained_count")
    if not naive_files or not (compared["unexplained_count"] != 0).any():
        return None
    start = pl.col("start_time_utc")
    legs = pl.scan_parquet(calls, glob=False).filter(
        pl.col("source_file").is_in(naive_files)
        & pl.col("billable").fill_null(False)
        & start.is_not_null()
    )
    if period is Period.MONTH:
        lo = start.dt.truncate("1mo")
        near = pl.duration(hours=TZ_MAX_HOURS)
        legs = legs.filter((start - lo < near) | (lo.dt.offset_by("1mo") - start <= near))
    hours = (
        legs.group_by("account_sid", "category", start.dt.truncate("1h").alias("hour"))
        .agg(pl.len().cast(pl.Int64).alias("n"))
        .collect()
    )
    if not hours.height:
        return None
    base = int(compared["unexplained_count"].abs().sum())
    best: tuple[int, int] | None = None
    for k in sorted(range(-TZ_MAX_HOURS, TZ_MAX_HOURS + 1), key=lambda k: (abs(k), -k)):
        moved = hours.with_columns(
            period_of(pl.col("hour"), period).alias("__old"),
            period_of(pl.col("hour") + pl.duration(hours=k), period).alias("__new"),
        ).filter(pl.col("__old") != pl.col("__new"))
        if not k or not moved.height:
            continue
        delta = pl.concat(
            [
                moved.select(
                    "account_sid", "category", pl.col("__old").alias("period"), -pl.col("n")
                ),
                moved.select("account_sid", "category", pl.col("__new").alias("period"), "n"),
            ]
        )
        rolled = (
            delta.rename({"category": "leaf"})
            .join(ancestors, on="leaf")
            .group_by(COUNT_KEY)
            .agg(pl.col("n").sum().alias("__d"))
        )
        after = compared.join(rolled, on=COUNT_KEY, how="left").with_columns(
            (pl.col("unexplained_count") - pl.col("__d").fill_null(0)).abs().alias("__res"),
            pl.col("unexplained_count").abs().alias("__was"),
        )
        if (after["__res"] > after["__was"]).any():
            continue
        total = int(after["__res"].sum())
        if total < base and (best is None or total < best[1]):
            best = (k, total)
    return None if best is None else best[0]


def with_tz_hint(
    recon: pl.DataFrame, hours: int, tz: str | None, hints: dict[str, str]
) -> pl.DataFrame:
    """`recon` with the `tz-offset` hint (its `{hours}`: the shift, signed) first in the
    `next_check` of the unexplained rows with a call-count residual, and the offset in their
    `notes`."""
    text = hints.get("tz-offset", "tz-offset").replace("{hours}", f"{hours:+d}")
    zone = f"UTC{-hours:+03d}:00"
    note = f"naive call-log times look {hours:+d} h off from --tz {tz}"
    if tz in (None, "UTC", "Etc/UTC"):
        note = f"naive call-log times look {hours:+d} h off: read as UTC, local times of {zone}"
    hit = (
        (pl.col("status").cast(pl.String) == ReconStatus.UNEXPLAINED.value)
        & (pl.col("unexplained_count") != 0)
    ).fill_null(False)

    def first(col: str, value: str, sep: str) -> pl.Expr:
        return (
            pl.when(hit & (pl.col(col).fill_null("") == ""))
            .then(pl.lit(value))
            .when(hit)
            .then(pl.concat_str(pl.lit(value + sep), pl.col(col)))
            .otherwise(pl.col(col))
            .alias(col)
        )

    return recon.with_columns(first("next_check", text, " | "), first("notes", note, "; "))
