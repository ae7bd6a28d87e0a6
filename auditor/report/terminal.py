"""The short terminal summary: unexplained figures first, then per period what matched."""

from __future__ import annotations

from decimal import Decimal

import polars as pl
from rich.console import Console
from rich.table import Table


def _num(value: object) -> str:
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return "" if value is None else str(value)


def print_audit(recon: pl.DataFrame, summary: dict, out_dir: str, console: Console) -> None:
    un = summary["unexplained"]
    if recon.is_empty():
        console.print("No usage records among the inputs: logs vs usage not reconciled.")
    elif un["rows"]:
        console.print(
            f"[bold red]UNEXPLAINED[/]: {un['rows']} row(s), {un['calls']} call(s), "
            f"{un['minutes']} minute(s), {un['price']} in price (usage minus logs; "
            "details in usage_reconciliation.csv)"
        )
        head = recon.filter(pl.col("headline"))
        table = Table("account", "period", "category", "calls", "minutes", "price")
        hints: list[str] = []
        for r in head.iter_rows(named=True):
            table.add_row(
                r["account_sid"] or "",
                r["period"],
                r["category"],
                _num(r["unexplained_count"]),
                _num(r["unexplained_minutes"]),
                _num(r["unexplained_price"]),
            )
            for hint in (r["next_check"] or "").split(" | "):
                if hint and hint not in hints:
                    hints.append(hint)
        console.print(table)
        console.print("Check next:")
        for hint in hints:
            console.print(f"  - {hint}")
    else:
        console.print("[bold green]Every difference is explained by the rules.[/]")
    per = (
        recon.group_by("period")
        .agg((pl.col("status") == s).sum().alias(s) for s in ("match", "explained", "unexplained"))
        .sort("period")
    )
    table = Table("period", "match", "explained", "unexplained")
    for r in per.iter_rows(named=True):
        table.add_row(r["period"], str(r["match"]), str(r["explained"]), str(r["unexplained"]))
    console.print(table)
    rej = summary["rejects"]["rows"]
    if rej:
        console.print(f"{rej} input row(s) rejected: see {out_dir}/rejects.csv")
    dst = summary["dst"]
    if dst["gap"] or dst["overlap"] or dst.get("pbx_gap") or dst.get("pbx_overlap"):
        pbx = (
            f"; PBX calls: {dst['pbx_gap']} in a gap, {dst['pbx_overlap']} in an overlap"
            if "pbx_gap" in dst
            else ""
        )
        console.print(
            f"DST: {dst['gap']} call-log row(s) in a gap, {dst['overlap']} in an overlap{pbx} "
            f"(--dst {dst['policy']})"
        )
    console.print(f"audit written to {out_dir}/")


def print_cdr_matching(counts: dict, out_dir: str, console: Console) -> None:
    """PBX vs Twilio: what disagrees first, then the totals."""
    table = Table("PBX vs Twilio", "calls")
    for key in (
        "pbx_only",
        "twilio_only",
        "duration_mismatch",
        "status_mismatch",
        "ambiguous",
        "matched",
        "internal",
        "pbx_calls",
    ):
        table.add_row(key.replace("_", " "), str(counts[key]))
    table.add_row("billed minutes at stake", _num(counts["billed_minutes_at_stake"]))
    console.print(table)
    console.print(f"call by call: {out_dir}/cdr_matches.csv")
