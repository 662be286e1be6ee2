"""DjVu books, read with Debian's djvulibre tools (package djvulibre-bin).

Scanned books of the Russian- and Kazakh-speaking internet and of many digital libraries
come as DjVu, often with a hidden OCR text layer (FineReader's). A DjVu book is read as a
PDF is: each page's hidden text where it is legible (routing.py), else the page rendered
at `ocr.dpi` for OCR. The tools run as subprocesses on a temporary copy of the file (the
book may come from S3), each with a timeout; whatever they refuse is a `ValueError`
saying what, so one bad file or page costs itself only.

A bundled document is one file; an indirect one (an index naming page files beside it)
cannot be read from its bytes and is refused with the command that bundles it.
"""
from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator

from PIL import Image

from operators.books.pdf import FILE_ROW, failure, page_row
from operators.books.render import DEFAULT_MAX_PIXELS
from operators.books.routing import text_layer_verdict

DJVU_SUFFIXES = (".djvu", ".djv")
TOOLS = ("djvused", "djvutxt", "ddjvu")
TIMEOUT_S = 120  # one call: the page count, one page's text or image
# djvused's dump of a page: "INFO [10]  DjVu 2480x3508, v24, 300 dpi, gamma=2.2"
_PAGE_INFO = re.compile(rb"INFO \[\d+\]\s+DjVu (\d+)x(\d+), v\d+, (\d+) dpi")
_TOOL_NOISE = re.compile(r"^[*\s]*(?:\[[\d-]+\]\s*)?")  # "*** [1-12311] Failed to open ..."


def _run(args: list[str], timeout_s: float) -> bytes:
    """The tool's output; a ValueError with its first complaint when it fails."""
    try:
        done = subprocess.run(args, capture_output=True, timeout=timeout_s, check=False)
    except subprocess.TimeoutExpired:
        raise ValueError(f"{args[0]} took longer than {timeout_s:.0f} s") from None
    if done.returncode != 0:
        said = [_TOOL_NOISE.sub("", line) for line in done.stderr.decode("utf-8", "replace").splitlines()]
        said = [line for line in said if line]
        raise ValueError(f"{args[0]} failed ({done.returncode}): {said[0] if said else 'no message'}")
    return done.stdout


def is_indirect(data: bytes) -> bool:
    """A multi-page document whose directory (DIRM) says its pages are separate files."""
    return data[:4] == b"AT&T" and data[4:8] == b"FORM" and data[12:16] == b"DJVM" and data[16:20] == b"DIRM" \
        and len(data) > 24 and not data[24] & 0x80


class DjvuBook:
    """One DjVu file given as bytes: its page count, pages' hidden text and images.

    The page count is the document's directory's; a page lost to damage fails on its own
    when its text or image is asked for, so the pages before it are still read."""

    def __init__(self, data: bytes, max_pixels: int = DEFAULT_MAX_PIXELS, timeout_s: float = TIMEOUT_S):
        if missing := [tool for tool in TOOLS if shutil.which(tool) is None]:
            raise ValueError(f"reading DjVu needs djvulibre-bin ({', '.join(missing)} not found)")
        if is_indirect(data):
            raise ValueError("indirect DjVu (its pages are separate files): bundle it first, "
                             "`djvmcvt -b index.djvu book.djvu`")
        self.max_pixels, self.timeout_s = max_pixels, timeout_s
        handle, self.path = tempfile.mkstemp(suffix=".djvu")
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(data)
            count = _run(["djvused", self.path, "-e", "n"], timeout_s).strip()
            self.page_count = int(count) if count.isdigit() else 0
            if self.page_count < 1:
                raise ValueError(f"no page count in the file (djvused said {count[:40]!r})")
        except BaseException:
            self.close()
            raise

    def _check(self, page_no: int) -> None:
        if not 1 <= page_no <= self.page_count:
            raise ValueError(f"page {page_no} outside 1..{self.page_count}")

    def text(self, page_no: int) -> str:
        """The page's hidden text layer ("" when it has none)."""
        self._check(page_no)
        return _run(["djvutxt", f"--page={page_no}", self.path], self.timeout_s).decode("utf-8", "replace")

    def size(self, page_no: int) -> tuple[int, int, int]:
        """(width, height, dpi) of the page as stored."""
        self._check(page_no)
        found = _PAGE_INFO.search(_run(["djvused", self.path, "-e", f"select {page_no}; dump"], self.timeout_s))
        if found is None:
            raise ValueError(f"page {page_no} has no page header")
        return tuple(map(int, found.groups()))

    def render(self, page_no: int, dpi: int) -> Image.Image:
        """Page `page_no` (1-based) as an 8-bit grayscale image at `dpi`, refused before
        decoding when it would exceed max_pixels."""
        width, height, own_dpi = self.size(page_no)
        scale = dpi / max(own_dpi, 1)
        pixels = round(width * scale) * round(height * scale)
        if pixels > self.max_pixels:
            raise ValueError(f"page {page_no} at {dpi} dpi would be {round(width * scale)}×{round(height * scale)} "
                             f"= {pixels:,} pixels > max_pixels={self.max_pixels:,}")
        data = _run(["ddjvu", "-format=pgm", f"-page={page_no}", f"-scale={dpi}", self.path, "-"], self.timeout_s)
        try:
            image = Image.open(io.BytesIO(data))
            image.load()
        except Exception as exc:
            raise ValueError(f"ddjvu gave no readable image for page {page_no}: {exc}") from exc
        image = image.convert("L")
        image.info["dpi"] = (dpi, dpi)
        return image

    def close(self) -> None:
        try:
            os.remove(self.path)
        except OSError:
            pass

    def __enter__(self) -> DjvuBook:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


class DjvuTextLayer:
    """Yields one page row per page of a DjVu file given as bytes, routed as PdfTextLayer
    routes a PDF's: legible hidden text → `method="textlayer"`, else `method="none"` for
    OCR. A file that cannot be opened is one page-0 error row; a page that cannot be read
    is that page's error row."""

    def __init__(self, max_pages: int = 2000, timeout_s: float = TIMEOUT_S, **legibility):
        self.max_pages, self.timeout_s = max_pages, timeout_s
        self.legibility = legibility

    def __call__(self, book_id: str, uri: str, data: bytes) -> Iterator[dict]:
        try:
            book = DjvuBook(data, timeout_s=self.timeout_s)
        except ValueError as exc:
            yield page_row(book_id, FILE_ROW, uri, "none", error=f"cannot open DjVu: {exc}")
            return
        with book:
            if book.page_count > self.max_pages:
                yield page_row(book_id, FILE_ROW, uri, "none", error=f"{book.page_count} pages > max_pages={self.max_pages}")
                return
            for page in range(1, book.page_count + 1):
                started = time.perf_counter()
                try:
                    text = book.text(page)
                    legible, why = text_layer_verdict(text, **self.legibility)
                except Exception as exc:  # one page the tools refuse costs that page only
                    yield page_row(book_id, page, uri, "none", error=f"cannot read page: {failure(exc)}")
                    continue
                yield page_row(book_id, page, uri, "textlayer" if legible else "none", route_reason=why,
                               text=text if legible else None, seconds=time.perf_counter() - started)
