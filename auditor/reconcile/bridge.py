"""The bridge: from what a user naively compares to the expected figures, one rule at a time.

Start: every logged leg of the account whose start falls in the period by the export's own dates,
with an inclusive end date read as midnight, all statuses and categories together, raw seconds / 60.
Then, in this fixed order, each step's count and minutes delta:

1. period-end-exclusive  add legs starting on the period's last day after 00:00 (month periods)
2. timezone              re-date legs from the export's local dates to UTC (DST rows move here)
3. unsettled             drop queued / ringing / in-progress legs
4. unbilled-status       drop failed / busy / no-answer / canceled legs
5. client-category       drop `client:` legs, unless the category holds them
6. sip-category          drop `sip:` legs, likewise
7. trunking-category     drop trunking legs, likewise
8. category-split        drop the remaining legs of other categories
9. rounding              raw seconds -> billed seconds under each leg's pricing model
= expected; then `unexplained` = usage - expected, and `usage`.

`start-date-attribution` moves nothing here: both ends of the bridge date a leg by its start.
The `own_*` columns are the same stages held to the row's own legs (those whose leaf category is
the row's category or below it): a category's bridge starts from its own legs, not from the
account's, so a few minutes' finding is not a hairline on the account's total. Its category
steps are 0 (they drop other categories' legs only); from `category-split` on both agree.

Seconds are exact integers; minutes are cumulative seconds / 60 to 6 places and each delta is the
difference of consecutive cumulative values, so the steps add up exactly.
"""

from __future__ import annotations

import polars as pl

from auditor.reconcile.usage import KEY, ancestor_map
from auditor.rules.model import Rules
from auditor.schemas import outputs
from auditor.schemas.dtypes import MINUTES
from auditor.statuses import BridgeStep, Rule, in_order

# The stages whose legs the bridge counts (statuses.BridgeStep): `naive`, then one per step;
# `expected` and `unexplained` follow, from the last stage and the usage.
STAGES = tuple(s for s in BridgeStep if s not in (BridgeStep.EXPECTED, BridgeStep.UNEXPLAINED))
BRIDGE_COLUMNS = tuple(outputs.BRIDGE)


def _stages(rules: Rules) -> dict[BridgeStep, tuple[pl.Expr, str]]:
    """Per bridge stage, by name: which aggregated leg groups it holds, and whether its seconds
    are raw or billed. `naive` is where the bridge starts; each later stage is after its rule."""
    local_in = pl.col("_local_period") == pl.col("period")
    utc_in = pl.col("_leg_period") == pl.col("period")
    settled = utc_in & ~pl.col("status").is_in(list(rules.unsettled))
    billable = settled & pl.col("billable")
    inside = pl.col("_in_subtree")
    rule = pl.col("_category_rule").fill_null("")
    client = billable & ~((rule == Rule.CLIENT_CATEGORY.value) & ~inside)
    sip = client & ~((rule == Rule.SIP_CATEGORY.value) & ~inside)
    trunk = sip & ~((rule == Rule.TRUNKING_CATEGORY.value) & ~inside)
    final = trunk & inside
    stages = {
        BridgeStep.NAIVE: (local_in & ~pl.col("_local_after_last_midnight"), "raw"),
        BridgeStep.PERIOD_END_EXCLUSIVE: (local_in, "raw"),
        BridgeStep.TIMEZONE: (utc_in, "raw"),
        BridgeStep.UNSETTLED: (settled, "raw"),
        BridgeStep.UNBILLED_STATUS: (billable, "raw"),
        BridgeStep.CLIENT_CATEGORY: (client, "raw"),
        BridgeStep.SIP_CATEGORY: (sip, "raw"),
        BridgeStep.TRUNKING_CATEGORY: (trunk, "raw"),
        BridgeStep.CATEGORY_SPLIT: (final, "raw"),
        BridgeStep.ROUNDING: (final, "billed"),
    }
    return in_order(STAGES, stages)


def build_bridge(legs: pl.DataFrame, recon: pl.DataFrame, rules: Rules) -> pl.DataFrame:
    """One row per (account, period, category, step), `naive` first, then STEPS, `expected`,
    `unexplained` and `usage`. `legs` is `leg_groups` output (legs summed per group of alike
    legs); `recon` is the reconciliation rows (for targets and usage)."""
    groups = legs.lazy().rename({"period": "_leg_period", "category": "_leaf"})
    targets = recon.lazy().select(KEY)
    subtree = (
        ancestor_map(rules)
        .lazy()
        .rename({"leaf": "_leaf"})
        .with_columns(pl.lit(True).alias("_in_subtree"))
    )
    crossed = (
        targets.join(groups, on="account_sid", how="inner")
        .join(subtree, on=["_leaf", "category"], how="left")
        .with_columns(pl.col("_in_subtree").fill_null(False))
    )
    aggs = []
    for name, (member, unit) in _stages(rules).items():
        seconds = pl.col("_billed") if unit == "billed" else pl.col("_raw")
        own = member & pl.col("_in_subtree")
        aggs += [
            pl.col("_n").filter(member).sum().cast(pl.Int64).alias(f"n:{name}"),
            seconds.filter(member).sum().cast(pl.Int64).alias(f"s:{name}"),
            pl.col("_n").filter(own).sum().cast(pl.Int64).alias(f"on:{name}"),
            seconds.filter(own).sum().cast(pl.Int64).alias(f"os:{name}"),
        ]
    stages = targets.join(crossed.group_by(KEY).agg(aggs), on=KEY, how="left").collect()
    stages = stages.with_columns(pl.exclude(KEY).fill_null(0))
    return _steps(stages, recon)


def _steps(stages: pl.DataFrame, recon: pl.DataFrame) -> pl.DataFrame:
    """Each stage's figures, from `n:NAME` / `s:NAME` (count and seconds held at that stage),
    as deltas from the stage before; `expected` is the last stage."""
    names = [s.value for s in STAGES]

    def minutes(name: str, prefix: str = "s") -> pl.Expr:
        return pl.col(f"{prefix}:{name}").cast(MINUTES) / 60

    rows = []
    for i, name in enumerate(names):
        before = names[i - 1] if i else None
        prev_n = pl.col(f"n:{before}") if before else pl.lit(0, pl.Int64)
        prev_s = pl.col(f"s:{before}") if before else pl.lit(0, pl.Int64)
        prev_m = minutes(before) if before else pl.lit(0).cast(MINUTES)
        prev_on = pl.col(f"on:{before}") if before else pl.lit(0, pl.Int64)
        prev_om = minutes(before, "os") if before else pl.lit(0).cast(MINUTES)
        rows.append(
            stages.select(
                *KEY,
                pl.lit(i, pl.Int64).alias("step"),
                pl.lit(name).alias("rule"),
                (pl.col(f"n:{name}") - prev_n).alias("count_delta"),
                (pl.col(f"s:{name}") - prev_s).alias("seconds_delta"),
                (minutes(name) - prev_m).cast(MINUTES).alias("minutes_delta"),
                pl.col(f"n:{name}").alias("count_after"),
                minutes(name).cast(MINUTES).alias("minutes_after"),
                (pl.col(f"on:{name}") - prev_on).alias("own_count_delta"),
                (minutes(name, "os") - prev_om).cast(MINUTES).alias("own_minutes_delta"),
                pl.col(f"on:{name}").alias("own_count_after"),
                minutes(name, "os").cast(MINUTES).alias("own_minutes_after"),
            )
        )
    last = len(names) - 1
    usage = stages.join(recon.select(*KEY, "usage_count", "usage_minutes"), on=KEY, how="left")
    expected_n, expected_m = pl.col(f"n:{names[-1]}"), minutes(names[-1])
    # from the last stage on the row holds its own legs only: own_* equal the account's figures
    for j, (name, n, m) in enumerate(
        [
            (BridgeStep.EXPECTED.value, pl.lit(0, pl.Int64), pl.lit(0).cast(MINUTES)),
            (
                BridgeStep.UNEXPLAINED.value,
                pl.col("usage_count") - expected_n,
                pl.col("usage_minutes") - expected_m,
            ),
        ]
    ):
        rows.append(
            usage.select(
                *KEY,
                pl.lit(last + 1 + j, pl.Int64).alias("step"),
                pl.lit(name).alias("rule"),
                n.cast(pl.Int64).alias("count_delta"),
                pl.lit(None, pl.Int64).alias("seconds_delta"),
                m.cast(MINUTES).alias("minutes_delta"),
                (expected_n + (n if name == BridgeStep.UNEXPLAINED else 0)).alias("count_after"),
                (expected_m + (m if name == BridgeStep.UNEXPLAINED else 0))
                .cast(MINUTES)
                .alias("minutes_after"),
            ).with_columns(
                pl.col("count_delta").alias("own_count_delta"),
                pl.col("minutes_delta").alias("own_minutes_delta"),
                pl.col("count_after").alias("own_count_after"),
                pl.col("minutes_after").alias("own_minutes_after"),
            )
        )
    return pl.concat(rows).select(BRIDGE_COLUMNS).sort([*KEY, "step"])
