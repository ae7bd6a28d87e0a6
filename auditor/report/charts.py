"""report.html's charts: matplotlib (Agg, no display) drawn to SVG, inlined in the page.

Why matplotlib to SVG: the page must open offline years later and print, so a chart is vector
markup in the page itself, with no script to run and no library to load; matplotlib draws that
deterministically (fixed `svg.hashsalt`, no date in the metadata: reruns give the same bytes) and
escapes every text it writes (it is XML). Text stays text (`svg.fonttype = none`): searchable,
selectable and small. Math text is off, so a `$` in an input is just a `$`.

The charts lay out figures computed elsewhere (the bridge, the daily table); they derive none.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
from markupsafe import Markup, escape
from matplotlib.figure import Figure
from matplotlib.typing import RcKeyType

STYLE: dict[RcKeyType, Any] = {
    "svg.fonttype": "none",
    "text.parse_math": False,
    "text.usetex": False,
    "font.family": "sans-serif",
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
}
# The only attributes of matplotlib's SVG that name a URL: namespaces, which an <svg> inlined in
# HTML takes from the HTML parser. Dropped, so the page names no address at all.
NAMESPACES = (
    ' xmlns="http://www.w3.org/2000/svg"',
    ' xmlns:xlink="http://www.w3.org/1999/xlink"',
)
NO_METADATA = {"Date": None, "Type": None, "Format": None, "Creator": None}

TOTAL, UP, DOWN, UNEXPLAINED, USAGE = "#4a6fa5", "#c0504d", "#5b9b52", "#8e3ca8", "#6b6b6b"


@dataclass(frozen=True)
class Step:
    """One bar of a waterfall: the bridge row's rule, its minutes delta and running total."""

    rule: str
    delta: Decimal
    total: Decimal


@dataclass(frozen=True)
class Price:
    """A bridge's price panel: what the logs' legs cost, what no rule explains (usage minus
    logs), what usage bills; in one currency."""

    logged: Decimal
    unexplained: Decimal
    usage: Decimal
    currency: str


LABEL_PLACES = Decimal("0.01")


def label_text(value: Decimal) -> str:
    """A bar's label: to 2 decimals at most ("608.63", "12.5", "3"); the tables hold the exact
    figure."""
    return minutes_text(value.quantize(LABEL_PLACES))


def signed(text: str) -> str:
    return text if text.startswith("-") or text == "0" else f"+{text}"


def minutes_text(value: Decimal) -> str:
    """A Decimal as plain text without trailing zeros ("12.5", "0", "-3")."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def to_svg(fig: Figure, chart_id: str, title: str) -> Markup:
    """The figure as an <svg> element for an HTML page: no XML prolog, no metadata, `title`
    as its (escaped) aria-label, ids unique to `chart_id` (the hash salt), the same bytes for
    the same figure."""
    buf = io.StringIO()
    with matplotlib.rc_context({"svg.hashsalt": f"call-auditor-{chart_id}", **STYLE}):
        fig.savefig(buf, format="svg", metadata=NO_METADATA)
    plt.close(fig)
    text = buf.getvalue()
    svg = text[text.index("<svg") :]
    for attribute in NAMESPACES:
        svg = svg.replace(attribute, "", 1)
    if "<script" in svg.lower() or "http" in svg:  # matplotlib escapes text: never expected
        raise ValueError("a chart holds markup or an address")
    label = escape(title)
    svg = svg.replace("<svg ", f'<svg id="{chart_id}" role="img" aria-label="{label}" ', 1)
    return Markup(svg)  # matplotlib's own XML: it escaped every text


def _figure(width: float, height: float) -> tuple[Figure, plt.Axes]:
    with matplotlib.rc_context(STYLE):
        fig = Figure(figsize=(width, height), dpi=72)
        ax = fig.add_subplot()
    return fig, ax


def waterfall(
    chart_id: str,
    title: str,
    steps: Sequence[Step],
    price: Price | None = None,
    totals: Sequence[str] = ("naive", "expected"),
) -> Markup:
    """The bridge as a waterfall: the `totals` steps (`naive`, `expected`) as whole bars, each
    rule's step as a floating bar on an invisible base (up red, down green), every bar labelled
    (2 decimals) with the running total after it; then, apart past a dashed line, `unexplained`
    (its own colour, labelled with its signed delta) floating from expected to `usage`, the
    billed usage (the unexplained row's running total). With `price`, a second panel beside it
    draws the same in money: the logs' price, the unexplained price, usage's price, so that a
    finding in price only (0 minutes) shows."""
    with matplotlib.rc_context(STYLE):
        if price is None:
            fig, ax = _figure(9.5, 3.6)
        else:
            fig = Figure(figsize=(9.5, 3.6), dpi=72)
            ax, money = fig.subplots(1, 2, gridspec_kw={"width_ratios": [3.2, 1]})
        names, bases, heights, colours, labels = [], [], [], [], []
        previous = Decimal(0)
        for step in steps:
            if step.rule in totals:
                base, height, colour = Decimal(0), step.total, TOTAL
            elif step.rule == "unexplained":
                base, height, colour = min(previous, step.total), abs(step.delta), UNEXPLAINED
            else:
                base, height = min(previous, step.total), abs(step.delta)
                colour = UP if step.delta > 0 else DOWN
            names.append(step.rule)
            bases.append(float(base))
            heights.append(float(height))
            colours.append(colour)
            labels.append(label_text(step.total))
            previous = step.total
            if step.rule == "unexplained":
                names.append("usage")
                bases.append(0.0)
                heights.append(float(step.total))
                colours.append(USAGE)
                labels.append(label_text(step.total))
        xs = [
            float(i) + (0.6 if n in ("unexplained", "usage") else 0.0) for i, n in enumerate(names)
        ]
        ax.bar(xs, bases, color="none", edgecolor="none", width=0.7)  # the invisible bases
        bars = ax.bar(xs, heights, bottom=bases, color=colours, width=0.7)
        for bar, name, label in zip(bars, names, labels, strict=True):
            if name == "unexplained":
                delta = next(s.delta for s in steps if s.rule == "unexplained")
                label = signed(label_text(delta))
                bar.set_hatch("///")
            top = bar.get_y() + bar.get_height()
            text = ax.annotate(
                label,
                (bar.get_x() + bar.get_width() / 2, top),
                xytext=(0, 2),
                textcoords="offset points",
                ha="center",
                va="bottom",
                fontsize=8,
            )
            text.set_gid(f"{chart_id}-{'delta' if name == 'unexplained' else 'total'}-{name}")
        if "unexplained" in names:
            ax.axvline(xs[names.index("unexplained")] - 0.8, color="#999", linestyle="--", lw=0.8)
        ax.set_xticks(xs, names, rotation=30, ha="right")
        ax.set_ylabel("minutes")
        ax.margins(y=0.15)
        if price is not None:
            _price_panel(money, chart_id, price)
        fig.tight_layout()
    return to_svg(fig, chart_id, title)


def _price_panel(ax: plt.Axes, chart_id: str, price: Price) -> None:
    """logs | unexplained (hatched, signed, floating) | usage, in `price.currency`; labels are
    the exact prices (4 places at most, as the tables)."""
    low = min(price.logged, price.usage)
    names = ["logs", "unexplained", "usage"]
    bases = [0.0, float(low), 0.0]
    heights = [float(price.logged), float(abs(price.unexplained)), float(price.usage)]
    colours = [TOTAL, UNEXPLAINED, USAGE]
    labels = [
        minutes_text(price.logged),
        signed(minutes_text(price.unexplained)),
        minutes_text(price.usage),
    ]
    ax.bar([0, 1, 2], bases, color="none", edgecolor="none", width=0.7)
    bars = ax.bar([0, 1, 2], heights, bottom=bases, color=colours, width=0.7)
    bars[1].set_hatch("///")
    for bar, name, label in zip(bars, names, labels, strict=True):
        text = ax.annotate(
            label,
            (bar.get_x() + bar.get_width() / 2, bar.get_y() + bar.get_height()),
            xytext=(0, 2),
            textcoords="offset points",
            ha="center",
            va="bottom",
            fontsize=8,
        )
        text.set_gid(f"{chart_id}-price-{name}")
    ax.set_xticks([0, 1, 2], names, rotation=30, ha="right")
    ax.set_ylabel(f"price ({price.currency})")
    ax.margins(y=0.15)


@dataclass(frozen=True)
class Day:
    """One UTC day of one category of the daily table (usage figures None without a daily usage
    record of that category)."""

    day: str
    billable_calls: int
    billed_minutes: Decimal
    usage_count: int | None
    usage_minutes: Decimal | None

    @property
    def matches(self) -> bool:
        """Usage bills what the logs bill that day: the same calls and minutes."""
        return (self.usage_count, self.usage_minutes) == (self.billable_calls, self.billed_minutes)


def daily(chart_id: str, title: str, days: Sequence[Day]) -> Markup:
    """Per day, billable calls (top) and billed minutes (bottom): the logs' bars, and beside
    them the daily usage's where it exists, grey where it matches the logs, red where it
    differs (each usage bar's gid says which: `CHART-usage-match-DAY` / `-differs-`)."""
    with_usage = any(d.usage_count is not None for d in days)
    with matplotlib.rc_context(STYLE):
        fig = Figure(figsize=(9.5, 4.6), dpi=72)
        top, bottom = fig.subplots(2, 1, sharex=True)
        xs = list(range(len(days)))
        width = 0.4 if with_usage else 0.8
        shift = width / 2 if with_usage else 0.0
        log_x = [x - shift for x in xs]
        use_x = [x + shift for x in xs]
        top.bar(log_x, [d.billable_calls for d in days], width, color=TOTAL, label="logs")
        bottom.bar(log_x, [float(d.billed_minutes) for d in days], width, color=TOTAL)
        if with_usage:
            colours = [USAGE if d.matches else UP for d in days]
            top.bar(use_x, [d.usage_count or 0 for d in days], width, color=colours)
            bars = bottom.bar(
                use_x, [float(d.usage_minutes or 0) for d in days], width, color=colours
            )
            for bar, d in zip(bars, days, strict=True):
                if d.usage_count is not None:
                    state = "match" if d.matches else "differs"
                    bar.set_gid(f"{chart_id}-usage-{state}-{d.day}")
            top.bar([], [], color=USAGE, label="usage, as the logs")
            top.bar([], [], color=UP, label="usage, differs")
            top.legend(loc="upper right", fontsize=8, frameon=False, ncols=3)
        top.set_ylabel("billable calls")
        bottom.set_ylabel("billed minutes")
        labels = [d.day[5:] for d in days]  # MM-DD
        bottom.set_xticks(xs, labels, rotation=90, fontsize=7)
        fig.tight_layout()
    return to_svg(fig, chart_id, title)


@dataclass(frozen=True)
class Group:
    """One group of records (`records_groups`: `group=value`) and its findings by kind."""

    label: str
    findings: dict[str, int]


def findings_per_group(chart_id: str, title: str, groups: Sequence[Group]) -> Markup:
    """Own records: per group a horizontal bar of its findings, stacked by kind (each kind its
    colour, the legend names them), each segment's gid `CHART-KIND-N` (N the group's index)."""
    kinds = list(dict.fromkeys(k for g in groups for k, n in g.findings.items() if n))
    palette = [UP, UNEXPLAINED, TOTAL, "#d08c2b", DOWN, USAGE, "#2b9bd0", "#a05a2c"]
    with matplotlib.rc_context(STYLE):
        fig, ax = _figure(9.5, max(1.6, 0.45 * len(groups) + 1.0))
        ys = list(range(len(groups)))
        left = [0] * len(groups)
        for j, kind in enumerate(kinds):
            counts = [g.findings.get(kind, 0) for g in groups]
            bars = ax.barh(ys, counts, left=left, color=palette[j % len(palette)], label=kind)
            for n, bar in enumerate(bars):
                bar.set_gid(f"{chart_id}-{kind}-{n}")
            left = [a + b for a, b in zip(left, counts, strict=True)]
        for y, total in zip(ys, left, strict=True):
            ax.annotate(
                str(total),
                (total, y),
                xytext=(3, 0),
                textcoords="offset points",
                va="center",
                fontsize=8,
            )
        ax.set_yticks(ys, [g.label for g in groups], fontsize=8)
        ax.invert_yaxis()
        ax.set_xlabel("records with a finding")
        if kinds:
            ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7, frameon=False)
        ax.margins(x=0.1)
        fig.tight_layout()
    return to_svg(fig, chart_id, title)


@dataclass(frozen=True)
class Histogram:
    """Calls per whole-second delta (values clipped to +-`edge`), split by whether the call is a
    mismatch: what a delta chart draws (`report.html` counts it from cdr_matches)."""

    name: str
    seconds: list[int]
    fine: list[int]
    flagged: list[int]
    edge: int


def deltas(
    chart_id: str,
    title: str,
    panels: Sequence[Histogram],
    versus: str = "PBX",
    flagged: str = "mismatch",
) -> Markup:
    """Twilio vs `versus` (the PBX, your records): per panel (start delta or delay, duration
    delta) the matched calls per second of difference, the `flagged` ones (mismatch, finding)
    stacked in red on the others; the end bins hold everything past +-edge."""
    with matplotlib.rc_context(STYLE):
        fig = Figure(figsize=(9.5, 2.8), dpi=72)
        axes = fig.subplots(1, len(panels), squeeze=False)[0]
        for ax, h in zip(axes, panels, strict=True):
            ax.bar(h.seconds, h.fine, width=0.8, color=TOTAL, label="matched")
            bars = ax.bar(h.seconds, h.flagged, bottom=h.fine, width=0.8, color=UP, label=flagged)
            for s, bar, n in zip(h.seconds, bars, h.flagged, strict=True):
                if n:
                    bar.set_gid(f"{chart_id}-{h.name}-{flagged}-{s}")
            words = h.name.replace("-", " ")
            ax.set_xlabel(f"{words} (s, Twilio minus {versus}; ends: past ±{h.edge})")
            ax.set_ylabel("calls")
            ax.legend(loc="upper right", fontsize=7, frameon=False)
        fig.tight_layout()
    return to_svg(fig, chart_id, title)
