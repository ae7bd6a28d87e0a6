"""Rule and bridge-step names live in `statuses.Rule` / `statuses.BridgeStep`: the classifier flags
every rule, the bridge counts every stage, both in the enums' order, and the outputs say so."""

from __future__ import annotations

import csv
import itertools
from operator import itemgetter

import pytest
from conftest import ROOT

from auditor.reconcile import bridge, classify
from auditor.reconcile.periods import Period
from auditor.rules.model import load_rules
from auditor.statuses import CATEGORY_RULES, BridgeStep, Rule, in_order

SNAPSHOTS = ROOT / "tests" / "snapshots" / "sample_audit"


def test_in_order_keeps_the_names_order_and_refuses_a_gap() -> None:
    assert list(in_order("abc", {"c": 3, "a": 1, "b": 2}).items()) == [("a", 1), ("b", 2), ("c", 3)]
    with pytest.raises(RuntimeError, match=r"names without a value: \['b'\]"):
        in_order("ab", {"a": 1})
    with pytest.raises(RuntimeError, match=r"values of no name: \['z'\]"):
        in_order("a", {"a": 1, "z": 2})
    with pytest.raises(RuntimeError):
        in_order("aa", {"a": 1})


@pytest.mark.parametrize("period", list(Period))
def test_every_rule_has_its_flag_in_rule_order(period: Period) -> None:
    flags = classify._rule_flags(load_rules(), period)
    assert list(flags) == list(Rule)
    assert tuple(r.value for r in Rule) == classify.RULE_ORDER


def test_every_bridge_stage_is_counted_in_step_order() -> None:
    stages = bridge._stages(load_rules())
    assert list(stages) == list(bridge.STAGES)
    assert [*bridge.STAGES, BridgeStep.EXPECTED, BridgeStep.UNEXPLAINED] == list(BridgeStep)


def test_category_rules_are_rules() -> None:
    assert set(CATEGORY_RULES) <= {r.value for r in Rule}


def test_the_bridge_output_lists_every_step_in_order() -> None:
    """bridge.csv (the golden snapshot): each row's steps are BridgeStep, numbered from 0."""
    with (SNAPSHOTS / "bridge.csv").open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert rows
    for _, steps in itertools.groupby(rows, itemgetter("account_sid", "period", "category")):
        got = [(int(s["step"]), s["rule"]) for s in steps]
        assert got == list(enumerate(s.value for s in BridgeStep))


def test_the_calls_rules_column_names_rules_in_rule_order() -> None:
    """calls.csv (the golden snapshot's head): `rules` is a ;-list of Rule, in Rule's order."""
    order = [r.value for r in Rule]
    with (SNAPSHOTS / "calls_head.csv").open(newline="", encoding="utf-8") as fh:
        lists = [r["rules"].split(";") for r in csv.DictReader(fh) if r["rules"]]
    assert lists
    for names in lists:
        assert names == sorted(names, key=order.index)
