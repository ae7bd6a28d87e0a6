"""report.html: one self-contained page an auditor would rather look at than read.

It lays out figures already computed (summary.json and the reconciliation frame); it computes
nothing. No scripts, no external assets: it opens from an archive folder years later. Every value
goes through `html.escape` (input file names, accounts and categories come from the inputs).
"""

from __future__ import annotations

from dataclasses import asdict
from html import escape
from pathlib import Path
from typing import Any

import polars as pl

from auditor.result import Summary
from auditor.statuses import ReconStatus

STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#222}
h1{font-size:1.5em}h2{font-size:1.15em;margin-top:2em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.5em 0;width:100%}
th,td{padding:.25em .6em;border-bottom:1px solid #eee;text-align:left;vertical-align:top}
td.n{text-align:right;font-variant-numeric:tabular-nums}
.unexplained,.not-compared{color:#b00020;font-weight:600}.explained{color:#8a6d00}.match{color:#1b7a1b}
.box{padding:.8em 1em;border-radius:6px;margin:1em 0}
.bad{background:#fdecee;border:1px solid #f5c2c7}.good{background:#eaf6ea;border:1px solid #b7dfb7}
small{color:#666}
"""


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    numeric = text.lstrip("-").replace(".", "", 1).isdigit()
    return f'<td class="n">{escape(text)}</td>' if numeric else f"<td>{escape(text)}</td>"


def _table(headers: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(_cell(v) for v in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def render_report(summary: Summary, recon: pl.DataFrame) -> str:
    un = summary.unexplained
    parts = [
        f"<!doctype html><meta charset=utf-8><title>call-auditor report</title>"
        f"<style>{STYLE}</style><h1>Billing audit</h1>"
    ]
    nc = summary.not_compared
    if summary.reconciliation:
        if un.rows:
            parts.append(
                f'<div class="box bad"><b>Unexplained:</b> {un.rows} row(s), {un.calls} '
                f"call(s), {escape(un.minutes)} minute(s), {escape(un.price_text())} in "
                "price (usage minus what the logs predict under the pricing rules).</div>"
            )
        if nc.count:
            parts.append(
                f'<div class="box bad"><b>Not compared:</b> {nc.count} row(s) that nothing '
                f"on the other side covers ({nc.billable_calls} billable logged call(s), "
                f"{nc.usage_count} usage call(s)). No rule can explain what was not "
                "compared.</div>"
            )
        if not un.rows and not nc.count:
            parts.append(
                '<div class="box good">Every difference between the logs and usage '
                "is explained by the rules.</div>"
            )
    heads = [r for r in summary.reconciliation if r["headline"] and r["status"] == "unexplained"]
    if heads:
        parts.append("<h2>What no rule explains</h2>")
        parts.append(
            _table(
                ["account", "period", "category", "calls", "minutes", "price", "check next"],
                [
                    [
                        r["account_sid"],
                        r["period"],
                        r["category"],
                        r["unexplained_count"],
                        r["unexplained_minutes"],
                        f"{r['unexplained_price'] or ''} {r['currency'] or ''}".strip(),
                        r["next_check"],
                    ]
                    for r in heads
                ],
            )
        )
        for r in heads:
            parts.append(f"<h3>Bridge: {escape(r['period'])} {escape(r['category'])}</h3>")
            parts.append(
                _table(
                    ["step", "calls", "minutes"],
                    [[s["rule"], s["count_delta"], s["minutes_delta"]] for s in r["bridge"]],
                )
            )
    nc_heads = [r for r in nc.rows if r["headline"]]
    if nc_heads:
        parts.append("<h2>What could not be compared</h2>")
        parts.append(
            _table(
                ["account", "period", "category", "logged calls", "usage calls", "why", "next"],
                [
                    [
                        r["account_sid"],
                        r["period"],
                        r["category"],
                        r["logged_calls"],
                        r["usage_count"],
                        r["notes"],
                        r["next_check"],
                    ]
                    for r in nc_heads
                ],
            )
        )
    if recon.height:
        parts.append("<h2>Every category</h2>")
        rows = []
        for r in summary.reconciliation:
            rows.append(
                [
                    r["period"],
                    r["category"],
                    r["billable_calls"],
                    r["expected_minutes"],
                    r["usage_count"],
                    r["usage_minutes"],
                    r["status"],
                    r["explained_by"],
                    r["notes"],
                ]
            )
        table = _table(
            [
                "period",
                "category",
                "billable",
                "expected min",
                "usage calls",
                "usage min",
                "status",
                "explained by",
                "notes",
            ],
            rows,
        )
        for status in ReconStatus:
            table = table.replace(f"<td>{status}</td>", f'<td class="{status}">{status}</td>')
        parts.append(table)
    if summary.cdr_matching is not None:
        c = asdict(summary.cdr_matching)
        parts.append("<h2>PBX vs Twilio</h2>")
        parts.append(_table(["", "calls"], [[k.replace("_", " "), v] for k, v in c.items()]))
        parts.append("<p><small>Call by call in cdr_matches.csv.</small></p>")
    if summary.records is not None:
        r = asdict(summary.records)
        parts.append("<h2>Your records vs Twilio</h2>")
        parts.append(_table(["", "rows"], [[k.replace("_", " "), v] for k, v in r.items()]))
        parts.append(
            "<p><small>Record by record in records_matches.csv, per group in "
            "records_groups.csv.</small></p>"
        )
    parts.append("<h2>Inputs</h2>")
    parts.append(
        _table(
            ["file", "kind", "format", "read", "accepted", "rejected"],
            [
                [
                    f["file"],
                    f["kind"],
                    f["format"],
                    f["rows_read"],
                    f["rows_accepted"],
                    f["rows_rejected"],
                ]
                for f in summary.inputs
            ],
        )
    )
    dst = summary.dst
    parts.append(
        f"<p><small>DST: {escape(str(dst['gap']))} row(s) in a gap, "
        f"{escape(str(dst['overlap']))} in an overlap (--dst {escape(str(dst['policy']))}). "
        f"Rejected rows: {summary.rejects.rows} (rejects.csv).</small></p>"
    )
    return "\n".join(parts) + "\n"


def write_report(summary: Summary, recon: pl.DataFrame, path: Path) -> None:
    path.write_text(render_report(summary, recon), encoding="utf-8")
