"""report.html in a real headless Chromium (Debian's /usr/bin/chromium, driven by playwright): it
loads from file:// with no request leaving the machine and no console error, its charts are SVG
in the DOM, the figures it shows are summary.json's, and a `<script>` from the inputs is text.

It prints: Chromium's PDF (A4 landscape from the page's @page) holds every column header and
the last column of the widest table, and keeps each chart on its heading's page (pypdf reads
the PDF's text; that test skips without it).

Skips, saying why, when chromium or playwright cannot be found. The first screen is saved to
tests/.artifacts/report.png (git-ignored) to look at, the PDF to tests/.artifacts/report.pdf.
"""

from __future__ import annotations

import json
import re
import shutil
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from conftest import FIXTURES, ROOT, audit_samples, run_cli

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOT = ROOT / "tests" / ".artifacts" / "report.png"
PDF = ROOT / "tests" / ".artifacts" / "report.pdf"
A4_LANDSCAPE_CONTENT_PX = 1047  # (297 mm - 2 x 10 mm @page margin) at 96 px per inch
SCRIPT = "<script>alert(1)</script>"
ACCOUNT = "AC0123456789abcdef0123456789abcdef"

if not CHROMIUM.exists():
    pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)", allow_module_level=True)
playwright = pytest.importorskip(
    "playwright.sync_api", reason="playwright is not installed (pip install '.[test]')"
)


class Loaded:
    """A page loaded from file://, with every request and console message it made."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.outside: list[str] = []
        self.errors: list[str] = []
        self.dialogs: list[str] = []


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with playwright.sync_playwright() as p:
        try:
            chromium = p.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        except Exception as error:  # pragma: no cover - a broken install
            pytest.skip(f"chromium at {CHROMIUM} does not start: {error}")
        yield chromium
        chromium.close()


def load(browser: Any, html: Path) -> Iterator[Loaded]:
    context = browser.new_context(viewport={"width": 1200, "height": 900}, offline=True)
    page = context.new_page()
    loaded = Loaded(page)

    def route(r: Any) -> None:
        if r.request.url.startswith("file://"):
            r.continue_()
        else:
            loaded.outside.append(r.request.url)
            r.abort()

    context.route("**/*", route)
    page.on("console", lambda m: m.type == "error" and loaded.errors.append(m.text))
    page.on("pageerror", lambda e: loaded.errors.append(str(e)))
    page.on("requestfailed", lambda r: loaded.errors.append(f"failed: {r.url}"))
    page.on("dialog", lambda d: (loaded.dialogs.append(d.message), d.dismiss()))
    page.goto(html.resolve().as_uri(), wait_until="load")
    yield loaded
    context.close()


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("browser") / "out"
    assert audit_samples(out).returncode == 1
    return out


@pytest.fixture
def report(browser: Any, samples: Path) -> Iterator[Loaded]:
    yield from load(browser, samples / "report.html")


def test_loads_offline_without_errors(report: Loaded) -> None:
    assert report.outside == []
    assert report.errors == []
    assert report.page.evaluate("document.scripts.length") == 0
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    report.page.screenshot(path=str(SCREENSHOT))


def test_charts_are_svg_in_the_dom(report: Loaded, samples: Path) -> None:
    page = report.page
    bridges = page.locator("figure.bridge svg")
    assert bridges.count() == 3
    assert page.locator("figure.daily svg").count() >= 1
    box = bridges.first.bounding_box()
    assert box is not None and box["width"] > 300 and box["height"] > 100
    # bars are drawn: each bridge has a path per bar and a text per label
    assert page.locator("#bridge-0 text").count() >= 13


def test_figures_shown_are_summary_json(report: Loaded, samples: Path) -> None:
    summary = json.loads((samples / "summary.json").read_text(encoding="utf-8"))
    page = report.page

    def shown(name: str) -> str:
        return page.locator(f'[data-figure="{name}"]').first.inner_text().strip()

    un = summary["unexplained"]
    assert shown("exit-code").startswith("Findings")
    assert f"Exit code {summary['exit_code']}" in shown("exit-code")
    assert shown("unexplained-rows") == str(un["rows"])
    assert shown("unexplained-calls") == str(un["calls"])
    assert shown("unexplained-minutes") == un["minutes"]
    assert shown("unexplained-price") == f"{un['price']} {un['currency']}"
    assert shown("rejected-rows") == str(summary["rejects"]["rows"])
    assert page.locator('[data-figure="unexplained-minutes"]').is_visible()


def test_script_in_the_inputs_is_text(browser: Any, tmp_path: Path) -> None:
    """The input's name is `<script>alert(1)</script>.csv` (its caller is the same payload): the
    Inputs table shows it as text, and nothing runs."""
    name = f"{SCRIPT}.csv"
    (tmp_path / name).parent.mkdir()
    shutil.copy(FIXTURES / "twilio" / "html_cells.csv", tmp_path / name)
    done = run_cli("audit", name, "--out", "out", "--tz", "UTC", "--account", ACCOUNT, cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    for loaded in load(browser, tmp_path / "out" / "report.html"):
        assert loaded.dialogs == [] and loaded.errors == [] and loaded.outside == []
        assert loaded.page.evaluate("document.scripts.length") == 0
        assert loaded.page.get_by_text(name, exact=True).count() >= 1


def _pdf_pages(path: Path) -> list[str]:
    """Each page's text, ligatures unfolded (NFKC: `ﬁ` -> `fi`) and whitespace collapsed."""
    pypdf = pytest.importorskip("pypdf", reason="pypdf is not installed (pip install '.[test]')")
    reader = pypdf.PdfReader(str(path))
    for page in reader.pages:  # landscape: wider than high
        assert float(page.mediabox.width) > float(page.mediabox.height)
    return [
        re.sub(r"\s+", " ", unicodedata.normalize("NFKC", page.extract_text()))
        for page in reader.pages
    ]


def test_prints_every_column_with_charts_by_their_headings(report: Loaded, samples: Path) -> None:
    """Issue 19.14: printed, no table is wider than the page (before: the PBX table was cut
    at `pbx start`, the rest of its columns lost), every column header is in the PDF's text,
    the PBX table's last column (`billed minutes delta`) is printed for every row, and each
    bridge's chart is on its heading's page: its own-legs `naive` label (bridge.csv's
    own_minutes_after rounded to 2 places) is on the page of its `Bridge: ...` heading. The
    three category bridges share pages (before: one bridge a page, 8 mostly blank pages)."""
    page = report.page
    page.emulate_media(media="print")
    page.set_viewport_size({"width": A4_LANDSCAPE_CONTENT_PX, "height": 718})
    rights = page.evaluate(
        "() => [...document.querySelectorAll('table')].map(t => t.getBoundingClientRect().right)"
    )
    assert rights and max(rights) <= A4_LANDSCAPE_CONTENT_PX + 1, rights
    headers = page.evaluate(
        "() => [...document.querySelectorAll('th')].map(h => [h.innerText.trim(),"
        " !!h.closest('table.wide-print')])"
    )
    PDF.parent.mkdir(parents=True, exist_ok=True)
    page.pdf(path=str(PDF), prefer_css_page_size=True, print_background=True)
    pages = _pdf_pages(PDF)
    text = " ".join(pages)
    words = set(text.split())
    for header, wraps in headers:
        if not header:
            continue
        if wraps:  # a wide table's headers wrap over lines: each of its words is printed
            assert set(header.split()) <= words, header
        else:
            assert header in text, header
    last = page.evaluate(
        "() => [...document.querySelectorAll('#pbx table.wide-print tbody tr')]"
        ".map(r => r.lastElementChild.innerText.trim())"
    )
    assert len(last) >= 2 and "-2.0" in last  # the pbx-only call's billed minutes delta
    for value in last:
        assert value in words, value
    bridge = pl.read_csv(samples / "bridge.csv", infer_schema=False).filter(
        pl.col("rule") == "naive"
    )
    bridge_pages = set()
    for figure in page.locator("figure.bridge").all():
        category = figure.get_attribute("data-category")
        period = figure.get_attribute("data-period")
        heading = f"Bridge: {period} {category}"
        own = bridge.filter((pl.col("category") == category) & (pl.col("period") == period))
        label = str(round(float(own["own_minutes_after"][0]), 2))
        where = [i for i, p in enumerate(pages) if heading + " " in p + " "]
        assert len(where) == 1, heading
        assert label in pages[where[0]], (heading, label)
        bridge_pages.add(where[0])
    assert len(bridge_pages) < page.locator("figure.bridge").count()
    assert len(pages) <= 10


LINES = """() => [...document.querySelectorAll('td.sid, td.status')].map(td => {
  const range = document.createRange(); range.selectNodeContents(td);
  return [td.classList.contains('sid') ? 'sid' : 'status', td.innerText,
          range.getClientRects().length];
})"""


@pytest.mark.parametrize(("width", "media"), [(1200, "screen"), (800, "screen"), (1047, "print")])
def test_status_words_and_sids_keep_their_lines(report: Loaded, width: int, media: str) -> None:
    """Issue 19.17: laid out on a wide and a narrow screen and on the printed page, a status
    (`unexplained`, `not-compared`, ...) is one line, never `unexplaine d`; a 34-character SID
    takes at most two lines (line boxes of the cell's text, counted by the browser)."""
    page = report.page
    page.emulate_media(media=media)
    page.set_viewport_size({"width": width, "height": 900})
    cells = page.evaluate(LINES)
    assert {kind for kind, _, _ in cells} == {"sid", "status"}
    for kind, text, lines in cells:
        assert lines <= (2 if kind == "sid" else 1), (kind, text, lines)
