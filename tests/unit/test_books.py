"""Page routing and book assembly on real PDFs made with PyMuPDF (no Ray)."""
import pymupdf
import pytest

from operators.books.assemble import BookAssembly, assemble_text
from operators.books.pdf import PdfTextLayer
from operators.books.routing import text_layer_verdict

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
KK = ("Қазақ тілі ресурсы аз тілдер қатарына жатады. Сондықтан әрбір кітап, газет пен журнал "
      "корпус үшін өте құнды. Кітапханашылар әр беттің сапасын тексеріп отырады.")


def make_pdf(pages: list[str | None]) -> bytes:
    """None makes an image-only page (a scan without a text layer)."""
    doc = pymupdf.open()
    for text in pages:
        page = doc.new_page()
        if text is None:
            pix = pymupdf.Pixmap(pymupdf.csGRAY, pymupdf.IRect(0, 0, 200, 100), False)
            pix.clear_with(200)
            page.insert_image(page.rect, pixmap=pix)
        else:
            page.insert_font(fontname="dejavu", fontfile=FONT)
            page.insert_textbox(pymupdf.Rect(50, 50, 550, 800), text, fontname="dejavu", fontsize=11)
    return doc.tobytes()


def test_routing_accepts_language_and_refuses_garbage_layers():
    assert text_layer_verdict(KK)[0]
    assert not text_layer_verdict("   ")[0]
    assert not text_layer_verdict("\ufffd" * 40 + KK[:40])[0]  # undecodable old OCR layer
    assert not text_layer_verdict("1 2 3 4 5 6 7 8 9 0 " * 10)[0]  # numbers only
    assert not text_layer_verdict("x" * 200)[0]  # one endless "word"


def test_pdf_pages_are_routed_one_by_one():
    pages = list(PdfTextLayer()("b1", "b1.pdf", make_pdf([KK, None, KK])))
    assert [(p["page"], p["method"]) for p in pages] == [(1, "textlayer"), (2, "none"), (3, "textlayer")]
    assert "Қазақ тілі" in pages[0]["text"] and pages[1]["text"] is None
    assert "0 chars" in pages[1]["route_reason"]


@pytest.mark.parametrize("data, expected", [
    (b"", "cannot open PDF"),
    (b"%PDF-1.7\n" + bytes(range(256)) * 8, "cannot open PDF"),
])
def test_broken_pdfs_become_one_error_row(data, expected):
    [row] = PdfTextLayer()("bad", "bad.pdf", data)
    assert row["page"] == 0 and expected in row["error"]


def test_encrypted_pdf_is_reported():
    doc = pymupdf.open()
    doc.new_page().insert_text((50, 50), "secret")
    data = doc.tobytes(encryption=pymupdf.PDF_ENCRYPT_AES_256, user_pw="u", owner_pw="o")
    [row] = PdfTextLayer()("enc", "enc.pdf", data)
    assert "encrypted" in row["error"]


def test_too_many_pages_is_refused():
    [row] = PdfTextLayer(max_pages=2)("big", "big.pdf", make_pdf([KK, KK, KK]))
    assert "max_pages=2" in row["error"]


def test_assembly_removes_running_headers_page_numbers_and_rejoins_hyphens():
    bodies = ["Абай өлеңдері халық арасында кең тарады", "Мұхтар Әуезов роман жазды",
              "Ыбырай Алтынсарин мектептер ашты", "Шоқан Уәлиханов саяхат жасады"]
    pages = [f"Қазақ әдебиеті тарихы\n{body}, бұл сөйлем жалға-\nсып кетеді де {n}-бетте аяқталады.\n"
             f"Тағы бір толық жол осы беттің мазмұнын жалғастырады.\n{n}" for n, body in enumerate(bodies, 1)]
    text, offsets = assemble_text(pages)
    assert "Қазақ әдебиеті тарихы" not in text
    assert "жалғасып" in text and "жалға-" not in text
    assert not any(line.strip().isdigit() for line in text.splitlines())
    assert len(offsets) == 4 and offsets == sorted(offsets)
    assert text[offsets[2]:].startswith("Ыбырай")


def test_book_document_and_scanned_only_rejection():
    assembly = BookAssembly()
    pages = list(PdfTextLayer()("b2", "b2.pdf", make_pdf([KK, None])))
    doc = assembly("b2", "b2.pdf", pages, title="Кітап")
    assert doc["reason"] is None and doc["source"] == "book" and doc["n_pages"] == 2 and doc["title"] == "Кітап"
    scans = list(PdfTextLayer()("b3", "b3.pdf", make_pdf([None, None])))
    rejected = assembly("b3", "b3.pdf", scans)
    assert rejected["reason"] == "BookAssembly" and "2 page(s)" in rejected["detail"]
    broken = assembly("b4", "b4.pdf", list(PdfTextLayer()("b4", "b4.pdf", b"junk")))
    assert broken["reason"] == "BookAssembly" and "cannot open PDF" in broken["detail"]


def test_a_garbage_text_layer_that_looks_like_words_is_sent_to_ocr():
    import random

    rng = random.Random(3)
    letters = "абвгдеёжзийклмнопрстуфхцчшщъыьэюяәғқңөұүһі"
    random_words = " ".join("".join(rng.choice(letters) for _ in range(rng.randint(2, 9))) for _ in range(150))
    legible, why = text_layer_verdict(random_words)
    assert not legible and "unpronounceable" in why
    utf8_as_latin1 = (KK * 3).encode("utf-8").decode("latin-1")  # "Ð\x9aÐ°Ð·Ð°Ò\x9b…"
    cp1251_as_latin1 = ("Мир был создан не сразу, а постепенно.\n" * 8).encode("cp1251").decode("latin-1")
    for mojibake in (utf8_as_latin1, cp1251_as_latin1):
        legible, why = text_layer_verdict(mojibake)
        assert not legible, mojibake[:40]
    english = "Strengths of the worldwide rhythm: https://www.example.kz lists HTML and PDF files. " * 4
    assert text_layer_verdict(english)[0] and text_layer_verdict(KK * 3)[0]
