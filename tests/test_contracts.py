"""A FrameContract's row checks, run as polars expressions (`check_rows`, what the audit runs),
reject exactly what its pandera schema rejects, with the same column, value and reason."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import polars as pl

from auditor.normalize.contract import check_rows, validate
from auditor.normalize.rejects import sort_rejects
from auditor.schemas.usage import SOURCE_NAMES, USAGE

ACCOUNT = "AC" + "1" * 32


def _usage_rows() -> pl.DataFrame:
    good = {
        "source_file": "usage.json",
        "account_sid": ACCOUNT,
        "category": "calls",
        "description": None,
        "count": 3,
        "count_unit": "calls",
        "usage": Decimal("5"),
        "usage_unit": "minutes",
        "price": Decimal("0.07"),
        "price_unit": "USD",
        "start_date": date(2025, 11, 1),
        "end_date": date(2025, 11, 30),
        "as_of": None,
    }
    bad = [
        {},
        {"account_sid": "ACxyz"},
        {"category": ""},
        {"count": -1},
        {"usage": Decimal("-2")},
        {"price": Decimal("-0.01"), "price_unit": "usd"},
        {"end_date": date(2025, 10, 31)},
        {"account_sid": None},
    ]
    rows = [good | {"source_row": i + 1} | b for i, b in enumerate(bad)]
    return pl.DataFrame(rows, schema=USAGE.dtypes())


def test_check_rows_agrees_with_the_pandera_schema() -> None:
    frame = _usage_rows()
    accepted, rejects = check_rows(frame, USAGE, SOURCE_NAMES)
    p_accepted, p_rejects = validate(frame, USAGE.schema(), SOURCE_NAMES)
    assert accepted.equals(p_accepted) and accepted["source_row"].to_list() == [1]
    ours = sort_rejects(rejects).collect()
    theirs = sort_rejects(p_rejects).collect()
    assert ours.equals(theirs)
    assert ours.select("source_row", "column", "reason").rows() == [
        (2, "account_sid", "not an account SID (AC + 32 hex)"),
        (3, "category", "empty"),
        (4, "count", "negative count"),
        (5, "usage", "negative usage"),
        (6, "price", "usage price must be positive or zero"),
        (6, "price_unit", "not a currency code"),
        (7, "end_date", "end_date before start_date"),
        (8, "account_sid", "not_nullable"),
    ]
