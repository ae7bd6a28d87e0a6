"""The short terminal summary: unexplained figures first, then per period what matched.

Printed on a Console made with `markup=False`: account SIDs, categories, notes and paths come
from the inputs and the command line, and rich would read `[/]` in one as markup (and fail).
Styles are given as `Text` styles, never as markup in strings."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import polars as pl
from rich.console import Console
from rich.table import Table
from rich.text import Text

from auditor.result import CdrCounts, RecordsCounts, Summary, UnexplainedTotals, headline
from auditor.statuses import ReconStatus


def _num(value: object) -> str:
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return "" if value is None else str(value)


def _price(unexplained: UnexplainedTotals) -> str:
    """Money always with its currency, one amount per currency (never added across them)."""
    if not unexplained.price_by_currency:
        return "no price residual"
    return f"{unexplained.price_text()} in price"


def _hints(rows: pl.DataFrame) -> list[str]:
    hints: list[str] = []
    for text in rows["next_check"].to_list():
        for hint in (text or "").split(" | "):
            if hint and hint not in hints:
                hints.append(hint)
    return hints


def _print_finding(
    console: Console, rows: pl.DataFrame, cells: dict[str, Callable[[dict], str]]
) -> None:
    """The headline rows of one finding (account, period, category, then `cells`), and the
    next-check hints they carry."""
    table = Table("account", "period", "category", *cells)
    for r in rows.iter_rows(named=True):
        table.add_row(
            r["account_sid"] or "", r["period"], r["category"], *(f(r) for f in cells.values())
        )
    console.print(table)
    console.print("Check next:")
    for hint in _hints(rows):
        console.print(f"  - {hint}")


def print_audit(recon: pl.DataFrame, summary: Summary, out_dir: str, console: Console) -> None:
    un = summary.unexplained
    nc = summary.not_compared
    status = pl.col("status")
    if recon.is_empty():
        console.print("No usage records among the inputs: logs vs usage not reconciled.")
    if un.rows:
        console.print(
            Text.assemble(
                ("UNEXPLAINED", "bold red"),
                f": {un.rows} row(s), {un.calls} call(s), {un.minutes} minute(s), {_price(un)} "
                "(usage minus logs; details in usage_reconciliation.csv)",
            )
        )
        _print_finding(
            console,
            headline(recon, ReconStatus.UNEXPLAINED.value),
            {
                "calls": lambda r: _num(r["unexplained_count"]),
                "minutes": lambda r: _num(r["unexplained_minutes"]),
                "price": lambda r: f"{_num(r['unexplained_price'])} {r['currency'] or ''}".strip(),
            },
        )
    if nc.count:
        console.print(
            Text.assemble(
                ("NOT COMPARED", "bold red"),
                f": {nc.count} row(s) that nothing on the other side covers "
                f"({nc.billable_calls} billable logged call(s), {nc.usage_count} usage call(s)): "
                "no rule can explain what was not compared",
            )
        )
        _print_finding(
            console,
            headline(recon, ReconStatus.NOT_COMPARED.value),
            {
                "logged calls": lambda r: str(r["logged_calls"]),
                "usage calls": lambda r: _num(r["usage_count"]),
                "why": lambda r: r["notes"],
            },
        )
    if not recon.is_empty() and not un.rows and not nc.count:
        console.print(Text("Every difference is explained by the rules.", style="bold green"))
    names = [s.value for s in ReconStatus]
    per = recon.group_by("period").agg((status == s).sum().alias(s) for s in names).sort("period")
    table = Table("period", *names)
    for r in per.iter_rows(named=True):
        table.add_row(r["period"], *(str(r[s]) for s in names))
    console.print(table)
    rej = summary.rejects
    if rej.rows:
        console.print(
            f"{rej.rows} input row(s) rejected{rej.duplicates_text()}: see {out_dir}/rejects.csv"
        )
    dst = summary.dst
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


def print_cdr_matching(counts: CdrCounts, out_dir: str, console: Console) -> None:
    """PBX vs Twilio: what disagrees first, then the totals."""
    table = Table("PBX vs Twilio", "calls")
    for key in (
        "pbx_only",
        "twilio_only",
        "duration_mismatch",
        "status_mismatch",
        "ambiguous",
        "not_compared",  # outside the Twilio legs' span: apart from those Twilio missed
        "matched",
        "internal",
        "pbx_calls",
    ):
        table.add_row(key.replace("_", " "), str(getattr(counts, key)))
    table.add_row("billed minutes at stake", _num(counts.billed_minutes_at_stake))
    console.print(table)
    console.print(f"call by call: {out_dir}/cdr_matches.csv")


def print_records(
    counts: RecordsCounts, groups: pl.DataFrame, out_dir: str, console: Console
) -> None:
    """Your records vs Twilio: the findings first, then the totals, then the groups that fail."""
    table = Table("Your records vs Twilio", "rows")
    for key in (
        "undelivered",
        "machine_answered",
        "slow",
        "duration",
        "status",
        "records_only",
        "twilio_only",
        "ambiguous",
        "matched",
        "records",
    ):
        table.add_row(key.replace("_", " "), str(getattr(counts, key)))
    table.add_row("billed minutes at stake", _num(counts.billed_minutes_at_stake))
    console.print(table)
    findings = ("undelivered", "machine_answered", "slow", "duration", "status", "records_only")
    failing = groups.filter(pl.any_horizontal(pl.col(f) > 0 for f in findings))
    if failing.height:
        heads = ("undeliv.", "machine", "slow", "duration", "status", "rec. only")
        by_group = Table("group", "value", "records", "matched", *heads, "billed min", "price")
        for r in failing.iter_rows(named=True):
            price = f"{_num(r['price'])} {r['currency'] or ''}".strip()
            by_group.add_row(
                r["group"],
                r["value"] or "",
                str(r["records"]),
                str(r["matched"]),
                *(str(r[f]) for f in findings),
                _num(r["billed_minutes"]),
                price,
            )
        console.print(by_group)
    console.print(
        f"record by record: {out_dir}/records_matches.csv; per group: {out_dir}/records_groups.csv"
    )
