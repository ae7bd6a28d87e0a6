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
