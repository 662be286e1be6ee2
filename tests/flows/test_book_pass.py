"""The book pass of the pages stage on the shared local Ray: a Kazakh book catalogued as
Russian, with a page too short for any check of its own (one word), gets that page read
again with the Kazakh models because the rest of the book reads as Kazakh; a short page
of a sentence is read again by its own check (its words unknown to the Russian lists); a
rerun reads nothing twice."""
import json

import pyarrow.parquet as pq
import pytest

from flows.build import storage_for
from flows.config import load_config
from flows.inputs import find_books
from flows.pages import ocr_config_hash, pages_stage
from flows.runtime import actor_pool
from flows.stages import StageLog
from operators.books.ledger import current_page_rows
from tests.unit.test_books_ocr import KAZAKH_LETTERS, PAGES, typeset

SHORT = "Ұлы дала елінің өнері мен әдебиеті ұрпаққа үлгі."  # under the check's 150 letters
ONE_WORD = "Әдебиет"  # too little even for the short-page check's word lists


def run_stage(books, out) -> tuple[dict, object]:
    cfg = load_config([f"output={out}", f"inputs.books=[{books}]"])
    storage = storage_for(cfg)
    found, _ = find_books(cfg, storage)
    found = [{**book, "language": "ru"} for book in found]  # the catalog is wrong
    return pages_stage(cfg, storage, StageLog(storage, cfg.output, cfg.resume), found, actor_pool), cfg


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    folder = tmp_path_factory.mktemp("scans") / "kitap"
    folder.mkdir()
    sentences = PAGES["kk"].split(". ")
    texts = [PAGES["kk"], ". ".join(sentences[::-1]), SHORT, ONE_WORD]
    for i, text in enumerate(texts, 1):
        typeset(text)[0].save(folder / f"{i:04d}.png")
    return folder


def test_a_one_word_kazakh_page_is_read_again_for_its_book_a_short_one_by_its_own_check_and_once_only(ray_session, book, tmp_path):
    out = tmp_path / "out"
    info, cfg = run_stage(book, out)
    assert info["read_again_for_their_book"] == 1 and info["pages"] == 4

    rows = current_page_rows(pq.read_table(out / "pages"), ocr_config_hash(cfg.ocr)).to_pylist()
    assert [r["page"] for r in rows] == [1, 2, 3, 4]
    long_pages, short, word = rows[:2], rows[2], rows[3]
    assert all(r["detected_language"] == "kk" and r["ocr_language"] == "kaz+rus" and not r["ocr_pass"]
               for r in long_pages)  # their own check read them again
    assert not short["ocr_pass"] and short["ocr_language"] == "kaz+rus" and short["reocr_reason"].startswith("short page:")
    assert word["ocr_pass"] == 2 and word["ocr_language"] == "kaz+rus"
    assert word["reocr_reason"] == "book reads as kk (2 of 2 checked pages); this page read as too little " \
                                   "text to tell with rus+eng"
    assert [a["languages"] for a in json.loads(word["ocr_attempts"])] == ["rus+eng", "kaz+rus"]
    assert set(short["text"]) & set(KAZAKH_LETTERS) and set(word["text"]) & set(KAZAKH_LETTERS)

    (out / "_stages" / "pages.json").unlink()  # the stage runs again: nothing is left to read
    again, _ = run_stage(book, out)
    assert again["read_again_for_their_book"] == 0 and again["resumed"] == 4
