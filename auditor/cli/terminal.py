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

from auditor.errors import EXIT_OK
from auditor.reconcile.findings import differs_in
from auditor.result import CdrCounts, RecordsCounts, Summary, UnexplainedTotals, headline, signed
from auditor.statuses import ROW_FINDINGS, FindingLevel, ReconStatus, RecordsFinding, count_key


def _num(value: object) -> str:
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return "" if value is None else str(value)


def _signed(value: object) -> str:
    """A residual with its sign (usage minus logs): `+3`, `-5`, `0`."""
    return signed(_num(value))


def table(*columns: str, numeric: tuple[str, ...] = ()) -> Table:
    """A table that fits the console: values wrap (fold) rather than being cut with `…`, so
    that two values alike but for their ends still read apart; `numeric` columns right-aligned."""
    out = Table()
    for name in columns:
        out.add_column(
            name,
            justify="right" if name in numeric else "left",
            overflow="fold",
            no_wrap=False,
        )
    return out


def _hints(rows: pl.DataFrame) -> list[str]:
    hints: list[str] = []
    for text in rows["next_check"].to_list():
        for hint in (text or "").split(" | "):
            if hint and hint not in hints:
                hints.append(hint)
    return hints


def _print_finding(
    console: Console,
    rows: pl.DataFrame,
    cells: dict[str, Callable[[dict], str]],
    numeric: tuple[str, ...] = (),
) -> None:
    """The headline rows of one finding (account, period, category, then `cells`), and the
    next-check hints they carry."""
    out = table("account", "period", "category", *cells, numeric=numeric)
    for r in rows.iter_rows(named=True):
        out.add_row(
            r["account_sid"] or "", r["period"], r["category"], *(f(r) for f in cells.values())
        )
    console.print(out)
    console.print("Check next:")
    for hint in _hints(rows):
        console.print(f"  - {hint}")


def _unexplained_lines(un: UnexplainedTotals) -> list[str]:
    """Both sides of the unexplained rows, signed, and the net (usage minus logs)."""
    lines = [
        f"  billed above the logs: {un.above.text()} ({un.above.rows} row(s))",
        f"  billed below the logs: {un.below.text()} ({un.below.rows} row(s))",
        f"  net:                   {un.net.text()}",
    ]
    if un.price_not_compared_rows:
        lines.append(
            f"  {un.price_not_compared_rows} row(s) priced in other currencies: not summed"
        )
    return lines


def print_audit(recon: pl.DataFrame, summary: Summary, out_dir: str, console: Console) -> None:
    un = summary.unexplained
    nc = summary.not_compared
    if recon.is_empty():
        console.print("No usage records among the inputs: logs vs usage not reconciled.")
    if un.rows:
        console.print(
            Text.assemble(
                ("UNEXPLAINED", "bold red"),
                f": {un.rows} finding(s) no rule explains, usage minus logs "
                "(details in usage_reconciliation.csv):",
            )
        )
        for line in _unexplained_lines(un):
            console.print(line)
        heads = headline(recon, ReconStatus.UNEXPLAINED.value).with_columns(differs_in())
        _print_finding(
            console,
            heads,
            {
                "calls": lambda r: _signed(r["unexplained_count"]),
                "minutes": lambda r: _signed(r["unexplained_minutes"]),
                "price": lambda r: (
                    f"{_signed(r['unexplained_price'])} {r['currency'] or ''}"
                    if r["unexplained_price"] is not None
                    else "not compared"
                ),
                "differs in": lambda r: r["differs_in"],
            },
            numeric=("calls", "minutes", "price"),
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
            numeric=("logged calls", "usage calls"),
        )
    if not recon.is_empty() and not un.rows and not nc.count:
        console.print(Text("Every difference is explained by the rules.", style="bold green"))
    if not recon.is_empty():
        console.print(_per_period(recon))
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


def _per_period(recon: pl.DataFrame) -> Table:
    """Per period, the rows by status, findings counted once (at their headline level, as
    in the headline) and the parent rows that sum them apart, as roll-ups."""
    status = pl.col("status").cast(pl.String)
    findings = (ReconStatus.UNEXPLAINED.value, ReconStatus.NOT_COMPARED.value)
    names = [s.value for s in ReconStatus]
    counted = [
        ((status == s) & (pl.col("headline") if s in findings else pl.lit(True))).sum().alias(s)
        for s in names
    ]
    roll = (status.is_in(findings) & ~pl.col("headline")).sum().alias(FindingLevel.ROLL_UP.value)
    per = recon.group_by("period").agg(*counted, roll).sort("period")
    heads = [*names, f"{FindingLevel.ROLL_UP.value}s"]
    out = table("period", *heads, numeric=tuple(heads))
    for r in per.iter_rows(named=True):
        out.add_row(r["period"], *(str(r[s]) for s in [*names, FindingLevel.ROLL_UP.value]))
    return out


def print_files(files: list[tuple[str, str, int, int, int]], console: Console) -> None:
    """The inputs read, one line each: the file, its format, rows read / accepted / rejected
    (right-aligned). Where a line is wider than the console, the counts go on the next line,
    indented, never broken (a path is folded only when longer than the whole width)."""
    name_width = max((len(name) for name, *_ in files), default=0)
    fmt_width = max((len(fmt) for _, fmt, *_ in files), default=0)
    for name, fmt, read, accepted, rejected in files:
        head = f"{name:<{name_width}}  {fmt:<{fmt_width}}"
        counts = f"read {read:>7}  accepted {accepted:>7}  rejected {rejected:>6}"
        if len(head) + 2 + len(counts) <= console.width:
            console.print(Text(f"{head}  {counts}"))
        else:
            console.print(Text(f"{name}  {fmt}", overflow="fold"))
            console.print(Text(f"    {counts}"))


def print_verdict(summary: Summary, out_dir: str, console: Console) -> None:
    """The last lines: what the audit found, then one verdict line and where to look."""
    reasons = summary.reasons()
    if reasons:
        console.print(f"audit written to {out_dir}/: {'; '.join(reasons)}")
    else:
        console.print(f"audit written to {out_dir}/")
    if summary.exit_code == EXIT_OK:
        verdict = Text(f"PASS (exit {summary.exit_code})", style="bold green")
    else:
        verdict = Text(f"FINDINGS (exit {summary.exit_code})", style="bold red")
    console.print(Text.assemble(verdict, f": open {out_dir}/report.html"))


def print_cdr_matching(counts: CdrCounts, out_dir: str, console: Console) -> None:
    """PBX vs Twilio: what disagrees first, then the totals."""
    counts_table = table("PBX vs Twilio", "calls", numeric=("calls",))
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
        counts_table.add_row(key.replace("_", " "), str(getattr(counts, key)))
    counts_table.add_row("billed minutes at stake", _num(counts.billed_minutes_at_stake))
    console.print(counts_table)
    console.print(f"call by call: {out_dir}/cdr_matches.csv")


# The findings that make a group of records fail (those of a record, `ambiguous` aside), and
# the short heads of its columns (a finding not named here is headed by its value).
GROUP_FINDINGS = (*ROW_FINDINGS, RecordsFinding.RECORDS_ONLY)
_SHORT = {
    RecordsFinding.UNDELIVERED: "undeliv.",
    RecordsFinding.MACHINE_ANSWERED: "machine",
    RecordsFinding.RECORDS_ONLY: "rec. only",
}


def print_records(
    counts: RecordsCounts, groups: pl.DataFrame, out_dir: str, console: Console
) -> None:
    """Your records vs Twilio: the findings first, then the totals, then the groups that fail."""
    counts_table = table("Your records vs Twilio", "rows", numeric=("rows",))
    for key, rows in counts.findings_first():
        counts_table.add_row(key.replace("_", " "), str(rows))
    counts_table.add_row("billed minutes at stake", _num(counts.billed_minutes_at_stake))
    console.print(counts_table)
    findings = [count_key(f) for f in GROUP_FINDINGS]
    failing = groups.filter(pl.any_horizontal(pl.col(f) > 0 for f in findings))
    if failing.height:
        heads = tuple(_SHORT.get(f, f.value) for f in GROUP_FINDINGS)
        nums = ("records", "matched", *heads, "billed min", "price")
        by_group = table("group", "value", *nums, numeric=nums)
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
