"""Reading a PDF page by page: the text layer where it is legible, else a page for OCR."""
from __future__ import annotations

import time
from collections.abc import Iterator

from operators.books.routing import text_layer_verdict

# A page-0 row describes the file, not a page: with `error` set the file could not be
# read at all; with only `route_reason` set it was read but is damaged (the ledger's
# `file_warning`), e.g. "repaired: 7 of 12 pages recovered".
FILE_ROW = 0


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
                    text = doc[index].get_text("text", sort=True)
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
