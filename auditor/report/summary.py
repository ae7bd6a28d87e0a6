"""summary.json: the audit's figures as one deterministic JSON document (no wall-clock time)."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return value


def records(frame: pl.DataFrame) -> list[dict[str, Any]]:
    return [{k: _plain(v) for k, v in row.items()} for row in frame.iter_rows(named=True)]


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
    head = recon.filter(pl.col("headline"))
    summary: dict[str, Any] = {
        "inputs": inputs,
        "reconciliation": reconciliation,
        "unexplained": {
            "rows": head.height,
            "calls": int(head["unexplained_count"].fill_null(0).abs().sum()),
            "minutes": _plain(head["unexplained_minutes"].fill_null(0).abs().sum()),
            "price": _plain(head["unexplained_price"].fill_null(0).abs().sum()),
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
