"""Reading a PDF page by page: the text layer where it is legible, else a page for OCR."""
from __future__ import annotations

import time
from collections.abc import Iterator

from operators.books.routing import text_layer_verdict


def page_row(book_id: str, page: int, uri: str, method: str, **columns) -> dict:
    row = {"book_id": book_id, "page": page, "uri": uri, "method": method, "route_reason": None, "text": None,
           "confidence": None, "dpi": None, "engine": None, "config_hash": None, "seconds": None, "error": None}
    row.update(columns)
    return row


class PdfTextLayer:
    """Yields one page row per page of a PDF given as bytes.

    Pages with a legible text layer get `method="textlayer"`; the others get
    `method="none"` and the routing reason, so an OCR step can pick them up. A PDF that
    cannot be opened yields one row for page 0 carrying the error.
    """

    def __init__(self, max_pages: int = 2000, **legibility):
        self.max_pages = max_pages
        self.legibility = legibility

    def __call__(self, book_id: str, uri: str, data: bytes) -> Iterator[dict]:
        import pymupdf

        try:
            doc = pymupdf.open(stream=data, filetype="pdf")
        except Exception as exc:  # pymupdf raises its own FileDataError, RuntimeError, ...
            yield page_row(book_id, 0, uri, "none", error=f"cannot open PDF: {exc}")
            return
        with doc:
            if doc.needs_pass:
                yield page_row(book_id, 0, uri, "none", error="encrypted PDF (password required)")
                return
            if doc.page_count == 0:
                yield page_row(book_id, 0, uri, "none", error="PDF has no pages")
                return
            if doc.page_count > self.max_pages:
                yield page_row(book_id, 0, uri, "none", error=f"{doc.page_count} pages > max_pages={self.max_pages}")
                return
            for index in range(doc.page_count):
                started = time.perf_counter()
                try:
                    text = doc[index].get_text("text", sort=True)
                except Exception as exc:
                    yield page_row(book_id, index + 1, uri, "none", error=f"cannot read page: {exc}")
                    continue
                legible, why = text_layer_verdict(text, **self.legibility)
                yield page_row(book_id, index + 1, uri, "textlayer" if legible else "none", route_reason=why,
                               text=text if legible else None, seconds=time.perf_counter() - started)
