"""`auditor audit` on sample_exports/ finds the planted discrepancies and nothing else.

The expected figures are tests/sample_expected.json, computed by sample_exports/generate.py from its
own billing model without the auditor. One known difference: the generator knows the price a
price-pending leg will get; the auditor cannot, so its price residual keeps that amount and calls
it `explained` (price-pending), within the bound the category's rates allow.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
from conftest import ROOT, audit_samples

EXPECTED = json.loads((ROOT / "tests" / "sample_expected.json").read_text(encoding="utf-8"))
PLANTED_MONTH = {"calls-outbound", "calls-inbound-local", "calls-client"}
FIGURES = (
    "logged_calls",
    "billable_calls",
    "log_seconds",
    "expected_minutes",
    "usage_count",
    "usage_minutes",
    "unexplained_count",
    "unexplained_minutes",
)


@pytest.fixture(scope="module")
def month(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    out = tmp_path_factory.mktemp("audit_month")
    proc = audit_samples(out)
    assert proc.returncode == 1, proc.stderr  # rows were rejected and discrepancies planted
    return out, proc.returncode


def _rows(out: Path) -> dict[tuple[str, str], dict]:
    frame = pl.read_parquet(out / "usage_reconciliation.parquet")
    return {(r["period"], r["category"]): r for r in frame.iter_rows(named=True)}


def test_every_monthly_figure_matches_the_generator(month: tuple[Path, int]) -> None:
    rows = _rows(month[0])
    price_gaps = {}
    for exp in EXPECTED["monthly"]:
        got = rows[(exp["period"], exp["category"])]
        for field in FIGURES:
            assert Decimal(str(got[field])) == Decimal(str(exp[field])), (exp["category"], field)
        gap = got["unexplained_price"] - Decimal(exp["unexplained_price"])
        if gap:
            price_gaps[exp["category"]] = gap
    # the one pending-price leg is toll-free: its price shows in its category and both parents
    assert set(price_gaps) == {"calls-inbound-tollfree", "calls-inbound", "calls"}
    assert len(set(price_gaps.values())) == 1 and next(iter(price_gaps.values())) > 0
    tollfree = rows[("2025-11", "calls-inbound-tollfree")]
    assert tollfree["status"] == "explained" and "pending price" in tollfree["notes"]


def test_only_the_planted_discrepancies_are_headlines(month: tuple[Path, int]) -> None:
    summary = json.loads((month[0] / "summary.json").read_text())
    heads = {(r["period"], r["category"]): r for r in summary["reconciliation"] if r["headline"]}
    assert {r["status"] for r in heads.values()} == {"unexplained"}
    assert set(heads) == {("2025-11", c) for c in PLANTED_MONTH}
    assert heads[("2025-11", "calls-outbound")]["unexplained_minutes"] == "7"
    assert heads[("2025-11", "calls-inbound-local")]["unexplained_count"] == 1
    assert heads[("2025-11", "calls-client")]["unexplained_price"] == "0.25"
    assert summary["unexplained"] == {
        "rows": 3,
        "calls": 1,
        "minutes": "10",
        "price": "0.3735",
        "currency": "USD",
        "price_by_currency": {"USD": "0.3735"},
        "price_not_compared_rows": 0,
        # every planted difference bills above the logs: +0 / +1 / +0 calls, 0 / +3 / +7
        # minutes, +0.25 / +0.0255 / +0.098 USD (client, inbound-local, outbound); none below
        "above": {"rows": 3, "calls": 1, "minutes": "10", "price_by_currency": {"USD": "0.3735"}},
        "below": {"rows": 0, "calls": 0, "minutes": "0", "price_by_currency": {"USD": "0"}},
        "net": {"rows": 3, "calls": 1, "minutes": "10", "price_by_currency": {"USD": "0.3735"}},
    }
    assert summary["not_compared"]["count"] == 0
    assert summary["dst"]["gap"] == 1 and summary["dst"]["overlap"] == 1
    # the Asterisk call at 01:20:01 local on 2025-11-02, converted with a note
    assert (summary["dst"]["pbx_gap"], summary["dst"]["pbx_overlap"]) == (0, 1)
    assert all(
        r["status"] != "unexplained" for r in summary["reconciliation"] if r["period"] == "2025-03"
    )


# planted case -> (the rule the auditor must put on that row, billed seconds it must find)
EDGE_RULES = {
    "timezone": ("timezone", None),
    "dst-overlap": ("dst-overlap", None),
    "dst-gap": ("dst-gap", None),
    "zero-duration": ("rounding", 60),
    "month-crossing": ("start-date-attribution", None),
    "period-end-exclusive": ("period-end-exclusive", None),
    "price-pending": ("price-pending", None),
    "in-progress": ("unsettled", 0),
    "ringing": ("unsettled", 0),
    "queued": ("unsettled", 0),
}


def test_rules_on_the_planted_edge_rows(month: tuple[Path, int]) -> None:
    calls = pl.read_parquet(month[0] / "calls.parquet")
    by_sid = {r["call_sid"]: r for r in calls.iter_rows(named=True)}
    cases = {c["case"]: c for c in EXPECTED["planted"]}
    assert set(EDGE_RULES) <= set(cases)
    for name, (rule, billed) in EDGE_RULES.items():
        row = by_sid[cases[name]["call_sid"]]
        where = cases[name]["locations"][0]
        assert (row["source_file"], row["source_row"]) == (
            where["source_file"],
            where["source_row"],
        )
        assert rule in row["rules"].split(";"), (name, row["rules"])
        if billed is not None:
            assert row["billed_seconds"] == billed, name
    # an exact 60 s call is not rounded; the call at 00:00:00 on the 1st is in its month
    exact = by_sid[cases["exact-minute"]["call_sid"]]
    assert exact["billed_seconds"] == 60 and "rounding" not in exact["rules"]
    assert by_sid[cases["period-start"]["call_sid"]]["period"] == "2025-11"
    assert "period-end-exclusive" not in by_sid[cases["period-start"]["call_sid"]]["rules"]


def test_daily_calls_match_the_generator(tmp_path: Path) -> None:
    proc = audit_samples(tmp_path, "--period", "day")
    assert proc.returncode == 1, proc.stderr
    rows = _rows(tmp_path)
    for exp in EXPECTED["daily_calls"]:
        got = rows[(exp["date"], "calls")]
        for field in FIGURES:
            assert Decimal(str(got[field])) == Decimal(str(exp[field])), (exp["date"], field)
    recon = pl.read_parquet(tmp_path / "usage_reconciliation.parquet")
    heads = recon.filter(pl.col("headline") & (pl.col("status") == "unexplained"))
    assert sorted(heads["period"].to_list()) == ["2025-11-12", "2025-11-20"]
    # The daily usage holds `calls` records of November only: every other day, and every category
    # outside the `calls` tree, is not compared (never "explained"), and says why.
    calls_tree = {"calls", "calls-inbound", "calls-outbound"} | {
        f"calls-inbound-{k}" for k in ("local", "tollfree", "mobile")
    }
    covered = pl.col("period").str.starts_with("2025-11") & pl.col("category").is_in(calls_tree)
    assert (recon.filter(covered)["status"] != "not-compared").all()
    uncovered = recon.filter(~covered)
    assert uncovered.height and (uncovered["status"] == "not-compared").all()
    why = uncovered.select(
        pl.col("period").str.starts_with("2025-11").alias("november"), "notes"
    ).unique()
    assert set(why.iter_rows()) == {
        (True, "not compared: this category is absent from usage that covers the period"),
        (False, "not compared: no usage record covers this period at all"),
    }


def test_report_html_leads_with_what_no_rule_explains(month: tuple[Path, int]) -> None:
    page = (month[0] / "report.html").read_text(encoding="utf-8")
    assert page.index("Unexplained:") < page.index("What no rule explains") < page.index("Inputs")
    for category in PLANTED_MONTH:
        assert f"Bridge: 2025-11 {category}" in page
    assert "<script" not in page and "http" not in page  # self-contained, opens offline
