"""Each call-log leg -> its usage category, whether and how much it bills, its UTC period, and
the rules that touched it. This frame is the itemized audit (`calls.parquet` / `calls.csv`)."""

from __future__ import annotations

from dataclasses import replace

import polars as pl
from polars.expr.whenthen import ChainedThen, Then  # the when/then chain's types

from auditor.reconcile.numbers import number_types
from auditor.reconcile.periods import Period, after_midnight_on_last_day, period_of
from auditor.rules.billing import billed_seconds, in_dates, zero_bills
from auditor.rules.model import LegRule, Rules
from auditor.schemas import outputs
from auditor.schemas.dtypes import MINUTES, MONEY
from auditor.statuses import DstNote, Rule, in_order

# When a leg started, for rules with dates (a failed call may have no start: its end).
LEG_START = pl.coalesce(pl.col("start_time_utc"), pl.col("end_time_utc"))

# The order rules are listed in a row's `rules` column (statuses.Rule).
RULE_ORDER = tuple(r.value for r in Rule)

CALL_AUDIT_COLUMNS = tuple(outputs.CALLS)  # calls.parquet


def _condition(rule: LegRule) -> pl.Expr:
    cond = pl.lit(True)
    if rule.directions:
        cond &= pl.col("direction").is_in(list(rule.directions))
    if rule.endpoint_prefix:
        prefix = rule.endpoint_prefix
        cond &= pl.col("from").str.starts_with(prefix).fill_null(False) | pl.col(
            "to"
        ).str.starts_with(prefix).fill_null(False)
    if rule.to_number_type:
        cond &= (pl.col("__to_type") == rule.to_number_type).fill_null(False)
    if not rule.dates.always:
        cond &= in_dates(LEG_START, rule.dates)
    return cond


def _first_match(rules: Rules, value: str) -> pl.Expr:
    """`value` ("category" or "rule") of the first leg rule whose conditions hold, else null."""
    chain: Then | ChainedThen | None = None
    for rule in rules.leg_rules:
        lit = pl.lit(getattr(rule, value), pl.String)
        cond = _condition(rule)
        chain = pl.when(cond).then(lit) if chain is None else chain.when(cond).then(lit)
    return chain.otherwise(None) if chain is not None else pl.lit(None, pl.String)


def _by_category(values: dict[str, int], default: int) -> pl.Expr:
    """A per-category figure as an elementwise when/then chain (streams; a lookup would not)."""
    expr: Then | ChainedThen | None = None
    for category, value in values.items():
        cond = pl.col("category") == category
        expr = (pl.when(cond) if expr is None else expr.when(cond)).then(pl.lit(value, pl.Int64))
    return pl.lit(default, pl.Int64) if expr is None else expr.otherwise(pl.lit(default, pl.Int64))


def _billed_seconds(rules: Rules) -> pl.Expr:
    """Billed seconds of each leg under its category's pricing model."""
    return category_billed_seconds(rules, pl.col("duration_s"), pl.col("billable"))


def category_billed_seconds(
    rules: Rules, seconds: pl.Expr, billable: pl.Expr, start: pl.Expr = LEG_START
) -> pl.Expr:
    """`seconds` billed under the pricing model of each row's `category` column (the one
    formula, `billing.billed_seconds`): a leg's own duration, or another duration priced as if
    the leg had lasted it. `start`: when the call started, for the rules with dates."""
    return billed_seconds(
        seconds,
        billable,
        minimum_s=_by_category(
            {c: p.minimum_s for c, p in rules.pricing.items()}, rules.default_pricing.minimum_s
        ),
        increment_s=_by_category(
            {c: p.increment_s for c, p in rules.pricing.items()},
            rules.default_pricing.increment_s,
        ),
        bill_zero_duration=zero_bills(rules, start),
    )


def _number_types(calls: pl.LazyFrame, rules: Rules, region: str) -> dict[str, str]:
    """`to` -> 'tollfree' | 'mobile' for the legs a `to_number_type` rule could decide: legs no
    earlier rule takes (a `client:` or `sip:` leg never asks) that meet that rule's other
    conditions, e.g. inbound PSTN legs, whose `to` is one of the account's few own numbers.
    phonenumbers is called once per such distinct number, never per callee."""
    reach: list[pl.Expr] = []
    taken = pl.lit(False)  # legs an earlier rule certainly takes
    for rule in rules.leg_rules:
        if rule.to_number_type:
            reach.append(~taken & _condition(replace(rule, to_number_type=None)))
        else:
            taken = taken | _condition(rule)
    if not reach:
        return {}
    numbers = (
        calls.filter(pl.any_horizontal(reach)).select(pl.col("to").drop_nulls().unique()).collect()
    )["to"]
    types = number_types(numbers, region).drop_nulls("number_type")
    return dict(zip(types["number"].to_list(), types["number_type"].to_list(), strict=True))


def classify_calls(
    calls: pl.LazyFrame, rules: Rules, period: Period, region: str = "US"
) -> pl.LazyFrame:
    """The itemized call audit, plus helper columns the reconciliation needs (prefixed `_`),
    among them one boolean `_rule:NAME` per rule of RULE_ORDER. Lazy: nothing is read here but
    the distinct numbers a number-type rule needs."""
    types = _number_types(calls, rules, region)
    to_type = pl.lit(None, pl.String)
    for kind in sorted(set(types.values()), reverse=True):
        numbers = [n for n, t in types.items() if t == kind]
        to_type = pl.when(pl.col("to").is_in(numbers)).then(pl.lit(kind)).otherwise(to_type)
    start = pl.col("start_time_utc")
    moment = pl.coalesce(start, pl.col("end_time_utc"))  # a failed call may have no start
    local = pl.coalesce(pl.col("start_time_local"), moment.dt.replace_time_zone(None))
    status = pl.col("status")
    lf = (
        calls.with_columns(to_type.alias("__to_type"))
        .with_columns(
            _first_match(rules, "category").alias("category"),
            _first_match(rules, "rule").alias("_category_rule"),
            status.is_in(list(rules.billable)).alias("billable"),
            period_of(moment, period).alias("period"),
            period_of(local, period).alias("_local_period"),
            (after_midnight_on_last_day(local) if period is Period.MONTH else pl.lit(False)).alias(
                "_local_after_last_midnight"
            ),
        )
        .with_columns(_billed_seconds(rules).alias("billed_seconds"))
    )
    flags = _rule_flags(rules, period)
    lf = lf.with_columns(
        (pl.col("billed_seconds").cast(MINUTES) / 60).alias("billed_minutes"),
        *(flag.fill_null(False).alias(rule_flag(name)) for name, flag in flags.items()),
    )
    rules_text = pl.concat_str(
        [pl.when(pl.col(rule_flag(n))).then(pl.lit(n)) for n in RULE_ORDER],
        separator=";",
        ignore_nulls=True,
    )
    return lf.with_columns(rules_text.fill_null("").alias("rules")).select(
        *CALL_AUDIT_COLUMNS,
        pl.col("price_unit").alias("_price_unit"),
        "_category_rule",
        "_local_period",
        "_local_after_last_midnight",
        *(rule_flag(n) for n in RULE_ORDER),
    )


def rule_flag(name: str) -> str:
    """The column saying whether rule `name` touched a leg."""
    return f"_rule:{name}"


def _rule_flags(rules: Rules, period: Period) -> dict[Rule, pl.Expr]:
    """Whether each rule touched a leg, in RULE_ORDER (one flag per `Rule`, or an error)."""
    status = pl.col("status")
    start = pl.col("start_time_utc")
    end_period = period_of(pl.col("end_time_utc"), period)
    category_rule = pl.col("_category_rule")
    flags = {
        Rule.ROUNDING: pl.col("billable")
        & (pl.col("billed_seconds") != pl.col("duration_s").fill_null(0)),
        Rule.UNBILLED_STATUS: status.is_in(list(rules.unbilled)),
        Rule.CLIENT_CATEGORY: category_rule == Rule.CLIENT_CATEGORY.value,
        Rule.SIP_CATEGORY: category_rule == Rule.SIP_CATEGORY.value,
        Rule.TRUNKING_CATEGORY: category_rule == Rule.TRUNKING_CATEGORY.value,
        Rule.START_DATE_ATTRIBUTION: end_period.is_not_null() & (end_period != pl.col("period")),
        Rule.TIMEZONE: pl.col("_local_period") != pl.col("period"),
        Rule.PERIOD_END_EXCLUSIVE: (
            after_midnight_on_last_day(start) if period is Period.MONTH else pl.lit(False)
        ),
        Rule.DST_GAP: pl.col("dst") == DstNote.GAP.value,
        Rule.DST_OVERLAP: pl.col("dst") == DstNote.OVERLAP.value,
        Rule.UNSETTLED: status.is_in(list(rules.unsettled)),
        Rule.PRICE_PENDING: pl.col("billable") & pl.col("price").is_null(),
    }
    return in_order(Rule, flags)


# What the reconciliation and the bridge need of the legs, summed per group of alike legs: a
# few hundred rows however many legs there are.
GROUP_KEY = (
    "account_sid",
    "period",
    "_local_period",
    "_local_after_last_midnight",
    "status",
    "billable",
    "category",
    "_category_rule",
    "_price_unit",
)


def leg_groups(legs: pl.LazyFrame) -> pl.LazyFrame:
    """`classify_calls` output summed per GROUP_KEY (see there for the columns)."""
    priced = pl.col("price").is_not_null()
    pending = pl.col("billable") & ~priced
    rate = pl.col("price").abs().cast(pl.Float64) * 60 / pl.col("billed_seconds")
    return legs.group_by(GROUP_KEY).agg(
        pl.len().cast(pl.Int64).alias("_n"),
        pl.col("duration_s").fill_null(0).sum().cast(pl.Int64).alias("_raw"),
        pl.col("duration_s").sum().cast(pl.Int64).alias("_seconds"),
        pl.col("billed_seconds").sum().cast(pl.Int64).alias("_billed"),
        pl.col("price").abs().sum().cast(MONEY).alias("_price"),
        priced.sum().cast(pl.Int64).alias("_priced"),
        pending.sum().cast(pl.Int64).alias("_pending"),
        pl.col("billed_seconds").filter(pending).sum().cast(pl.Int64).alias("_pending_billed"),
        rate.filter(pl.col("billable") & priced & (pl.col("billed_seconds") > 0))
        .max()
        .alias("_rate"),
        *(pl.col(rule_flag(n)).any() for n in RULE_ORDER),
    )
