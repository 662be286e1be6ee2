"""`sorted_page_text` is PyMuPDF's `get_text("text", sort=True)`, string for string.

The text-layer path reads pages with our tuple-based copy of PyMuPDF's reading-order
sort (operators/books/pdf.py); routing and page text must not change because of it. Real
PDFs made with PyMuPDF: random words at random places, sizes and rotations (lines that
almost share a baseline, overlapping boxes, columns, superscripts), right-to-left text,
rotated pages, and the samples; no Ray.
"""
from pathlib import Path

import pymupdf
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from operators.books.pdf import sorted_page_text

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
SAMPLES = Path(__file__).resolve().parents[2] / "samples" / "books"
WORDS = ["Қазақ", "тілі", "ресурсы", "аз", "Слово", "и", "the", "corpus", "1987", "—", "«әріп»", "x²", "ﬁ", "a.b,c",
         "שלום", "مرحبا", "   ", "tab\there"]

# Whole and half points and a few font sizes make boxes whose edges differ by exactly the
# sort's 3-point tolerance, and ties in its sort keys; floats make everything else.
coordinate = st.one_of(st.integers(0, 160).map(lambda v: v * 1.5), st.floats(-20, 850))
word = st.tuples(coordinate, coordinate, st.sampled_from(WORDS), st.one_of(st.sampled_from([8, 10, 11]), st.floats(3, 30)),
                 st.sampled_from([0, 0, 0, 90, 180, 270]))


def page_with(doc: pymupdf.Document, words, rotation: int = 0) -> pymupdf.Page:
    page = doc.new_page()
    page.insert_font(fontname="dejavu", fontfile=FONT)
    for x, y, text, size, rotate in words:
        page.insert_text((x, y), text, fontname="dejavu", fontsize=size, rotate=rotate)
    page.set_rotation(rotation)
    return page


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(word, max_size=60), st.sampled_from([0, 0, 90, 180]))
def test_random_layouts_read_as_pymupdf_reads_them(words, rotation):
    with pymupdf.open() as doc:
        page = page_with(doc, words, rotation)
        assert sorted_page_text(page) == page.get_text("text", sort=True)


def test_near_baselines_columns_and_paragraphs_read_as_pymupdf_reads_them():
    doc = pymupdf.open()
    page = doc.new_page()
    page.insert_font(fontname="dejavu", fontfile=FONT)
    text = "Қазақ тілі ресурсы аз тілдер қатарына жатады. " * 12
    page.insert_textbox(pymupdf.Rect(40, 40, 290, 800), text, fontname="dejavu", fontsize=9)
    page.insert_textbox(pymupdf.Rect(310, 43, 560, 800), text, fontname="dejavu", fontsize=11)  # offset column
    page.insert_text((40, 820), "1", fontname="dejavu", fontsize=6)  # page number below a gap
    page_with(doc, [(50 + 40 * i, 300 + (i % 4) * 1.5, "ab", 10, 0) for i in range(12)])  # baselines within tolerance
    page_with(doc, [(50 + 30 * i, 300 + 2 * i, "ab", 10, 0) for i in range(12)])  # a line box that grows word by word
    page_with(doc, [(500 - 30 * i, 300 + 3 * (i % 3), "ab", 10, 0) for i in range(12)])  # exactly the tolerance apart
    for p in doc:
        assert sorted_page_text(p) == p.get_text("text", sort=True)


@pytest.mark.parametrize("name", sorted(p.name for p in SAMPLES.glob("*.pdf")))
def test_sample_books_read_as_pymupdf_reads_them(name):
    with pymupdf.open(SAMPLES / name) as doc:
        for page in doc:
            assert sorted_page_text(page) == page.get_text("text", sort=True)


def test_a_page_without_words_is_empty():
    with pymupdf.open() as doc:
        assert sorted_page_text(doc.new_page()) == "" == doc[0].get_text("text", sort=True)
