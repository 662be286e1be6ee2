"""A DjVu book through the pages stage on the shared local Ray: a scanned Kazakh page
(the sample scan, as DjVu scanning software encodes it) catalogued as Russian is OCR'd,
found Kazakh and read again with the Kazakh models; a page with a hidden text layer is
read from it, never OCR'd; a rerun reads nothing twice."""
import json

import pymupdf
import pyarrow.parquet as pq
import pytest
from PIL import Image

from flows.build import storage_for
from flows.config import load_config
from flows.inputs import find_books
from flows.pages import ocr_config_hash, pages_stage
from flows.runtime import actor_pool
from flows.stages import StageLog
from operators.books.ledger import current_page_rows
from tests.djvu_files import djvu_book
from tests.unit.test_books_ocr import KAZAKH_LETTERS, PAGES, cer, typeset

LAYER = PAGES["kk"]


def run_stage(books, out) -> tuple[dict, object]:
    cfg = load_config([f"output={out}", f"inputs.books=[{books}]"])
    storage = storage_for(cfg)
    found, ignored = find_books(cfg, storage)
    assert [b["book_id"] for b in found] == ["kitap"] and ignored == []
    found = [{**book, "language": "ru"} for book in found]  # the catalog is wrong
    return pages_stage(cfg, storage, StageLog(storage, cfg.output, cfg.resume), found, actor_pool), cfg


@pytest.fixture(scope="module")
def scans(tmp_path_factory, samples):
    truth = json.loads((samples / "ground_truth" / "ocr_pages.jsonl").read_text().splitlines()[0])
    assert (truth["file"], truth["page"]) == ("books/scanned_kk.pdf", 1)
    pix = pymupdf.open(samples / truth["file"])[0].get_pixmap(dpi=300, colorspace=pymupdf.csGRAY)
    scan = Image.frombytes("L", (pix.width, pix.height), pix.samples)
    folder = tmp_path_factory.mktemp("scans")
    (folder / "kitap.djvu").write_bytes(djvu_book([scan, typeset(LAYER)[0]], [None, LAYER], dpi=300))
    return folder, truth["text"]


def test_a_djvu_book_is_read_from_its_text_layer_or_ocrd_in_its_own_language(ray_session, scans, tmp_path):
    folder, truth = scans
    out = tmp_path / "out"
    info, cfg = run_stage(folder, out)
    assert info["pages"] == 2

    scanned, layered = current_page_rows(pq.read_table(out / "pages"), ocr_config_hash(cfg.ocr)).to_pylist()
    assert scanned["method"] == "tesseract" and scanned["error"] is None
    assert scanned["detected_language"] == "kk" and scanned["ocr_language"] == "kaz+rus"
    assert cer(truth, scanned["text"]) < 0.03, scanned["text"]
    assert set(truth) & set(KAZAKH_LETTERS) <= set(scanned["text"])
    assert layered["method"] == "textlayer" and layered["text"].strip() == LAYER

    (out / "_stages" / "pages.json").unlink()  # the stage runs again: nothing is left to read
    again, _ = run_stage(folder, out)
    assert again["resumed"] == 2
