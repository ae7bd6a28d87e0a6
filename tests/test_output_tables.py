"""schemas/outputs.py is true: every table file the sample audit writes (`--calls-csv`, and
`--records` with a group column, so that every one is written) has exactly the columns it names,
in order, and each Parquet file its types; no table file is written that it does not name."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import polars as pl
import pytest
from conftest import audit_samples

from auditor.reconcile.daily import daily_volumes
from auditor.reconcile.periods import Period
from auditor.rules.model import load_rules
from auditor.schemas import outputs
from auditor.schemas.usage import USAGE

RECORDS = ("--records", "sample_exports/records/notifications_2025-11.csv")
GROUPS = {"records_matches": {"campaign": pl.String()}}  # the format's group column follows


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("output_tables") / "audit"
    done = audit_samples(folder, "--calls-csv", *RECORDS, "--records-format", "notification_log")
    assert done.returncode == 1, done.stderr  # the planted findings
    return folder


def expected(stem: str) -> pl.Schema:
    return pl.Schema({**outputs.FILES[stem], **GROUPS.get(stem, {})})


def test_every_table_file_is_named_and_every_named_one_written(out: Path) -> None:
    tables = {p.stem for p in out.iterdir() if p.suffix in (".csv", ".parquet")}
    assert tables == set(outputs.FILES)


@pytest.mark.parametrize("stem", list(outputs.FILES))
def test_a_csv_has_the_tables_columns(out: Path, stem: str) -> None:
    with (out / f"{stem}.csv").open(newline="", encoding="utf-8") as fh:
        header = next(csv.reader(fh))
    assert header == expected(stem).names()


@pytest.mark.parametrize("stem", list(outputs.FILES))
def test_a_parquet_file_has_the_tables_columns_and_types(out: Path, stem: str) -> None:
    path = out / f"{stem}.parquet"
    if stem in ("rejects", "records_groups"):  # CSV only
        assert not path.exists()
        return
    assert pl.read_parquet_schema(path) == expected(stem)


def test_the_daily_table_is_as_named(out: Path) -> None:
    """The table report.html charts per day (no file holds it)."""
    usage = pl.read_parquet(out / "usage_records.parquet")
    daily = daily_volumes(out / "calls.parquet", usage, load_rules(), Period.MONTH)
    assert daily.height and daily.schema == outputs.DAILY_VOLUMES


def test_summary_rows_are_the_reconciliations(out: Path) -> None:
    """summary.json's reconciliation rows are usage_reconciliation's (each with its bridge)."""
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    for row in summary["reconciliation"]:
        assert list(row) == [*outputs.USAGE_RECONCILIATION, "bridge"]
    for row in summary["not_compared"]["rows"]:
        assert list(row) == outputs.NOT_COMPARED.names()


def test_usage_records_are_the_usage_contract_then_how_used() -> None:
    names = list(USAGE.columns)
    assert outputs.USAGE_RECORDS.names() == [*names, "period", "used_as"]
    assert {c: outputs.USAGE_RECORDS[c] for c in names} == USAGE.dtypes()


def test_not_compared_rows_are_reconciliation_columns() -> None:
    for name, dtype in outputs.NOT_COMPARED.items():
        assert outputs.USAGE_RECONCILIATION[name] == dtype
