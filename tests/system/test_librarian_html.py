"""report.html as a librarian sees it: rendered by a real headless Chromium, the numbers
of the ledger must be on the page (DOM after rendering) and the page must draw."""
import shutil
import subprocess
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from omegaconf import OmegaConf
from rich.console import Console

from flows.librarian_html import render_library_section
from flows.status import show_status
from tests.flows.test_ledger import write_curation_report, write_library

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(CHROMIUM is None,
                                    reason="Debian's chromium is not installed (apt install chromium)")
pytestmark = pytest.mark.system


def chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars",
         f"--user-data-dir={tmp_path / 'chromium-profile'}", *args],
        capture_output=True, text=True, timeout=120)


class Cells(HTMLParser):
    """Rows of the per-collection table: data-collection → {data-field: text}, and the
    <title> texts of the SVG plots."""

    def __init__(self):
        super().__init__()
        self.rows: dict[str, dict[str, str]] = {}
        self.titles: list[str] = []
        self._row = self._field = None
        self._in_title = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "tr" and "data-collection" in attrs:
            self._row = self.rows.setdefault(attrs["data-collection"], {})
        elif tag == "td" and self._row is not None and "data-field" in attrs:
            self._field = attrs["data-field"]
        elif tag == "title":
            self._in_title = True

    def handle_endtag(self, tag):
        if tag == "tr":
            self._row = None
        elif tag == "td":
            self._field = None
        elif tag == "title":
            self._in_title = False

    def handle_data(self, data):
        if self._row is not None and self._field:
            self._row[self._field] = self._row.get(self._field, "") + data.strip()
        elif self._in_title and data.strip():
            self.titles.append(data.strip())


@pytest.fixture(scope="module")
def report_html(tmp_path_factory) -> tuple[Path, list[dict]]:
    tmp = tmp_path_factory.mktemp("librarian")
    output = tmp / "out"
    write_library(output, tmp / "scans")
    write_curation_report(output)
    cfg = OmegaConf.create({"output": str(output), "status": {"collection": None, "books": False}})
    assert show_status(cfg, Console(record=True, width=200)) == 0
    ledger = pq.read_table(output / "ledger/ledger.parquet").to_pylist()
    return output / "report.html", ledger


def expected_per_collection(ledger: list[dict]) -> dict[str, dict[str, str]]:
    """What the page must say, counted here straight from the ledger rows."""
    expected: dict[str, Counter] = {}
    for r in ledger:
        name = r["collection"] or ("(no collection)" if r["catalogued"] else "(uncatalogued)")
        for key in (name, "all"):
            c = expected.setdefault(key, Counter())
            c["books"] += 1
            c["pages-total"] += r["pages_total"]
            c["pages-ocr"] += r["pages_ocr"]
            c["pages-failed"] += r["pages_failed"]
            c[r["status"].replace(" ", "-")] += 1
    return {k: {f: str(n) for f, n in c.items()} for k, c in expected.items()}


@needs_chromium
def test_rendered_page_shows_the_ledger_numbers(report_html, tmp_path):
    path, ledger = report_html
    result = chromium(tmp_path, "--dump-dom", path.as_uri())
    assert result.returncode == 0, result.stderr[-2000:]
    dom = result.stdout
    assert "qazflow report" in dom and 'id="docs-in">4<' in dom  # the curation part is still there
    cells = Cells()
    cells.feed(dom)
    expected = expected_per_collection(ledger)
    assert set(cells.rows) == set(expected) == {"rare_books", "classics", "(uncatalogued)", "all"}
    for collection, fields in expected.items():
        for field, value in fields.items():
            assert cells.rows[collection][field] == value, (collection, field)
    assert cells.rows["all"]["in-corpus"] == "3" and cells.rows["rare_books"]["queued"] == "1"
    # The plots carry their numbers: status bars, and the confidence histogram of the 6 OCR'd pages.
    assert "rare_books: 1 queued" in cells.titles and "(uncatalogued): 1 failed" in cells.titles
    histogram = {t.split(":")[0]: int(t.split(":")[1].split()[0]) for t in cells.titles if "–" in t.split(":")[0]}
    assert sum(histogram.values()) == 6 and histogram["30–40"] == 1 and histogram["90–100"] == 2
    # Failures with their reasons, and the books not yet in the corpus.
    assert "cannot open PDF: no objects found" in dom and "cannot render page: bad image" in dom
    assert "Қазақ тілі оқулығы" in dom and "no scan found yet" in dom


@needs_chromium
def test_page_draws_without_scripts_or_network(report_html, tmp_path):
    path, _ = report_html
    page = path.read_text()
    assert "<script" not in page and "http://" not in page.replace("http://www.w3.org", "")
    assert "https://" not in page
    shot = tmp_path / "report.png"
    result = chromium(tmp_path, f"--screenshot={shot}", "--window-size=1280,2400", path.as_uri())
    assert result.returncode == 0 and shot.is_file(), result.stderr[-2000:]
    from PIL import Image

    with Image.open(shot) as image:
        colors = image.convert("RGB").resize((160, 300)).getcolors(maxcolors=1 << 16)
    assert colors and len(colors) > 20  # text, tables and coloured bars, not a blank page


def test_fragment_escapes_catalog_text_and_handles_an_empty_library():
    rows = [{"book_id": "K<1>", "title": "<script>alert(1)</script>", "collection": "a&b", "catalogued": True,
             "pages_total": 0, "pages_textlayer": 0, "pages_ocr": 0, "pages_failed": 0, "mean_confidence": None,
             "low_confidence_pages": 0, "status": "queued", "status_detail": "no scan found yet",
             "first_run": None, "last_run": None}]
    html = render_library_section(rows, None)
    assert "<script>" not in html and "&lt;script&gt;" in html and 'data-collection="a&amp;b"' in html
    assert "No data yet." in html
    assert 'id="library"' in render_library_section([], [])
