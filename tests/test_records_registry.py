"""An own-records finding is one `RecordsFinding` member plus its expression in
`reconcile.records.FINDINGS`: the counts (summary.json `records`), the records_groups columns and
the terminal's rows follow from the enum, and a member without an expression stops the import
with an explicit error."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
from conftest import ROOT

from auditor.reconcile.records import FINDINGS, check_findings
from auditor.result import RecordsCounts
from auditor.schemas.outputs import RECORDS_GROUPS as GROUP_SCHEMA
from auditor.statuses import RecordsFinding, RecordsMatch


def test_every_finding_has_its_expression() -> None:
    check_findings(FINDINGS)
    with pytest.raises(LookupError, match="undelivered, machine-answered"):
        check_findings({f: FINDINGS[f] for f in list(RecordsFinding)[2:]})


def test_the_derived_keys_are_those_written_today() -> None:
    """summary.json `records`, records_groups and the terminal keep their order."""
    counts = RecordsCounts(
        records=9,
        statuses={m: 1 for m in RecordsMatch},
        found={f: 2 for f in RecordsFinding},
        billed_minutes_at_stake=0.5,
    )
    assert list(counts.as_json()) == [
        "records",
        "matched",
        "records_only",
        "twilio_only",
        "ambiguous",
        "undelivered",
        "machine_answered",
        "slow",
        "duration",
        "status",
        "billed_minutes_at_stake",
    ]
    assert [k for k, _ in counts.findings_first()] == [
        "undelivered",
        "machine_answered",
        "slow",
        "duration",
        "status",
        "records_only",
        "twilio_only",
        "ambiguous",
        "matched",
        "records",
    ]
    assert list(GROUP_SCHEMA)[2:11] == [
        "records",
        "matched",
        "records_only",
        "ambiguous",
        "undelivered",
        "machine_answered",
        "slow",
        "duration",
        "status",
    ]
    assert (counts.records_only, counts.status, counts.findings) == (1, 2, 16)


# Run in a fresh interpreter: statuses.py is loaded with one more member, `late`, and
# reconcile/records.py first as it is (its import must fail), then with the member's expression.
_NEW_FINDING = textwrap.dedent(
    """
    import io, sys, types
    from datetime import UTC, datetime
    from pathlib import Path

    import auditor

    def load(name, edit):
        path = Path(auditor.__file__).parent.joinpath(*name.split(".")[1:]).with_suffix(".py")
        text = path.read_text()
        changed = edit(text)
        assert changed != text, name
        module = types.ModuleType(name)
        module.__file__ = str(path)
        sys.modules[name] = module
        exec(compile(changed, str(path), "exec"), module.__dict__)
        return module

    anchor = '    RECORDS_ONLY = "records-only"\\n    TWILIO_ONLY'
    load("auditor.statuses", lambda s: s.replace(anchor, '    LATE = "late"\\n' + anchor, 1))
    try:
        import auditor.reconcile.records
    except LookupError as e:
        assert "late" in str(e), e
    else:
        raise SystemExit("imported with no expression for 'late'")
    entry = "    F.AMBIGUOUS: _status_is(M.AMBIGUOUS),\\n"
    late = '    F.LATE: lambda x: _MATCHED & (pl.col("delay_s") > 5),\\n'
    records = load("auditor.reconcile.records", lambda s: s.replace(entry, entry + late, 1))

    import polars as pl
    from rich.console import Console

    from auditor.rules.model import load_rules
    from auditor.cli.terminal import print_records

    S, T = pl.String, pl.Datetime("us", "UTC")
    recs = pl.DataFrame(
        {
            "source_file": ["r.csv"], "source_row": [2], "call_sid": [None], "to": ["x"],
            "to_e164": ["+16175550100"], "from": [None], "from_e164": [None],
            "time_utc": [datetime(2025, 11, 3, 10, tzinfo=UTC)], "end_utc": [None],
            "duration_s": [30], "outcome": [None], "status": [None], "answered_by": [None],
            "group:campaign": ["spring"],
        },
        schema_overrides={"call_sid": S, "from": S, "from_e164": S, "time_utc": T,
                          "end_utc": T, "outcome": S, "status": S, "answered_by": S},
    )
    legs = pl.DataFrame(
        {
            "source_file": ["c"], "source_row": [1], "call_sid": ["CA" + "0" * 32],
            "parent_call_sid": [None], "direction": ["outbound-api"],
            "from": ["+12125550100"], "to": ["+16175550100"], "status": ["completed"],
            "start_time_utc": [datetime(2025, 11, 3, 10, 0, 10, tzinfo=UTC)],
            "duration_s": [30], "answered_by": [None], "category": ["calls-outbound"],
            "billable": [True], "billed_seconds": [60], "price": [None], "price_unit": [None],
        },
        schema_overrides={
            "parent_call_sid": S, "answered_by": S, "price": pl.Decimal(38, 6), "price_unit": S
        },
    ).with_columns((pl.col("billed_seconds").cast(pl.Decimal(38, 6)) / 60).alias("billed_minutes"))
    found = records.match_records(recs, legs, rules=load_rules(), has_status=False)
    assert found.matches["finding"].to_list() == ["late"], found.matches
    assert list(found.counts.as_json())[-2:] == ["late", "billed_minutes_at_stake"]
    assert (found.counts.late, found.counts.findings) == (1, 1)
    assert found.groups["late"].to_list() == [1], found.groups
    console = Console(record=True, width=200, file=io.StringIO())
    print_records(found.counts, found.groups, "out", console)
    shown = console.export_text()
    assert "│ late " in shown and "spring" in shown, shown
    print("ok")
    """
)


def test_a_new_finding_is_one_member_plus_one_expression() -> None:
    done = subprocess.run(
        [sys.executable, "-c", _NEW_FINDING],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stdout + done.stderr
