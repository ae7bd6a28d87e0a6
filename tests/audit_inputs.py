"""Builders for small real-format inputs (REST API pages, Console CSV) used by the audit tests."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

ACCOUNT = "AC" + "1" * 32


def sid(n: int) -> str:
    return f"CA{n:032x}"


def rfc2822(ts: str) -> str:
    """'2025-11-03 10:00:00' (UTC) -> 'Mon, 03 Nov 2025 10:00:00 +0000' as the REST API writes."""
    return datetime.fromisoformat(ts).replace(tzinfo=UTC).strftime("%a, %d %b %Y %H:%M:%S +0000")


def call(
    n: int,
    start: str | None,
    end: str | None,
    duration: str | None,
    status: str = "completed",
    direction: str = "outbound-api",
    frm: str = "+12125550100",
    to: str = "+16175550123",
    price: str | None = "-0.0140",
    account: str = ACCOUNT,
    currency: str = "USD",
) -> dict:
    return {
        "sid": sid(n),
        "account_sid": account,
        "parent_call_sid": None,
        "direction": direction,
        "from": frm,
        "to": to,
        "status": status,
        "start_time": rfc2822(start) if start else None,
        "end_time": rfc2822(end) if end else None,
        "duration": duration,
        "price": price,
        "price_unit": currency,
    }


def calls_page(path: Path, calls: list[dict]) -> Path:
    path.write_text(
        json.dumps({"calls": calls, "next_page_uri": None, "page": 0, "page_size": 50}, indent=1)
    )
    return path


def usage(
    category: str,
    start: str,
    end: str,
    count: int,
    minutes: int,
    price: str,
    account: str = ACCOUNT,
    currency: str = "usd",
) -> dict:
    return {
        "account_sid": account,
        "category": category,
        "count": str(count),
        "count_unit": "calls",
        "usage": str(minutes),
        "usage_unit": "minutes",
        "price": price,
        "price_unit": currency,
        "start_date": start,
        "end_date": end,
    }


def usage_page(path: Path, records: list[dict]) -> Path:
    path.write_text(json.dumps({"usage_records": records, "next_page_uri": None}, indent=1))
    return path
