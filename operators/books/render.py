"""PDF pages → grayscale images for OCR, rendered only for the pages that need it.

The size is checked before rendering: a page that claims to be a poster (or a
hostile PDF with a huge MediaBox), or that embeds an image claiming more pixels than
`max_pixels`, is refused instead of filling the worker's memory.
"""
from __future__ import annotations

import pymupdf
from PIL import Image

DEFAULT_MAX_PIXELS = 80_000_000  # an A4 page is 8.7 Mpx at 300 dpi, 35 Mpx at 600 dpi


class PdfPageRenderer:
    """Renders pages of one book, opening the PDF once for all of them."""

    def __init__(self, pdf_bytes: bytes, max_pixels: int = DEFAULT_MAX_PIXELS):
        try:
            self._doc = pymupdf.open(stream=pdf_bytes, filetype="pdf")
        except Exception as exc:  # pymupdf raises FileDataError, RuntimeError, ...
            raise ValueError(f"cannot open PDF: {exc}") from exc
        if self._doc.needs_pass:
            self._doc.close()
            raise ValueError("encrypted PDF (password required)")
        self.max_pixels = max_pixels

    @property
    def page_count(self) -> int:
        return self._doc.page_count

    def render(self, page_no: int, dpi: int) -> Image.Image:
        """Page `page_no` (1-based) as an 8-bit grayscale image whose `info["dpi"]` is `dpi`."""
        if not 1 <= page_no <= self.page_count:
            raise ValueError(f"page {page_no} outside 1..{self.page_count}")
        page = self._doc[page_no - 1]
        zoom = dpi / 72  # PDF user space is in points, 72 per inch
        size = (page.rect * pymupdf.Matrix(zoom, zoom)).irect  # what get_pixmap would allocate
        if size.width * size.height > self.max_pixels:
            raise ValueError(f"page {page_no} at {dpi} dpi would be {size.width}×{size.height} = "
                             f"{size.width * size.height:,} pixels > max_pixels={self.max_pixels:,}")
        # MuPDF decodes an embedded image at its full claimed size, whatever the page size:
        # a few bytes that claim 50 000 × 50 000 pixels would ask for 2.5 GB.
        for image in page.get_images(full=True):
            width, height = image[2], image[3]
            if width * height > self.max_pixels:
                raise ValueError(f"page {page_no} embeds an image of {width}×{height} = {width * height:,} pixels "
                                 f"> max_pixels={self.max_pixels:,}")
        pix = page.get_pixmap(dpi=dpi, colorspace=pymupdf.csGRAY, alpha=False)
        image = Image.frombytes("L", (pix.width, pix.height), pix.samples, "raw", "L", pix.stride)
        # MuPDF keeps each decoded scan in its resource store (up to 256 MB per process) in
        # case the page is drawn again; an OCR worker draws a page once, so the cache only
        # grew the worker (books_scale.py: 469 → 697 MB per OCR actor from 40 to 160 pages).
        pymupdf.TOOLS.store_shrink(100)
        image.info["dpi"] = (dpi, dpi)
        return image

    def close(self) -> None:
        self._doc.close()

    def __enter__(self) -> PdfPageRenderer:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def render_pdf_page(pdf_bytes: bytes, page_no: int, dpi: int = 300,
                    max_pixels: int = DEFAULT_MAX_PIXELS) -> Image.Image:
    """One page; for several pages of a book use `PdfPageRenderer` (opens the PDF once)."""
    with PdfPageRenderer(pdf_bytes, max_pixels) as renderer:
        return renderer.render(page_no, dpi)
