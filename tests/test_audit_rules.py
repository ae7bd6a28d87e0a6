"""Each reconciliation rule in isolation, then all together: golden figures worked out by hand."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
from audit_inputs import ACCOUNT, call, calls_page, sid, usage, usage_page
from conftest import run_cli

from auditor.normalize.times import DstPolicy
from auditor.pipeline.audit import run_audit
from auditor.pipeline.options import AuditOptions, IngestOptions
from auditor.reconcile.periods import Period
from auditor.result import SideTotals, UnexplainedTotals

NOV = ("2025-11-01", "2025-11-30")
OCT = ("2025-10-01", "2025-10-31")


def audit(tmp_path: Path, calls: list[dict], records: list[dict], **kw):
    calls_page(tmp_path / "calls.json", calls)
    usage_page(tmp_path / "usage.json", records)
    return run_audit([str(tmp_path)], tmp_path / "out", IngestOptions(**kw))


def row(result, category: str, period: str = "2025-11") -> dict:
    rows = result.recon.filter(pl.col("category") == category, pl.col("period") == period)
    assert rows.height == 1, result.recon
    return rows.row(0, named=True)


def leg(result, n: int) -> dict:
    return result.legs.filter(pl.col("call_sid") == sid(n)).row(0, named=True)


def test_61_seconds_bills_two_minutes(tmp_path: Path) -> None:
    res = audit(
        tmp_path,
        [call(1, "2025-11-03 10:00:00", "2025-11-03 10:01:01", "61", price="-0.0280")],
        [usage("calls-outbound", *NOV, 1, 2, "0.028"), usage("calls", *NOV, 1, 2, "0.028")],
    )
    assert leg(res, 1)["billed_seconds"] == 120 and leg(res, 1)["rules"] == "rounding"
    r = row(res, "calls-outbound")
    assert (r["billable_calls"], r["log_seconds"], r["expected_minutes"]) == (1, 61, 2)
    assert (r["unexplained_count"], r["unexplained_minutes"], r["unexplained_price"]) == (0, 0, 0)
    assert r["status"] == "explained" and r["explained_by"] == "rounding"
    assert res.exit_code == 0


def test_whole_minute_call_is_a_plain_match(tmp_path: Path) -> None:
    res = audit(
        tmp_path,
        [call(1, "2025-11-03 10:00:00", "2025-11-03 10:02:00", "120", price="-0.0280")],
        [usage("calls-outbound", *NOV, 1, 2, "0.028")],
    )
    assert row(res, "calls-outbound")["status"] == "match"


def test_busy_call_is_not_billed(tmp_path: Path) -> None:
    res = audit(
        tmp_path,
        [call(1, "2025-11-03 10:00:00", "2025-11-03 10:00:20", "0", status="busy", price=None)],
        [usage("calls-outbound", *NOV, 0, 0, "0")],
    )
    assert leg(res, 1)["billable"] is False and leg(res, 1)["rules"] == "unbilled-status"
    r = row(res, "calls-outbound")
    assert (r["logged_calls"], r["billable_calls"], r["unexplained_count"]) == (1, 0, 0)
    assert r["status"] == "explained"


def test_client_leg_is_its_own_category(tmp_path: Path) -> None:
    res = audit(
        tmp_path,
        [
            call(
                1,
                "2025-11-03 10:00:00",
                "2025-11-03 10:02:10",
                "130",
                direction="inbound",
                frm="client:alice",
                to="+14155550111",
                price="-0.012",
            ),
            call(
                2,
                "2025-11-03 10:00:01",
                "2025-11-03 10:02:10",
                "129",
                direction="outbound-dial",
                price="-0.042",
            ),
        ],
        [
            usage("calls-client", *NOV, 1, 3, "0.012"),
            usage("calls-outbound", *NOV, 1, 3, "0.042"),
            usage("calls", *NOV, 1, 3, "0.042"),
        ],
    )
    assert leg(res, 1)["category"] == "calls-client"
    assert "client-category" in leg(res, 1)["rules"]
    assert row(res, "calls-client")["unexplained_count"] == 0
    # voice (`calls`) + client together are the two logged legs
    assert row(res, "calls")["billable_calls"] + row(res, "calls-client")["billable_calls"] == 2
    bridge = res.bridge.filter(pl.col("category") == "calls", pl.col("period") == "2025-11")
    step = bridge.filter(pl.col("rule") == "client-category").row(0, named=True)
    assert (step["count_delta"], step["seconds_delta"]) == (-1, -130)


def test_call_across_month_end_belongs_to_its_start(tmp_path: Path) -> None:
    res = audit(
        tmp_path,
        [call(1, "2025-10-31 23:59:30", "2025-11-01 00:02:00", "150", price="-0.042")],
        [usage("calls-outbound", *OCT, 1, 3, "0.042")],
    )
    assert leg(res, 1)["period"] == "2025-10"
    assert leg(res, 1)["rules"] == "rounding;start-date-attribution;period-end-exclusive"
    assert row(res, "calls-outbound", "2025-10")["unexplained_count"] == 0
    assert res.recon.filter(pl.col("period") == "2025-11").height == 0
    # the naive "<= Oct 31" (midnight) query misses it; the bridge adds it back
    steps = dict(
        res.bridge.filter(pl.col("category") == "calls-outbound")
        .select("rule", "count_delta")
        .iter_rows()
    )
    assert steps["naive"] == 0 and steps["period-end-exclusive"] == 1


def test_call_exactly_at_midnight_on_the_first(tmp_path: Path) -> None:
    res = audit(
        tmp_path,
        [call(1, "2025-11-01 00:00:00", "2025-11-01 00:00:30", "30")],
        [usage("calls-outbound", *NOV, 1, 1, "0.014")],
    )
    assert leg(res, 1)["period"] == "2025-11"
    assert "period-end-exclusive" not in leg(res, 1)["rules"]
    assert row(res, "calls-outbound")["status"] == "explained"


def test_unsettled_and_price_pending(tmp_path: Path) -> None:
    res = audit(
        tmp_path,
        [
            call(1, "2025-11-03 10:00:00", None, None, status="in-progress", price=None),
            call(2, "2025-11-03 11:00:00", "2025-11-03 11:00:40", "40", price=None),
        ],
        [usage("calls-outbound", *NOV, 1, 1, "0.014")],
    )
    assert leg(res, 1)["rules"] == "unsettled" and leg(res, 1)["billable"] is False
    assert leg(res, 2)["rules"] == "rounding;price-pending"
    r = row(res, "calls-outbound")
    assert r["unexplained_count"] == 0 and r["status"] == "explained"
    assert "pending" in r["notes"]


def test_planted_over_billing_is_unexplained_with_a_hint(tmp_path: Path) -> None:
    res = audit(
        tmp_path,
        [call(1, "2025-11-03 10:00:00", "2025-11-03 10:00:30", "30")],
        [usage("calls-outbound", *NOV, 2, 4, "0.056")],
    )
    r = row(res, "calls-outbound")
    assert (r["unexplained_count"], r["unexplained_minutes"]) == (1, 3)
    assert r["unexplained_price"] == Decimal("0.042")
    assert r["status"] == "unexplained" and r["headline"]
    assert "deleted" in r["next_check"]
    assert res.summary.unexplained == UnexplainedTotals(
        rows=1,
        calls=1,
        minutes="3",
        price="0.042",
        currency="USD",
        price_by_currency={"USD": "0.042"},
        price_not_compared_rows=0,
        # usage 2 calls / 4 min / 0.056 minus the log's 1 / 1 / 0.014: all above the logs
        above=SideTotals(rows=1, calls=1, minutes="3", price_by_currency={"USD": "0.042"}),
        below=SideTotals(rows=0, calls=0, minutes="0", price_by_currency={"USD": "0"}),
        net=SideTotals(rows=1, calls=1, minutes="3", price_by_currency={"USD": "0.042"}),
    )
    assert res.exit_code == 1


def test_parent_and_child_are_never_added(tmp_path: Path) -> None:
    res = audit(
        tmp_path,
        [
            call(
                1,
                "2025-11-03 10:00:00",
                "2025-11-03 10:00:30",
                "30",
                direction="inbound",
                frm="+16175550123",
                to="+12125550100",
                price="-0.0085",
            )
        ],
        [
            usage("calls", *NOV, 2, 2, "0.017"),
            usage("calls-inbound", *NOV, 2, 2, "0.017"),
            usage("calls-inbound-local", *NOV, 2, 2, "0.017"),
        ],
    )
    # one missing call shows at three levels, but is counted once, at the finest level
    assert res.summary.unexplained.calls == 1
    heads = res.recon.filter(pl.col("headline"))["category"].to_list()
    assert heads == ["calls-inbound-local"]


def test_unaligned_usage_is_reported_not_split(tmp_path: Path) -> None:
    res = audit(
        tmp_path,
        [call(1, "2025-11-03 10:00:00", "2025-11-03 10:00:30", "30")],
        [
            usage("calls-outbound", *NOV, 1, 1, "0.014"),
            usage("calls-outbound", "2025-11-01", "2025-11-15", 1, 1, "0.014"),
        ],
    )
    assert [u["end_date"] for u in res.summary.unaligned_usage] == ["2025-11-15"]
    assert row(res, "calls-outbound")["unexplained_count"] == 0


def test_accounts_are_reconciled_apart(tmp_path: Path) -> None:
    sub = "AC" + "2" * 32
    res = audit(
        tmp_path,
        [
            call(1, "2025-11-03 10:00:00", "2025-11-03 10:00:30", "30"),
            call(2, "2025-11-03 10:00:00", "2025-11-03 10:00:30", "30", account=sub),
        ],
        [
            usage("calls-outbound", *NOV, 1, 1, "0.014"),
            usage("calls-outbound", *NOV, 2, 2, "0.028", account=sub),
        ],
    )
    by_account = {
        r["account_sid"]: r["unexplained_count"]
        for r in res.recon.filter(pl.col("category") == "calls-outbound").iter_rows(named=True)
    }
    assert by_account == {ACCOUNT: 0, sub: 1}


def test_pricing_override_contract(tmp_path: Path) -> None:
    """'30 s minimum, then 6 s increments' on trunking: 61 s bills 66 s = 1.1 min."""
    (tmp_path / "contract.toml").write_text(
        "[pricing.categories.trunking-termination]\nminimum_s = 30\nincrement_s = 6\n"
    )
    calls_page(
        tmp_path / "in" / "c.json" if (tmp_path / "in").mkdir() is None else None,
        [
            call(
                1,
                "2025-11-03 10:00:00",
                "2025-11-03 10:01:01",
                "61",
                direction="trunking-terminating",
                frm="sip:+1@pbx.example.com",
            )
        ],
    )
    res = run_audit(
        [str(tmp_path / "in")],
        tmp_path / "out",
        IngestOptions(),
        AuditOptions(pricing=tmp_path / "contract.toml"),
    )
    assert leg(res, 1)["billed_seconds"] == 66
    assert leg(res, 1)["billed_minutes"] == Decimal("1.1")


def test_ny_local_export_around_both_dst_changes(tmp_path: Path) -> None:
    header = "Call Sid,Start Time,End Time,Duration,From,To,Direction,Status,Price,Price Unit\n"
    lines = [
        f"{sid(1)},2025-03-09 02:30:00,2025-03-09 03:31:00,60,+12125550100,+16175550123,"
        "outbound-api,completed,-0.014,USD",  # gap: 02:30 does not exist
        f"{sid(2)},2025-11-02 01:30:00,2025-11-02 01:31:00,60,+12125550100,+16175550123,"
        "outbound-api,completed,-0.014,USD",  # overlap: 01:30 happens twice
        f"{sid(3)},2025-10-31 21:15:00,2025-10-31 21:16:00,60,+12125550100,+16175550123,"
        "outbound-api,completed,-0.014,USD",  # October locally, November in UTC
    ]
    (tmp_path / "console.csv").write_text(header + "\n".join(lines) + "\n")
    opts = dict(tz="America/New_York", account=ACCOUNT)
    res = run_audit(
        [str(tmp_path / "console.csv")],
        tmp_path / "o1",
        IngestOptions(dst=DstPolicy.EARLIEST, **opts),
    )
    times = {r["call_sid"]: r["start_time_utc"].isoformat() for r in res.legs.iter_rows(named=True)}
    assert times[sid(1)] == "2025-03-09T06:30:00+00:00"  # read as EDT (after the jump)
    assert times[sid(2)] == "2025-11-02T05:30:00+00:00"  # the first 01:30, EDT
    assert times[sid(3)] == "2025-11-01T01:15:00+00:00"
    assert "dst-gap" in leg(res, 1)["rules"] and "dst-overlap" in leg(res, 2)["rules"]
    assert leg(res, 3)["period"] == "2025-11" and "timezone" in leg(res, 3)["rules"]
    assert res.summary.dst == {
        "policy": "earliest",
        "tz": "America/New_York",
        "gap": 1,
        "overlap": 1,
    }
    late = run_audit(
        [str(tmp_path / "console.csv")],
        tmp_path / "o2",
        IngestOptions(dst=DstPolicy.LATEST, **opts),
    )
    times = {
        r["call_sid"]: r["start_time_utc"].isoformat() for r in late.legs.iter_rows(named=True)
    }
    assert times[sid(1)] == "2025-03-09T07:30:00+00:00"
    assert times[sid(2)] == "2025-11-02T06:30:00+00:00"
    rej = run_audit(
        [str(tmp_path / "console.csv")],
        tmp_path / "o3",
        IngestOptions(dst=DstPolicy.REJECT, **opts),
    )
    assert rej.legs["call_sid"].to_list() == [sid(3)]
    reasons = rej.ingested.rejects.select("source_row", "column", "reason").rows()
    assert reasons == [
        (2, "start_time", "local time falls in a DST gap in America/New_York (--dst reject)"),
        (3, "end_time", "local time falls in a DST overlap in America/New_York (--dst reject)"),
        (3, "start_time", "local time falls in a DST overlap in America/New_York (--dst reject)"),
    ]


def test_day_period(tmp_path: Path) -> None:
    res = run_audit(
        [
            str(
                calls_page(
                    tmp_path / "c.json",
                    [call(1, "2025-11-03 23:59:00", "2025-11-04 00:00:30", "90")],
                )
            )
        ],
        tmp_path / "out",
        IngestOptions(),
        AuditOptions(period=Period.DAY),
    )
    assert leg(res, 1)["period"] == "2025-11-03"
    assert leg(res, 1)["rules"] == "rounding;start-date-attribution"


def test_bridge_steps_add_up_exactly(tmp_path: Path) -> None:
    calls = [
        call(1, "2025-11-03 10:00:00", "2025-11-03 10:01:01", "61"),
        call(2, "2025-11-03 10:00:00", "2025-11-03 10:00:20", "0", status="no-answer", price=None),
        call(3, "2025-11-30 12:00:00", "2025-11-30 12:00:07", "7", frm="client:bob"),
        call(4, "2025-11-04 10:00:00", None, None, status="ringing", price=None),
        call(
            5,
            "2025-11-05 10:00:00",
            "2025-11-05 10:00:10",
            "10",
            direction="trunking-originating",
            to="sip:+1@pbx.example.com",
        ),
    ]
    res = audit(tmp_path, calls, [usage("calls-outbound", *NOV, 1, 2, "0.028")])
    for (_, _, category), steps in res.bridge.group_by(["account_sid", "period", "category"]):
        body = steps.filter(pl.col("rule") != "unexplained").sort("step")
        expected = res.recon.filter(pl.col("category") == category).row(0, named=True)
        assert body["count_delta"].sum() == expected["billable_calls"]
        assert body["minutes_delta"].sum() == expected["expected_minutes"]
    outbound = res.bridge.filter(pl.col("category") == "calls-outbound")
    assert dict(outbound.select("rule", "count_delta").iter_rows()) == {
        "naive": 4,
        "period-end-exclusive": 1,
        "timezone": 0,
        "unsettled": -1,
        "unbilled-status": -1,
        "client-category": -1,
        "sip-category": 0,
        "trunking-category": -1,
        "category-split": 0,
        "rounding": 0,
        "expected": 0,
        "unexplained": 0,
    }


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_outputs_are_deterministic(tmp_path: Path, fmt: str) -> None:
    calls_page(
        tmp_path / "in.json",
        [
            call(i, f"2025-11-0{i} 10:00:00", f"2025-11-0{i} 10:01:05", "65", price="-0.028")
            for i in range(1, 6)
        ],
    )
    usage_page(tmp_path / "u.json", [usage("calls-outbound", *NOV, 5, 10, "0.14")])
    outs = []
    for n in (1, 2):
        proc = run_cli(
            "audit",
            str(tmp_path / "in.json"),
            str(tmp_path / "u.json"),
            "--out",
            str(tmp_path / f"o{n}"),
            "--calls-csv",
        )
        assert proc.returncode == 0, proc.stderr
        outs.append(tmp_path / f"o{n}")
    for name in ("calls", "usage_reconciliation", "bridge", "usage_records"):
        assert (outs[0] / f"{name}.{fmt}").read_bytes() == (outs[1] / f"{name}.{fmt}").read_bytes()
    assert (outs[0] / "summary.json").read_bytes() == (outs[1] / "summary.json").read_bytes()


def test_calls_csv_is_opt_in(tmp_path: Path) -> None:
    res = audit(
        tmp_path,
        [call(1, "2025-11-03 10:00:00", "2025-11-03 10:01:01", "61", price="-0.0280")],
        [usage("calls-outbound", *NOV, 1, 2, "0.028")],
    )
    assert (tmp_path / "out" / "calls.parquet").exists()
    assert not (tmp_path / "out" / "calls.csv").exists()
    again = run_audit(
        [str(tmp_path / "calls.json"), str(tmp_path / "usage.json")],
        tmp_path / "with_csv",
        IngestOptions(),
        AuditOptions(calls_csv=True),
    )
    text = pl.read_csv(tmp_path / "with_csv" / "calls.csv", infer_schema=False)
    assert text["call_sid"].to_list() == res.legs["call_sid"].to_list()
    assert text.row(0, named=True)["start_time_utc"] == "2025-11-03T10:00:00Z"
    assert text.row(0, named=True)["rules"] == "rounding"
    assert again.exit_code == res.exit_code == 0


def test_phonenumbers_is_asked_only_for_numbers_a_rule_needs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only inbound PSTN legs reach the toll-free / mobile rules: their `to` is one of the
    account's own numbers. Outbound callees, client and SIP legs never cost a phonenumbers call."""
    import auditor.reconcile.classify as classify

    asked: list[str] = []
    real = classify.number_types

    def spy(numbers: pl.Series, region: str = "US") -> pl.DataFrame:
        asked.extend(numbers.to_list())
        return real(numbers, region)

    monkeypatch.setattr(classify, "number_types", spy)
    own, tollfree = "+12125550100", "+18005550100"
    legs = [
        call(1, "2025-11-03 10:00:00", "2025-11-03 10:01:00", "60", to="+16175550123"),
        call(2, "2025-11-03 11:00:00", "2025-11-03 11:01:00", "60", direction="inbound", to=own),
        call(
            3, "2025-11-03 12:00:00", "2025-11-03 12:01:00", "60", direction="inbound", to=tollfree
        ),
        call(
            4,
            "2025-11-03 13:00:00",
            "2025-11-03 13:01:00",
            "60",
            direction="inbound",
            frm="client:alice",
            to="+16175550199",
        ),
        call(
            5,
            "2025-11-03 14:00:00",
            "2025-11-03 14:01:00",
            "60",
            direction="inbound",
            frm="sip:bob@example.sip.twilio.com",
            to="sip:+16175550188@example.sip.twilio.com",
        ),
    ]
    res = audit(tmp_path, legs, [usage("calls", *NOV, 5, 5, "0.07")])
    assert sorted(asked) == [own, tollfree]
    assert leg(res, 3)["category"] == "calls-inbound-tollfree"
    assert leg(res, 4)["category"] == "calls-client"


JUL21 = ("2021-07-01", "2021-07-31")


def test_zero_second_calls_bill_a_minute_only_from_2021_07_08(tmp_path: Path) -> None:
    # bill_zero_duration carries since = 2021-07-08 in the shipped rules. Two completed 0 s
    # calls: 2021-07-07 23:59:59 (before: bills 0 s) and 2021-07-08 00:00:00 (on the date: bills
    # the 60 s minimum), plus a 30 s call (bills 60 s). Expected: 3 billable calls, 0 + 60 + 60 s
    # = 2 minutes, which is what the usage record bills: no unexplained minutes.
    calls = [
        call(1, "2021-07-07 23:59:59", "2021-07-07 23:59:59", "0", price="-0.0000"),
        call(2, "2021-07-08 00:00:00", "2021-07-08 00:00:00", "0", price="-0.0140"),
        call(3, "2021-07-09 10:00:00", "2021-07-09 10:00:30", "30", price="-0.0140"),
    ]
    res = audit(tmp_path, calls, [usage("calls-outbound", *JUL21, 3, 2, "0.028")])
    assert [leg(res, n)["billed_seconds"] for n in (1, 2, 3)] == [0, 60, 60]
    r = row(res, "calls-outbound", "2021-07")
    assert (r["billable_calls"], r["log_seconds"], r["expected_minutes"]) == (3, 30, 2)
    assert (r["unexplained_count"], r["unexplained_minutes"]) == (0, 0)
    # The bridge still adds up: its steps sum to the expected figures.
    steps = res.bridge.filter(
        pl.col("category") == "calls-outbound", pl.col("rule") != "unexplained"
    )
    assert steps["minutes_delta"].sum() == r["expected_minutes"]
    assert steps["count_delta"].sum() == r["billable_calls"]


def test_a_rules_override_moves_the_date(tmp_path: Path) -> None:
    # The same 0 s call of 2021-07-07 bills the minimum once the override says since 2021-07-01,
    # and nothing at all with bill_zero_duration = false (no dates: never).
    calls_page(tmp_path / "calls.json", [call(1, "2021-07-07 12:00:00", None, "0")])
    usage_page(tmp_path / "usage.json", [usage("calls-outbound", *JUL21, 1, 1, "0.014")])
    figures = {}
    for name, text in {
        "earlier": "[billing]\nbill_zero_duration = { since = 2021-07-01 }\n",
        "never": "[billing]\nbill_zero_duration = false\n",
        "shipped": None,
    }.items():
        pricing = None
        if text is not None:
            pricing = tmp_path / f"{name}.toml"
            pricing.write_text(text)
        res = run_audit(
            [str(tmp_path / "calls.json"), str(tmp_path / "usage.json")],
            tmp_path / name,
            IngestOptions(),
            AuditOptions(pricing=pricing),
        )
        figures[name] = (
            leg(res, 1)["billed_seconds"],
            row(res, "calls-outbound", "2021-07")["status"],
        )
    assert figures == {
        "earlier": (60, "explained"),  # 0 s billed as 60 s: usage's 1 minute, by rounding
        "never": (0, "unexplained"),
        "shipped": (0, "unexplained"),  # before 2021-07-08: usage's minute is not explained
    }


def test_a_dated_leg_rule_maps_only_legs_started_in_its_range(tmp_path: Path) -> None:
    # An override whose first leg rule maps outbound-api legs to calls-sip-outbound until
    # 2025-11-05 (excluded): the leg of 11-04 23:59:59 takes it, the leg of 11-05 00:00:00 falls
    # through to calls-outbound.
    calls_page(
        tmp_path / "calls.json",
        [
            call(1, "2025-11-04 23:59:59", "2025-11-04 23:59:59", "0"),
            call(2, "2025-11-05 00:00:00", "2025-11-05 00:01:00", "60"),
        ],
    )
    pricing = tmp_path / "dated.toml"
    pricing.write_text(
        "[[leg_rules]]\nwhen = { direction = ['outbound-api'] }\ncategory = 'calls-sip-outbound'\n"
        "until = 2025-11-05\n\n[[leg_rules]]\nwhen = {}\ncategory = 'calls-outbound'\n"
    )
    res = run_audit(
        [str(tmp_path / "calls.json")],
        tmp_path / "out",
        IngestOptions(),
        AuditOptions(pricing=pricing),
    )
    assert [leg(res, n)["category"] for n in (1, 2)] == ["calls-sip-outbound", "calls-outbound"]
