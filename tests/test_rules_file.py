"""A rules override with a misspelled name is refused in one line, never silently ignored."""

from __future__ import annotations

from pathlib import Path

import pytest

from auditor.errors import UsageError
from auditor.rules.model import load_rules


@pytest.mark.parametrize(
    ("toml", "says"),
    [
        ("[pricng.default]\nminimum_s = 30\nincrement_s = 6\n", "unknown table [pricng]"),
        ("[billing]\nbillable_status = ['completed']\n", "unknown key 'billable_status'"),
        (
            "[pricing.categories.calls-outbund]\nminimum_s = 30\nincrement_s = 6\n",
            "pricing.categories.calls-outbund: unknown category",
        ),
        (
            "[[leg_rules]]\nwhen = { endpoint_prefix = 'client:' }\ncategory = 'calls-client'\n"
            "rule = 'client-categroy'\n",
            "unknown rule 'client-categroy'",
        ),
        (
            "[[leg_rules]]\nwhen = { directon = ['inbound'] }\ncategory = 'calls-inbound-local'\n",
            "unknown condition 'directon'",
        ),
        (
            "[[leg_rules]]\nwhen = { to_number_type = 'toll-free' }\n"
            "category = 'calls-inbound-tollfree'\n",
            "unknown number type 'toll-free'",
        ),
        ("[hints]\nusage-mising = 'x'\n", "unknown key 'usage-mising'"),
    ],
)
def test_misspelled_rules_are_refused(tmp_path: Path, toml: str, says: str) -> None:
    path = tmp_path / "override.toml"
    path.write_text(toml)
    with pytest.raises(UsageError, match="rules: ") as err:
        load_rules(path)
    assert says in str(err.value) and "\n" not in str(err.value)


def test_the_shipped_rules_and_a_good_override_load(tmp_path: Path) -> None:
    path = tmp_path / "override.toml"
    path.write_text("[pricing.categories.trunking-termination]\nminimum_s = 30\nincrement_s = 6\n")
    rules = load_rules(path)
    assert rules.pricing_for("trunking-termination").increment_s == 6
    assert rules.pricing_for("calls-outbound").increment_s == 60


@pytest.mark.parametrize(
    ("toml", "says"),
    [
        (
            "[billing]\nbill_zero_duration = { since = 2021-13-08 }\n",
            None,  # not even TOML: a month 13 date
        ),
        (
            "[billing]\nbill_zero_duration = { since = 'July 2021' }\n",
            "[billing] bill_zero_duration.since: not a date (write it as 2021-07-08): 'July 2021'",
        ),
        (
            "[billing]\nbill_zero_duration = { since = 2021-07-08T10:00:00 }\n",
            "[billing] bill_zero_duration.since: not a date",
        ),
        (
            "[billing]\nbill_zero_duration = { since = 2022-01-01, until = 2021-07-08 }\n",
            "[billing] bill_zero_duration: until (2021-07-08) must be after since (2022-01-01)",
        ),
        (
            "[billing]\nbill_zero_duration = { enabled = true, from = 2021-07-08 }\n",
            "[billing] bill_zero_duration has unknown key 'from'",
        ),
        (
            "[billing]\nbill_zero_duration = 'yes'\n",
            "[billing] bill_zero_duration: true, false or a table",
        ),
    ],
)
def test_a_bad_rule_date_names_the_file_and_key(
    tmp_path: Path, toml: str, says: str | None
) -> None:
    path = tmp_path / "override.toml"
    path.write_text(toml)
    with pytest.raises(UsageError) as err:
        load_rules(path)
    message = str(err.value)
    assert "\n" not in message and str(path) in message
    if says is not None:
        assert message.startswith(f"{path}: ") and says in message, message


def test_a_bad_date_in_a_leg_rule_names_it(tmp_path: Path) -> None:
    path = tmp_path / "override.toml"
    path.write_text("[[leg_rules]]\nwhen = {}\ncategory = 'calls-outbound'\nuntil = '2021-02-30'\n")
    with pytest.raises(UsageError) as err:
        load_rules(path)
    assert str(err.value) == (
        f"{path}: leg_rules[1].until: not a date (write it as 2021-07-08): '2021-02-30'"
    )


def test_shipped_rules_date_bill_zero_duration() -> None:
    # Twilio bills 0 s calls since 2021-07-08 (UTC): the shipped file says so.
    rules = load_rules()
    assert rules.bill_zero_duration is True
    assert (str(rules.bill_zero_dates.since), rules.bill_zero_dates.until) == ("2021-07-08", None)


def test_a_dated_override_merges_into_the_shipped_rule(tmp_path: Path) -> None:
    path = tmp_path / "override.toml"
    path.write_text("[billing.bill_zero_duration]\nuntil = 2030-01-01\n")
    dates = load_rules(path).bill_zero_dates
    assert (str(dates.since), str(dates.until)) == ("2021-07-08", "2030-01-01")
