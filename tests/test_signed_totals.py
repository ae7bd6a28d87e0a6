"""Signed totals, one count, visible prices and the terminal (issue 19, points 1-3 and 9).

A month of the user's own, as the issue tried it: one call deleted from the logs (usage bills
it) and one call edited 300 s longer in the logs (usage bills what it really lasted). The two
land in different categories, so one finding bills above the logs and one below: the headline
must say both sides with their signs and the net, in every output, never a sum of absolute
values that reads as "8 minutes over-billed".

Figures by hand (default pricing: 60 s minimum, 60 s increments; outbound 0.014 USD a minute,
inbound local 0.0085):
- calls-outbound: logs 120 s (2 min, 0.028) + 60 s (1 min, 0.014); the deleted 180 s call
  (3 min, 0.042) is in the usage only: usage 3 calls, 6 min, 0.084 USD. Usage minus logs:
  +1 call, +3 minutes, +0.042 USD.
- calls-inbound-local: a 60 s call (1 min, 0.0085) logged as 360 s (6 min; its price as
  billed), and a 120 s call (2 min, 0.017): logs 2 calls, 8 min, 0.0255 USD; usage 2 calls,
  3 min, 0.0255 USD. Usage minus logs: 0 calls, -5 minutes, 0 USD.
- Parents `calls-inbound` (0, -5, 0) and `calls` (+1, -2, +0.042): roll-ups of the two.

So: above 1 row, +1 call, +3 min, +0.042 USD; below 1 row, 0 calls, -5 min, 0 USD; net
+1 call, -2 min, +0.042 USD; gross (today's keys) 1 call, 8 min, 0.042 USD; 2 findings and 2
roll-ups.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import openpyxl
import pytest
from audit_inputs import call, calls_page, usage, usage_page
from conftest import audit_samples, run_cli

NOV = ("2025-11-01", "2025-11-30")
INBOUND = {"direction": "inbound", "frm": "+16175550123", "to": "+12125550100"}


def _month(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    calls_page(
        folder / "calls.json",
        [
            call(1, "2025-11-03 10:00:00", "2025-11-03 10:02:00", "120", price="-0.0280"),
            call(2, "2025-11-04 10:00:00", "2025-11-04 10:01:00", "60", price="-0.0140"),
            # call 3 (180 s outbound, 0.042) deleted from the logs
            # call 4 lasted 60 s; the logs say 360 (300 s longer), its price is what was billed
            call(
                4, "2025-11-05 10:00:00", "2025-11-05 10:06:00", "360", price="-0.0085", **INBOUND
            ),
            call(
                5, "2025-11-06 10:00:00", "2025-11-06 10:02:00", "120", price="-0.0170", **INBOUND
            ),
        ],
    )
    usage_page(
        folder / "usage.json",
        [
            usage("calls", *NOV, 5, 9, "0.1095"),
            usage("calls-outbound", *NOV, 3, 6, "0.084"),
            usage("calls-inbound", *NOV, 2, 3, "0.0255"),
            usage("calls-inbound-local", *NOV, 2, 3, "0.0255"),
        ],
    )
    return folder


@pytest.fixture(scope="module")
def audited(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    tmp = tmp_path_factory.mktemp("signed")
    _month(tmp / "in")
    done = run_cli("audit", "in", "--out", "out", "--tz", "UTC", cwd=tmp)
    assert done.returncode == 1, done.stdout + done.stderr
    return tmp / "out", done.stdout


ABOVE = {"rows": 1, "calls": 1, "minutes": "3", "price_by_currency": {"USD": "0.042"}}
BELOW = {"rows": 1, "calls": 0, "minutes": "-5", "price_by_currency": {"USD": "0"}}
NET = {"rows": 2, "calls": 1, "minutes": "-2", "price_by_currency": {"USD": "0.042"}}


def test_summary_json_has_both_sides_and_the_net(audited: tuple[Path, str]) -> None:
    un = json.loads((audited[0] / "summary.json").read_text(encoding="utf-8"))["unexplained"]
    assert (un["above"], un["below"], un["net"]) == (ABOVE, BELOW, NET)
    # today's keys keep their meaning: absolute values summed (what is at stake either way)
    assert (un["rows"], un["calls"], un["minutes"], un["price"]) == (2, 1, "8", "0.042")


def test_terminal_says_both_sides_with_signs(audited: tuple[Path, str]) -> None:
    text = audited[1]
    assert "UNEXPLAINED: 2 finding(s)" in text
    assert "billed above the logs: +1 call(s), +3 minute(s), +0.042 USD (1 row(s))" in text
    assert "billed below the logs: 0 call(s), -5 minute(s), 0 USD (1 row(s))" in text
    assert re.search(r"net: +\+1 call\(s\), -2 minute\(s\), \+0\.042 USD", text)
    # the per-period table counts the 2 findings as the headline does, the 2 parents apart
    row = next(line for line in text.splitlines() if line.startswith("│ 2025-11"))
    assert [c.strip() for c in row.strip("│").split("│")] == ["2025-11", "0", "0", "2", "0", "2"]


def test_report_html_shows_both_sides(audited: tuple[Path, str]) -> None:
    html = (audited[0] / "report.html").read_text(encoding="utf-8")

    def figure(name: str) -> str:
        found = re.search(rf'data-figure="{name}"[^>]*>([^<]*)<', html)
        assert found, name
        return found.group(1)

    assert figure("unexplained-rows") == "2"
    for side, want in (("above", ABOVE), ("below", BELOW), ("net", NET)):
        sign = lambda v: v if v.startswith("-") or v == "0" else f"+{v}"  # noqa: E731
        assert figure(f"unexplained-{side}-calls") == sign(str(want["calls"]))
        assert figure(f"unexplained-{side}-minutes") == sign(want["minutes"])
        assert (
            figure(f"unexplained-{side}-price") == f"{sign(want['price_by_currency']['USD'])} USD"
        )
    # the row-by-row table marks the findings and the roll-ups
    assert html.count('data-level="finding"') == 2 and html.count('data-level="roll-up"') == 2
    # every row table has its price beside the minutes
    assert "<th>minutes</th><th>price</th><th>differs in</th>" in html
    assert "<th>expected min</th><th>logged price</th>" in html
    assert "<th>usage min</th><th>usage price</th>" in html


def test_workbook_shows_both_sides_and_marks_roll_ups(audited: tuple[Path, str]) -> None:
    wb = openpyxl.load_workbook(audited[0] / "audit.xlsx", read_only=True)
    summary = {r[0]: r[1] for r in wb["Summary"].iter_rows(values_only=True) if r[0]}
    assert summary["unexplained rows (findings, each counted once)"] == 2
    assert summary["unexplained billed above the logs: minutes"] == 3
    assert summary["unexplained billed below the logs: minutes"] == -5
    assert summary["unexplained net (usage minus logs): minutes"] == -2
    assert summary["unexplained net (usage minus logs): price (USD)"] == pytest.approx(0.042)
    rows = list(wb["Unexplained"].iter_rows(values_only=True))
    header, data = rows[0], rows[1:]
    level, category = header.index("level"), header.index("category")
    assert [(r[level], r[category]) for r in data] == [
        ("finding", "calls-inbound-local"),
        ("finding", "calls-outbound"),
        ("roll-up", "calls"),
        ("roll-up", "calls-inbound"),
    ]
    differs = header.index("differs_in")
    assert data[0][differs] == "minutes" and data[1][differs] == "calls, minutes, price"


def test_the_samples_price_only_finding_is_visible(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sample's calls-client bills +0.25 USD over 0 calls and 0 minutes (sample_exports/
    README): every row table shows its price beside the minutes and says `price only`."""
    monkeypatch.setenv("COLUMNS", "200")
    done = audit_samples(tmp_path / "out")
    assert done.returncode == 1, done.stderr
    row = next(line for line in done.stdout.splitlines() if "│ calls-client" in line)
    cells = [c.strip() for c in row.strip("│").split("│")]
    assert cells[2:] == ["calls-client", "0", "0", "+0.25 USD", "price only"]
    html = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    head = re.search(
        r"<tr><td[^>]*>[^<]*</td><td[^>]*>2025-11</td><td>calls-client</td>.*?</tr>", html
    )
    assert head and "+0.25 USD" in head.group(0) and "<td>price only</td>" in head.group(0)
    wb = openpyxl.load_workbook(tmp_path / "out" / "audit.xlsx", read_only=True)
    rows = list(wb["Unexplained"].iter_rows(values_only=True))
    h = rows[0]
    client = next(r for r in rows[1:] if r[h.index("category")] == "calls-client")
    assert client[h.index("differs_in")] == "price only"
    assert client[h.index("unexplained_price")] == pytest.approx(0.25)
    assert h.index("unexplained_price") == h.index("unexplained_minutes") + 1  # beside it
