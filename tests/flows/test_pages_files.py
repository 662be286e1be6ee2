"""The pages stage keeps pages/ to a few files: OCR actors journal their pages, the stage
compacts them, and what an earlier crash left (journals, files of older versions, copies
from a crash between compaction and cleanup, half-written temporaries) is folded in
without a page counted twice. Real OCR on the shared local Ray."""
import shutil
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from flows.build import storage_for
from flows.config import load_config
from flows.inputs import find_books
from flows.pages import done_pages, ocr_config_hash, pages_stage
from flows.runtime import actor_pool
from flows.stages import StageLog
from operators.books.page_files import journal_name
from schemas import PAGE, validate

COMMIT_EVERY = 2
MAX_FILES = 1  # scanned books only: every page goes into the OCR part's one compacted file


def run_stage(books: Path, out: Path, *overrides: str) -> dict:
    cfg = load_config([f"output={out}", f"inputs.books=[{books}]", f"pages.commit_pages={COMMIT_EVERY}", *overrides])
    storage = storage_for(cfg)
    found, _ = find_books(cfg, storage)
    return pages_stage(cfg, storage, StageLog(storage, cfg.output, cfg.resume), found, actor_pool)


def page_rows(out: Path) -> list[dict]:
    return sorted(pq.read_table(out / "pages").to_pylist(), key=lambda r: (r["book_id"], r["page"]))


@pytest.fixture(scope="module")
def first(ray_session, scanned_books, tmp_path_factory):
    out = tmp_path_factory.mktemp("pages") / "out"
    return out, run_stage(scanned_books, out)


def test_two_books_of_four_scanned_pages_leave_one_file_with_every_page_once(first):
    out, info = first
    files = sorted(p.name for p in (out / "pages").iterdir())
    assert len(files) <= MAX_FILES and all(f.startswith("pages-") for f in files), files  # journals removed
    assert info["files"] == len(files) and info["pages"] == 8 and info["by_method"] == {"tesseract": 8}
    rows = page_rows(out)
    validate(pa.Table.from_pylist(rows), PAGE)
    assert Counter((r["book_id"], r["page"]) for r in rows) == {(b, p): 1 for b in ("kitap_a", "kitap_b")
                                                                for p in range(1, 5)}
    assert all(r["error"] is None and r["text"] for r in rows)


def test_leftovers_of_crashed_runs_are_folded_in_and_no_page_is_read_again(first, scanned_books, tmp_path):
    done, _ = first
    out = tmp_path / "out"
    pages = out / "pages"
    pages.mkdir(parents=True)
    [compacted] = (done / "pages").iterdir()
    table = pq.read_table(compacted)
    # A crash between writing the compacted file and deleting its journal: both are there.
    shutil.copy(compacted, pages / compacted.name)
    pq.write_table(table.slice(0, 3), pages / journal_name("20000101T000000Z-aaaaaa", "actor1", 0))
    pq.write_table(table.slice(2, 1), pages / "legacy-0001.parquet")  # one file per page, as before
    (pages / "pages-x.parquet.tmp-123").write_bytes(b"PAR1 half written")  # a write a SIGKILL cut short

    cfg = load_config([f"output={out}"])
    assert sum(map(len, done_pages(storage_for(cfg), str(pages), ocr_config_hash(cfg.ocr)).values())) == 8
    info = run_stage(scanned_books, out)
    assert info["resumed"] == 8 and info["pages"] == 8 and info["files"] <= MAX_FILES
    files = sorted(p.name for p in pages.iterdir())
    assert len(files) <= MAX_FILES and all(f.startswith("pages-") for f in files), files
    assert page_rows(out) == page_rows(done)  # the very rows read before: nothing OCR'd again, nothing twice
