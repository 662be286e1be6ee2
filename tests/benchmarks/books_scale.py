#!/usr/bin/env python
"""The whole books build (`qazflow build inputs.books=...`) at 1× and 4× a base library of
scanned books: wall time, pages/s, per-stage seconds, peak memory of the driver and of every Ray
worker; and the raw `tesseract` command on the same page images as the yardstick.

    .venv/bin/python tests/benchmarks/books_scale.py [--quick] [--base-pages 40] [--per-book 10]
                                                     [--sizes 1,4]

Library: books of `--per-book` image-only PDF pages (300-dpi grayscale scans, clean and
slightly rotated in turn, of real kk / ru / en paragraphs from the seed texts, 4 fonts), the
books' languages kk, ru, en in turn and stated in a librarian's catalog CSV. Size k× is the
first k × `--base-pages` pages (the libraries are nested). The seed texts are few, so a
book's pages repeat paragraphs and curation rejects some books as repetitive
(GopherRepetition): their pages are OCR'd and their documents curated all the same.

Measured per size:
- the build: the real CLI as a subprocess with its own embedded Ray (`ray.num_cpus=2`): scans →
  pages stage (routing, OCR actors, language check, letter repair) → book assembly → the whole
  curation chain → exact + near dedup → BPE → token shards; wall seconds, CPU seconds of its
  process tree, each stage's seconds (OUTPUT/_stages/*.json), peak RSS/USS/PSS of the driver
  and of every Ray worker (scale.py's sampler). The sampler reads /proc of every process
  ten times a second: watched, the pages stage took 87-92 s where it took 83 s unwatched
  (160 pages, 2026-12-07). So each build runs twice: unwatched for the times and ratios,
  then watched for memory and CPU (its times are kept too, as `watched`);
- raw tesseract: the `tesseract` binary on the same pages rendered to PNG beforehand (not
  timed), with the languages the pipeline routes each book to (kk → kaz+rus, ru → rus+eng,
  en → eng+rus), 2 single-threaded processes, TSV output.
Ratio = build seconds ÷ raw tesseract seconds (1.0: the whole build costs what OCR alone does),
both unwatched.

Results: tests/benchmarks/results/books_scale.json (books_scale_quick.json with --quick).
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C  # noqa: E402
import ocr_speed as S  # noqa: E402  (raw tesseract, page rendering)
import scale  # noqa: E402  (the process-tree sampler, the CLI command)

import pymupdf  # noqa: E402

LANGUAGES = ("kk", "ru", "en")


def make_library(folder: Path, pages: int, per_book: int) -> list[dict]:
    """`pages` scanned pages in books of `per_book`, languages in turn; one dict per book."""
    folder.mkdir(parents=True, exist_ok=True)
    books = S.make_scanned_books(folder, pages, per_book, LANGUAGES, seed=17)
    for b in books:
        with pymupdf.open(b["uri"]) as doc:
            b["pages"] = doc.page_count
    return books


def write_catalog(books: list[dict], path: Path) -> None:
    with open(path, "w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(["book_id", "title", "author", "year", "language", "collection", "file"])
        for b in books:
            out.writerow([b["book_id"], f"Кітап {b['book_id']}", "Құрастырушылар ұжымы", 2000, b["language"],
                          "scale", os.path.basename(b["uri"])])


def run_build(books: list[dict], catalog: Path, output: Path, timeout: int, watched: bool = True) -> dict:
    cmd = scale.qazflow_command() + ["build", f"output={output}", "inputs.books=[" + ",".join(b["uri"] for b in books)
                                     + "]", f"inputs.catalog={catalog}", f"ray.num_cpus={scale.CPUS}",
                                     "ray.progress=lines"]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OMP_THREAD_LIMIT": "1", "RAY_AUTH_MODE": "disabled",
           "PYTHONHASHSEED": "0", "PYTHONPATH": os.pathsep.join(filter(None, [str(C.REPO),
                                                                                os.environ.get("PYTHONPATH")]))}
    if watched:
        rc, started, ended, lines, _, memory = scale.run_sampled(cmd, env, timeout)
        result = {"returncode": rc, "wall_seconds": ended - started, "memory": memory}
    else:
        rc, seconds, tail = scale.run_unwatched(cmd, env, timeout)
        lines = [(0, line) for line in tail]
        result = {"returncode": rc, "wall_seconds": seconds}
    if rc != 0:
        result["error_tail"] = [line for _, line in lines[-60:]]
        return result
    result["stages"] = {p.stem: json.loads(p.read_text())["seconds"] for p in (output / "_stages").glob("*.json")}
    report = json.loads((output / "report.json").read_text(encoding="utf-8"))
    result["report"] = {k: report.get(k) for k in ("documents", "pages", "books", "timings")}
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="base 12 pages in books of 4, sizes 1,4")
    ap.add_argument("--base-pages", type=int, help="scanned pages in the 1× library (default 40)")
    ap.add_argument("--per-book", type=int, help="pages per book (default 10)")
    ap.add_argument("--sizes", default="1,4", help="multiples of the base, comma-separated (default 1,4)")
    ap.add_argument("--timeout", type=int, default=3600, help="seconds per build")
    args = ap.parse_args()
    base = args.base_pages or (12 if args.quick else 40)
    per_book = args.per_book or (4 if args.quick else 10)
    sizes = [int(s) for s in args.sizes.split(",")]
    machine = C.machine()
    tesseract = {"kk": "kaz+rus", "ru": "rus+eng", "en": "eng+rus"}

    out = {"benchmark": "books_scale", "quick": args.quick, "machine": machine, "cpus": scale.CPUS, "base_pages": base,
           "per_book": per_book, "sizes": {}}
    with tempfile.TemporaryDirectory(prefix="qazflow-books-scale-") as tmp:
        tmp = Path(tmp)
        t = time.perf_counter()
        library = make_library(tmp / "library", base * max(sizes), per_book)
        print(f"library: {len(library)} books, {base * max(sizes)} pages, {time.perf_counter() - t:.0f} s",
              file=sys.stderr, flush=True)
        for k in sizes:
            books, pages = [], 0
            for b in library:
                if pages >= k * base:
                    break
                books.append(b)
                pages += b["pages"]
            catalog = tmp / f"catalog-{k}.csv"
            write_catalog(books, catalog)
            print(f"{k}×: qazflow build on {len(books)} books, {pages} pages", file=sys.stderr, flush=True)
            build = run_build(books, catalog, tmp / f"out-{k}", args.timeout, watched=False)
            watched = run_build(books, catalog, tmp / f"out-{k}-watched", args.timeout)
            build |= {"memory": watched["memory"], "watched": {k_: watched.get(k_) for k_ in
                                                               ("returncode", "wall_seconds", "stages")}}
            (tmp / f"png-{k}").mkdir()
            pngs = {lang: S.render_pngs([b for b in books if b["language"] == lang], 300, tmp / f"png-{k}")
                    for lang in LANGUAGES}
            raw = sum(S.run_raw_tesseract(p, tesseract[lang], 3, 300) for lang, p in pngs.items() if p)
            entry = {"books": len(books), "pages": pages, "raw_tesseract_seconds": raw, "qazflow": build}
            if build["returncode"] == 0:
                entry["build_vs_raw_tesseract"] = build["wall_seconds"] / raw
                entry["pages_stage_vs_raw_tesseract"] = build["stages"].get("pages", 0) / raw
                if watched["returncode"] == 0:
                    entry["watched_pages_stage_vs_raw_tesseract"] = watched["stages"].get("pages", 0) / raw
            out["sizes"][str(k)] = entry
            print(f"{k}×: build {build['wall_seconds']:.1f} s (rc {build['returncode']}), raw tesseract {raw:.1f} s, "
                  f"largest worker USS {build['memory']['workers']['max_uss_mb']:.0f} MB", file=sys.stderr, flush=True)
    first = out["sizes"].get(str(sizes[0]), {})
    for k, entry in out["sizes"].items():
        if entry["qazflow"]["returncode"] == 0 and first.get("qazflow", {}).get("returncode") == 0:
            ratio = int(k) // sizes[0]
            entry["vs_first_size"] = {
                "data_ratio": ratio,
                "time_ratio": entry["qazflow"]["wall_seconds"] / first["qazflow"]["wall_seconds"],
                "cpu_ratio": entry["qazflow"]["memory"]["tree_cpu_seconds"] / first["qazflow"]["memory"]["tree_cpu_seconds"],
                "worker_max_uss_ratio": entry["qazflow"]["memory"]["workers"]["max_uss_mb"]
                / first["qazflow"]["memory"]["workers"]["max_uss_mb"],
                "driver_uss_ratio": entry["qazflow"]["memory"]["driver"]["uss"] / first["qazflow"]["memory"]["driver"]["uss"]}
    rows = [[k, e["books"], e["pages"], f"{e['qazflow']['wall_seconds']:.1f}",
             f"{e['qazflow']['stages'].get('pages', 0):.1f}" if e["qazflow"]["returncode"] == 0 else "-",
             f"{e['raw_tesseract_seconds']:.1f}", f"{e.get('build_vs_raw_tesseract', 0):.2f}×",
             f"{e['qazflow']['memory']['driver']['uss']:.0f}", f"{e['qazflow']['memory']['workers']['max_uss_mb']:.0f}"]
            for k, e in out["sizes"].items()]
    print(C.md_table(["size", "books", "pages", "build s", "pages stage s", "raw tesseract s", "build ÷ raw",
                      "driver USS MB", "largest worker USS MB"], rows))
    print("results:", C.write_results("books_scale_quick" if args.quick else "books_scale", out))


if __name__ == "__main__":
    main()
