"""Reading a PDF page by page: the text layer where it is legible, else a page for OCR."""
from __future__ import annotations

import time
from collections.abc import Iterator

from operators.books.routing import text_layer_verdict

# A page-0 row describes the file, not a page: with `error` set the file could not be
# read at all; with only `route_reason` set it was read but is damaged (the ledger's
# `file_warning`), e.g. "repaired: 7 of 12 pages recovered".
FILE_ROW = 0


# PyMuPDF's infinite rectangle bounds (fz_infinite_rect): a word box touching them takes
# another branch of its rectangle union, so such a page is left to PyMuPDF itself.
_INFINITE = (-0x80000000, 0x7fffff80)


def sorted_page_text(page, tolerance: float = 3) -> str:
    """`page.get_text("text", sort=True)`, the same string, in a fifth of the time.

    PyMuPDF extracts the words in C, then puts them in reading order in Python with a
    `Rect` object (and two C calls) for every word and every union of boxes: four fifths
    of a born-digital page's time. This is that same algorithm (pymupdf/utils.py
    `get_text_words(sort=True)` + `get_sorted_text`, PyMuPDF 1.24-2.0) on plain float
    tuples. Word boxes are float32 values, so min/max unions are exact; a page with an
    empty or infinite word box (other union rules) is handed to PyMuPDF. The unit tests
    compare the two on varied pages, so a PyMuPDF release that changes its algorithm shows.
    """
    import pymupdf

    words = page.get_textpage(flags=pymupdf.TEXTFLAGS_TEXT).extractWORDS()
    if not words:
        return ""
    for x0, y0, x1, y1, *_ in words:
        if x0 >= x1 or y0 >= y1 or x0 in _INFINITE or y0 in _INFINITE:
            return page.get_text("text", sort=True)
    # get_text_words(sort=True): rows of words, each row left to right; get_sorted_text: the
    # same grouping again over those words, now with each line's full box.
    words.sort(key=lambda w: (w[3], w[0]))
    ordered = [w for row, _, _ in _rows(words, tolerance) for w in sorted(row, key=lambda w: w[0])]
    left = min(w[0] for w in ordered)
    lines = [(y0, y1, _line_text(left, line)) for line, y0, y1 in _rows(ordered, tolerance)]
    lines.sort(key=lambda line: line[1])
    parts = [lines[0][2]]
    bottom = lines[0][1]
    for top, y1, text in lines[1:]:
        distance = min(int(round((top - bottom) / (y1 - top))), 5)
        parts.append("\n" * (distance + 1))
        parts.append(text)
        bottom = y1
    return "".join(parts)


def _rows(words: list, tolerance: float):
    """Runs of consecutive words whose top or bottom lies within `tolerance` of the run's
    box so far: (words, top, bottom) per run."""
    row, y0, y1 = [words[0]], words[0][1], words[0][3]
    for w in words[1:]:
        if abs(w[1] - y0) <= tolerance or abs(w[3] - y1) <= tolerance:
            row.append(w)
            y0, y1 = min(y0, w[1]), max(y1, w[3])
        else:
            yield row, y0, y1
            row, y0, y1 = [w], w[1], w[3]
    yield row, y0, y1


def _line_text(left: float, line: list) -> str:
    """One line's words left to right, a gap as many spaces as characters would fill it."""
    line.sort(key=lambda w: w[0])
    parts, end = [], left
    for x0, _, x1, _, text, *_ in line:
        gap = max(int(round((x0 - end) / (x1 - x0) * len(text))), 0 if (end == left or x0 <= end) else 1)
        parts.append(" " * gap + text)
        end = x1
    return "".join(parts)


def page_row(book_id: str, page: int, uri: str, method: str, **columns) -> dict:
    row = {"book_id": book_id, "page": page, "uri": uri, "method": method, "route_reason": None, "text": None,
           "confidence": None, "dpi": None, "engine": None, "config_hash": None, "seconds": None, "error": None}
    row.update(columns)
    return row


def failure(exc: BaseException) -> str:
    """An exception as a reason a person can act on: its type and its message."""
    return f"{type(exc).__name__}: {exc}"


def declared_page_count(doc) -> int | None:
    """The page count the file itself states (/Root /Pages /Count), None when unreadable.

    MuPDF's `page_count` comes from the same entry, but a repaired file may have lost
    the objects it points to: comparing it with the pages that load says how many."""
    try:
        kind, value = doc.xref_get_key(doc.pdf_catalog(), "Pages")
        if kind != "xref":
            return None
        kind, count = doc.xref_get_key(int(value.split()[0]), "Count")
        return int(count) if kind == "int" else None
    except Exception:  # a catalog or page tree lost to the damage
        return None


def file_warning(repaired: bool, declared: int | None, recovered: int) -> str | None:
    if declared is not None and (repaired or recovered < declared):
        return f"{'repaired' if repaired else 'damaged'}: {recovered} of {declared} pages recovered"
    return "repaired by MuPDF" if repaired else None


class PdfTextLayer:
    """Yields one page row per page of a PDF given as bytes.

    Pages with a legible text layer get `method="textlayer"`; the others get
    `method="none"` and the routing reason, so an OCR step can pick them up. A PDF that
    cannot be opened yields one row for page 0 carrying the error; a PDF that MuPDF had
    to repair (truncated, broken cross-reference table) also yields a page-0 row, whose
    `route_reason` says so and how many of the declared pages were recovered.
    """

    def __init__(self, max_pages: int = 2000, **legibility):
        self.max_pages = max_pages
        self.legibility = legibility

    def __call__(self, book_id: str, uri: str, data: bytes) -> Iterator[dict]:
        import pymupdf

        try:
            doc = pymupdf.open(stream=data, filetype="pdf")
        except Exception as exc:  # pymupdf raises its own FileDataError, RuntimeError, ...
            yield page_row(book_id, FILE_ROW, uri, "none", error=f"cannot open PDF: {exc}")
            return
        with doc:
            if doc.needs_pass:
                yield page_row(book_id, FILE_ROW, uri, "none", error="encrypted PDF (password required)")
                return
            repaired, declared = bool(doc.is_repaired), declared_page_count(doc)
            try:
                n_pages = doc.page_count
            except Exception as exc:  # the page tree itself is lost
                yield page_row(book_id, FILE_ROW, uri, "none", route_reason=file_warning(repaired, declared, 0),
                               error=f"cannot read the page tree: {failure(exc)}")
                return
            if n_pages == 0 or n_pages > self.max_pages:
                error = "PDF has no pages" if n_pages == 0 else f"{n_pages} pages > max_pages={self.max_pages}"
                yield page_row(book_id, FILE_ROW, uri, "none", route_reason=file_warning(repaired, declared, 0)
                               if n_pages == 0 else None, error=error)
                return
            recovered = 0
            for index in range(n_pages):
                started = time.perf_counter()
                try:
                    # MuPDF loads a page whose object was lost to truncation as a blank page;
                    # reading its /Type first raises "bad xref" for it instead.
                    doc.xref_get_key(doc.page_xref(index), "Type")
                    text = sorted_page_text(doc[index])
                except Exception as exc:  # a page object lost to truncation: "bad xref"
                    yield page_row(book_id, index + 1, uri, "none", error=f"cannot read page: {failure(exc)}")
                    continue
                recovered += 1
                try:
                    legible, why = text_layer_verdict(text, **self.legibility)
                except Exception as exc:  # a surprise in one page's text costs that page only
                    yield page_row(book_id, index + 1, uri, "none", error=f"cannot route page: {failure(exc)}")
                    continue
                yield page_row(book_id, index + 1, uri, "textlayer" if legible else "none", route_reason=why,
                               text=text if legible else None, seconds=time.perf_counter() - started)
            # Unrepaired files still lose pages (a Kids entry to a missing object): say so too.
            expected = declared if declared is not None or repaired else n_pages
            if warning := file_warning(repaired, expected, recovered):
                yield page_row(book_id, FILE_ROW, uri, "none", route_reason=warning)
