"""DjVu books (operators/books/djvu.py) through djvulibre's real tools: the hidden text
layer where legible, pages rendered for OCR at the asked dpi, and every damaged or foreign
file a row saying what is wrong, never an exception."""
import subprocess

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from operators.books.djvu import DjvuBook, DjvuTextLayer
from operators.books.ocr import TesseractOCR
from tests.djvu_files import djvu_book
from tests.unit.test_books_ocr import PAGES, cer, kazakh_letter_recall, typeset

KK, _ = typeset(PAGES["kk"])
RU, _ = typeset(PAGES["ru"])
LAYER = PAGES["kk"]  # what FineReader would have put under page 1
GARBAGE = "ÿþ ‡‡‡ ¤¤¤ ¦¦ ¬¬¬¬ §§§ ¶¶¶ ×××× ÷÷÷ ¤¤ ‡‡ ¦¦¦ ¬¬ §§ ¶¶ ×× ÷÷"


@pytest.fixture(scope="module")
def book() -> bytes:
    """Page 1 with a legible Kazakh text layer, page 2 without one, page 3 with garbage
    (the invisible layer of a bad old OCR)."""
    return djvu_book([KK, RU, KK], [LAYER, None, GARBAGE], dpi=200)


def rows_of(data: bytes, **options) -> list[dict]:
    return list(DjvuTextLayer(**options)("b", "b.djvu", data))


def test_legible_text_layers_are_read_and_the_other_pages_routed_to_ocr(book):
    rows = rows_of(book)
    assert [(r["page"], r["method"]) for r in rows] == [(1, "textlayer"), (2, "none"), (3, "none")]
    assert rows[0]["text"].strip() == LAYER and rows[0]["route_reason"] == "legible text layer"
    assert "0 chars" in rows[1]["route_reason"] and rows[1]["text"] is None
    assert rows[2]["text"] is None and rows[2]["route_reason"] != "legible text layer"
    assert all(r["error"] is None for r in rows)


def test_a_page_renders_at_the_asked_dpi_and_tesseract_reads_its_kazakh(book):
    with DjvuBook(book) as djvu:
        assert djvu.page_count == 3 and djvu.size(1) == (KK.width, KK.height, 200)
        image = djvu.render(1, 300)  # stored at 200 dpi: 1.5 times the pixels each way
    assert image.mode == "L" and image.info["dpi"] == (300, 300)
    assert abs(image.width - KK.width * 1.5) <= 2 and abs(image.height - KK.height * 1.5) <= 2
    text = TesseractOCR(languages="kaz+rus").recognize(image).text
    assert cer(PAGES["kk"], text) < 0.05 and kazakh_letter_recall(PAGES["kk"], text) >= 0.95, text


def test_a_page_over_max_pixels_is_refused_before_rendering(book):
    with DjvuBook(book, max_pixels=1_000_000) as djvu:
        with pytest.raises(ValueError, match="max_pixels"):
            djvu.render(2, 300)
        with pytest.raises(ValueError, match="outside 1..3"):
            djvu.text(4)


def test_the_temporary_copy_goes_with_the_book(book):
    djvu = DjvuBook(book)
    path = djvu.path
    djvu.close()
    with pytest.raises(FileNotFoundError):
        open(path, "rb")


@pytest.mark.parametrize("data, said", [(b"", "Failed to open document"),
                                        (b"AT&TFORM junk" * 50, "Failed to open document"),
                                        (b"%PDF-1.4\n%%EOF\n", "Failed to open document")])
def test_a_file_that_is_not_djvu_is_one_error_row(data, said):
    [row] = rows_of(data)
    assert row["page"] == 0 and row["error"].startswith("cannot open DjVu") and said in row["error"], row


def test_an_indirect_document_is_refused_with_the_command_that_bundles_it(book, tmp_path):
    (tmp_path / "book.djvu").write_bytes(book)
    subprocess.run(["djvmcvt", "-i", str(tmp_path / "book.djvu"), str(tmp_path), "index.djvu"], check=True)
    [row] = rows_of((tmp_path / "index.djvu").read_bytes())
    assert "indirect DjVu" in row["error"] and "djvmcvt -b" in row["error"]


def test_a_truncated_book_keeps_the_pages_before_the_damage(book):
    with DjvuBook(book[: len(book) * 2 // 3]) as djvu:  # page 3 and the end of page 2 lost
        assert djvu.page_count == 3  # the directory's count
        assert djvu.render(1, 100).width > 0
        with pytest.raises(ValueError, match="djvused failed"):
            djvu.render(3, 100)
    rows = rows_of(book[: len(book) * 2 // 3])
    assert [(r["page"], r["method"]) for r in rows[:2]] == [(1, "textlayer"), (2, "none")]
    assert rows[0]["text"].strip() == LAYER and len(rows) == 3


def test_too_many_pages_is_one_error_row(book):
    [row] = rows_of(book, max_pages=2)
    assert row["page"] == 0 and "3 pages > max_pages=2" in row["error"]


def test_without_djvulibre_a_book_is_one_error_row_naming_the_package(book, monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    [row] = rows_of(book)
    assert "djvulibre-bin" in row["error"]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_random_damage_never_raises_and_every_row_says_what_it_is(book, data):
    damaged = bytearray(book)
    for _ in range(data.draw(st.integers(1, 8))):
        at = data.draw(st.integers(0, len(damaged) - 1))
        chunk = data.draw(st.binary(min_size=1, max_size=64))
        damaged[at:at + len(chunk)] = chunk
    damaged = bytes(damaged[:data.draw(st.integers(0, len(damaged)))])
    rows = rows_of(damaged)
    assert rows
    pages = [r["page"] for r in rows if r["page"] > 0]
    assert len(pages) == len(set(pages)) and all(1 <= p <= 2000 for p in pages)
    for row in rows:
        assert row["error"] or row["method"] in ("textlayer", "none") and row["route_reason"]
        assert row["method"] != "textlayer" or row["text"]
