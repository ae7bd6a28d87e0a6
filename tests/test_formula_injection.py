"""Spreadsheet formula injection in every CSV written, and HTML escaping in report.html.

Contract: a text cell starting with `=`, `+`, `-`, `@`, tab or CR that is not a plain number or an
E.164 number is written with a leading `'`; Parquet keeps the raw value; report.html escapes
everything from the inputs.
"""

from __future__ import annotations

import re
import shutil
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
from conftest import FIXTURES, run_cli

from auditor.report.cells import FORMULA_START, KEEP, neutralise_formulas
from auditor.report.html import render_report
from auditor.report.tables import sink_csv, write_csv
from auditor.result import NotComparedTotals, RejectCounts, Summary, UnexplainedTotals

HYPERLINK = '=HYPERLINK("http://evil.example","x")'
ACCOUNT = "AC0123456789abcdef0123456789abcdef"
PBX_NAME = "@SUM(A1) Master.csv"  # a PBX file name is text that reaches cdr_matches.csv
SCRIPT = "<script>alert(1)</script>"


def _one(value: str | None) -> str | None:
    frame = pl.DataFrame({"a": [value]}, schema={"a": pl.String})
    return neutralise_formulas(frame)["a"][0]


@pytest.mark.parametrize(
    "value",
    [
        HYPERLINK,
        "=1+2",
        "+cmd|' /C calc'!A0",
        "-2+3",
        "@SUM(A1)",
        "\t=1+2",
        "\r=1+2",
        "-",
        "+0123",  # not E.164 (first digit 0) and a plain number has no `+`
        "+1234567890123456",  # 16 digits: too long for E.164
        "+1 555 123 4567",  # E.164 is digits only
        "-1\n=1+2",  # a number only up to the newline
        "-\uff13",  # a full-width digit is not a plain number
    ],
)
def test_formula_cells_are_prefixed(value: str) -> None:
    assert _one(value) == "'" + value


@pytest.mark.parametrize(
    "value",
    [
        "+15551234567",
        "+1",
        "-0.0085",
        "-3",
        "12",
        "1.5e3",
        "-1.5E-3",
        "-.5",
        "sip:+1555@x.example",
        "sip:<script>x</script>@example.com",
        "client:alice",
        "'=already quoted",
        " =1+2",  # does not start with a trigger
        "",
        None,
    ],
)
def test_other_cells_stay_as_written(value: str | None) -> None:
    assert _one(value) == value


def test_numeric_columns_are_not_touched(tmp_path: Path) -> None:
    frame = pl.DataFrame(
        {
            "price": pl.Series([Decimal("-0.0085")], dtype=pl.Decimal(38, 4)),
            "delta": [-1.5],
            "n": [-3],
            "price_text": ["-0.0085"],
            "name": ["-2+3"],
        }
    )
    out = neutralise_formulas(frame)
    assert out.schema == frame.schema
    assert out.row(0) == (Decimal("-0.0085"), -1.5, -3, "-0.0085", "'-2+3")
    write_csv(frame, tmp_path / "x.csv")
    assert (tmp_path / "x.csv").read_text().splitlines() == [
        "price,delta,n,price_text,name",
        "-0.0085,-1.5,-3,-0.0085,'-2+3",
    ]


def test_categorical_and_list_columns_written_as_text(tmp_path: Path) -> None:
    frame = pl.DataFrame(
        {"cat": pl.Series(["@x", "ok"], dtype=pl.Categorical), "rules": [["=a", "b"], ["c"]]}
    )
    write_csv(frame, tmp_path / "x.csv")
    got = pl.read_csv(tmp_path / "x.csv", infer_schema=False)
    assert got["cat"].to_list() == ["'@x", "ok"]
    assert got["rules"].to_list() == ["'=a;b", "c"]


def test_lazy_sink_neutralises_in_the_plan(tmp_path: Path) -> None:
    lazy = pl.LazyFrame({"to": [HYPERLINK, "+15551234567", None], "s": [1, -2, 3]})
    assert isinstance(neutralise_formulas(lazy), pl.LazyFrame)
    sink_csv(lazy, tmp_path, "calls")
    got = pl.read_csv(tmp_path / "calls.csv", infer_schema=False)
    assert got["to"].to_list() == ["'" + HYPERLINK, "+15551234567", None]
    assert got["s"].to_list() == ["1", "-2", "3"]


def _live_cells(path: Path) -> list[str]:
    """Every cell of a written CSV a spreadsheet would still run as a formula."""
    frame = pl.read_csv(path, infer_schema=False)
    return [
        v
        for col in frame.iter_columns()
        for v in col.drop_nulls()
        if re.match(FORMULA_START, v) and not re.match(KEEP, v)
    ]


@pytest.fixture
def formula_inputs(tmp_path: Path) -> Path:
    """The Console CSV fixture and a PBX CDR file whose name is a formula, run from `tmp_path`
    so that `source_file` is the name as given."""
    shutil.copy(FIXTURES / "twilio" / "formula_cells.csv", tmp_path / "formula_cells.csv")
    shutil.copy(FIXTURES / "pbx" / "asterisk_Master.csv", tmp_path / PBX_NAME)
    return tmp_path


def test_audit_csvs_neutralised_parquet_raw(formula_inputs: Path) -> None:
    proc = run_cli(
        "audit",
        "formula_cells.csv",
        PBX_NAME,
        "--out",
        "out",
        "--tz",
        "UTC",
        "--pbx-tz",
        "America/New_York",
        "--account",
        ACCOUNT,
        "--calls-csv",
        cwd=formula_inputs,
    )
    assert proc.returncode == 1, proc.stderr  # one rejected row, PBX calls with no Twilio leg
    out = formula_inputs / "out"

    calls_csv = pl.read_csv(out / "calls.csv", infer_schema=False).sort("source_row")
    calls_pq = pl.read_parquet(out / "calls.parquet").sort("source_row")
    assert calls_csv.select("from", "to").rows() == [
        ("+15551234567", "'" + HYPERLINK),
        ("'@SUM(A1)", "sip:+1555@x.example"),
        ("client:alice", "'-2+3"),
    ]
    assert calls_pq.select("from", "to").rows() == [
        ("+15551234567", HYPERLINK),
        ("@SUM(A1)", "sip:+1555@x.example"),
        ("client:alice", "-2+3"),
    ]
    # Negative prices (Decimal) are written as numbers, never quoted.
    assert [Decimal(p) for p in calls_csv["price"]] == [
        Decimal("-0.0085"),
        Decimal("-0.0040"),
        Decimal("-0.0030"),
    ]

    rejects = pl.read_csv(out / "rejects.csv", infer_schema=False)
    assert rejects.select("source_row", "column", "value").rows() == [
        ("5", "duration", "'@SUM(A1)"),
        ("5", "price", "'" + HYPERLINK),
    ]

    matches = pl.read_csv(out / "cdr_matches.csv", infer_schema=False)
    assert set(matches["pbx_source_file"].drop_nulls()) == {"'" + PBX_NAME}
    raw = pl.read_parquet(out / "cdr_matches.parquet")
    assert set(raw["pbx_source_file"].drop_nulls()) == {PBX_NAME}

    written = sorted(out.glob("*.csv"))
    assert {p.name for p in written} >= {"calls.csv", "rejects.csv", "cdr_matches.csv"}
    for path in written:
        assert _live_cells(path) == [], path.name


def test_validate_rejects_neutralised(formula_inputs: Path) -> None:
    proc = run_cli(
        "validate", "formula_cells.csv", "--out", "out", "--tz", "UTC", cwd=formula_inputs
    )
    assert proc.returncode == 1, proc.stderr
    rejects = pl.read_csv(formula_inputs / "out" / "rejects.csv", infer_schema=False)
    assert rejects["value"].to_list() == ["'@SUM(A1)", "'" + HYPERLINK]
    raw = pl.read_parquet(formula_inputs / "out" / "calls.parquet")
    assert HYPERLINK in raw["to"].to_list()


def test_report_html_escapes_input_text(tmp_path: Path) -> None:
    """`<script>` as a caller (`from`) and in a SIP URI (`to`): the report shows neither field,
    so the same payload is also the input's name, which the report's Inputs table shows. The
    path `<script>alert(1)</script>.csv` is the file `script>.csv` in the folder
    `<script>alert(1)<`, and `source_file` is the path as given."""
    name = f"{SCRIPT}.csv"
    (tmp_path / name).parent.mkdir()
    shutil.copy(FIXTURES / "twilio" / "html_cells.csv", tmp_path / name)
    proc = run_cli("audit", name, "--out", "out", "--tz", "UTC", "--account", ACCOUNT, cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr  # no usage records: not compared
    calls = pl.read_parquet(tmp_path / "out" / "calls.parquet")
    assert calls.select("source_file", "from", "to").row(0) == (
        name,
        SCRIPT,
        "sip:<script>x</script>@example.com",
    )
    html = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert "<script" not in html.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;.csv" in html


def test_render_report_escapes_every_text_field() -> None:
    """Every string the report lays out carries the payload: none comes out as markup."""
    recon_row = {
        "account_sid": SCRIPT,
        "period": SCRIPT,
        "category": SCRIPT,
        "billable_calls": 1,
        "expected_minutes": SCRIPT,
        "usage_count": 1,
        "usage_minutes": SCRIPT,
        "unexplained_count": 1,
        "unexplained_minutes": SCRIPT,
        "unexplained_price": SCRIPT,
        "currency": SCRIPT,
        "status": "unexplained",
        "headline": True,
        "explained_by": SCRIPT,
        "next_check": SCRIPT,
        "notes": SCRIPT,
        "bridge": [{"rule": SCRIPT, "count_delta": 1, "minutes_delta": SCRIPT}],
    }
    not_compared = recon_row | {"logged_calls": 1, "status": "not-compared"}
    summary = Summary(
        inputs=[
            {
                "file": SCRIPT,
                "kind": SCRIPT,
                "format": SCRIPT,
                "rows_read": 1,
                "rows_accepted": 1,
                "rows_rejected": 0,
            }
        ],
        reconciliation=[recon_row],
        unexplained=UnexplainedTotals(1, 1, SCRIPT, SCRIPT, SCRIPT, {SCRIPT: SCRIPT}, 0),
        not_compared=NotComparedTotals(1, 1, 1, 1, [not_compared]),
        dst={"gap": SCRIPT, "overlap": SCRIPT, "policy": SCRIPT},
        rejects=RejectCounts(1, 1),
        unaligned_usage=[],
        period="month",
        exit_code=1,
    )
    html = render_report(summary, pl.DataFrame({"x": [1]}))
    assert "<script" not in html.lower()
    assert html.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 20
