#!/usr/bin/env python
"""Kazakh books catalogued as Russian: what the page check and the book pass recover.

    .venv/bin/python tests/benchmarks/ocr_wrong_catalog.py [--workers 2] [--dpi 300]

The scanned Kazakh and Russian books of ocr_eval.py (4 fonts, one book of 6 pages per
font, each page with its own degradation: clean, rotate, blur, noise, JPEG, all), read
through the pipeline's own classes without Ray, one process per core:

  kk books catalogued kk        the reference
  kk books catalogued ru        OcrPages (page language check + letter repair), then the
                                book pass (page_language.book_pass_plan + ReadAgain)
  ru books catalogued ru        the control: the book pass must read no page again

CER is micro-averaged over pages; Kazakh-letter recall as in ocr_eval.py.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C  # noqa: E402
import ocr_eval as E  # noqa: E402

import pyarrow as pa  # noqa: E402

NAME = "ocr_wrong_catalog"
_WORKER = {}


def _init(ocr: dict, config_hash: str) -> None:
    from flows.pages import OcrPages, ReadAgain
    from flows.storage import Storage

    _WORKER["first"] = OcrPages(Storage(), ocr, config_hash)
    _WORKER["again"] = ReadAgain(Storage(), ocr, config_hash)


def _read(task: tuple[str, dict]) -> dict:
    from flows.pages import PAGES

    kind, row = task
    if kind == "first":
        return _WORKER["first"](pa.Table.from_pylist([row], schema=PAGES)).to_pylist()[0]
    return _WORKER["again"](pa.Table.from_pylist([row])).to_pylist()[0]


def cer(pairs: list[tuple[dict, dict]]) -> float:
    return E.aggregate([E.score(s["truth"], r["text"]) for s, r in pairs], lambda r: 0)[0]["cer"]


def letters(pairs: list[tuple[dict, dict]]) -> dict:
    return E.kazakh_letters([C.align(C.normalize_ws(s["truth"]), C.normalize_ws(r["text"]))
                             for s, r in pairs if r["text"]])["all"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--dpi", type=int, default=300, help="scan dpi of the books (200 or 300)")
    ap.add_argument("--fonts", nargs="+", metavar="FILE", help="the books typeset in these font files (as ocr_eval.py --fonts)")
    args = ap.parse_args()

    from omegaconf import OmegaConf

    from flows.config import load_config
    from flows.pages import ocr_config_hash
    from operators.books.ledger import current_page_rows
    from operators.books.page_language import PLAN_COLUMNS, book_pass_plan

    cfg = load_config(["output=/tmp/qazflow-ocr-eval-unused"])
    ocr = OmegaConf.to_container(cfg.ocr, resolve=True)
    config_hash = ocr_config_hash(cfg.ocr)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="qazflow-ocr-wrong-catalog-") as tmp:
        specs, _ = E.build_pages(argparse.Namespace(quick=False, fonts=args.fonts), Path(tmp))
        rows = E.route(specs, cfg)
        books = [s for s in specs if s["kind"] == "scanned" and s["dpi"] == args.dpi and s["lang"] in ("kk", "ru")]
        for s in books:
            s["row"] = rows[(s["uri"], s["page"])]
        runs = {"kk as kk": [(s, "kk") for s in books if s["lang"] == "kk"],
                "kk as ru": [(s, "ru") for s in books if s["lang"] == "kk"],
                "ru as ru": [(s, "ru") for s in books if s["lang"] == "ru"]}
        with ProcessPoolExecutor(args.workers, initializer=_init, initargs=(ocr, config_hash)) as pool:
            tasks = [(name, s, ("first", {**s["row"], "language": language}))
                     for name, pages in runs.items() for s, language in pages]
            first = defaultdict(list)
            for (name, s, _), out in zip(tasks, pool.map(_read, [t for _, _, t in tasks], chunksize=1)):
                first[name].append((s, out))
            t_first = time.perf_counter() - started
            # The book pass, per run, as the pages stage plans it from the rows it wrote.
            final, again_pages = {}, {}
            for name, pairs in first.items():
                table = pa.Table.from_pylist([{**r, "ocr_pass": None} for _, r in pairs])
                plan = book_pass_plan(current_page_rows(table, config_hash).select(PLAN_COLUMNS), ("kk", "ru", "en"))
                wanted = {(row["book_id"], row["page"]): (language, why) for row, language, why in plan}
                jobs = [(i, ("again", {**r, "again": wanted[k][0], "why": wanted[k][1]}))
                        for i, (_, r) in enumerate(pairs) if (k := (r["book_id"], r["page"])) in wanted]
                reread = dict(zip([i for i, _ in jobs], pool.map(_read, [j for _, j in jobs], chunksize=1)))
                final[name] = [(s, reread.get(i, r)) for i, (s, r) in enumerate(pairs)]
                again_pages[name] = len(jobs)
    t_total = time.perf_counter() - started
    result = {
        "pages_per_run": {k: len(v) for k, v in runs.items()},
        "cer": {"kk catalogued kk": cer(final["kk as kk"]),
                "kk catalogued ru, page check": cer(first["kk as ru"]),
                "kk catalogued ru, page check + book pass": cer(final["kk as ru"]),
                "ru catalogued ru": cer(final["ru as ru"])},
        "kazakh_letter_recall": {"kk catalogued kk": letters(final["kk as kk"])["recall"],
                                 "kk catalogued ru, page check": letters(first["kk as ru"])["recall"],
                                 "kk catalogued ru, page check + book pass": letters(final["kk as ru"])["recall"]},
        "pages_read_again_by_page_check": {k: sum(bool(r["reocr_reason"]) for _, r in v) for k, v in first.items()},
        "pages_read_again_by_book_pass": again_pages,
        "pages_still_read_without_kazakh_models": sum("kaz" not in (r["ocr_language"] or "")
                                                      for _, r in final["kk as ru"]),
        "book_pass_pages": [{"book_id": r["book_id"], "page": r["page"], "degradation": s["degradation"],
                             "cer_before": E.score(s["truth"], before["text"])["cer"],
                             "cer_after": E.score(s["truth"], r["text"])["cer"], "reason": r["reocr_reason"],
                             "attempts": json.loads(r["ocr_attempts"] or "[]")}
                            for (s, r), (_, before) in zip(final["kk as ru"], first["kk as ru"]) if r["ocr_pass"]],
        "seconds": {"first_pass": round(t_first, 1), "total": round(t_total, 1)},
    }
    print(C.md_table(["", "value"], [[k, v] for k, v in result["cer"].items()]))
    print(result)
    path = C.write_results(NAME + ("" if args.dpi == 300 else f"_{args.dpi}dpi") + ("_fonts" if args.fonts else ""),
                           {"benchmark": NAME, "machine": C.machine(), "dpi": args.dpi, **result})
    print(f"\nresults: {path.relative_to(C.REPO)}")


if __name__ == "__main__":
    main()
