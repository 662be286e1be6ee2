"""Page routing and book assembly on real PDFs made with PyMuPDF (no Ray)."""
import io
import random
import re
import struct
import zlib

import pymupdf
import pytest
from PIL import Image

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
    # OCR'd pages that gave no text (photographs, blank pages) say so, not only why they were OCR'd
    blank = [{**p, "method": "tesseract", "text": "", "error": None} for p in scans]
    assert "2 page(s): tesseract read no text (sent to OCR: text layer has 0 chars" in assembly("b3", "b3.pdf", blank)["detail"]
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


def twelve_page_pdf() -> bytes:
    doc = pymupdf.open()
    for n in range(1, 13):
        page = doc.new_page()
        page.insert_font(fontname="dejavu", fontfile=FONT)
        page.insert_textbox(pymupdf.Rect(50, 50, 550, 800), f"{n}-бет. {KK}", fontname="dejavu", fontsize=11)
    return doc.tobytes(garbage=0)  # one font object shared by all pages: page objects follow in order


def file_rows(rows: list[dict]) -> list[dict]:
    return [r for r in rows if r["page"] == 0]


def test_a_truncated_pdf_is_read_as_far_as_it_goes_and_says_it_was_repaired():
    data = twelve_page_pdf()
    page_objects = [m.start() for m in re.finditer(rb"\d+ 0 obj\n<</Type/Page/", data)]
    rows = list(PdfTextLayer()("cut", "cut.pdf", data[: page_objects[7]]))  # the file ends inside page 8
    read = [r for r in rows if r["page"] > 0 and r["error"] is None]
    lost = [r for r in rows if r["page"] > 0 and r["error"] is not None]
    assert len(read) == 7 and len(lost) == 5
    assert all("cannot read page" in r["error"] for r in lost)
    [note] = file_rows(rows)
    assert note["error"] is None and note["route_reason"] == f"repaired: {len(read)} of 12 pages recovered"
    assert "Қазақ тілі" in read[0]["text"]

    # Only the cross-reference table cut off: every page is there, the repair is still said.
    rows = list(PdfTextLayer()("tail", "tail.pdf", data[:-60]))
    assert [r["route_reason"] for r in file_rows(rows)] == ["repaired: 12 of 12 pages recovered"]
    assert sum(r["method"] == "textlayer" for r in rows) == 12


def test_an_intact_pdf_has_no_file_row():
    rows = list(PdfTextLayer()("ok", "ok.pdf", make_pdf([KK, KK])))
    assert file_rows(rows) == [] and [r["page"] for r in rows] == [1, 2]


def hand_written_pdf(n_pages: int) -> bytes:
    """A PDF written byte by byte with a correct cross-reference table: as many pages as
    wanted in a fraction of the time PyMuPDF takes to make them, or none at all."""
    kids = " ".join(f"{3 + i} 0 R" for i in range(n_pages))
    objects = [b"<</Type/Catalog/Pages 2 0 R>>", f"<</Type/Pages/Count {n_pages}/Kids[{kids}]>>".encode()]
    objects += [b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 100 100]>>"] * n_pages
    out, offsets = bytearray(b"%PDF-1.7\n"), []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<</Size %d/Root 1 0 R>>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def test_ten_thousand_pages_are_refused_by_max_pages_and_zero_pages_is_an_error():
    [row] = PdfTextLayer(max_pages=2000)("big", "big.pdf", hand_written_pdf(10_000))
    assert row["page"] == 0 and row["error"] == "10000 pages > max_pages=2000"
    [row] = PdfTextLayer()("none", "none.pdf", hand_written_pdf(0))
    assert row["page"] == 0 and row["error"] == "PDF has no pages" and row["route_reason"] is None
    assert [r["page"] for r in PdfTextLayer()("three", "three.pdf", hand_written_pdf(3))] == [1, 2, 3]


def test_an_exception_while_routing_one_page_fails_that_page_only(monkeypatch):
    import operators.books.pdf as pdf

    real = pdf.text_layer_verdict

    def flaky(text, **kwargs):
        if "2-бет" in text:
            raise RuntimeError("routing bug on page 2")
        return real(text, **kwargs)

    monkeypatch.setattr(pdf, "text_layer_verdict", flaky)
    pages = [f"{n}-бет. {KK}" for n in (1, 2, 3)]
    rows = list(PdfTextLayer()("b", "b.pdf", make_pdf(pages)))
    assert [(r["page"], r["method"]) for r in rows] == [(1, "textlayer"), (2, "none"), (3, "textlayer")]
    assert rows[1]["error"] == "cannot route page: RuntimeError: routing bug on page 2"


# ---------------------------------------------------------------- hostile scans, end to end without Ray
# What the pages stage does to each book (flows.pages: routing, then rendering and OCR of
# the pages that need it), what the ledger then says, and whether `qazflow status` lists
# the file as damaged. Each hostile input must end as an error row or a flag.

def png_bytes(size=(80, 50), header_only=False) -> bytes:
    if header_only:  # only claims its size: signature, IHDR, an empty IDAT, IEND
        def chunk(kind: bytes, data: bytes) -> bytes:
            return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", *size, 8, 0, 0, 0, 0)) \
            + chunk(b"IDAT", b"") + chunk(b"IEND", b"")
    return image_bytes("PNG", size)


def image_bytes(kind: str, size=(80, 50)) -> bytes:
    """A blank page image in any format Pillow writes (PNG, JPEG 2000, WebP, BMP ...)."""
    sink = io.BytesIO()
    Image.new("L", size, 255).save(sink, kind)
    return sink.getvalue()


def djvu_pages(pages: int, text: str | None = None) -> bytes:
    from tests.djvu_files import djvu_book

    return djvu_book([Image.new("L", (400, 300), 255)] * pages, [text] * pages, dpi=100)


def cut_in_last_page(djvu: bytes) -> bytes:
    last = djvu.rfind(b"FORM")  # each page is a FORM:DJVU inside the document's FORM:DJVM
    return djvu[: last + (len(djvu) - last) // 2]


def tiff_header(width: int, height: int) -> bytes:
    """A one-strip 8-bit grayscale TIFF whose header claims width × height, with 16 bytes of pixels."""
    tags = [(256, 4, width), (257, 4, height), (258, 3, 8), (259, 3, 1), (262, 3, 1), (273, 4, 0),
            (278, 4, height), (279, 4, 16)]
    ifd_size = 2 + 12 * len(tags) + 4
    data_at = 8 + ifd_size
    tags = [(t, kind, data_at if t == 273 else v) for t, kind, v in tags]
    ifd = struct.pack("<H", len(tags)) + b"".join(
        struct.pack("<HHI", t, kind, 1) + (struct.pack("<HH", v, 0) if kind == 3 else struct.pack("<I", v))
        for t, kind, v in tags) + struct.pack("<I", 0)
    return b"II*\x00" + struct.pack("<I", 8) + ifd + b"\x80" * 16


def pdf_embedding_image_of(width: int, height: int) -> bytes:
    """A one-page scan whose embedded image claims width × height (a few bytes of data)."""
    doc = pymupdf.open()
    page = doc.new_page()
    pix = pymupdf.Pixmap(pymupdf.csGRAY, pymupdf.IRect(0, 0, 20, 20), False)
    pix.clear_with(200)
    page.insert_image(page.rect, pixmap=pix)
    xref = page.get_images(full=True)[0][0]
    doc.xref_set_key(xref, "Width", str(width))
    doc.xref_set_key(xref, "Height", str(height))
    return doc.tobytes()


def encrypted_pdf() -> bytes:
    doc = pymupdf.open()
    doc.new_page().insert_text((50, 50), "secret")
    return doc.tobytes(encryption=pymupdf.PDF_ENCRYPT_AES_256, user_pw="u", owner_pw="o")


def truncated_pdf() -> bytes:
    data = twelve_page_pdf()
    return data[: [m.start() for m in re.finditer(rb"\d+ 0 obj\n<</Type/Page/", data)][7]]


def read_book_as_the_pages_stage_does(book: dict) -> list[dict]:
    import pyarrow as pa

    from flows.pages import PAGES, OcrPages, ReadBookPages, needs_ocr
    from flows.storage import Storage
    from schemas import validate

    storage = Storage()
    routed = [r for t in ReadBookPages(storage, PdfTextLayer())(pa.Table.from_pylist([{**book, "done": []}]))
              for r in t.to_pylist()]
    ocr = {"engine": "tesseract", "dpi": 100, "max_pixels": 80_000_000, "language_check": {"enabled": False},
           "letter_repair": {"enabled": False},
           "tesseract": {"languages": {"default": "eng"}, "psm": 6, "timeout_s": 60, "backend": "auto",
                         "latin_words": None, "latin_below": 90}}
    reader = OcrPages(storage, ocr, "cfg")
    return [r for r in routed if not needs_ocr(r)] + [
        reader(validate(pa.Table.from_pylist([r], schema=PAGES), PAGES)).to_pylist()[0]
        for r in routed if needs_ocr(r)]


# (what is on disk: path → bytes, what the ledger must say: status, text in status_detail or
#  file_warning, and whether `qazflow status` lists the file as damaged)
HOSTILE = {
    "zero-byte PDF": ({"b.pdf": b""}, "failed", "cannot open PDF", False),
    "random bytes named .pdf": ({"b.pdf": bytes(random.Random(7).randbytes(4096))}, "failed", "cannot open PDF",
                                False),
    "encrypted PDF": ({"b.pdf": encrypted_pdf}, "failed", "encrypted PDF (password required)", False),
    "0-page PDF": ({"b.pdf": lambda: hand_written_pdf(0)}, "failed", "PDF has no pages", False),
    "truncated PDF, repaired": ({"b.pdf": truncated_pdf}, "done", "repaired: 7 of 12 pages recovered", True),
    "PDF embedding a 50000×50000 image": ({"b.pdf": lambda: pdf_embedding_image_of(50_000, 50_000)}, "failed",
                                          "embeds an image of 50000×50000", False),
    "TIFF claiming 50000×50000": ({"b.tif": lambda: tiff_header(50_000, 50_000)}, "failed",
                                  "refused before decoding", False),
    "one-PNG folder claiming 50000×50000": ({"b/0001.png": lambda: png_bytes((50_000, 50_000), True)}, "failed",
                                            "refused before decoding", False),
    "one-PNG folder over max_pixels only": ({"b/0001.png": lambda: png_bytes((10_000, 10_000), True)}, "failed",
                                            "100,000,000 pixels > max_pixels=80,000,000", False),
    "zero-byte PNG in a folder": ({"b/0001.png": b"", "b/0002.png": png_bytes}, "done",
                                  "1 page(s) failed: unreadable image", False),
    "one-PNG folder": ({"b/0001.png": png_bytes}, "done", "all pages read", False),
    "multi-PNG folder with a bomb in it": ({"b/0001.png": png_bytes, "b/0002.png": lambda: png_bytes(
        (50_000, 50_000), True), "b/0010.png": png_bytes}, "done", "1 page(s) failed", False),
    "folder of JPEG 2000, WebP, BMP, GIF and PPM pages": ({f"b/{i:04d}.{suffix}": lambda kind=kind: image_bytes(kind)
        for i, (suffix, kind) in enumerate([("jp2", "JPEG2000"), ("webp", "WEBP"), ("bmp", "BMP"), ("gif", "GIF"),
                                            ("ppm", "PPM")], 1)}, "done", "all pages read", False),
    "zero-byte DjVu": ({"b.djvu": b""}, "failed", "cannot open DjVu", False),
    "random bytes named .djvu": ({"b.djvu": bytes(random.Random(8).randbytes(4096))}, "failed", "cannot open DjVu",
                                 False),
    "DjVu, OCR'd": ({"b.djvu": lambda: djvu_pages(2)}, "done", "all pages read", False),
    "DjVu with a text layer": ({"b.djvu": lambda: djvu_pages(2, "Қазақ тілі — мемлекеттік тіл. Ұлттық кітапхана.")},
                               "done", "all pages read", False),
    "DjVu cut in its last page": ({"b.djvu": lambda: cut_in_last_page(djvu_pages(3))}, "done", "1 page(s) failed",
                                  False),
}


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")  # 100 Mpx: expected, and refused
@pytest.mark.parametrize("case", list(HOSTILE))
def test_hostile_scans_end_as_error_rows_or_flags_never_exceptions(case, tmp_path):
    from omegaconf import OmegaConf

    from flows.inputs import catalog_books, find_books
    from flows.status import damaged_files
    from flows.storage import Storage
    from operators.books.ledger import count_pages, ledger_rows

    files, status, detail, damaged = HOSTILE[case]
    scans = tmp_path / "scans"
    for name, data in files.items():
        (scans / name).parent.mkdir(parents=True, exist_ok=True)
        (scans / name).write_bytes(data() if callable(data) else data)
    (tmp_path / "catalog.csv").write_text("book_id,title\nb,Кітап\n", encoding="utf-8")
    cfg = OmegaConf.create({"output": str(tmp_path / "out"), "ocr": {"collection_languages": {}},
                            "inputs": {"books": [str(scans)], "catalog": str(tmp_path / "catalog.csv")}})
    storage = Storage()
    found, ignored = find_books(cfg, storage)
    books, match = catalog_books(cfg, storage, found)
    # A folder is one book named after the folder, however many images it has.
    assert [b["book_id"] for b in books] == ["b"] and ignored == [] and match.missing == []
    assert books[0]["files"] == [str(scans / n) for n in files]

    pages = read_book_as_the_pages_stage_does(books[0])
    assert pages and all(r["book_id"] == "b" for r in pages)
    [row] = ledger_rows(match.books, count_pages(pages), set(), {}, "2026-01-01T00:00:00+00:00")
    assert row["status"] == status
    assert detail in f"{row['status_detail']} | {row['file_warning']}"
    assert (damaged_files([row]) is not None) == damaged
    if damaged:
        assert damaged_files([row]) == f"damaged scan files: b ({detail})"


def test_a_catalog_language_without_ocr_models_is_a_problem_once_per_spelling(tmp_path):
    from flows.config import load_config
    from flows.inputs import catalog_books, find_books
    from flows.storage import Storage

    scans = tmp_path / "scans"
    scans.mkdir()
    for name in ("a", "b", "c", "d", "e"):
        (scans / f"{name}.pdf").write_bytes(b"%PDF-")
    (tmp_path / "catalog.csv").write_text("book_id,language\na,kz/ru\nb,kz/ru\nc,Қазақ тілі\nd,каз.\ne,xx\n",
                                          encoding="utf-8")
    cfg = load_config([f"output={tmp_path / 'out'}", f"inputs.books=[{scans}]",
                       f"inputs.catalog={tmp_path / 'catalog.csv'}"])
    storage = Storage()
    books, match = catalog_books(cfg, storage, find_books(cfg, storage)[0])
    assert {b["book_id"]: b["language"] for b in books} == {"a": "kz/ru", "b": "kz/ru", "c": "kk", "d": "kk", "e": "xx"}
    assert match.problems == [
        "catalog language 'kz/ru' (2 book(s), e.g. a) is none of kk, ru, en: read as uncatalogued "
        "(kaz+rus first, then by each page's own language)",
        "catalog language 'xx' (1 book(s), e.g. e) is none of kk, ru, en: read as uncatalogued "
        "(kaz+rus first, then by each page's own language)"]
