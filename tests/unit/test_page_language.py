"""The OCR language check on real Tesseract readings (no Ray): a page's own text says
which language it is in, whatever its catalog row claims, and a page read with the
wrong models is read again."""
import json

import pyarrow as pa
import pyarrow.compute  # noqa: F401 - pa.compute
import pytest
from omegaconf import OmegaConf

from flows.pages import PAGES, OcrPages
from flows.storage import Storage
from operators.books.ocr import TesseractOCR
from operators.books.page_language import PageLanguage, keep_better, languages_read
from operators.text.langid import FastTextLangID
from tests.conftest import REPO
from tests.unit.test_books_ocr import KAZAKH_LETTERS, PAGES as TEXTS, cer, kazakh_letter_recall, typeset

OCR_CONFIG = REPO / "flows" / "conf" / "ocr" / "common.yaml"


@pytest.fixture(scope="module")
def language() -> PageLanguage:
    return PageLanguage(FastTextLangID(kazakh_check=False), min_letters=100)


@pytest.fixture(scope="module")
def readings() -> dict:
    """Each text page read with each library language's Tesseract models."""
    engines = {langs: TesseractOCR(langs) for langs in ("kaz+rus", "rus+eng", "eng+rus")}
    pages = {lang: typeset(text * 2) for lang, text in TEXTS.items()}
    return {(lang, langs): engine.recognize(pages[lang][0]).text
            for lang in pages for langs, engine in engines.items()}


@pytest.mark.parametrize("lang", ["kk", "ru", "en"])
@pytest.mark.parametrize("models", ["kaz+rus", "rus+eng", "eng+rus"])
def test_a_page_is_detected_in_its_language_whatever_models_read_it(language, readings, lang, models):
    text = readings[lang, models]
    if lang == "kk" and models != "kaz+rus":
        assert not set(KAZAKH_LETTERS) & set(text)  # the Russian models lost every Kazakh letter ...
    verdict = language.detect(text)
    if lang == "en" and models == "kaz+rus":  # Cyrillic gibberish: in no language, read again for English
        assert not set(text) & set("abcdefghijklmnopqrstuvwxyz")
        assert verdict.language == "und"
        assert language.second_reading(verdict, frozenset({"kk", "ru"}))[0] == "en"
    else:
        assert verdict.language == lang, text  # ... and the text still reads as Kazakh
        again = language.second_reading(verdict, languages_read(models))
        assert (again and again[0]) == (None if lang in languages_read(models) else lang)


def test_a_doubtful_reading_tries_a_close_language_it_had_no_model_for(language):
    from operators.books.page_language import Verdict

    doubtful = Verdict("ru", {"kk": 0.46, "ru": 0.47, "en": 0.01}, {"kk": 0.46, "ru": 0.40, "en": 0.0})
    assert language.second_reading(doubtful, frozenset({"ru", "en"})) == \
        ("kk", "text reads as ru with only 40% of its words known, kk close (0.46 vs 0.47)")
    sure = Verdict("ru", {"kk": 0.30, "ru": 0.80, "en": 0.01}, {"kk": 0.25, "ru": 0.85, "en": 0.0})
    assert language.second_reading(sure, frozenset({"ru", "en"})) is None
    assert language.second_reading(doubtful, frozenset({"kk", "ru"})) is None  # no rival without a model


def test_short_text_is_not_judged(language):
    verdict = language.detect("Мазмұны\n\n3")
    assert verdict.language is None and verdict.scores == {}


def test_languages_read_maps_tesseract_codes():
    assert languages_read("kaz+rus") == {"kk", "ru"} and languages_read("ru+en") == {"ru", "en"}


def test_the_better_reading_is_kept_and_both_recorded():
    first = {"text": "a", "confidence": 70.0, "error": None, "method": "tesseract"}
    second = {"text": "b", "confidence": 90.0, "error": None, "method": "tesseract"}
    attempts = [{"languages": "rus+eng", "detected": "kk", "quality": 0.5},
                {"languages": "kaz+rus", "detected": "kk", "quality": 0.9}]
    kept = keep_better(first, second, attempts, "why")
    assert kept["text"] == "b" and kept["ocr_language"] == "kaz+rus" and kept["reocr_reason"] == "why"
    assert [a["kept"] for a in json.loads(kept["ocr_attempts"])] == [False, True]
    failed = {**second, "error": "TimeoutError: slow", "text": None}
    attempts[1]["quality"] = 0.0
    assert keep_better(first, failed, attempts, "why")["text"] == "a"


def ocr_pages(check: bool) -> OcrPages:
    ocr = OmegaConf.to_container(OmegaConf.merge(OmegaConf.load(OCR_CONFIG), {"engine": "tesseract"}))
    ocr["language_check"]["enabled"] = check
    return OcrPages(Storage(), ocr, "test")


def page_of(samples, language: str | None) -> pa.Table:
    row = {"book_id": "KZ-BK-0003", "page": 1, "uri": str(samples / "books" / "scanned_kk.pdf"), "method": "none",
           "route_reason": "image scan", "frame": 0, "language": language}
    return pa.Table.from_pylist([row], schema=PAGES)


def test_a_kazakh_book_catalogued_as_russian_is_read_again_with_kazakh_models(samples):
    truth = json.loads((samples / "ground_truth" / "ocr_pages.jsonl").read_text().splitlines()[0])
    [trusting] = ocr_pages(check=False)(page_of(samples, "ru")).to_pylist()
    [checked] = ocr_pages(check=True)(page_of(samples, "ru")).to_pylist()
    [catalogued] = ocr_pages(check=True)(page_of(samples, "kk")).to_pylist()

    assert trusting["ocr_language"] == "rus+eng" and kazakh_letter_recall(truth["text"], trusting["text"]) < 0.5
    assert checked["error"] is None and checked["ocr_language"] == "kaz+rus" and checked["detected_language"] == "kk"
    assert checked["reocr_reason"] == "text reads as kk, OCR'd for ru (rus+eng)"
    first, second = json.loads(checked["ocr_attempts"])
    assert (first["languages"], first["kept"], second["languages"], second["kept"]) == \
        ("rus+eng", False, "kaz+rus", True)
    assert second["quality"] > first["quality"] and first["detected"] == second["detected"] == "kk"
    assert kazakh_letter_recall(truth["text"], checked["text"]) >= 0.95
    assert cer(truth["text"], checked["text"]) <= 1.1 * cer(truth["text"], catalogued["text"]) + 0.005

    # The correctly catalogued page is checked too, and read once.
    assert catalogued["reocr_reason"] is None and catalogued["detected_language"] == "kk"
    assert len(json.loads(catalogued["ocr_attempts"])) == 1


def test_an_uncatalogued_book_is_read_with_kazakh_and_russian_models_first(samples):
    [row] = ocr_pages(check=True)(page_of(samples, None)).to_pylist()
    assert row["ocr_language"] == "kaz+rus" and row["reocr_reason"] is None and row["detected_language"] == "kk"


def test_a_failing_language_check_keeps_the_page_as_read(samples, monkeypatch):
    ocr = ocr_pages(check=True)

    def broken(text):
        raise RuntimeError("lid model gone")

    monkeypatch.setattr(ocr.language, "detect", broken)
    [row] = ocr(page_of(samples, "kk")).to_pylist()
    assert row["error"] is None and "Қазақ" in row["text"] and row["ocr_language"] == "kaz+rus"
    assert row["reocr_reason"] == "language check failed: RuntimeError: lid model gone"


# ------------------------------------------------------------------ the book pass ----
def plan_rows(book: str, pages: list[tuple], **extra) -> list[dict]:
    """(page, method, ocr_language, detected_language[, attempts languages]) → page rows."""
    rows = []
    for page, method, read_with, detected, *tried in pages:
        attempts = [{"languages": lang} for lang in (tried[0] if tried else [read_with])]
        rows.append({"book_id": book, "page": page, "method": method, "error": None, "ocr_language": read_with,
                     "detected_language": detected, "ocr_attempts": json.dumps(attempts), "ocr_pass": None,
                     **extra})
    return rows


def test_the_book_pass_reads_again_the_pages_of_a_kazakh_book_never_read_with_kazakh_models():
    from operators.books.page_language import PLAN_COLUMNS, book_pass_plan

    rows = (plan_rows("catalogued-ru", [(1, "tesseract", "kaz+rus", "kk", ["rus+eng", "kaz+rus"]),
                                        (2, "tesseract", "kaz+rus", "kk", ["rus+eng", "kaz+rus"]),
                                        (3, "tesseract", "rus+eng", "ru"),  # a degraded page its own check missed
                                        (4, "tesseract", "rus+eng", None),  # too short to judge alone
                                        (5, "tesseract", "rus+eng", "ru", ["rus+eng", "kaz+rus"]),  # tried, kept
                                        (6, "textlayer", None, None),
                                        (7, "tesseract", "kaz+rus", "kk")])
            + plan_rows("russian", [(1, "tesseract", "rus+eng", "ru"), (2, "tesseract", "rus+eng", "ru"),
                                    (3, "tesseract", "rus+eng", None)])
            + plan_rows("half-and-half", [(1, "tesseract", "kaz+rus", "kk"), (2, "tesseract", "rus+eng", "ru")])
            + plan_rows("one-page", [(1, "tesseract", "kaz+rus", "kk"), (2, "tesseract", "rus+eng", None)]))
    done = plan_rows("done", [(1, "tesseract", "kaz+rus", "kk"), (2, "tesseract", "kaz+rus", "kk"),
                              (3, "tesseract", "rus+eng", "ru")])
    done[2]["ocr_pass"] = 2  # read by the book pass already: never again
    failed = plan_rows("failed", [(1, "tesseract", "kaz+rus", "kk"), (2, "tesseract", "kaz+rus", "kk"),
                                  (3, "tesseract", "rus+eng", None)])
    failed[2]["error"] = "cannot render page"
    table = pa.Table.from_pylist(rows + done + failed).select(PLAN_COLUMNS)

    plan = book_pass_plan(table, ("kk", "ru", "en"))
    assert [(r["book_id"], r["page"], language) for r, language, _ in plan] == \
        [("catalogued-ru", 3, "kk"), ("catalogued-ru", 4, "kk")]
    assert plan[0][2] == "book reads as kk (3 of 5 checked pages); this page read as ru with rus+eng"
    assert plan[1][2].endswith("this page read as too little text to tell with rus+eng")
    born_digital = table.filter(pa.compute.equal(table["method"], "textlayer"))
    assert born_digital.num_rows == 1 and book_pass_plan(born_digital, ("kk", "ru", "en")) == []


def test_the_book_language_needs_a_majority_of_two_or_more_checked_pages():
    from operators.books.page_language import book_language

    assert book_language(["kk", "kk", "ru", None, "und"]) == ("kk", 2, 3)
    assert book_language(["kk", "ru"]) is None and book_language(["kk", None]) is None


def test_of_three_readings_the_best_is_kept_and_all_recorded():
    first = {"text": "a", "confidence": 70.0, "error": None, "method": "tesseract"}
    third = {"text": "c", "confidence": 90.0, "error": None, "method": "tesseract"}
    attempts = [{"languages": "rus+eng", "quality": 0.5, "kept": True, "detected": "ru"},
                {"languages": "kaz+rus", "quality": 0.4, "kept": False, "detected": "kk"},
                {"languages": "kaz+rus", "quality": 0.8, "detected": "kk"}]
    kept = keep_better(first, third, attempts, "book reads as kk")
    assert kept["text"] == "c" and [a["kept"] for a in json.loads(kept["ocr_attempts"])] == [False, False, True]
    attempts[2]["quality"] = 0.45  # better than the rejected second, worse than the kept first
    assert keep_better(first, third, attempts, "why")["text"] == "a"


def test_the_latest_pass_is_the_current_reading_of_a_page():
    from operators.books.ledger import current_page_rows

    base = {"book_id": "b", "page": 1, "method": "tesseract", "error": None, "config_hash": "h"}
    table = pa.Table.from_pylist([{**base, "ocr_pass": 2, "text": "second"}, {**base, "ocr_pass": None, "text": "first"},
                                  {**base, "ocr_pass": None, "text": "first again", "config_hash": "old"}])
    assert current_page_rows(table, "h")["text"].to_pylist() == ["second"]
    assert current_page_rows(table.select(["book_id", "page", "method", "error", "config_hash", "ocr_pass"]),
                             "h")["ocr_pass"].to_pylist() == [2]
    reversed_rows = pa.Table.from_pylist(table.to_pylist()[::-1])
    assert current_page_rows(reversed_rows, "h")["text"].to_pylist() == ["second"]


def test_a_short_page_of_a_kazakh_book_catalogued_as_russian_is_read_again_with_kazakh_models(samples):
    """The book pass on a real reading: the page's own check could not judge it (here: a
    threshold no page reaches), the book says Kazakh."""
    from flows.pages import ReadAgain

    truth = json.loads((samples / "ground_truth" / "ocr_pages.jsonl").read_text().splitlines()[0])
    ocr = OmegaConf.to_container(OmegaConf.merge(OmegaConf.load(OCR_CONFIG), {"engine": "tesseract"}))
    ocr["language_check"]["min_letters"] = 10 ** 6
    # The page's own check of short pages: the Russian lists know too few of its words as read.
    [own] = OcrPages(Storage(), ocr, "test")(page_of(samples, "ru")).to_pylist()
    assert own["ocr_language"] == "kaz+rus" and own["reocr_reason"].startswith("short page:")
    # A first reading without that check, then the book pass.
    [first] = ocr_pages(check=False)(page_of(samples, "ru")).to_pylist()
    assert first["ocr_language"] == "rus+eng" and first["detected_language"] is None and first["reocr_reason"] is None

    again = {**first, "again": "kk", "why": "book reads as kk (5 of 6 checked pages)"}
    [row] = ReadAgain(Storage(), ocr, "test")(pa.Table.from_pylist([again])).to_pylist()
    assert row["ocr_pass"] == 2 and row["reocr_reason"] == "book reads as kk (5 of 6 checked pages)"
    one, two = json.loads(row["ocr_attempts"])
    assert (one["languages"], two["languages"]) == ("rus+eng", "kaz+rus") and two["kept"]
    assert row["ocr_language"] == "kaz+rus" and kazakh_letter_recall(truth["text"], row["text"]) >= 0.95


def test_a_page_that_cannot_be_read_again_keeps_its_first_reading(samples, tmp_path):
    from flows.pages import ReadAgain

    ocr = OmegaConf.to_container(OmegaConf.merge(OmegaConf.load(OCR_CONFIG), {"engine": "tesseract"}))
    [first] = ocr_pages(check=True)(page_of(samples, "kk")).to_pylist()
    gone = {**first, "uri": str(tmp_path / "moved.pdf"), "again": "kk", "why": "book reads as kk"}
    [row] = ReadAgain(Storage(), ocr, "test")(pa.Table.from_pylist([gone])).to_pylist()
    assert row["text"] == first["text"] and row["ocr_pass"] == 2
    assert row["reocr_reason"].startswith("book reads as kk; cannot read it again: FileNotFoundError")


def test_two_readings_of_a_mixed_page_are_measured_by_every_language_in_play(language):
    mixed = ("Соңғы онжылдықта Қазақстандағы жасанды интеллекттің дамуы жаңа кезеңге өтті. "
             "Университетская библиотека начала оцифровку нескольких тысяч книг.")
    lost_letters = mixed.translate(str.maketrans("ңғқәөұүіһ", "нгкаоууih"))  # as rus+eng reads it
    both = frozenset({"kk", "ru"})
    assert language.known_share(mixed, both) > max(language.known_share(mixed, frozenset({"kk"})),
                                                   language.known_share(mixed, frozenset({"ru"})))
    assert language.known_share(mixed, both) > language.known_share(lost_letters, both)
    assert language.book_quality(mixed, 90.0, both) > language.book_quality(lost_letters, 90.0, both)


def short_page(tmp_path, text: str, language: str | None = None) -> pa.Table:
    """A page with too little text for language ID (a form, a title page), as a PNG scan."""
    image, _ = typeset(text)
    path = tmp_path / f"{abs(hash(text))}.png"
    image.save(path)
    row = {"book_id": "short", "page": 1, "uri": str(path), "method": "none", "route_reason": "image scan",
           "frame": 0, "language": language}
    return pa.Table.from_pylist([row], schema=PAGES)


def test_a_short_english_page_read_with_kazakh_models_is_read_again(tmp_path):
    # One of the real PDFs nobody here wrote (pikepdf's pdfa_acroform.pdf) holds one sentence;
    # uncatalogued, kaz+rus read it "СоуТеге із а perfectly стотпшепі word." and no check ran.
    text = "There is a perfectly good word here. Go to page two for the other content."
    [row] = ocr_pages(check=True)(short_page(tmp_path, text)).to_pylist()
    first, second = json.loads(row["ocr_attempts"])
    assert (first["languages"], second["languages"], second["kept"]) == ("kaz+rus", "eng+rus", True)
    assert row["ocr_language"] == "eng+rus" and row["reocr_reason"].startswith("short page:")
    assert second["book_quality"] > first["book_quality"]
    assert cer(text, row["text"]) < 0.05, row["text"]


@pytest.mark.parametrize("text", ["ҚАЗАҚ ӘДЕБИЕТІНІҢ ТАРИХЫ Алматы баспасы 1985",
                                  "История казахской литературы Алматы 1985"])
def test_a_short_kazakh_or_russian_page_is_read_once(tmp_path, text):
    [row] = ocr_pages(check=True)(short_page(tmp_path, text)).to_pylist()
    assert row["ocr_language"] == "kaz+rus" and row["reocr_reason"] is None, row
    assert len(json.loads(row["ocr_attempts"])) == 1 and cer(text, row["text"]) < 0.05
