#!/usr/bin/env python
"""Page records at library scale: how many files pages/ holds and how long a rerun's
`done_pages` and `qazflow status` take to start, for 100,000 page rows of ~1,000 books.

    .venv/bin/python tests/benchmarks/pages_files.py [--quick] [--pages 100000] [--books 1000]

Input: synthetic page rows of real kk/ru/en sentences (samples/text, plus ../shared/seeds
when present), 1,200-3,600 characters a page (a printed book page), ~70% OCR'd (Tesseract,
confidence 40-98, one config hash), ~28% text layer, ~2% failed with a reason; 100 pages a
book on average, books in 5 collections with a ledger row each.

Layouts, both in a fresh directory each:
  compacted   what the pages stage leaves now: the stage's own writer
              (flows.pages._write_files) cuts the rows into files of `pages.file_bytes`
  per page    what it left before (one file per OCR'd page, one per book for its
              text-layer pages: Ray Data wrote a file per block), written with pyarrow

Measured per layout: files and bytes; `flows.pages.done_pages` (what a rerun reads before
it starts) in-process, best and all of 5 runs after one warm-up; `qazflow status
output=DIR` as a command (Python start, Hydra, reading ledger and pages, the rich tables
and report.html), best and all of 3 runs, with the same command on an empty output (its
fixed cost) and `show_status` in this process (its share that grows with the library). The files are in the page cache (local disk):
on S3 every file is at least one more request, so the file count matters more there.
"""
from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from itertools import count
from pathlib import Path

import _common as C  # noqa: E402  (puts the repository on sys.path)
import pyarrow as pa
import pyarrow.parquet as pq

from flows.pages import PAGES, _write_files, done_pages
from flows.storage import Storage
from operators.books.page_files import compacted_name, new_run_id
from schemas import LEDGER, validate

CONFIG_HASH = "5f1c0a9e2b7d4c31"
COLLECTIONS = ("rare_books", "classics", "textbooks", "periodicals", "dissertations")


def page_rows(n_pages: int, n_books: int, seed: int = 0) -> tuple[pa.Table, list[dict]]:
    rng = random.Random(seed)
    pools = C.sentence_pools()
    langs = [lang for lang in ("kk", "ru", "en") if pools.get(lang)]
    per_book = [1] * n_books
    for _ in range(n_pages - n_books):  # ~100 pages a book, unevenly
        per_book[rng.randrange(n_books)] += 1
    rows, books = [], []
    for b, n in enumerate(per_book):
        book_id, lang = f"KZ-{b:05d}", rng.choice(langs)
        scanned = rng.random() < 0.7
        books.append({"book_id": book_id, "title": f"Кітап {b}", "language": lang,
                      "collection": COLLECTIONS[b % len(COLLECTIONS)], "file": f"{book_id}.pdf", "catalogued": True})
        for page in range(1, n + 1):
            target, text = rng.randint(1200, 3600), []
            while sum(map(len, text)) < target:
                text.append(rng.choice(pools[lang]))
            text = " ".join(text)
            row = {"book_id": book_id, "page": page, "uri": f"s3://library/scans/{book_id}.pdf", "dpi": 300,
                   "frame": page - 1, "language": lang}
            if rng.random() < 0.02:
                row |= {"method": "tesseract", "error": "cannot OCR page: timeout after 120 s",
                        "config_hash": CONFIG_HASH}
            elif scanned:
                row |= {"method": "tesseract", "text": text, "confidence": round(rng.uniform(40, 98), 1),
                        "engine": "tesseract 5.3.0", "config_hash": CONFIG_HASH, "seconds": rng.uniform(0.8, 3.0),
                        "route_reason": "no text layer", "ocr_language": "kaz+rus", "detected_language": lang}
            else:
                row |= {"method": "textlayer", "text": text, "route_reason": "legible text layer"}
            rows.append(row)
    return validate(pa.Table.from_pylist(rows, schema=PAGES), PAGES), books


def write_ledger(out: Path, books: list[dict]) -> None:
    rows = [{**b, "status": "done", "first_run": "2024-05-01T09:00:00+00:00", "last_run": "2024-05-01T09:00:00+00:00"}
            for b in books]
    (out / "ledger").mkdir(parents=True)
    pq.write_table(validate(pa.Table.from_pylist(rows, schema=LEDGER), LEDGER), out / "ledger" / "ledger.parquet")


def compacted_layout(out: Path, table: pa.Table) -> None:
    run = new_run_id()
    names = (compacted_name(run, f"{part:05d}") for part in count())
    batches = (pa.Table.from_batches([b]) for b in table.to_batches(max_chunksize=1024))
    _write_files(Storage(), str(out / "pages"), names, batches, 128 << 20)


def per_page_layout(out: Path, table: pa.Table) -> None:
    pages = out / "pages"
    pages.mkdir(parents=True)
    ocr = table.filter(pa.compute.not_equal(table["method"], "textlayer"))
    text = table.filter(pa.compute.equal(table["method"], "textlayer"))
    for i in range(ocr.num_rows):
        pq.write_table(ocr.slice(i, 1), pages / f"{i:06d}_000000.parquet")
    for i, book in enumerate(text["book_id"].unique().to_pylist()):
        pq.write_table(text.filter(pa.compute.equal(text["book_id"], book)), pages / f"t{i:06d}_000000.parquet")


def timed(fn, repeats: int) -> list[float]:
    out = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        out.append(round(time.perf_counter() - start, 3))
    return out


def status_command(out: Path, expect_ok: bool = True) -> None:
    qazflow = shutil.which("qazflow", path=str(Path(sys.executable).parent)) or "qazflow"
    done = subprocess.run([qazflow, "status", f"output={out}"], capture_output=True, text=True,
                          env={**os.environ, "COLUMNS": "160"})
    if expect_ok:
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
        assert "Digitization per collection" in done.stdout, done.stdout[-2000:]


def status_in_process(out: Path) -> None:
    import io

    from rich.console import Console

    from flows.config import load_config
    from flows.status import show_status

    assert show_status(load_config([f"output={out}"]), Console(file=io.StringIO(), width=160)) == 0


def measure(name: str, out: Path, expected_books: int, expected_pages: int, repeats: int) -> dict:
    files = list((out / "pages").iterdir())
    pages_dir = str(out / "pages")
    found = done_pages(Storage(), pages_dir, CONFIG_HASH)  # warm-up, and the answer checked
    assert len(found) == expected_books and sum(map(len, found.values())) == expected_pages, name
    done_times = timed(lambda: done_pages(Storage(), pages_dir, CONFIG_HASH), repeats)
    status_times = timed(lambda: status_command(out), 3)
    # The command's fixed cost (Python, imports, Hydra) on an output with nothing in it,
    # alternating with the runs above, and show_status alone in this process.
    startup_times = timed(lambda: status_command(out.parent / "empty", expect_ok=False), 3)
    inside_times = timed(lambda: status_in_process(out), 3)
    result = {"files": len(files), "bytes": sum(f.stat().st_size for f in files),
              "done_pages_s": min(done_times), "done_pages_all_s": done_times,
              "status_s": min(status_times), "status_all_s": status_times,
              "status_startup_s": min(startup_times), "status_startup_all_s": startup_times,
              "status_in_process_s": min(inside_times), "status_in_process_all_s": inside_times,
              "loadavg_after": [round(x, 2) for x in os.getloadavg()]}
    print(f"{name}: {result}", flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="10,000 pages of 100 books")
    parser.add_argument("--pages", type=int, default=100_000)
    parser.add_argument("--books", type=int, default=1000)
    parser.add_argument("--no-per-page", action="store_true", help="skip the old one-file-per-page layout")
    args = parser.parse_args()
    if args.quick:
        args.pages, args.books = 10_000, 100
    info = C.machine()
    started = time.perf_counter()
    table, books = page_rows(args.pages, args.books)
    read = table.filter(pa.compute.is_null(table["error"]))
    expected_pages = read.num_rows
    expected_books = len(read["book_id"].unique())
    print(f"{table.num_rows} page rows of {len(books)} books, {table.nbytes / 2**20:.0f} MB in Arrow, "
          f"made in {time.perf_counter() - started:.1f} s", flush=True)
    results = {"machine": info, "pages": table.num_rows, "books": len(books), "arrow_mb": round(table.nbytes / 2**20, 1),
               "text_chars_mean": round(sum(map(len, filter(None, table["text"].to_pylist()))) / max(1, read.num_rows)),
               "layouts": {}}
    with tempfile.TemporaryDirectory(prefix="qazflow-pages-") as tmp:
        layouts = [("compacted", compacted_layout)] + ([] if args.no_per_page else [("per page", per_page_layout)])
        for name, make in layouts:
            out = Path(tmp) / name.replace(" ", "_")
            write_ledger(out, books)
            start = time.perf_counter()
            make(out, table)
            print(f"{name}: written in {time.perf_counter() - start:.1f} s", flush=True)
            results["layouts"][name] = measure(name, out, expected_books, expected_pages, 5)
            shutil.rmtree(out)
    suffix = ("_quick" if args.quick else "") + ("_compacted_only" if args.no_per_page else "")
    path = C.write_results(f"pages_files{suffix}", results)
    rows = [[name, r["files"], f"{r['bytes'] / 2**20:.0f} MB", f"{r['done_pages_s']:.2f}", f"{r['status_s']:.2f}",
             f"{r['status_startup_s']:.2f}", f"{r['status_in_process_s']:.2f}"]
            for name, r in results["layouts"].items()]
    print(C.md_table(["layout", "files", "size", "done_pages s", "qazflow status s", "status, empty output s",
                      "show_status in process s"], rows))
    print(f"results: {path}")


if __name__ == "__main__":
    main()
