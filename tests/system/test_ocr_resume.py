"""Kill a build with SIGKILL in the middle of OCR, rerun it: no page committed before the
kill is OCR'd again, every page is in pages/ once, and the corpus equals that of an
uninterrupted run."""
import os
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq

from tests.conftest import REPO, ocr_rows, qazflow_bin, run_qazflow


def build_args(books: Path, out: Path) -> list[str]:
    return ["build", f"output={out}", f"inputs.books=[{books}]", "tokenizer.vocab_size=500", "filters.length.min_chars=50",
            "filters.gopher_repetition.enabled=false", "filters.fineweb_quality.enabled=false",
            "dedup.near.enabled=false",  # pages repeat on purpose, and the two books share them
            "pages.commit_pages=2"]  # OCR actors commit every 2 pages: the kill must find some committed


def documents(out: Path) -> dict:
    docs = {r["doc_id"]: r["text"] for r in pq.read_table(out / "documents").to_pylist()}
    assert len(docs) == 2
    return docs


def test_sigkill_during_ocr_then_rerun(scanned_books, tmp_path):
    reference = tmp_path / "reference"
    assert run_qazflow(*build_args(scanned_books, reference)).returncode == 0

    out = tmp_path / "killed"
    process = subprocess.Popen([qazflow_bin(), *build_args(scanned_books, out)], cwd=REPO, start_new_session=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while len(ocr_rows(out)) < 2 and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.2)
    os.killpg(process.pid, signal.SIGKILL)  # the driver and the embedded Ray it started
    process.wait()
    subprocess.run(["pkill", "-9", "-s", str(process.pid)])
    done_before = len(ocr_rows(out))
    assert 2 <= done_before < 8, "the kill must land in the middle of OCR"

    rerun = run_qazflow(*build_args(scanned_books, out))
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert f"{done_before} pages already read" in rerun.stderr
    per_page = Counter((r["book_id"], r["page"]) for r in ocr_rows(out))
    assert len(per_page) == 8 and set(per_page.values()) == {1}  # every page once: journals folded in
    assert all(p.name.startswith("pages-") for p in (out / "pages").iterdir())  # no journal left
    assert documents(out) == documents(reference)
