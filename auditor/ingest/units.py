"""Durations and epoch times in the shapes users' systems write them, for the format files
(`--cdr-format`, `--records-format`): their `duration_unit` and `[time] format = "epoch_ms"`.

Durations (`duration_unit`):
- `seconds` (the default): a whole number of seconds, as the normalisers read it today;
- `milliseconds`: a number of milliseconds (`62400`, `62400.0`), rounded to the nearest second
  (half up), as AI-agent platforms write `duration_ms`;
- `hh:mm:ss`: hours, minutes, seconds (`00:05:15`, `0:05:15`, `125:00:00`): hours of 1 to 9
  digits, minutes and seconds of two digits below 60, no fraction, as 3CX and CRMs write them;
- `mm:ss`: minutes and seconds (`05:15`, `125:00`), minutes of 1 to 9 digits.
`hh:mm:ss` never reads two parts (`05:15` could be 5 h 15 min or 5 min 15 s): declare `mm:ss`.
A value not in the declared shape is null here, which the callers turn into a reject naming the
column.

Epoch milliseconds (`epoch_ms`): whole milliseconds since 1970-01-01 UTC, read here as epoch
seconds with their fraction (`1588582423123` -> `1588582423.123`), the text the `epoch` readers
take.
"""

from __future__ import annotations

import polars as pl

SECONDS = "seconds"
MILLISECONDS = "milliseconds"
HH_MM_SS = "hh:mm:ss"
MM_SS = "mm:ss"
DURATION_UNITS = (SECONDS, MILLISECONDS, HH_MM_SS, MM_SS)
# What a value of each unit is, for the reject of one that is not (`not ...`).
DURATION_SHAPES = {
    SECONDS: "a whole number of seconds",
    MILLISECONDS: "a number of milliseconds",
    HH_MM_SS: "a duration in hh:mm:ss",
    MM_SS: "a duration in mm:ss",
}
EPOCH_MS = "epoch_ms"

_HMS = r"^([0-9]{1,9}):([0-5][0-9]):([0-5][0-9])$"
_MS = r"^([0-9]{1,9}):([0-5][0-9])$"
_NUMBER = r"^-?[0-9]+(\.[0-9]+)?$"
_EPOCH_MS = r"^[0-9]{1,18}$"


def duration_seconds(text: pl.Expr, unit: str) -> pl.Expr:
    """Whole seconds (Int64) of a duration written in `unit` (not `seconds`, which the
    normalisers read themselves); null where `text` is blank or not in that shape."""
    s = text.str.strip_chars()
    if unit == MILLISECONDS:
        ms = pl.when(s.str.contains(_NUMBER)).then(s.cast(pl.Float64, strict=False))
        return (ms / 1000 + 0.5).floor().cast(pl.Int64, strict=False)
    if unit == HH_MM_SS:
        parts = [s.str.extract(_HMS, i).cast(pl.Int64) for i in (1, 2, 3)]
        return parts[0] * 3600 + parts[1] * 60 + parts[2]
    if unit == MM_SS:
        parts = [s.str.extract(_MS, i).cast(pl.Int64) for i in (1, 2)]
        return parts[0] * 60 + parts[1]
    raise ValueError(f"no such duration unit {unit!r}")


def epoch_ms_as_seconds(text: pl.Expr) -> pl.Expr:
    """Epoch milliseconds as epoch-seconds text with three decimals; null where `text` is
    blank or not whole milliseconds."""
    s = text.str.strip_chars()
    ms = pl.when(s.str.contains(_EPOCH_MS)).then(s.cast(pl.Int64, strict=False))
    return pl.concat_str(
        (ms // 1000).cast(pl.String),
        pl.lit("."),
        (ms % 1000).cast(pl.String).str.zfill(3),
    )
