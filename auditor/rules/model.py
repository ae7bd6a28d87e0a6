"""The rules file (pricing.toml, plus a user's `--pricing` override) as typed data.

Nothing else in the package holds a category, status, minimum or increment as a literal.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import date, datetime
from importlib.resources import files
from pathlib import Path
from typing import Any

from auditor.errors import UsageError
from auditor.statuses import CATEGORY_RULES, HINTS, NUMBER_TYPES


@dataclass(frozen=True)
class RuleDates:
    """When a rule applies: to calls started from `since` (a UTC date, included) to `until` (a
    UTC date, excluded); None is open on that side. Twilio's rules change on a date (it bills 0 s
    calls since 2021-07-08): a call of 2016 is priced by 2016's rules."""

    since: date | None = None
    until: date | None = None

    @property
    def always(self) -> bool:
        return self.since is None and self.until is None


@dataclass(frozen=True)
class LegRule:
    category: str
    rule: str | None
    directions: tuple[str, ...]
    endpoint_prefix: str | None
    to_number_type: str | None
    dates: RuleDates = RuleDates()


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
    # `bill_zero_duration = { enabled = true, since = 2021-07-08 }`: the calls it applies to.
    bill_zero_dates: RuleDates = field(default_factory=RuleDates)

    def pricing_for(self, category: str) -> Pricing:
        return self.pricing.get(category, self.default_pricing)

    def ancestors(self, category: str) -> list[str]:
        """The category itself, then its parent, up to the top."""
        chain = [category]
        while (parent := self.parents.get(chain[-1])) is not None:
            chain.append(parent)
        return chain


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
DATES = ("since", "until")  # keys a dated rule may carry (UTC dates; until excluded)
LEG_RULE_KEYS = {"when", "category", "rule", *DATES}
SHIPPED = "auditor/rules/pricing.toml"  # how errors name the shipped rules file


def _date(value: Any, where: str) -> date:
    """A TOML date (2021-07-08) or the same written as a string; never a time of day."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise UsageError(f"{where}: not a date (write it as 2021-07-08): {value!r}")


def _dates(table: dict[str, Any], where: str) -> RuleDates:
    """The `since` / `until` of a rule's table (`where` names the file and the table)."""
    since, until = (
        None if table.get(k) is None else _date(table[k], f"{where}.{k}") for k in DATES
    )
    if since is not None and until is not None and until <= since:
        raise UsageError(f"{where}: until ({until}) must be after since ({since})")
    return RuleDates(since, until)


def _bill_zero(value: Any, where: str) -> tuple[bool, RuleDates]:
    """`bill_zero_duration`: true / false, or a table `{ enabled = true, since = ..., until =
    ... }` (enabled defaults to true)."""
    if isinstance(value, bool):
        return value, RuleDates()
    if not isinstance(value, dict):
        raise UsageError(f"{where}: true, false or a table {{ enabled, since, until }}")
    unknown = set(value) - {"enabled", *DATES}
    if unknown:
        known = "enabled, since, until"
        raise UsageError(f"{where} has unknown key {unknown.pop()!r} (known: {known})")
    enabled = value.get("enabled", True)
    if not isinstance(enabled, bool):
        raise UsageError(f"{where}.enabled: true or false, not {enabled!r}")
    return enabled, _dates(value, where)


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
        extra = set(raw) - LEG_RULE_KEYS
        if extra:
            names = ", ".join(sorted(LEG_RULE_KEYS))
            raise UsageError(
                f"rules: leg_rules[{i}] has unknown key {extra.pop()!r} (known: {names})"
            )
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
    over: dict[str, Any] = {}
    if override is not None:
        try:
            over = tomllib.loads(override.read_text("utf-8"))
            data = _merge(data, over)
        except FileNotFoundError:
            raise UsageError(f"--pricing {override}: no such file") from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise UsageError(f"--pricing {override}: not valid TOML ({exc})") from None
    _check_names(data)

    def source(table: str, key: str | None = None) -> str:
        """The file a value came from: the override when it sets it, else the shipped file."""
        mine = over.get(table)
        if override is not None and mine is not None and (key is None or key in mine):
            return str(override)
        return SHIPPED

    billing = data["billing"]
    zero = "bill_zero_duration"
    bill_zero, zero_dates = _bill_zero(
        billing.get(zero, True), f"{source('billing', zero)}: [billing] {zero}"
    )
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
                dates=_dates(raw, f"{source('leg_rules')}: leg_rules[{i}]"),
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
        bill_zero_duration=bill_zero,
        default_pricing=_pricing(pricing.get("default", {}), "pricing.default"),
        pricing={
            cat: _pricing(t, f"pricing.categories.{cat}")
            for cat, t in pricing.get("categories", {}).items()
        },
        parents=parents,
        leg_rules=tuple(leg_rules),
        hints=dict(data.get("hints", {})),
        bill_zero_dates=zero_dates,
    )
