"""Issue 18, call logs and usage rows: values that passed silently and must not.

Call-log prices with no currency (`price_unit` missing, `--currency`), durations and counts
bounded to what a call can be (no integer wrap), a duration longer than end - start, a direction
Twilio does not write, a NUL in text, a leap second. Each case goes through the CLI in-process
and asserts the exit code, the reject rows and the figures.
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from conftest import FIXTURES, ROOT, run_cli

REAL = ROOT.parent / "shared" / "real"
TWILIO = FIXTURES / "twilio"
NOTE = "call-log prices carry no currency (price_unit missing): give --currency"


def _recon(out: Path) -> dict[str, dict]:
    rows = pl.read_csv(out / "usage_reconciliation.csv", infer_schema=False)
    return {r["category"]: r for r in rows.iter_rows(named=True)}


def _rejects(out: Path) -> list[tuple[str, str, str, str]]:
    rows = pl.read_csv(out / "rejects.csv", infer_schema=False)
    return [
        (r["source_row"], r["column"], r["value"], r["reason"]) for r in rows.iter_rows(named=True)
    ]


# --- Point 1: call-log prices with no currency ---------------------------------------------


def test_prices_without_currency_are_not_compared(tmp_path: Path) -> None:
    """no_price_unit.json: two 2011 inbound calls priced -0.02 and -0.01 with no price_unit;
    the usage page bills 0.10 USD for 2 calls and 3 minutes (61 s -> 2, 30 s -> 1)."""
    out = tmp_path / "out"
    proc = run_cli(
        "audit",
        str(TWILIO / "no_price_unit.json"),
        str(TWILIO / "no_price_unit_usage.json"),
        "--out",
        str(out),
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Every difference is explained" not in proc.stdout
    row = _recon(out)["calls-inbound"]
    assert row["status"] == "unexplained"
    assert (row["unexplained_count"], row["unexplained_minutes"]) == ("0", "0.000000")
    assert row["unexplained_price"] is None and row["currency"] is None
    assert NOTE in row["notes"]
    assert "--currency" in row["next_check"]
    # without a usage record of their own, the parent and the child carry the note too
    assert NOTE in _recon(out)["calls"]["notes"]


def test_currency_option_fills_a_missing_price_unit(tmp_path: Path) -> None:
    """With --currency USD: 0.10 - (0.02 + 0.01) = 0.07 USD of price residual."""
    out = tmp_path / "out"
    proc = run_cli(
        "audit",
        str(TWILIO / "no_price_unit.json"),
        str(TWILIO / "no_price_unit_usage.json"),
        "--currency",
        "USD",
        "--out",
        str(out),
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    row = _recon(out)["calls-inbound"]
    assert (row["status"], row["unexplained_price"], row["currency"]) == (
        "unexplained",
        "0.0700000000",
        "USD",
    )
    assert NOTE not in (row["notes"] or "")
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["options"]["ingest"]["currency"] == "USD"


def test_currency_never_overrides_a_price_unit(tmp_path: Path) -> None:
    """A page whose calls say JPY stays JPY with --currency USD: the USD usage is not compared."""
    page = json.loads((TWILIO / "no_price_unit.json").read_text())
    for c in page["calls"]:
        c["price_unit"] = "JPY"
    (tmp_path / "calls.json").write_text(json.dumps(page))
    out = tmp_path / "out"
    proc = run_cli("validate", str(tmp_path / "calls.json"), "--currency", "USD", "--out", str(out))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert pl.read_parquet(out / "calls.parquet")["price_unit"].to_list() == ["JPY", "JPY"]


def test_currency_from_the_config_file(tmp_path: Path) -> None:
    (tmp_path / "auditor.toml").write_text('currency = "USD"\n')
    out = tmp_path / "out"
    proc = run_cli("validate", str(TWILIO / "no_price_unit.json"), "--out", str(out), cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert pl.read_parquet(out / "calls.parquet")["price_unit"].to_list() == ["USD", "USD"]
    assert json.loads((out / "manifest.json").read_text())["options"]["ingest"]["currency"] == "USD"


@pytest.mark.parametrize("code", ["usd", "US", "USDX", "U$D"])
def test_currency_must_be_a_code(tmp_path: Path, code: str) -> None:
    proc = run_cli(
        "validate", str(TWILIO / "no_price_unit.json"), "--currency", code, "--out", str(tmp_path)
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "--currency" in lines[0] and "not a currency code" in lines[0]


def test_calls_with_no_price_at_all_are_not_a_currency_problem(tmp_path: Path) -> None:
    """Prices all null (pending): no currency note; the row is what it was (price-pending)."""
    page = json.loads((TWILIO / "no_price_unit.json").read_text())
    for c in page["calls"]:
        c["price"] = None
    (tmp_path / "calls.json").write_text(json.dumps(page))
    out = tmp_path / "out"
    run_cli(
        "audit",
        str(tmp_path / "calls.json"),
        str(TWILIO / "no_price_unit_usage.json"),
        "--out",
        str(out),
    )
    row = _recon(out)["calls-inbound"]
    assert NOTE not in (row["notes"] or "")
    assert "price-pending" in row["explained_by"]


def _real_feb_2011(tmp_path: Path, unit: str | None) -> Path:
    """twilio-python's v3 Calls page filtered to its 5 calls of 2011-02 (prices 0.02, 0.02,
    0.04, 0.03, 0.02 = 0.13; durations 102, 106, 181, 23, 117 s = 2+2+4+1+2 = 11 minutes)."""
    src = REAL / "twilio-calls" / "twilio-python_v3_calls_list.json"
    if not src.is_file():
        pytest.skip(f"real exports not found at {REAL} (CI has ../shared beside the checkout)")
    page = json.loads(src.read_text())
    page["calls"] = [c for c in page["calls"] if "Feb 2011" in (c["start_time"] or "")]
    assert len(page["calls"]) == 5
    if unit is not None:
        for c in page["calls"]:
            c["price_unit"] = unit
    (tmp_path / "calls.json").write_text(json.dumps(page))
    usage = json.loads((TWILIO / "no_price_unit_usage.json").read_text())
    record = usage["usage_records"][0]
    record.update(account_sid=page["calls"][0]["account_sid"], count="5", usage="11", price="0.50")
    (tmp_path / "usage.json").write_text(json.dumps(usage))
    return tmp_path


@pytest.mark.parametrize(
    ("unit", "args", "price", "currency"),
    [
        (None, (), None, None),  # unknown currency: no residual, unexplained, the note
        ("USD", (), "0.3700000000", "USD"),  # 0.50 - 0.13
        (None, ("--currency", "USD"), "0.3700000000", "USD"),  # the same, stated by the user
    ],
)
def test_real_2011_page(tmp_path: Path, unit, args, price, currency) -> None:
    d = _real_feb_2011(tmp_path, unit)
    out = tmp_path / "out"
    proc = run_cli("audit", str(d / "calls.json"), str(d / "usage.json"), *args, "--out", str(out))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Every difference is explained" not in proc.stdout
    row = _recon(out)["calls-inbound"]
    assert (row["status"], row["unexplained_price"], row["currency"]) == (
        "unexplained",
        price,
        currency,
    )
    assert (row["unexplained_count"], row["unexplained_minutes"]) == ("0", "0.000000")
    assert (NOTE in (row["notes"] or "")) is (currency is None)
