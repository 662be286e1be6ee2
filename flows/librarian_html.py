"""The librarians' section of report.html: digitization progress with inline SVG plots.

No JavaScript, no network, no fonts to fetch: the page opens from a file on a reading-
room computer. Every number is in the DOM as text (plots carry theirs in <title>), so
it can be read, copied and tested.
"""
from __future__ import annotations

import html
from collections import Counter

import pyarrow as pa
import pyarrow.compute as pc

from operators.books.ledger import STATUSES, collection_of, collection_summary, current_page_rows, is_ocr

START, END = "<!-- library:start -->", "<!-- library:end -->"
MAX_ROWS = 1000  # per table: beyond this the page lists the count, the ledger has the rest
COLORS = {"in corpus": "#2e8b57", "done": "#4a7bb7", "in progress": "#e8a33d", "queued": "#b0b0b0",
          "failed": "#c0392b", "rejected": "#8e44ad"}
STYLE = """<style>
#library table{border-collapse:collapse;margin:.5em 0}
#library td,#library th{border:1px solid #ccc;padding:3px 8px;text-align:right}
#library td.t,#library th.t{text-align:left}
#library .legend span{display:inline-block;margin-right:1em}
#library .legend i{display:inline-block;width:.9em;height:.9em;margin-right:.3em;vertical-align:middle}
#library svg text{font-family:sans-serif}
</style>"""
COLLECTION_COLUMNS = [  # (key in collection_summary, header)
    ("books", "books"), ("pages_total", "pages scanned"), ("pages_textlayer", "text layer"), ("pages_ocr", "OCR'd"),
    ("pages_failed", "pages failed"), ("mean_confidence", "mean OCR confidence"),
    ("low_confidence_pages", "low-confidence pages"), ("queued", "queued"), ("in progress", "in progress"),
    ("done", "done"), ("failed", "failed"), ("in corpus", "in corpus"), ("rejected", "rejected"),
]


def _e(value) -> str:
    return html.escape("" if value is None else str(value))


def _field(key: str) -> str:
    return key.replace(" ", "-").replace("_", "-")


def _fmt(value) -> str:
    if value is None:
        return "–"
    return f"{value:.1f}" if isinstance(value, float) else str(value)


def _table(table_id: str, headers: list[str], rows: list[list], total: int | None = None) -> str:
    head = "".join(f'<th class="t">{_e(h)}</th>' if i == 0 or h in ("title", "status", "why", "reason", "collection")
                   else f"<th>{_e(h)}</th>" for i, h in enumerate(headers))
    body = "".join("<tr>" + "".join(f'<td class="t">{_e(c)}</td>' if isinstance(c, str) or c is None
                                    else f"<td>{_fmt(c)}</td>" for c in row) + "</tr>" for row in rows)
    more = f"<p>… and {total - len(rows)} more (see ledger/ledger.parquet).</p>" if total and total > len(rows) else ""
    return f'<table id="{table_id}"><tr>{head}</tr>{body}</table>{more}'


def collections_table(summary: list[dict]) -> str:
    head = '<th class="t">collection</th>' + "".join(f"<th>{_e(h)}</th>" for _, h in COLLECTION_COLUMNS)
    rows = []
    for s in summary:
        cells = "".join(f'<td data-field="{_field(k)}">{_fmt(s[k])}</td>' for k, _ in COLLECTION_COLUMNS)
        tag = "<b>all</b>" if s["collection"] == "all" else _e(s["collection"])
        rows.append(f'<tr data-collection="{_e(s["collection"])}"><td class="t">{tag}</td>{cells}</tr>')
    return f'<table id="collections"><tr>{head}</tr>{"".join(rows)}</table>'


def status_bars(summary: list[dict]) -> str:
    """One stacked bar per collection: its books by status."""
    width, label_w, row_h = 460, 170, 24
    parts = []
    for i, s in enumerate(summary):
        y, x = i * row_h, float(label_w)
        parts.append(f'<text x="0" y="{y + 16}">{_e(s["collection"])}</text>')
        for status in STATUSES:
            n = s[status]
            if not n:
                continue
            w = width * n / max(s["books"], 1)
            parts.append(f'<rect x="{x:.1f}" y="{y + 4}" width="{w:.1f}" height="16" fill="{COLORS[status]}">'
                         f'<title>{_e(s["collection"])}: {n} {status}</title></rect>')
            x += w
        parts.append(f'<text x="{label_w + width + 6}" y="{y + 16}">{s["books"]} book{"s" * (s["books"] != 1)}'
                     '</text>')
    legend = "".join(f'<span><i style="background:{COLORS[s]}"></i>{s}</span>' for s in STATUSES)
    svg = (f'<svg id="status-bars" width="{label_w + width + 90}" height="{len(summary) * row_h + 6}" '
           f'font-size="13" role="img">{"".join(parts)}</svg>')
    return f'{svg}<div class="legend">{legend}</div>'


def column_chart(chart_id: str, items: list[tuple[str, int]], unit: str, highlight=lambda label: False) -> str:
    """Vertical bars, one per (label, count); the count is written above each bar."""
    if not items:
        return f'<p id="{chart_id}">No data yet.</p>'
    top = max(n for _, n in items) or 1
    step = max(22, min(60, 640 // len(items)))
    chart_h, base = 160, 190
    parts = []
    for i, (label, n) in enumerate(items):
        h = chart_h * n / top
        x = 40 + i * step
        color = "#c0392b" if highlight(label) else "#4a7bb7"
        parts.append(f'<rect x="{x}" y="{base - h:.1f}" width="{step - 4}" height="{h:.1f}" fill="{color}">'
                     f'<title>{_e(label)}: {n} {unit}</title></rect>'
                     f'<text x="{x + (step - 4) / 2:.1f}" y="{base - h - 3:.1f}" text-anchor="middle">{n}</text>'
                     f'<text x="{x + (step - 4) / 2:.1f}" y="{base + 14}" text-anchor="end" font-size="10" '
                     f'transform="rotate(-40 {x + (step - 4) / 2:.1f} {base + 14})">{_e(label)}</text>')
    axis = f'<line x1="36" y1="{base}" x2="{40 + len(items) * step}" y2="{base}" stroke="#555"/>'
    return (f'<svg id="{chart_id}" width="{60 + len(items) * step}" height="{base + 70}" font-size="11" '
            f'role="img">{axis}{"".join(parts)}</svg>')


def _table_of(pages) -> pa.Table | None:
    if pages is None:
        return None
    if isinstance(pages, pa.Table):
        return pages
    rows = list(pages)
    return pa.Table.from_pylist(rows) if rows else None


def pages_per_day(ledger_rows: list[dict], pages: pa.Table | None) -> tuple[list[tuple[str, int]], str]:
    """Pages read per day: from the pages' own `read_at` where recorded, else each
    book's pages on the day of the run that last read it."""
    if pages is not None and "read_at" in pages.column_names:
        real = pages.filter(pc.and_(pc.greater(pages["page"], 0), pc.is_valid(pages["read_at"])))
        days = Counter(str(v)[:10] for v in real["read_at"].to_pylist())
        how = "pages read per day"
    else:
        days = Counter()
        for r in ledger_rows:
            if r.get("last_run") and r.get("pages_total"):
                days[r["last_run"][:10]] += r["pages_total"]
        how = "pages per day of the run that last read each book (pages do not record their own read time)"
    items = sorted(days.items())
    if len(items) > 60:  # years of work: by month
        months = Counter()
        for day, n in items:
            months[day[:7]] += n
        items = sorted(months.items())
        how += ", by month"
    return items, how


def confidence_histogram(pages: pa.Table | None) -> list[tuple[str, int]]:
    """OCR'd pages by mean word confidence, in bins of ten points."""
    if pages is None or pages.num_rows == 0 or "confidence" not in pages.column_names:
        return []
    t = current_page_rows(pages.select([c for c in ("book_id", "page", "method", "confidence", "error", "config_hash")
                                        if c in pages.column_names]))
    ocr = t.filter(pc.and_(pc.and_(pc.greater(t["page"], 0), pc.is_null(t["error"])),
                           pc.and_(is_ocr(t["method"]), pc.is_valid(t["confidence"]))))
    if ocr.num_rows == 0:
        return []
    bins = pc.min_element_wise(pc.floor(pc.divide(pc.cast(ocr["confidence"], pa.float64()), 10.0)), 9.0)
    counts = Counter(int(b) for b in pc.max_element_wise(bins, 0.0).to_pylist())
    return [(f"{b * 10}–{b * 10 + 10}", counts.get(b, 0)) for b in range(10)]


def page_errors(pages: pa.Table | None, limit: int = 20) -> list[tuple[str, int, int]]:
    """(error, pages, books) for the pages that could not be read, most frequent first."""
    if pages is None or pages.num_rows == 0 or "error" not in pages.column_names:
        return []
    t = current_page_rows(pages.select([c for c in ("book_id", "page", "method", "confidence", "error", "config_hash")
                                        if c in pages.column_names]))
    failed = t.filter(pc.and_(pc.is_valid(t["error"]), pc.greater(t["page"], 0)))  # whole-file errors: Failures
    n_pages, books = Counter(), {}
    for book_id, error in zip(failed["book_id"].to_pylist(), failed["error"].to_pylist()):
        key = error if len(error) <= 160 else error[:157] + "…"
        n_pages[key] += 1
        books.setdefault(key, set()).add(book_id)
    return [(e, n, len(books[e])) for e, n in n_pages.most_common(limit)]


def render_library_section(ledger_rows: list[dict], pages_rows=None, low_confidence: float = 60.0) -> str:
    """Ledger rows (+ page rows, a table or dicts, for the confidence histogram and
    page errors) → an HTML fragment for report.html, between library:start/end marks."""
    pages = _table_of(pages_rows)
    summary = collection_summary(ledger_rows)
    total = summary[-1]
    days, days_how = pages_per_day(ledger_rows, pages)
    histogram = confidence_histogram(pages)
    failures = [r for r in ledger_rows if r.get("status") in ("failed", "rejected")]
    waiting = [r for r in ledger_rows if r.get("status") != "in corpus"]
    errors = page_errors(pages)
    to_check = [r for r in ledger_rows if r.get("language_warning") or r.get("file_warning")]

    def book_row(r: dict) -> list:
        return [r["book_id"], r.get("title"), collection_of(r), r.get("language"), r.get("pages_total") or 0,
                r.get("status"), r.get("status_detail")]

    totals = (f'<p id="library-totals"><b data-field="books">{total["books"]}</b> books '
              f'({sum(1 for r in ledger_rows if r.get("catalogued"))} catalogued): '
              + ", ".join(f'<span data-field="{_field(s)}">{total[s]}</span> {s}' for s in STATUSES)
              + f'. <b data-field="pages-total">{total["pages_total"]}</b> pages scanned: '
              f'<span data-field="pages-textlayer">{total["pages_textlayer"]}</span> from the text layer, '
              f'<span data-field="pages-ocr">{total["pages_ocr"]}</span> OCR\'d, '
              f'<span data-field="pages-failed">{total["pages_failed"]}</span> failed; mean OCR confidence '
              f'<span data-field="mean-confidence">{_fmt(total["mean_confidence"])}</span>, '
              f'<span data-field="low-confidence-pages">{total["low_confidence_pages"]}</span> OCR\'d pages below '
              f'{low_confidence:g}.</p>')
    low_bins = {label for label, _ in histogram if int(label.split("–")[1]) <= low_confidence}
    return f"""{START}
<section id="library">{STYLE}
<h2>Digitization (library books)</h2>
{totals}
<h3>Progress per collection</h3>
{collections_table(summary)}
{status_bars(summary[:-1])}
<h3>Pages per day</h3>
<p>{_e(days_how)}.</p>
{column_chart("pages-per-day", days, "pages")}
<h3>OCR confidence</h3>
<p>OCR'd pages by mean word confidence (0–100); bins below {low_confidence:g} in red.</p>
{column_chart("confidence-histogram", histogram, "pages", highlight=lambda label: label in low_bins)}
<h3>Failures</h3>
{_table("failures", ["book", "title", "collection", "language", "pages", "status", "why"],
        [book_row(r) for r in failures[:MAX_ROWS]], len(failures)) if failures else '<p id="failures">None.</p>'}
<h4>Pages that could not be read</h4>
{_table("page-errors", ["reason", "pages", "books"], [list(e) for e in errors]) if errors
 else '<p id="page-errors">None.</p>'}
<h3>Catalog and scans to check</h3>
{_table("to-check", ["book", "title", "catalog language", "language warning", "file warning"],
        [[r["book_id"], r.get("title"), r.get("language"), r.get("language_warning"), r.get("file_warning")]
         for r in to_check[:MAX_ROWS]], len(to_check)) if to_check else '<p id="to-check">None.</p>'}
<h3>Books not yet in the corpus</h3>
{_table("not-in-corpus", ["book", "title", "collection", "language", "pages", "status", "why"],
        [book_row(r) for r in waiting[:MAX_ROWS]], len(waiting)) if waiting else '<p id="not-in-corpus">None.</p>'}
</section>
{END}"""


def insert_library_section(page: str, section: str) -> str:
    """report.html with the library section in it: replaces an earlier one, else goes
    before </body> (so the curation part of the page stays as report.py wrote it)."""
    if START in page and END in page:
        before, rest = page.split(START, 1)
        return before + section + rest.split(END, 1)[1]
    at = page.rfind("</body>")
    return page[:at] + section + "\n" + page[at:] if at >= 0 else page + section


def standalone_page(section: str, output: str) -> str:
    """report.html before any build finished its report: only the library section."""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>qazflow digitization</title>
<style>body{{font-family:sans-serif;margin:2em}}</style></head>
<body><h1>qazflow digitization</h1>
<p>Output <code>{_e(output)}</code>; no build has finished its report here yet.</p>
{section}
</body></html>
"""
