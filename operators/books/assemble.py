"""Book assembly: page texts in reading order → one document.

Running headers and footers and page numbers are removed, words hyphenated across line
and page breaks are rejoined, and lines are rebuilt into paragraphs. `page_offsets[i]`
is where page i+1 starts in the assembled text, so a passage can be traced to its page.
"""
from __future__ import annotations

import re
import statistics
from collections import Counter

from operators.documents import error_document, new_document

SOURCE = "book"
_PAGE_NUMBER = re.compile(r"^[\s\-–—]*(\d{1,4}|[ivxlcdm]{1,7})[\s\-–—]*(бет|стр\.?|page|p\.)?[\s\-–—]*$", re.IGNORECASE)
_DIGITS = re.compile(r"\d+")
_END_OF_SENTENCE = tuple(".!?:;…»\"”)")
_HYPHENS = ("-", "\u00ad", "‐")


def _marginal_key(line: str) -> str:
    return _DIGITS.sub("#", line.strip().casefold())


def _running_lines(pages: list[list[str]], depth: int = 2) -> set[str]:
    """Lines that recur at the top or bottom of at least half the pages (min 3 pages)."""
    if len(pages) < 3:
        return set()
    counts = Counter()
    for lines in pages:
        counts.update({_marginal_key(line) for line in lines[:depth] + lines[-depth:]})
    needed = max(2, len(pages) // 2)
    return {key for key, n in counts.items() if n >= needed and key}


def _strip_margins(lines: list[str], running: set[str], depth: int = 2) -> list[str]:
    def marginal(i: int, line: str) -> bool:
        at_edge = i < depth or i >= len(lines) - depth
        return at_edge and (_marginal_key(line) in running or bool(_PAGE_NUMBER.match(line)))

    return [line for i, line in enumerate(lines) if not marginal(i, line)]


def _join(paragraph: str, line: str) -> str:
    """Rejoins a word split by a hyphen at the end of a line when the next line goes on in lowercase."""
    if paragraph.endswith(_HYPHENS) and len(paragraph) > 1 and paragraph[-2].isalpha() and line[:1].islower():
        return paragraph[:-1] + line
    return f"{paragraph} {line}" if paragraph else line


def assemble_text(page_texts: list[str | None]) -> tuple[str, list[int]]:
    pages = [[ln.strip() for ln in (t or "").splitlines() if ln.strip()] for t in page_texts]
    running = _running_lines([p for p in pages if p])
    pages = [_strip_margins(lines, running) for lines in pages]
    lengths = [len(line) for lines in pages for line in lines]
    full_line = statistics.median(lengths) if lengths else 0

    paragraphs: list[str] = []
    current, previous = "", ""
    page_starts: list[tuple[int, int]] = []  # (paragraph index, char offset within it)
    for lines in pages:
        for i, line in enumerate(lines):
            # A short line ends its paragraph when it ends a sentence or the next line
            # starts a new one (headings, title pages); a full-width line runs on.
            if current and len(previous) < 0.8 * full_line and (
                previous.endswith(_END_OF_SENTENCE) or line[:1].isupper() or line[:1].isdigit()
            ):
                paragraphs.append(current)
                current = ""
            if i == 0:
                page_starts.append((len(paragraphs), len(current) + (1 if current else 0)))
            current = _join(current, line)
            previous = line
        if not lines:
            page_starts.append((len(paragraphs), len(current)))
    if current:
        paragraphs.append(current)

    text = "\n\n".join(paragraphs)
    starts = [0]
    for p in paragraphs:
        starts.append(starts[-1] + len(p) + 2)
    offsets = [min(starts[i] + off, len(text)) if i < len(paragraphs) else len(text) for i, off in page_starts]
    return text, offsets


def _why_unread(page: dict) -> str:
    """Why a page gave no text: its error; OCR that found none (a photograph, a blank page:
    the routing reason only says why it was OCR'd); or why it was not OCR'd."""
    if page["error"]:
        return page["error"]
    if page.get("method") not in (None, "none", "textlayer"):
        return f"{page['method']} read no text (sent to OCR: {page['route_reason']})"
    return page["route_reason"] or "no text"


class BookAssembly:
    """All page rows of one book → its document row (rejected when no page has text)."""

    name = "BookAssembly"

    def __call__(self, book_id: str, uri: str, pages: list[dict], title: str | None = None) -> dict:
        try:
            return self._assemble(book_id, uri, pages, title)
        except Exception as exc:  # one book's surprise (a page row of the wrong shape, a bug) costs that book only
            return error_document(SOURCE, uri, book_id, self.name, f"cannot assemble: {type(exc).__name__}: {exc}",
                                  title=title, book_id=book_id)

    def _assemble(self, book_id: str, uri: str, pages: list[dict], title: str | None) -> dict:
        pages = sorted(pages, key=lambda p: p["page"])
        real = [p for p in pages if p["page"] > 0]
        columns = {"book_id": book_id, "n_pages": len(real)}
        if not real:
            errors = "; ".join(p["error"] or "no pages" for p in pages) or "no pages"
            return error_document(SOURCE, uri, book_id, self.name, errors, title=title, **columns)
        text, offsets = assemble_text([p["text"] for p in real])
        confidences = [p["confidence"] for p in real if p.get("confidence") is not None]
        columns["ocr_confidence"] = sum(confidences) / len(confidences) if confidences else None
        columns["page_offsets"] = offsets
        if not text:
            unread = Counter(_why_unread(p) for p in real)
            detail = "no readable page: " + "; ".join(f"{n} page(s): {why}" for why, n in unread.most_common())
            return error_document(SOURCE, uri, book_id, self.name, detail, title=title, **columns)
        return new_document(SOURCE, uri, book_id, text, title, **columns)
