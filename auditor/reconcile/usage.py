"""Call logs vs usage records: one row per account x period x category found in either.

Log figures are rolled up the category hierarchy (a parent is the sum of its children, never added
to them); usage records are used only where their inclusive [start_date, end_date] span is exactly
one period. A difference that the rules explain is `explained`, with the rules that did it; what is
left is `unexplained`, with a hint of what to check next (from the rules file).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import polars as pl

from auditor.reconcile.classify import RULE_ORDER, rule_flag
from auditor.reconcile.periods import Period, usage_period
from auditor.rules.model import Rules
from auditor.schemas import outputs
from auditor.schemas.dtypes import MINUTES, MONEY
from auditor.statuses import ReconStatus, UsedAs, enum_dtype

CENT_HALF = Decimal("0.005")
KEY = ["account_sid", "period", "category"]

RECON_COLUMNS = tuple(outputs.USAGE_RECONCILIATION)


@dataclass
class UsageReconciliation:
    rows: pl.DataFrame  # RECON_COLUMNS
    usage_records: pl.DataFrame  # every accepted usage record with how it was used


def ancestor_map(rules: Rules) -> pl.DataFrame:
    """(leaf, category) for every category and each of its ancestors, itself included."""
    pairs = [(c, a) for c in rules.parents for a in rules.ancestors(c)]
    return pl.DataFrame(pairs, schema={"leaf": pl.String, "category": pl.String}, orient="row")


def _log_side(groups: pl.DataFrame, rules: Rules) -> pl.LazyFrame:
    """The logs per account x period x category: each leaf's groups, rolled up to every ancestor.

    A pending-price leg can cost at most its billed minutes at the dearest per-minute price its
    category shows on the account's priced legs (rates belong to categories, any period)."""
    billable = pl.col("billable")
    rates = groups.group_by("account_sid", "category").agg(pl.col("_rate").max().alias("_max"))
    leaves = (
        groups.lazy()
        .filter(pl.col("period").is_not_null())
        .join(rates.lazy(), on=["account_sid", "category"], how="left")
        .with_columns(
            (pl.col("_pending_billed") / 60 * pl.col("_max")).fill_null(0.0).alias("_bound"),
            ((pl.col("_pending") > 0) & pl.col("_max").is_null()).alias("_unbounded"),
        )
        .rename({"category": "leaf"})
        .join(ancestor_map(rules).lazy(), on="leaf", how="inner")
    )
    return (
        leaves.group_by(KEY)
        .agg(
            pl.col("_n").sum().cast(pl.Int64).alias("logged_calls"),
            pl.col("_n").filter(billable).sum().cast(pl.Int64).alias("billable_calls"),
            pl.col("_seconds").filter(billable).sum().cast(pl.Int64).alias("log_seconds"),
            pl.col("_billed").sum().cast(pl.Int64).alias("_expected_seconds"),
            pl.col("_price").filter(billable).sum().cast(MONEY).alias("logged_price"),
            pl.col("_pending").sum().cast(pl.Int64).alias("_pending"),
            pl.col("_bound").sum().alias("_pending_bound"),
            pl.col("_unbounded").any().alias("_pending_unbounded"),
            pl.col("_price_unit")
            .filter(billable & (pl.col("_priced") > 0) & pl.col("_price_unit").is_not_null())
            .unique()
            .sort()
            .alias("_currencies"),
            # Priced legs with no price_unit (pre-2012 pages) are in an unknown currency.
            (billable & (pl.col("_priced") > 0) & pl.col("_price_unit").is_null())
            .any()
            .alias("_unknown_currency"),
            *(pl.col(rule_flag(n)).any() for n in RULE_ORDER),
        )
        .with_columns(
            pl.concat_list(pl.when(pl.col(rule_flag(n))).then(pl.lit(n)) for n in RULE_ORDER)
            .list.drop_nulls()
            .alias("_touched")
        )
        .drop(rule_flag(n) for n in RULE_ORDER)
    )


def _usage_side(usage: pl.DataFrame, rules: Rules, period: Period) -> pl.LazyFrame:
    return usage.lazy().with_columns(
        usage_period(pl.col("start_date"), pl.col("end_date"), period).alias("period"),
        pl.col("category").is_in(list(rules.parents)).alias("_voice"),
    )


def usage_records_used(usage: pl.DataFrame, rules: Rules, period: Period) -> pl.DataFrame:
    """Every accepted usage record with `used_as`: reconciled | not-voice | unaligned."""
    return (
        _usage_side(usage, rules, period)
        .with_columns(
            pl.when(~pl.col("_voice"))
            .then(pl.lit(UsedAs.NOT_VOICE.value))
            .when(pl.col("period").is_null())
            .then(pl.lit(UsedAs.UNALIGNED.value))
            .otherwise(pl.lit(UsedAs.RECONCILED.value))
            .cast(enum_dtype(UsedAs))
            .alias("used_as")
        )
        .select(outputs.USAGE_RECORDS.names())
        .sort("source_file", "source_row")
        .collect()
    )


def reconcile_usage(
    groups: pl.DataFrame,
    usage: pl.DataFrame,
    rules: Rules,
    period: Period,
    rejected_rows: int = 0,
) -> UsageReconciliation:
    """The reconciliation rows. `groups` is `leg_groups` output; `rejected_rows` is how many
    call-log rows were rejected on input (they may be billed calls: a hint on unexplained rows)."""
    used = usage_records_used(usage, rules, period)
    usage_rows = (
        used.lazy()
        .filter(pl.col("used_as") == UsedAs.RECONCILED.value)
        .select(
            *KEY,
            pl.col("count").alias("usage_count"),
            pl.col("usage").cast(MINUTES).alias("usage_minutes"),
            pl.col("price").cast(MONEY).alias("usage_price"),
            pl.col("price_unit").alias("_usage_currency"),
            pl.col("source_file").alias("usage_source_file"),
            pl.col("source_row").alias("usage_source_row"),
        )
    )
    joined = _log_side(groups, rules).join(usage_rows, on=KEY, how="full", coalesce=True)
    frame = joined.with_columns(
        pl.col(
            "logged_calls", "billable_calls", "log_seconds", "_expected_seconds", "_pending"
        ).fill_null(0),
        pl.col("logged_price").fill_null(Decimal(0)),
        pl.col("_currencies").fill_null(pl.lit([], pl.List(pl.String))),
        pl.col("_unknown_currency").fill_null(False),
        pl.col("_touched").fill_null(pl.lit([], pl.List(pl.String))),
        pl.col("usage_source_file").is_not_null().alias("_has_usage"),
    ).collect()
    frame = _coverage(frame, rules)
    frame = _residuals(frame, rules, rejected_rows)
    return UsageReconciliation(rows=frame.sort(KEY), usage_records=used)


def _coverage(frame: pl.DataFrame, rules: Rules) -> pl.DataFrame:
    """What each row is compared with, from the hierarchy and what covers its period.

    `_ancestor_usage`: the nearest ancestor with a usage record (rows without their own);
    `_descendant_usage`: some descendant has a usage record (so this row is not the headline);
    `_descendant_row`: some descendant is a row at all; `_period_has_usage` / `_period_has_logs`:
    the account has any usage record / any logged leg in the period.
    """
    amap = ancestor_map(rules).filter(pl.col("leaf") != pl.col("category"))
    with_usage = frame.filter("_has_usage").select("account_sid", "period", "category")
    depth = {c: len(rules.ancestors(c)) for c in rules.parents}
    nearest = (
        frame.select("account_sid", "period", "category")
        .join(amap.rename({"leaf": "category", "category": "ancestor"}), on="category")
        .join(with_usage.rename({"category": "ancestor"}), on=["account_sid", "period", "ancestor"])
        .with_columns(pl.col("ancestor").replace_strict(depth, return_dtype=pl.Int64).alias("_d"))
        .sort("_d", descending=True)
        .group_by(KEY)
        .agg(pl.col("ancestor").first().alias("_ancestor_usage"))
    )

    def above(rows: pl.DataFrame, name: str) -> pl.DataFrame:
        return (
            rows.rename({"category": "leaf"})
            .join(amap, on="leaf")
            .select("account_sid", "period", "category")
            .unique()
            .with_columns(pl.lit(True).alias(name))
        )

    period_key = ["account_sid", "period"]
    covered = frame.group_by(period_key).agg(
        pl.col("_has_usage").any().alias("_period_has_usage"),
        (pl.col("logged_calls") > 0).any().alias("_period_has_logs"),
    )
    return (
        frame.join(covered, on=period_key, how="left")
        .join(nearest, on=KEY, how="left")
        .join(above(with_usage, "_descendant_usage"), on=KEY, how="left")
        .join(above(frame.select(KEY), "_descendant_row"), on=KEY, how="left")
        .with_columns(pl.col("_descendant_usage", "_descendant_row").fill_null(False))
    )


def _residuals(frame: pl.DataFrame, rules: Rules, rejected_rows: int) -> pl.DataFrame:
    has_usage = pl.col("_has_usage")
    compared_at_parent = ~has_usage & pl.col("_ancestor_usage").is_not_null()
    compared_below = ~has_usage & ~compared_at_parent & pl.col("_descendant_usage")
    # Nothing on the other side covers the row: no usage for the category, an ancestor or a
    # sub-category (log rows); no logged leg of the account in the period (usage rows).
    no_usage = ~has_usage & ~compared_at_parent & ~compared_below
    no_logs = has_usage & ~pl.col("_period_has_logs")
    not_compared = no_usage | no_logs
    compare = has_usage & ~no_logs
    expected_minutes = pl.col("_expected_seconds").cast(MINUTES) / 60
    usage_count = pl.col("usage_count").fill_null(0)
    usage_minutes = pl.col("usage_minutes").fill_null(Decimal(0))
    usage_price = pl.col("usage_price").fill_null(Decimal(0))
    # Prices are never added across currencies: a row whose priced legs mix currencies has no
    # logged price, and one whose logs and usage are priced in different currencies no residual.
    # A priced leg with no price_unit is in an unknown currency (`--currency` names it): its
    # row has no residual either, and no logged price when it sits beside legs with a currency.
    currencies = pl.col("_currencies")
    usage_currency = pl.col("_usage_currency")
    unknown = pl.col("_unknown_currency")
    mixed = currencies.list.len() > 1
    clash = (
        (currencies.list.len() == 1)
        & usage_currency.is_not_null()
        & (currencies.list.first() != usage_currency)
    )
    currency_ok = ~mixed & ~clash & ~unknown
    price_res = pl.when(compare & currency_ok).then(usage_price - pl.col("logged_price"))
    frame = frame.with_columns(
        expected_minutes.alias("expected_minutes"),
        pl.when(compare).then(usage_count - pl.col("billable_calls")).alias("unexplained_count"),
        pl.when(compare).then(usage_minutes - expected_minutes).alias("unexplained_minutes"),
        price_res.cast(MONEY).alias("unexplained_price"),
        pl.when(~mixed & ~(unknown & (currencies.list.len() > 0)))
        .then(pl.col("logged_price"))
        .alias("logged_price"),
        currency_ok.alias("_currency_ok"),
        (mixed | clash).fill_null(False).alias("_currency_mix"),
        pl.when(currency_ok)
        .then(pl.coalesce(usage_currency, currencies.list.first()))
        .alias("currency"),
    )
    price_off = (pl.col("unexplained_price").abs() >= CENT_HALF).fill_null(False)
    # A positive price residual no larger than the pending legs could cost (their billed minutes
    # at the dearest per-minute price seen) is `price-pending`; more than that stays unexplained.
    bound = pl.col("_pending_bound") + float(CENT_HALF)
    pending_explains = (
        price_off
        & (pl.col("_pending") > 0)
        & (pl.col("unexplained_price") > 0)
        & (pl.col("_pending_unbounded") | (pl.col("unexplained_price").cast(pl.Float64) <= bound))
    )
    # Prices in different currencies cannot be compared: no rule explains that, a person must.
    priced = (currencies.list.len() > 0) | usage_currency.is_not_null() | unknown
    unexplained = (
        (pl.col("unexplained_count") != 0).fill_null(False)
        | (pl.col("unexplained_minutes") != 0).fill_null(False)
        | (price_off & ~pending_explains)
        | (compare & ~currency_ok & priced)
    )
    touched = pl.col("_touched").list.len() > 0
    frame = frame.with_columns(
        pl.when(not_compared)
        .then(pl.lit(ReconStatus.NOT_COMPARED.value))
        .when(unexplained)
        .then(pl.lit(ReconStatus.UNEXPLAINED.value))
        .when(touched | compared_at_parent | compared_below | pending_explains)
        .then(pl.lit(ReconStatus.EXPLAINED.value))
        .otherwise(pl.lit(ReconStatus.MATCH.value))
        .cast(enum_dtype(ReconStatus))
        .alias("status"),
        pending_explains.alias("_pending_explains"),
    )
    order = {r: i for i, r in enumerate(RULE_ORDER)}
    explained_by = (
        pl.col("_touched")
        .list.eval(pl.element().sort_by(pl.element().replace_strict(order, default=99)))
        .list.join(";")
    )
    notes = pl.concat_list(
        pl.when(compared_at_parent).then(
            pl.format("no usage record for this category: compared at {}", "_ancestor_usage")
        ),
        pl.when(no_usage & ~pl.col("_period_has_usage")).then(
            pl.lit("not compared: no usage record covers this period at all")
        ),
        pl.when(no_usage & pl.col("_period_has_usage")).then(
            pl.lit("not compared: this category is absent from usage that covers the period")
        ),
        pl.when(no_logs).then(pl.lit("not compared: no call logs cover this period at all")),
        pl.when(compared_below).then(
            pl.lit("no usage record for this category: compared at its sub-categories")
        ),
        pl.when(mixed).then(
            pl.format("prices not summed: legs priced in {}", currencies.list.join(", "))
        ),
        pl.when(clash).then(
            pl.format(
                "prices not compared: legs priced in {}, usage in {}",
                currencies.list.first(),
                usage_currency,
            )
        ),
        pl.when(unknown).then(
            pl.lit("call-log prices carry no currency (price_unit missing): give --currency")
        ),
        pl.when(pending_explains).then(
            pl.format(
                "price difference within what {} leg(s) with a pending price can cost",
                "_pending",
            )
        ),
    ).list.drop_nulls()
    return frame.with_columns(
        pl.when(pl.col("status") != ReconStatus.NOT_COMPARED.value)
        .then(explained_by)
        .otherwise(pl.lit(""))
        .alias("explained_by"),
        notes.list.join("; ").alias("notes"),
        pl.col("category")
        .replace_strict(rules.parents, default=None, return_dtype=pl.String)
        .alias("parent_category"),
        # The finest level of each finding, so one difference is counted once: an unexplained
        # row that is not a parent of a row with usage; a not-compared row that is not a parent
        # of any row (its sub-categories, where they exist, are not compared either).
        pl.when(pl.col("status") == ReconStatus.UNEXPLAINED.value)
        .then(~pl.col("_descendant_usage"))
        .when(pl.col("status") == ReconStatus.NOT_COMPARED.value)
        .then(~pl.col("_descendant_row"))
        .otherwise(False)
        .alias("headline"),
        _next_check(rules, rejected_rows).alias("next_check"),
    ).select(RECON_COLUMNS)


def _next_check(rules: Rules, rejected_rows: int) -> pl.Expr:
    """Hints for unexplained and not-compared rows, from the rules file (never an explanation)."""
    h = rules.hints
    count, minutes, price = (
        pl.col("unexplained_count"),
        pl.col("unexplained_minutes"),
        pl.col("unexplained_price"),
    )

    def hint(key: str, cond: pl.Expr) -> pl.Expr:
        return pl.when(cond.fill_null(False)).then(pl.lit(h.get(key, key)))

    parts = [
        hint("logs-missing", pl.col("_has_usage") & (pl.col("logged_calls") == 0) & (count > 0)),
        hint("usage-count-above-logs", (pl.col("logged_calls") > 0) & (count > 0)),
        hint("usage-count-below-logs", pl.col("_has_usage") & (count < 0)),
        hint("usage-minutes-above-logs", (count == 0) & (minutes > 0)),
        hint("usage-minutes-below-logs", (count == 0) & (minutes < 0)),
        hint("usage-price-above-logs", (count == 0) & (minutes == 0) & (price >= CENT_HALF)),
        hint("usage-price-below-logs", (count == 0) & (minutes == 0) & (price <= -CENT_HALF)),
        hint("currency-mix", pl.col("_currency_mix")),
        hint("currency-unknown", pl.col("_unknown_currency")),
    ]
    if rejected_rows:
        parts.append(hint("rows-rejected", pl.lit(True)))
    joined = pl.concat_list(parts).list.drop_nulls().list.join(" | ")
    logs_side = pl.col("_has_usage").not_()
    return (
        pl.when(pl.col("status") == ReconStatus.UNEXPLAINED.value)
        .then(joined)
        .when((pl.col("status") == ReconStatus.NOT_COMPARED.value) & logs_side)
        .then(pl.lit(h.get("not-compared-usage", "not-compared-usage")))
        .when(pl.col("status") == ReconStatus.NOT_COMPARED.value)
        .then(pl.lit(h.get("not-compared-logs", "not-compared-logs")))
        .otherwise(pl.lit(""))
    )
