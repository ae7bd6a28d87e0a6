"""summary.json: the audit's figures as one deterministic JSON document (no wall-clock time)."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl

from auditor.statuses import ReconStatus


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return value


def records(frame: pl.DataFrame) -> list[dict[str, Any]]:
    return [{k: _plain(v) for k, v in row.items()} for row in frame.iter_rows(named=True)]


NOT_COMPARED_COLUMNS = (
    "account_sid",
    "period",
    "category",
    "headline",
    "logged_calls",
    "billable_calls",
    "expected_minutes",
    "logged_price",
    "usage_count",
    "usage_minutes",
    "usage_price",
    "currency",
    "notes",
    "next_check",
)


def _price_totals(head: pl.DataFrame) -> dict[str, Any]:
    """Unexplained price per currency (never summed across currencies); `price` and `currency`
    are the single total when there is one currency, else null."""
    per = (
        head.filter(pl.col("unexplained_price").is_not_null())
        .group_by("currency")
        .agg(pl.col("unexplained_price").abs().sum())
        .sort("currency", nulls_last=True)
    )
    by_currency = {(cur or "unknown"): _plain(price) for cur, price in per.iter_rows()}
    # rows whose prices could not be compared (currencies differ): no figure, counted apart
    not_compared = head.filter(pl.col("unexplained_price").is_null()).height
    totals: dict[str, Any] = {"price": None, "currency": None}
    if len(by_currency) == 1:
        totals["currency"], totals["price"] = next(iter(by_currency.items()))
    elif not by_currency and not not_compared:
        totals["price"] = "0"
    return totals | {"price_by_currency": by_currency, "price_not_compared_rows": not_compared}


def build_summary(
    inputs: list[dict[str, Any]],
    recon: pl.DataFrame,
    bridge: pl.DataFrame,
    dst: dict[str, Any],
    rejects: pl.DataFrame,
    unaligned: pl.DataFrame,
    exit_code: int,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    key = ["account_sid", "period", "category"]
    steps = bridge.group_by(key, maintain_order=True).agg(
        pl.struct(
            pl.col("rule"),
            pl.col("count_delta"),
            pl.col("minutes_delta").cast(pl.String),
        ).alias("bridge")
    )
    rows = recon.join(steps, on=key, how="left", maintain_order="left")
    reconciliation = []
    for row in rows.iter_rows(named=True):
        bridge_steps = row.pop("bridge") or []
        out = {k: _plain(v) for k, v in row.items()}
        out["bridge"] = [
            {
                "rule": s["rule"],
                "count_delta": s["count_delta"],
                "minutes_delta": s["minutes_delta"],
            }
            for s in bridge_steps
        ]
        reconciliation.append(out)
    status = pl.col("status")
    head = recon.filter(pl.col("headline") & (status == ReconStatus.UNEXPLAINED.value))
    not_compared = recon.filter(status == ReconStatus.NOT_COMPARED.value)
    nc_head = not_compared.filter(pl.col("headline"))
    summary: dict[str, Any] = {
        "inputs": inputs,
        "reconciliation": reconciliation,
        "unexplained": {
            "rows": head.height,
            "calls": int(head["unexplained_count"].fill_null(0).abs().sum()),
            "minutes": _plain(head["unexplained_minutes"].fill_null(0).abs().sum()),
            **_price_totals(head),
        },
        "not_compared": {
            "count": not_compared.height,
            # at the finest level, so a call is counted once however many parents show it
            "logged_calls": int(nc_head["logged_calls"].sum()),
            "billable_calls": int(nc_head["billable_calls"].sum()),
            "usage_count": int(nc_head["usage_count"].fill_null(0).sum()),
            "rows": records(not_compared.select(NOT_COMPARED_COLUMNS)),
        },
        "dst": dst,
        "rejects": {
            "rows": rejects.select("source_file", "source_row").unique().height,
            "cells": rejects.height,
        },
        "unaligned_usage": records(
            unaligned.select(
                "source_file", "source_row", "account_sid", "category", "start_date", "end_date"
            )
        ),
        **(extra or {}),
        "exit_code": exit_code,
    }
    return summary


def write_summary(summary: dict[str, Any], path: Path) -> None:
    path.write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
