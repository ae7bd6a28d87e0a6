"""The rules file (pricing.toml, plus a user's `--pricing` override) as typed data.

Nothing else in the package holds a category, status, minimum or increment as a literal.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any

from auditor.errors import UsageError
from auditor.statuses import CATEGORY_RULES, HINTS, NUMBER_TYPES


@dataclass(frozen=True)
class LegRule:
    category: str
    rule: str | None
    directions: tuple[str, ...]
    endpoint_prefix: str | None
    to_number_type: str | None


@dataclass(frozen=True)
class Pricing:
    minimum_s: int
    increment_s: int


@dataclass(frozen=True)
class Rules:
    billable: tuple[str, ...]
    unbilled: tuple[str, ...]
    unsettled: tuple[str, ...]
    bill_zero_duration: bool
    default_pricing: Pricing
    pricing: dict[str, Pricing]
    parents: dict[str, str | None]
    leg_rules: tuple[LegRule, ...]
    hints: dict[str, str]

    def pricing_for(self, category: str) -> Pricing:
        return self.pricing.get(category, self.default_pricing)

    def ancestors(self, category: str) -> list[str]:
        """The category itself, then its parent, up to the top."""
        chain = [category]
        while (parent := self.parents.get(chain[-1])) is not None:
            chain.append(parent)
        return chain

    def children(self, category: str) -> list[str]:
        return [c for c, p in self.parents.items() if p == category]


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _pricing(table: dict[str, Any], where: str) -> Pricing:
    try:
        minimum, increment = int(table["minimum_s"]), int(table["increment_s"])
    except (KeyError, TypeError, ValueError):
        raise UsageError(f"{where}: needs whole numbers minimum_s and increment_s") from None
    if minimum < 0 or increment < 1:
        raise UsageError(f"{where}: minimum_s must be >= 0 and increment_s >= 1")
    return Pricing(minimum, increment)


TABLES = {
    "billing": {
        "billable_statuses",
        "unbilled_statuses",
        "unsettled_statuses",
        "bill_zero_duration",
    },
    "pricing": {"default", "categories"},
    "categories": None,  # any category name
    "leg_rules": None,
    "hints": set(HINTS),
}
WHEN = {"direction", "endpoint_prefix", "to_number_type"}


def _check_names(data: dict[str, Any]) -> None:
    """A misspelled table, key, rule or hint is an error, never silently ignored."""
    for table, value in data.items():
        if table not in TABLES:
            raise UsageError(f"rules: unknown table [{table}] (known: {', '.join(TABLES)})")
        known = TABLES[table]
        if known is not None and isinstance(value, dict):
            for key in value:
                if key not in known:
                    names = ", ".join(sorted(known))
                    raise UsageError(f"rules: [{table}] has unknown key {key!r} (known: {names})")
    for i, raw in enumerate(data.get("leg_rules", []), start=1):
        unknown = set(raw.get("when", {})) - WHEN
        if unknown:
            raise UsageError(f"rules: leg_rules[{i}].when has unknown condition {unknown.pop()!r}")
        if raw.get("rule") not in (None, *CATEGORY_RULES):
            raise UsageError(
                f"rules: leg_rules[{i}] names unknown rule {raw['rule']!r} "
                f"(known: {', '.join(CATEGORY_RULES)})"
            )
        number_type = raw.get("when", {}).get("to_number_type")
        if number_type not in (None, *NUMBER_TYPES):
            raise UsageError(
                f"rules: leg_rules[{i}] tests unknown number type {number_type!r} "
                f"(known: {', '.join(NUMBER_TYPES)})"
            )


def load_rules(override: Path | None = None) -> Rules:
    """The shipped rules, with `override` (a user's TOML file) merged over them."""
    data = tomllib.loads(files("auditor.rules").joinpath("pricing.toml").read_text("utf-8"))
    if override is not None:
        try:
            data = _merge(data, tomllib.loads(override.read_text("utf-8")))
        except FileNotFoundError:
            raise UsageError(f"--pricing {override}: no such file") from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise UsageError(f"--pricing {override}: not valid TOML ({exc})") from None
    _check_names(data)
    billing = data["billing"]
    parents = {c: (p or None) for c, p in data["categories"].items()}
    for cat, parent in parents.items():
        if parent is not None and parent not in parents:
            raise UsageError(f"rules: category {cat!r} has unknown parent {parent!r}")
    leg_rules = []
    for i, raw in enumerate(data["leg_rules"], start=1):
        when = raw.get("when", {})
        if raw["category"] not in parents:
            raise UsageError(f"rules: leg_rules[{i}] maps to unknown category {raw['category']!r}")
        leg_rules.append(
            LegRule(
                category=raw["category"],
                rule=raw.get("rule"),
                directions=tuple(when.get("direction", ())),
                endpoint_prefix=when.get("endpoint_prefix"),
                to_number_type=when.get("to_number_type"),
            )
        )
    pricing = data.get("pricing", {})
    for cat in pricing.get("categories", {}):
        if cat not in parents:
            raise UsageError(f"rules: pricing.categories.{cat}: unknown category")
    return Rules(
        billable=tuple(billing["billable_statuses"]),
        unbilled=tuple(billing["unbilled_statuses"]),
        unsettled=tuple(billing["unsettled_statuses"]),
        bill_zero_duration=bool(billing.get("bill_zero_duration", True)),
        default_pricing=_pricing(pricing.get("default", {}), "pricing.default"),
        pricing={
            cat: _pricing(t, f"pricing.categories.{cat}")
            for cat, t in pricing.get("categories", {}).items()
        },
        parents=parents,
        leg_rules=tuple(leg_rules),
        hints=dict(data.get("hints", {})),
    )
