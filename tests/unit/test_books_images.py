"""Page images: PDF pages rendered for OCR and scans given as TIFF/PNG/JPEG files (no Ray)."""
import io
import struct
import zlib

import numpy as np
import pymupdf
import pytest
from PIL import Image

from operators.books.images import image_pages, load_image_page, natural_page_order
from operators.books.render import PdfPageRenderer, render_pdf_page


def blank_pdf(width: float = 595, height: float = 842) -> bytes:
    doc = pymupdf.open()
    doc.new_page(width=width, height=height)
    return doc.tobytes()


def png_header(width: int, height: int) -> bytes:
    """A PNG that only claims a size: signature, IHDR, an empty IDAT and IEND, no pixels."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit grayscale
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", b"") + chunk(b"IEND", b"")


def tiff(frames: list[Image.Image]) -> bytes:
    out = io.BytesIO()
    frames[0].save(out, "TIFF", save_all=True, append_images=frames[1:], dpi=(300, 300))
    return out.getvalue()


def test_scanned_sample_page_renders_as_grayscale_at_the_asked_dpi(samples):
    data = (samples / "books" / "scanned_kk.pdf").read_bytes()
    with PdfPageRenderer(data) as renderer:
        assert renderer.page_count == 2
        first, second = renderer.render(1, 300), renderer.render(2, 150)
    assert first.mode == "L" and first.size == (1750, 2480) and first.info["dpi"] == (300, 300)
    assert second.size == (875, 1240)
    assert np.asarray(first).min() < 64  # there is ink on the page
    assert render_pdf_page(data, 1, 300).tobytes() == first.tobytes()


def test_render_refuses_pages_too_large_before_rendering():
    poster = blank_pdf(14400, 14400)  # 200 inches square: the largest page PDF allows
    with pytest.raises(ValueError, match=r"60000×60000 = 3,600,000,000 pixels > max_pixels"):
        render_pdf_page(poster, 1, dpi=300)
    with pytest.raises(ValueError, match=r"> max_pixels=1,000$"):
        render_pdf_page(blank_pdf(), 1, dpi=300, max_pixels=1000)


def test_render_errors_are_value_errors():
    with pytest.raises(ValueError, match="cannot open PDF"):
        render_pdf_page(b"%PDF-1.7\n" + bytes(range(256)) * 8, 1)
    with pytest.raises(ValueError, match=r"page 3 outside 1\.\.1"):
        render_pdf_page(blank_pdf(), 3)


def test_multi_page_tiff_frames_are_counted_and_read_one_by_one():
    shades = [0, 128, 255]
    data = tiff([Image.new("L", (40, 60), shade) for shade in shades])
    assert image_pages(data) == 3
    for index, shade in enumerate(shades):
        page = load_image_page(data, index)
        assert page.mode == "L" and page.size == (40, 60) and page.getpixel((5, 5)) == shade
    with pytest.raises(ValueError, match=r"frame 3 outside 0\.\.2"):
        load_image_page(data, 3)


def test_colour_and_16_bit_scans_become_8_bit_grayscale():
    colour = io.BytesIO()
    Image.new("RGB", (30, 20), (255, 255, 255)).save(colour, "JPEG")
    assert image_pages(colour.getvalue()) == 1
    assert load_image_page(colour.getvalue()).getpixel((3, 3)) > 250

    # Pillow alone would clip 16-bit samples to 255: the page would turn white.
    deep = tiff([Image.fromarray(np.full((20, 30), 0x8000, dtype=np.uint16))])
    page = load_image_page(deep)
    assert page.mode == "L" and page.getpixel((3, 3)) == 0x80 and page.info["dpi"] == (300, 300)


def test_oversized_headers_are_refused_before_decoding():
    with pytest.raises(ValueError, match=r"frame 0 is 5000×5000 = 25,000,000 pixels > max_pixels=1,000,000"):
        load_image_page(png_header(5000, 5000), max_pixels=1_000_000)
    # 2.5 billion pixels also trips Pillow's own limit when the file is opened
    with pytest.raises(ValueError, match=r"refused before decoding.*2500000000 pixels"):
        load_image_page(png_header(50000, 50000))


def test_truncated_tiff_is_a_clear_value_error():
    page = tiff([Image.new("L", (200, 200), 90)])
    with pytest.raises(ValueError, match="corrupt or truncated image data in frame 0: image file is truncated"):
        load_image_page(page[: int(len(page) * 0.9)])
    book = tiff([Image.new("L", (200, 200), 90), Image.new("L", (200, 200), 30)])
    with pytest.raises(ValueError, match="corrupt frame directory"):  # frame 2's header lies past the cut
        image_pages(book[: len(book) // 2])


def test_not_an_image_is_a_clear_value_error():
    with pytest.raises(ValueError, match="not a readable image"):
        image_pages(b"%PDF-1.7 this is no picture")


def test_page_files_sort_as_people_number_them():
    names = ["scan/page10.png", "scan/Page2.png", "scan/page1.png", "scan/page1b.png", "scan/cover.jpg"]
    assert natural_page_order(names) == ["scan/cover.jpg", "scan/page1.png", "scan/page1b.png",
                                         "scan/Page2.png", "scan/page10.png"]
