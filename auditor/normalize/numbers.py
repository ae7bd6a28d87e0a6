"""Telephone parties as written -> (E.164, kind), once per distinct value.

Each party is a `number` (E.164), an `extension` (digits only, at most `extension_max_digits`), a
`did` (one of the given numbers of the account) or `unknown` (`s`, `anonymous`, `client:...`).
SIP URIs are read by their user part; a value already written as E.164 is kept as written even
when phonenumbers finds it impossible (a misdialled number still meets the same misdialled number
on Twilio). Two written forms are settled by polars expressions, because their answer is known
without phonenumbers (a test checks it against phonenumbers on a large sample): a value written as
E.164, and, with a NANP region, a national number NXX-NXX-XXXX of 10 digits, or 11 with a leading
1. Every other distinct value goes through phonenumbers. Used by the PBX matcher and by the own
records' normaliser, which is why it lives here and not in either.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import phonenumbers
import polars as pl
import polars.selectors as cs
from polars.expr.whenthen import ChainedThen, Then  # the when/then chain's types

_URI = re.compile(r"^(?:sips?|tel):([^@;>]+)", re.IGNORECASE)
_VISUAL = re.compile(r"[\s().\-/]")
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")
# The fast forms (see `fast_party`): E.164 as written, and NANP national numbers NXX-NXX-XXXX.
_E164_ASCII = r"^\+[1-9][0-9]{6,14}$"
_NANP_10 = r"^[2-9][0-9]{2}[2-9][0-9]{6}$"
_NANP_11 = r"^1[2-9][0-9]{2}[2-9][0-9]{6}$"
NANP_REGIONS = frozenset(phonenumbers.COUNTRY_CODE_TO_REGION_CODE[1])  # the regions of +1
NUMBER_SCHEMA = {"raw": pl.String, "e164": pl.String, "kind": pl.String}


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


def fast_party(value: pl.Expr, region: str, extension_max_digits: int) -> tuple[pl.Expr, pl.Expr]:
    """(e164, kind) of the written forms whose `_classify` answer is known without phonenumbers
    (see the module docstring); both null for every other value, which `_classify` settles.

    ASCII digits only (`_classify` also reads other Unicode digits: those take its path)."""
    e164: Then | ChainedThen = pl.when(value.str.contains(_E164_ASCII)).then(value)
    if region in NANP_REGIONS:
        national = []
        if extension_max_digits < 10:
            national.append(_NANP_10)
        if extension_max_digits < 11:
            national.append(_NANP_11)
        if national:
            nanp = value.str.contains("|".join(national))
            e164 = e164.when(nanp).then(pl.concat_str(pl.lit("+1"), value.str.slice(-10)))
    return e164, pl.when(e164.is_not_null()).then(pl.lit("number"))


def _slow_table(values: list[str], region: str, extension_max_digits: int) -> pl.DataFrame:
    facts = [_classify(v, region, extension_max_digits) for v in values]
    return pl.DataFrame(
        {"raw": values, "e164": [f[0] for f in facts], "kind": [f[1] for f in facts]},
        schema=NUMBER_SCHEMA,
    )


def number_table(
    values: pl.Series, *, region: str = "US", extension_max_digits: int = 6
) -> pl.DataFrame:
    """(raw, e164, kind) for each distinct non-null value: the fast forms by expression, the rest
    through phonenumbers, once per value."""
    distinct = pl.DataFrame({"raw": values.cast(pl.String).drop_nulls().unique().sort()})
    e164, kind = fast_party(pl.col("raw"), region, extension_max_digits)
    fast = distinct.with_columns(e164.alias("e164"), kind.alias("kind"))
    slow = fast.filter(pl.col("kind").is_null())["raw"].to_list()
    table = pl.concat(
        [fast.filter(pl.col("kind").is_not_null()), _slow_table(slow, region, extension_max_digits)]
    )
    return table.sort("raw")


def _did_set(dids: Sequence[str], region: str, extension_max_digits: int) -> list[str]:
    """The DIDs as E.164: a handful of values, each through `_classify` itself."""
    facts = (_classify(d, region, extension_max_digits) for d in dict.fromkeys(dids) if d)
    return [e164 for e164, kind in facts if kind == "number" and e164 is not None]


def _parties(
    frame: pl.LazyFrame,
    columns: Sequence[str],
    *,
    region: str,
    dids: Sequence[str],
    extension_max_digits: int,
) -> pl.DataFrame:
    """`frame` plus `{col}_e164` and `{col}_kind` for each of `columns` (see normalise_numbers).

    The fast forms are expressions on the column; the other distinct values (few) go through
    phonenumbers once each into a small table, looked up by a join on the column alone."""
    out = frame.with_columns(
        expr.alias(f"{c}_{name}")
        for c in columns
        for expr, name in zip(
            fast_party(pl.col(c), region, extension_max_digits), ("e164", "kind"), strict=True
        )
    ).collect()
    slow_values = (
        pl.concat(
            [
                out.lazy()
                .filter(pl.col(f"{c}_kind").is_null() & pl.col(c).is_not_null())
                .select(pl.col(c).cast(pl.String).alias("raw"))
                .unique()
                for c in columns
            ]
        )
        .unique()
        .sort("raw")
        .collect()["raw"]
        .to_list()
        if columns
        else []
    )
    slow = _slow_table(slow_values, region, extension_max_digits)
    own = _did_set(dids, region, extension_max_digits)
    found = [
        out.lazy()
        .select(pl.col(c).cast(pl.String).alias("raw"))
        .join(slow.lazy(), on="raw", how="left", maintain_order="left")
        .select(pl.col("e164").alias(f"{c}__e164"), pl.col("kind").alias(f"{c}__kind"))
        .collect()
        for c in (columns if slow.height else ())
    ]
    out = out.hstack([s for f in found for s in f.iter_columns()])
    exprs = []
    for c in columns:
        e164, kind = pl.col(f"{c}_e164"), pl.col(f"{c}_kind")
        if slow.height:
            e164, kind = pl.coalesce(e164, f"{c}__e164"), pl.coalesce(kind, f"{c}__kind")
        did = e164.is_in(own) & (kind == "number")
        exprs += [
            e164.alias(f"{c}_e164"),
            pl.when(did)
            .then(pl.lit("did"))
            .otherwise(kind)
            .fill_null("unknown")
            .alias(f"{c}_kind"),
        ]
    return out.with_columns(exprs).drop(cs.ends_with("__e164", "__kind"))


def normalise_numbers(
    frame: pl.DataFrame | pl.LazyFrame,
    columns: Sequence[str],
    *,
    region: str = "US",
    dids: Sequence[str] = (),
    extension_max_digits: int = 6,
) -> pl.DataFrame:
    """`frame` plus `{col}_e164` (E.164; an extension's digits; null when unknown) and
    `{col}_kind` (`number` | `did` | `extension` | `unknown`) for each of `columns`."""
    return _parties(
        frame.lazy(),
        columns,
        region=region,
        dids=dids,
        extension_max_digits=extension_max_digits,
    )
