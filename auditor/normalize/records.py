"""Raw records (`ingest.records`) -> the canonical records frame (`schemas.records.RECORDS`), plus
rejects naming file, row and the user's own column.

- Times become UTC instants as the format file says: `iso8601` (ISO 8601 or RFC 2822; naive
  ones in `[time] zone`), `epoch` (Unix seconds, fractions allowed), `epoch_ms` (Unix
  milliseconds, as AI-agent platforms write `start_timestamp`) or a strftime pattern (naive
  unless it has `%z`). A naive time with no zone stops the run at the first such cell. A naive
  time in a DST gap or overlap follows `--dst`, as call logs do. Each value is parsed once in the
  shape most of the column is written in; only the odd rows (another shape, a DST edge) take the
  general parse.
- `to` and `from` become E.164 with the PBX matcher's number normaliser (`--region` for national
  numbers); a value that is no phone number (`client:bob`, an extension) has no E.164.
- The duration is whole seconds: the `duration` column read in the format's `duration_unit`
  (seconds, milliseconds rounded to the nearest second, `hh:mm:ss`, `mm:ss`: see
  `ingest.units`), else `end - time`.
- The outcome is mapped through `[status_map]` (case and surrounding blanks ignored).

Rejected: a record the reader could not split, a time that does not parse, a CallSid that is not
`CA` + 32 hex, a duration not in the declared unit (not a whole number of seconds, not
`hh:mm:ss`, ...) or negative, an end before the time, an
outcome the status map does not name (when the format has a status map), and a record with no
CallSid that lacks a readable number or time (it cannot be matched at all).
"""

from __future__ import annotations

from dataclasses import replace

import polars as pl

from auditor.errors import InputError
from auditor.ingest.base import SOURCE_FILE, SOURCE_ROW
from auditor.ingest.records_format_file import EPOCH, ISO8601, RecordsFormat
from auditor.ingest.units import DURATION_SHAPES, EPOCH_MS, SECONDS, duration_seconds
from auditor.normalize.contract import check_rows
from auditor.normalize.numbers import normalise_numbers
from auditor.normalize.rejects import (
    KEY,
    Problem,
    drop_rejected,
    find_problems,
    reader_errors,
    time_problems,
)
from auditor.normalize.times import (
    DT_NAIVE,
    DstPolicy,
    parse_time,
    parse_time_fast,
    sniff_time_format,
)
from auditor.normalize.values import blank_to_null, present, whole_number
from auditor.schemas.checks import no_nul
from auditor.schemas.dtypes import DT_UTC
from auditor.schemas.records import GROUP_PREFIX, RECORDS

TIME_FIELDS = ("time", "end")
ROW = "__i"
SAMPLE = 2_000  # values a column's time shape is sniffed from
_EPOCH = r"^[+-]?[0-9]+(\.[0-9]+)?$"
_NUMBER = "number"


def _none(col: str) -> list[pl.Expr]:
    return [
        pl.lit(False).alias(f"{col}__naive"),
        pl.lit(None, DT_NAIVE).alias(f"{col}__wall"),
        pl.lit(None, pl.String).alias(f"{col}__dst"),
    ]


def _fast(col: str, fmt: RecordsFormat, shape: str | None) -> list[pl.Expr]:
    """`{col}__utc`, `__wall`, `__naive`, `__dst` (as `times.parse_time`) by one parse per value
    in the column's shape; `__utc` is null where the general parse must look (another shape, a
    DST edge) and where the value is no time at all."""
    s = blank_to_null(col)
    if fmt.time_format in (EPOCH, EPOCH_MS):
        scale = 1_000_000 if fmt.time_format == EPOCH else 1_000  # microseconds per unit
        micros = (
            pl.when(s.str.contains(r"\."))
            .then((s.cast(pl.Float64, strict=False) * scale).round(0).cast(pl.Int64, strict=False))
            .otherwise(s.cast(pl.Int64, strict=False) * scale)
        )
        utc: pl.Expr = pl.when(s.str.contains(_EPOCH)).then(
            pl.from_epoch(micros, "us").dt.replace_time_zone("UTC")
        )
        return [utc.alias(f"{col}__utc"), *_none(col)]
    if fmt.time_format == ISO8601:
        return parse_time_fast(col, shape, fmt.time_zone)
    pattern = fmt.time_format
    if "%z" in pattern:
        utc = s.str.to_datetime(pattern, time_unit="us", strict=False).dt.convert_time_zone("UTC")
        return [utc.alias(f"{col}__utc"), *_none(col)]
    wall = s.str.strptime(DT_NAIVE, pattern, strict=False)
    utc = (
        pl.lit(None, DT_UTC)
        if fmt.time_zone is None
        else wall.dt.replace_time_zone(
            fmt.time_zone, ambiguous="null", non_existent="null"
        ).dt.convert_time_zone("UTC")
    )
    return [
        utc.alias(f"{col}__utc"),
        wall.is_not_null().alias(f"{col}__naive"),
        wall.alias(f"{col}__wall"),
        pl.lit(None, pl.String).alias(f"{col}__dst"),
    ]


def _general(frame: pl.DataFrame, col: str, fmt: RecordsFormat, dst: DstPolicy) -> pl.DataFrame:
    """`frame` with the rows the fast path left open read by `parse_time` (every shape, the DST
    policy): ISO 8601 values as written, a strftime pattern's values as the wall time it read."""
    if fmt.time_format in (EPOCH, EPOCH_MS) or "%z" in fmt.time_format:
        return frame  # no other shape, no DST: the fast path is the answer
    iso = fmt.time_format == ISO8601
    if iso:
        open_rows = present(col) & pl.col(f"{col}__utc").is_null()
    else:
        open_rows = pl.col(f"{col}__wall").is_not_null() & pl.col(f"{col}__utc").is_null()
    rows = frame.filter(open_rows)
    if not rows.height:
        return frame
    text = f"{col}__text"
    source = pl.col(col) if iso else pl.col(f"{col}__wall").dt.strftime("%Y-%m-%d %H:%M:%S%.f")
    parts = ("naive", "wall", "utc", "dst")
    slow = rows.select(
        ROW,
        source.alias(text),
    ).with_columns(parse_time(text, fmt.time_zone, dst))
    slow = slow.select(ROW, *(pl.col(f"{text}__{p}").alias(f"{col}__{p}") for p in parts))
    return frame.update(slow, on=ROW, how="left", include_nulls=True)


def _require_zone(frame: pl.DataFrame, fmt: RecordsFormat) -> None:
    """A naive time with no `[time] zone`: stop at the first such cell, naming it."""
    if fmt.time_zone is not None:
        return
    for field in TIME_FIELDS:
        if field not in fmt.columns:
            continue
        naive = frame.filter(pl.col(f"{field}__naive") & pl.col(f"{field}__utc").is_null())
        if naive.height:
            first = naive.sort(SOURCE_FILE, SOURCE_ROW).row(0, named=True)
            raise InputError(
                first[SOURCE_FILE],
                f"naive time {first[field]!r} needs [time] zone in {fmt.source} (an IANA name, "
                "e.g. UTC)",
                row=first[SOURCE_ROW],
                column=fmt.columns[field],
            )


def _times(raw: pl.DataFrame, fmt: RecordsFormat, dst: DstPolicy) -> pl.DataFrame:
    frame = raw.with_row_index(ROW)
    for field in TIME_FIELDS:
        if field not in fmt.columns:
            continue
        shape = None
        if fmt.time_format == ISO8601:
            sample = frame[field].drop_nulls().head(SAMPLE).to_list()
            shape = sniff_time_format(sample, fmt.time_zone)
        frame = frame.with_columns(_fast(field, fmt, shape))
        frame = _general(frame, field, fmt, dst)
    _require_zone(frame, fmt)
    return frame


def _time_problems(field: str, fmt: RecordsFormat, dst: DstPolicy) -> list[Problem]:
    if fmt.time_format == EPOCH:
        reason = "not epoch seconds"
    elif fmt.time_format == EPOCH_MS:
        reason = "not epoch milliseconds"
    elif fmt.time_format == ISO8601:
        reason = "unparseable time (expected ISO 8601 or RFC 2822)"
    else:
        reason = f"does not match the format file's time format {fmt.time_format}"
    zone = fmt.time_zone if dst is DstPolicy.REJECT else None
    return time_problems(field, reason, zone, column=fmt.columns[field])


def _problems(fmt: RecordsFormat, dst: DstPolicy) -> list[Problem]:
    """Parse problems of a record the reader could split (the others are reader errors)."""
    problems = [p for f in TIME_FIELDS if f in fmt.columns for p in _time_problems(f, fmt, dst)]
    if "end" in fmt.columns:  # here rather than the contract's check: it names the end as written
        problems.append(
            Problem(
                fmt.columns["end"],
                pl.col("end__utc") < pl.col("time__utc"),
                pl.col("end"),
                "ends before it starts",
            )
        )
    if "duration" in fmt.columns:
        problems.append(
            Problem(
                fmt.columns["duration"],
                present("duration") & pl.col("__duration").is_null(),
                pl.col("duration"),
                f"not {DURATION_SHAPES[fmt.duration_unit]}",
            )
        )
    if fmt.status_map:
        problems.append(
            Problem(
                fmt.columns["status"],
                present("status") & pl.col("__status").is_null(),
                pl.col("status"),
                f"outcome not in the [status_map] of {fmt.source}",
            )
        )
    ok = pl.col("_error").is_null()
    return [Problem(p.column, ok & p.bad, p.value, p.reason) for p in problems]


def _duration(fmt: RecordsFormat) -> pl.Expr:
    """Whole seconds of the `duration` column in the format's `duration_unit`."""
    if "duration" not in fmt.columns:
        return pl.lit(None, pl.Int64)
    if fmt.duration_unit == SECONDS:
        return whole_number("duration")
    return duration_seconds(blank_to_null("duration"), fmt.duration_unit)


def _text(fmt: RecordsFormat, field: str) -> pl.Expr:
    if field not in fmt.columns:
        return pl.lit(None, pl.String)
    return blank_to_null(field)


def _numbers(frame: pl.DataFrame, fmt: RecordsFormat, region: str) -> pl.DataFrame:
    """`to_e164`, `from_e164`: the number when it is one (not an extension, not `client:`)."""
    fields = [f for f in ("to", "from") if f in fmt.columns]
    if not fields:
        return frame
    stripped = frame.with_columns(blank_to_null(f).alias(f"__{f}") for f in fields)
    found = normalise_numbers(stripped, [f"__{f}" for f in fields], region=region)
    return found.with_columns(
        pl.when(pl.col(f"__{f}_kind") == _NUMBER).then(pl.col(f"__{f}_e164")).alias(f"{f}_e164")
        for f in fields
    )


def normalize_records(
    raw: pl.DataFrame, fmt: RecordsFormat, *, region: str = "US", dst: DstPolicy = DstPolicy.REJECT
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(canonical records, rejects) of the raw frame of `ingest.records.read_records`: each
    accepted record once, in file and row order; each bad cell once in rejects."""
    groups = [c for c in raw.columns if c.startswith(GROUP_PREFIX)]
    frame = _times(raw, fmt, dst)
    outcome = _text(fmt, "status")
    mapped = (
        outcome.str.to_lowercase().replace_strict(
            fmt.status_map, default=None, return_dtype=pl.String
        )
        if fmt.status_map
        else pl.lit(None, pl.String)
    )
    frame = frame.with_columns(
        _duration(fmt).alias("__duration"),
        mapped.alias("__status"),
    )
    problems = [reader_errors(frame.lazy()), *_problems(fmt, dst)]
    parse_rejects = find_problems(frame.lazy(), problems).collect()
    if parse_rejects.height:
        frame = drop_rejected(frame.lazy(), parse_rejects.lazy()).collect()
    frame = _numbers(frame, fmt, region)

    def utc(field: str) -> pl.Expr:
        return pl.col(f"{field}__utc") if field in fmt.columns else pl.lit(None, DT_UTC)

    time, end = utc("time"), utc("end")
    span = pl.when(end >= time).then((end - time).dt.total_seconds())
    canonical = frame.select(
        SOURCE_FILE,
        SOURCE_ROW,
        _text(fmt, "call_sid").alias("call_sid"),
        _text(fmt, "to").alias("to"),
        (pl.col("to_e164") if "to" in fmt.columns else pl.lit(None, pl.String)).alias("to_e164"),
        _text(fmt, "from").alias("from"),
        (pl.col("from_e164") if "from" in fmt.columns else pl.lit(None, pl.String)).alias(
            "from_e164"
        ),
        time.alias("time_utc"),
        end.alias("end_utc"),
        pl.coalesce(pl.col("__duration"), span).cast(pl.Int64).alias("duration_s"),
        outcome.alias("outcome"),
        pl.col("__status").alias("status"),
        _text(fmt, "answered_by").alias("answered_by"),
        *(blank_to_null(g).alias(g) for g in groups),
    )
    names = {
        "call_sid": fmt.columns.get("call_sid", "call_sid"),
        "to": fmt.columns.get("to", "to"),
        "time_utc": fmt.columns.get("time", "time"),
        "end_utc": fmt.columns.get("end", "end"),
        "duration_s": fmt.columns.get("duration", "duration"),
    }
    # group columns are text the user gave too: no NUL in them either
    contract = replace(RECORDS, checks=(*RECORDS.checks, *(no_nul(g) for g in groups)))
    accepted, row_rejects = check_rows(canonical, contract, names)
    if not accepted[SOURCE_ROW].is_sorted():  # the matcher takes file order for row order
        accepted = accepted.sort(SOURCE_ROW, maintain_order=True)
    rejects = pl.concat([parse_rejects, row_rejects.collect()])
    return accepted, rejects.select(*KEY, "column", "value", "reason")
