#!/usr/bin/env python
"""Pages per second through the pipeline's pages stage vs the raw engine, same pages, one run.

    .venv/bin/python tests/benchmarks/ocr_speed.py [--quick] [--pages 24] [--repeats 3]
        [--textlayer-only] [--textlayer-pages 1000]

Scanned pages (image-only PDF pages, 300-dpi grayscale scans of real Kazakh text, book
language kk → Tesseract kaz+rus):
  raw tesseract   the `tesseract` binary on the same page images (PNG files rendered
                  beforehand, not timed), 2 parallel single-threaded processes
                  (OMP_THREAD_LIMIT=1), TSV output, the pipeline's psm and dpi
  raw tesseract API  Tesseract's C API (tesserocr) on the same PNGs in 2 processes, the
                  models loaded once per process before timing: the engine the pipeline
                  runs by default (ocr.tesseract.backend=auto), with nothing around it
  OcrPages, no Ray  the pipeline's OcrPages class (render from the PDF + PNG encode +
                  tesseract + row building) in 2 worker processes, no Ray
  pages stage     `flows.pages.pages_stage` on an embedded Ray with ray.num_cpus=2: the
                  time is the stage's own `seconds` in OUTPUT/_stages/pages.json (Ray
                  start-up excluded; dataset planning, actor start, parquet writes included)
                  (the table counts the OcrPages actors Ray started for each run)
Text-layer pages (born-digital PDFs, books of 200 pages): the pages stage vs raw PyMuPDF
`get_text("text", sort=True)` on the same pages, in 2 processes (one book per task), and
ReadBookPages (PdfTextLayer's reading + routing + Arrow rows, what the stage's routing tasks
run) in 2 processes without Ray. PdfTextLayer makes get_text's very string faster
(operators/books/pdf.py `sorted_page_text`), so the no-Ray variant can beat the raw call.
`--textlayer-only` skips the scanned pages (no Tesseract); `--textlayer-pages 5000` shows
how Ray's fixed costs shrink with more pages.

Overhead % = (pipeline seconds / raw seconds - 1) x 100; pages/s/core = pages / s / 2.
Repetitions alternate the variants so a neighbour's load on this shared machine hits
all of them; the table shows the best repetition and the JSON keeps every one.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C  # noqa: E402
import ocr_eval as E  # noqa: E402  (page typesetting and scanning)

import pyarrow as pa  # noqa: E402
import pymupdf  # noqa: E402

NAME = "ocr_speed"
CPUS = 2
SPAWN = multiprocessing.get_context("spawn")  # no fork of a process that runs Ray


# ------------------------------------------------------------------ inputs ----
def make_scanned_books(workdir: Path, pages: int, per_book: int, languages: tuple[str, ...] = ("kk",),
                       seed: int = 7) -> list[dict]:
    """`pages` 300-dpi scans of real text in books of `per_book`, clean and rotated in turn;
    the books' languages are `languages` in turn."""
    rng = random.Random(seed)
    pools = C.paragraphs()
    starts = list(range(0, pages, per_book))
    book_language = [languages[k % len(languages)] for k in range(len(starts))]
    # Each language's texts drawn at once, before the scans, as with one language always.
    texts = {lang: iter(E.page_texts(pools, lang, sum(min(per_book, pages - b)
                                                      for b, bl in zip(starts, book_language) if bl == lang), rng))
             for lang in dict.fromkeys(languages)}
    fonts = [f for f in E.FONT_FILES.values() if os.path.exists(f)]
    books = []
    vector = pymupdf.open()
    for b, language in zip(starts, book_language):
        doc = pymupdf.open()
        for i in range(b, min(b + per_book, pages)):
            n, _ = E.typeset(vector, next(texts[language]), fonts[i % len(fonts)])
            data, _ = E.degrade(E.render(vector[n], 300), "rotate" if i % 2 else "clean", 300, rng)
            E.image_page(doc, data)
        path = workdir / f"scan_{b // per_book:02d}.pdf"
        doc.save(path, garbage=3, deflate=True)
        books.append({"uri": str(path), "book_id": path.stem, "files": [str(path)], "language": language})
    return books


def make_textlayer_books(workdir: Path, books: int, pages_per_book: int) -> list[dict]:
    rng = random.Random(11)
    pools = C.paragraphs()
    langs = ["kk", "ru", "en"]
    doc = pymupdf.open()
    texts = [E.page_texts(pools, langs[i % 3], 1, rng)[0] for i in range(pages_per_book)]
    for t in texts:
        E.typeset(doc, t, E.FONT_FILES["DejaVuSerif"])
    out = []
    for b in range(books):
        path = workdir / f"born_digital_{b:02d}.pdf"
        doc.save(path, garbage=3, deflate=True)
        out.append({"uri": str(path), "book_id": path.stem, "files": [str(path)], "language": "kk"})
    return out


def render_pngs(books: list[dict], dpi: int, workdir: Path) -> list[str]:
    from operators.books.render import PdfPageRenderer

    paths = []
    for book in books:
        with PdfPageRenderer(Path(book["uri"]).read_bytes()) as r:
            for p in range(1, r.page_count + 1):
                path = workdir / f"{book['book_id']}_{p:04d}.png"
                r.render(p, dpi).save(path, "PNG", compress_level=1)  # as TesseractOCR encodes
                paths.append(str(path))
    return paths


# ----------------------------------------------------------------- variants ----
def run_raw_tesseract(pngs: list[str], languages: str, psm: int, dpi: int) -> float:
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}

    def one(path):
        done = subprocess.run(["tesseract", path, "stdout", "-l", languages, "--psm", str(psm), "--dpi", str(dpi),
                               "tsv"], capture_output=True, env=env)
        if done.returncode:
            raise RuntimeError(done.stderr.decode()[-300:])
        return len(done.stdout)

    started = time.perf_counter()
    with ThreadPoolExecutor(CPUS) as pool:  # threads only wait: each runs one tesseract process
        list(pool.map(one, pngs))
    return time.perf_counter() - started


_API = {}


def _init_api(tessdata: str, languages: str, psm: int, dpi: int) -> None:
    os.environ["OMP_THREAD_LIMIT"] = "1"
    import tesserocr

    _API["api"] = tesserocr.PyTessBaseAPI(path=tessdata, lang=languages, psm=psm)
    _API["api"].SetVariable("user_defined_dpi", str(dpi))


def _api_one(path: str) -> int:
    from PIL import Image

    api = _API["api"]
    api.SetImage(Image.open(path))
    api.Recognize()
    tsv = api.GetTSVText(0)
    api.Clear()
    return len(tsv)


def run_raw_tesseract_api(pngs: list[str], pool: ProcessPoolExecutor) -> float:
    started = time.perf_counter()
    list(pool.map(_api_one, pngs, chunksize=1))
    return time.perf_counter() - started


_OCR = {}


def _init_ocr(ocr: dict, config_hash: str) -> None:
    from flows.pages import OcrPages
    from flows.storage import Storage

    _OCR["fn"] = OcrPages(Storage(), ocr, config_hash)


def _ocr_one(row: dict) -> str | None:
    from flows.pages import PAGES

    return _OCR["fn"](pa.Table.from_pylist([row], schema=PAGES)).column("error")[0].as_py()


def run_ocrpages_no_ray(cfg, books: list[dict]) -> float:
    """ReadBookPages in the parent (not timed) and OcrPages in 2 processes (timed)."""
    from omegaconf import OmegaConf

    from flows.build import storage_for
    from flows.pages import ReadBookPages, needs_ocr, ocr_config_hash
    from operators.books.pdf import PdfTextLayer

    ocr = OmegaConf.to_container(cfg.ocr, resolve=True)
    reader = ReadBookPages(storage_for(cfg), PdfTextLayer(max_pages=cfg.ocr.max_pages, **ocr["routing"]))
    rows = []
    for book in books:
        for t in reader(pa.Table.from_pylist([{**book, "done": []}])):
            rows += [r for r in t.to_pylist() if needs_ocr(r)]
    with ProcessPoolExecutor(CPUS, mp_context=SPAWN, initializer=_init_ocr, initargs=(ocr, ocr_config_hash(cfg.ocr))) as pool:
        list(pool.map(_init_noop, range(CPUS)))  # start the workers before the clock
        started = time.perf_counter()
        errors = [e for e in pool.map(_ocr_one, rows, chunksize=1) if e]
        seconds = time.perf_counter() - started
    if errors:
        raise RuntimeError(errors[:3])
    return seconds


def _init_noop(_):
    return os.getpid()


def ocr_actors_started(since: float) -> int:
    """OcrPages actors Ray started since `since` (epoch s), from the GCS actor table."""
    from ray._private import state

    return sum("OcrPages" in (a.get("ActorClassName") or "") and (a.get("StartTime") or 0) >= since * 1000
               for a in state.actors().values())


def run_pages_stage(base_overrides: list[str], books: list[dict], out: Path, pool=None) -> dict:
    from flows.build import storage_for
    from flows.config import load_config
    from flows.pages import pages_stage
    from flows.runtime import actor_pool
    from flows.stages import StageLog

    cfg = load_config([f"output={out}", *base_overrides])
    storage = storage_for(cfg)
    since = time.time()
    started = time.perf_counter()
    info = pages_stage(cfg, storage, StageLog(storage, cfg.output, cfg.resume), books, pool or actor_pool)
    wall = time.perf_counter() - started
    marker = json.loads((out / "_stages" / "pages.json").read_text())
    try:
        actors = ocr_actors_started(since - 1)
    except Exception:  # a private API; the count is a diagnostic, not the measurement
        actors = None
    return {"seconds": marker["seconds"], "wall": wall, "pages": info["pages"], "by_method": info["by_method"],
            "failed": info["failed"], "ocr_actors": actors}


def _get_text_book(path: str) -> int:
    n = 0
    with pymupdf.open(path) as doc:
        for page in doc:
            n += len(page.get_text("text", sort=True))
    return n


_READ = {}


def _init_read(ocr: dict) -> None:
    from flows.pages import ReadBookPages
    from flows.storage import Storage
    from operators.books.pdf import PdfTextLayer

    _READ["fn"] = ReadBookPages(Storage(), PdfTextLayer(max_pages=ocr["max_pages"], **ocr["routing"]))


def _read_book(book: dict) -> int:
    return sum(t.num_rows for t in _READ["fn"](pa.Table.from_pylist([{**book, "done": []}])))


def run_readbookpages_no_ray(books: list[dict], pages: int, pool: ProcessPoolExecutor) -> float:
    """What the stage's routing tasks do (read, route, build the Arrow rows), without Ray."""
    started = time.perf_counter()
    rows = sum(pool.map(_read_book, books))
    seconds = time.perf_counter() - started
    if rows != pages:
        raise RuntimeError(f"{rows} page rows, expected {pages}")
    return seconds


def run_raw_get_text(books: list[dict], pool: ProcessPoolExecutor) -> float:
    started = time.perf_counter()
    list(pool.map(_get_text_book, [b["uri"] for b in books]))
    return time.perf_counter() - started


# --------------------------------------------------------------------- main ----
def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--pages", type=int, help="scanned pages (default 24, quick 12)")
    ap.add_argument("--repeats", type=int, help="repetitions of each variant (default 3, quick 1)")
    ap.add_argument("--textlayer-only", action="store_true", help="only the text-layer variants (no Tesseract)")
    ap.add_argument("--textlayer-pages", type=int,
                    help="born-digital pages, in books of 200 (default 1000, quick 400)")
    args = ap.parse_args()
    n_scan = args.pages or (12 if args.quick else 24)
    repeats = args.repeats or (1 if args.quick else 3)
    tl_pages = 100 if args.quick else 200
    tl_books = max(1, (args.textlayer_pages or (400 if args.quick else 1000)) // tl_pages)
    n_text = tl_books * tl_pages

    import ray
    from omegaconf import OmegaConf

    from flows.config import load_config
    from flows.runtime import ray_session
    from operators.books.ocr import engine_versions

    overrides = [f"ray.num_cpus={CPUS}", f"ray.object_store_memory={1024**3}"]
    scanned = not args.textlayer_only
    n_scan = n_scan if scanned else 0
    started = time.time()
    with tempfile.TemporaryDirectory(prefix="qazflow-ocr-speed-") as tmp:
        tmp = Path(tmp)
        (tmp / "in").mkdir()
        (tmp / "png").mkdir()
        scan_books = make_scanned_books(tmp / "in", n_scan, per_book=10) if scanned else []
        text_books = make_textlayer_books(tmp / "in", tl_books, tl_pages)
        cfg = load_config([f"output={tmp / 'unused'}", *overrides])
        ocr = OmegaConf.to_container(cfg.ocr, resolve=True)
        languages = ocr["tesseract"]["languages"]["kk"]
        pngs = render_pngs(scan_books, ocr["dpi"], tmp / "png")
        print(f"{n_scan} scanned pages in {len(scan_books)} books, {n_text} text-layer pages in {tl_books} books; "
              f"inputs ready in {time.time() - started:.0f} s", file=sys.stderr, flush=True)

        runs = {"raw_tesseract": [], "raw_tesseract_api": [], "ocrpages_no_ray": [], "pages_stage_ocr": [],
                "raw_get_text": [], "readbookpages_no_ray": [], "pages_stage_textlayer": []}
        from operators.books.ocr import _tesseract_install

        tessdata = _tesseract_install("tesseract")[2]
        api_settings = (tessdata, languages, ocr["tesseract"]["psm"], ocr["dpi"])
        with ray_session(cfg), ProcessPoolExecutor(CPUS, mp_context=SPAWN) as text_pool, \
                ProcessPoolExecutor(CPUS, mp_context=SPAWN, initializer=_init_read, initargs=(ocr,)) as read_pool, \
                ProcessPoolExecutor(CPUS if scanned else 1, mp_context=SPAWN, initializer=_init_api,
                                    initargs=api_settings) as api_pool:
            list(text_pool.map(_init_noop, range(CPUS)))
            list(read_pool.map(_init_noop, range(CPUS)))
            if scanned:
                list(api_pool.map(_init_noop, range(CPUS)))  # models loaded before timing
            t0 = time.perf_counter()
            ray.data.range(4).materialize()  # Ray Data's own warm-up, not a pipeline cost
            warmup = time.perf_counter() - t0

            def scan_raw():
                runs["raw_tesseract"].append(run_raw_tesseract(pngs, languages, ocr["tesseract"]["psm"], ocr["dpi"]))
                runs["raw_tesseract_api"].append(run_raw_tesseract_api(pngs, api_pool))

            def stage(name, books, method, n, pool=None):
                def run():
                    result = run_pages_stage(overrides, books, tmp / f"{name}_{len(runs[name])}", pool)
                    assert result["by_method"].get(method) == n and not result["failed"], result
                    runs[name].append(result)
                return run

            def scan_direct():
                runs["ocrpages_no_ray"].append(run_ocrpages_no_ray(cfg, scan_books))

            def text_raw():
                runs["raw_get_text"].append(run_raw_get_text(text_books, text_pool))

            def text_direct():
                runs["readbookpages_no_ray"].append(run_readbookpages_no_ray(text_books, n_text, read_pool))

            scan = [scan_raw, stage("pages_stage_ocr", scan_books, "tesseract", n_scan), scan_direct]
            text = [text_raw, text_direct, stage("pages_stage_textlayer", text_books, "textlayer", n_text)]
            for rep in range(repeats):  # the order rotates, so a neighbour's burst of load hits every variant
                steps = scan[rep % 3:] + scan[:rep % 3] if scanned else []
                for step in steps + text[rep % 3:] + text[:rep % 3]:
                    step()
                print(f"repetition {rep + 1}/{repeats}: " + ", ".join(
                    f"{name} {(runs[name][-1]['seconds'] if isinstance(runs[name][-1], dict) else runs[name][-1]):.1f} s"
                    for name in runs if runs[name]), file=sys.stderr, flush=True)

    def best(name):
        values = [r["seconds"] if isinstance(r, dict) else r for r in runs[name]]
        return (min(values) if values else float("nan")), values

    raw, raw_all = best("raw_tesseract")
    api, api_all = best("raw_tesseract_api")
    direct, direct_all = best("ocrpages_no_ray")
    stage, stage_all = best("pages_stage_ocr")
    gt, gt_all = best("raw_get_text")
    tdirect, tdirect_all = best("readbookpages_no_ray")
    tstage, tstage_all = best("pages_stage_textlayer")

    def actors(name):
        return ", ".join(str(r.get("ocr_actors")) for r in runs[name])

    def row(label, pages, seconds, base, values, actors_=""):
        return [label, pages, seconds, pages / seconds, pages / seconds / CPUS,
                "—" if base is None else f"{(seconds / base - 1) * 100:+.1f}%", ", ".join(f"{v:.1f}" for v in values),
                actors_]

    headers = ["variant", "pages", "best s", "pages/s", "pages/s/core", "vs raw", "all repetitions (s)",
               "OCR actors started"]
    lines = [f"## OCR and text-layer throughput ({'quick' if args.quick else 'full'} run, {CPUS} CPUs)", "",
             f"load average at start {C.machine()['loadavg_at_start']}.", ""]
    if scanned:
        lines += [f"{engine_versions()['tesseract']}, languages {languages}, psm {ocr['tesseract']['psm']}, "
                  f"{ocr['dpi']} dpi, A5 pages of ~{E.TARGET_CHARS} chars, {len(scan_books)} scanned books.", "",
                  "### Scanned pages (Tesseract path)", "",
                  C.md_table(headers, [
                      row("raw `tesseract`, 2 processes, OMP_THREAD_LIMIT=1", n_scan, raw, None, raw_all),
                      row("raw Tesseract C API (tesserocr), 2 processes", n_scan, api, raw, api_all),
                      row("OcrPages (render + tesseract), 2 processes, no Ray", n_scan, direct, raw, direct_all),
                      row("**pages stage** on Ray (`_stages/pages.json` seconds)", n_scan, stage, raw, stage_all,
                          actors("pages_stage_ocr")),
                  ]), "",
                  f"Pipeline vs raw tesseract: **{(stage / raw - 1) * 100:+.1f}%** (target < 10%); vs the raw C API "
                  f"it runs: {(stage / api - 1) * 100:+.1f}%; without Ray "
                  f"(render + PNG encode + rows): {(direct / raw - 1) * 100:+.1f}%.", ""]
    lines += ["### Text-layer pages (born-digital PDFs)", "",
              C.md_table(headers, [
                  row("raw PyMuPDF get_text(sort=True), 2 processes", n_text, gt, None, gt_all),
                  row("ReadBookPages (read + route + rows), 2 processes, no Ray", n_text, tdirect, gt, tdirect_all),
                  row("**pages stage** on Ray (`_stages/pages.json` seconds)", n_text, tstage, gt, tstage_all,
                      actors("pages_stage_textlayer")),
              ]), "",
              f"Pages stage vs raw get_text: **{gt / tstage:.2f}x** the speed (target >= 0.8x); without Ray "
              f"{gt / tdirect:.2f}x.", "",
              f"Ray Data warm-up before the first stage (excluded): {warmup:.1f} s."]
    print("\n".join(lines))
    path = C.write_results(NAME + (f"_textlayer{n_text}" if args.textlayer_only else ""), {
        "benchmark": NAME, "quick": args.quick, "textlayer_only": args.textlayer_only, "machine": C.machine(),
        "tesseract": engine_versions()["tesseract"],
        "cpus": CPUS, "languages": languages, "dpi": ocr["dpi"], "psm": ocr["tesseract"]["psm"],
        "scanned_pages": n_scan, "textlayer_pages": n_text, "textlayer_books": tl_books, "repeats": repeats,
        "runs": runs,
        "best_seconds": {"raw_tesseract": raw, "raw_tesseract_api": api, "ocrpages_no_ray": direct,
                         "pages_stage_ocr": stage, "raw_get_text": gt, "readbookpages_no_ray": tdirect,
                         "pages_stage_textlayer": tstage},
        "ocr_overhead_pct": (stage / raw - 1) * 100, "ocr_overhead_vs_api_pct": (stage / api - 1) * 100,
        "ocr_overhead_no_ray_pct": (direct / raw - 1) * 100,
        "ocr_pages_per_s_per_core": {"raw": n_scan / raw / CPUS, "pipeline": n_scan / stage / CPUS},
        "textlayer_pages_per_s": {"raw": n_text / gt, "no_ray": n_text / tdirect, "pipeline": n_text / tstage},
        "textlayer_slowdown": tstage / gt, "textlayer_speed_vs_raw": gt / tstage, "ray_data_warmup_s": warmup,
        "median_seconds": {k: statistics.median([r["seconds"] if isinstance(r, dict) else r for r in v])
                           for k, v in runs.items() if v},
    })
    print(f"\nresults: {path.relative_to(C.REPO)}")


if __name__ == "__main__":
    main()
