#!/usr/bin/env python
"""News extraction pages/s from WARC through the pipeline vs trafilatura called directly, same pages, one run.

    .venv/bin/python tests/benchmarks/news_extract.py [--quick] [--pages 2000] [--repeats 3] [--warc-files 4]

Pages: N synthetic news articles (default 2000, quick 300), a third each in Kazakh, Russian
and English, from the page template of tests/news_site.py (header and nav, byline, sidebar,
reader comments, footer) with real paragraphs (samples/text, $QAZFLOW_SEEDS if present, and
tests/news_site.py's own): 3-10 paragraphs per page, shuffled, a dateline and a sentence with
numbers so no two pages are alike, plus a block of 20-40 related-story links and an inline
<script>. They are written (not timed) as HTTP/1.1 200 response records (Content-Type
text/html; charset=utf-8, each after its request record, gzip per record, as the crawler
writes them) into --warc-files WARC/1.1 files.

Variants, each on 2 CPUs, repetitions alternated (the order rotates, so a neighbour's load
on this shared machine hits all of them); the table shows the best repetition, the JSON
keeps every one:
  trafilatura direct  `trafilatura.bare_extraction(body, url=..., <the pipeline's options>)`
                      on the HTML bytes already in memory (loaded into each worker before
                      the clock), 2 spawned worker processes, 16 pages per task. The raw
                      engine: no WARC, no charset handling of ours, no rows.
  extract_document    operators.news.extract.extract_document on every response record of
                      the WARC files (read with operators.news.warc.iter_warc_responses),
                      2 spawned worker processes, one WARC file per task, no Ray: WARC
                      reading + our decoding + trafilatura + row building.
  pipeline            flows.news.extract_warcs with the default news.extract.split_files=auto:
                      with at least as many WARC files as CPUs (the default 4 files), each
                      file is read once by one task (ExtractWarcRanges), on an embedded Ray
                      with ray.num_cpus=2, timed from creating the Dataset
                      to `materialize()` returning all rows. Ray start-up, Ray Data's warm-up
                      and one untimed warm-up extraction of a small WARC file (so the Ray
                      workers have imported trafilatura, as the pools' workers have) are
                      excluded; planning, scheduling, row validation and
                      Arrow conversion are included. The driver, raylet and GCS share the
                      same 2 cores.
  pipeline, split     the same with split_files=always: every file read in byte ranges by
                      several tasks at once, each finding its first record (operators/news/
                      warc_ranges.py): what runs when there are fewer files than CPUs
                      (with --warc-files 1, "pipeline" itself splits its one file).
Ratio = pipeline pages/s / trafilatura-direct pages/s (1.0 = no overhead).
Fairness check: the pipeline's document texts are compared, per URL, with the direct
trafilatura texts (stripped) and with extract_document's; the counts of differing pages are
reported (and every page must come out as a document with non-empty text).
"""
from __future__ import annotations

import argparse
import html as htmllib
import io
import multiprocessing
import os
import pickle
import random
import statistics
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C  # noqa: E402

NAME = "news_extract"
CPUS = 2
SPAWN = multiprocessing.get_context("spawn")  # no fork of a process that runs Ray
CHUNK = 16  # pages per task of the direct-trafilatura pool
SITES = ["https://qazaqdaily.kz", "https://astana-news.kz", "https://dalanews.kz", "https://steppe-times.com"]
DATELINE = {"kk": "Астана, {d}. ", "ru": "Астана, {d}. ", "en": "ASTANA, {d}. "}
NUMBERS = {
    "kk": "Есеп бойынша {a} мекеме {b} жоба ұсынды, оның {c} пайызы {y} жылы іске асады.",
    "ru": "По данным отчёта, {a} организаций представили {b} проектов, {c} процентов из них будут реализованы в {y} году.",
    "en": "According to the report, {a} organisations submitted {b} projects, {c} percent of which will start in {y}.",
}


# ------------------------------------------------------------------ inputs ----
def make_pages(n: int, seed: int = 5) -> list[dict]:
    """n pages: {url, lang, body (utf-8 HTML bytes)}."""
    from tests import news_site as S

    pools = {lang: list(v) for lang, v in C.paragraphs(prose_only=True).items()}
    pools["kk"] += S.KK_PARAGRAPHS + S.KK2_PARAGRAPHS
    pools["ru"] += S.RU_PARAGRAPHS + S.RU_CP1251_PARAGRAPHS
    pools["en"] += S.EN_PARAGRAPHS + S.EN_DEEP_PARAGRAPHS
    headlines = [s for lang in pools for p in pools[lang] for s in C.sentences(p) if 30 <= len(s) <= 120]
    rng = random.Random(seed)
    pages = []
    for i in range(n):
        lang = ("kk", "ru", "en")[i % 3]
        site = SITES[i % len(SITES)]
        date = f"2026-{1 + i % 12:02d}-{1 + i % 28:02d}"
        paras = rng.sample(pools[lang], min(len(pools[lang]), rng.randint(3, 10)))
        paras[0] = DATELINE[lang].format(d=date) + paras[0]
        paras.insert(rng.randint(1, len(paras)), NUMBERS[lang].format(
            a=rng.randint(3, 900), b=rng.randint(10, 5000), c=rng.randint(1, 99), y=rng.randint(2024, 2035)))
        title = f"{C.sentences(paras[1])[0][:90].rstrip('.')} ({i})"
        path = f"/{lang}/{date[:7]}/article-{i:06d}.html"
        article = S.Article(path, lang, title, paras, date, rng.choice(["Мақсат Калимолдаев", "Мадина Мансурова",
                                                                        "Редакция", "Staff Reporter"]))
        page = article.html(site)
        related = "\n".join(f'      <li><a href="/news/{rng.randint(1, 10**6)}.html">{htmllib.escape(h)}</a></li>'
                            for h in rng.sample(headlines, rng.randint(20, 40)))
        script = ('  <script>window.__STATE__ = {"page": %d, "ads": [%s], "tracking": "%s"};</script>\n'
                  % (i, ", ".join(str(rng.randint(1, 99999)) for _ in range(60)), "x" * rng.randint(200, 800)))
        page = page.replace("  <footer", f'  <div class="related"><h3>Read also</h3><ul>\n{related}\n  </ul></div>\n'
                                          f"{script}  <footer", 1)
        pages.append({"url": site + path, "lang": lang, "body": page.encode("utf-8")})
    return pages


def write_warcs(pages: list[dict], folder: Path, n_files: int, prefix: str = "bench") -> list[str]:
    """The pages, round-robin, into n_files gzip WARC/1.1 files (request + response records)."""
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    folder.mkdir(parents=True, exist_ok=True)
    paths = [str(folder / f"{prefix}-{k:05d}.warc.gz") for k in range(n_files)]
    files = [open(p, "wb") for p in paths]
    writers = [WARCWriter(f, gzip=True, warc_version="1.1") for f in files]
    for name, w in zip(paths, writers):
        w.write_record(w.create_warcinfo_record(os.path.basename(name), {"software": "qazflow news_extract bench"}))
    for i, page in enumerate(pages):
        w = writers[i % n_files]
        http = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8"),
                                           ("Content-Length", str(len(page["body"])))], protocol="HTTP/1.1")
        response = w.create_warc_record(page["url"], "response", payload=io.BytesIO(page["body"]), http_headers=http)
        target = page["url"].split("/", 3)[3]
        request = w.create_warc_record(
            page["url"], "request", payload=io.BytesIO(b""),
            http_headers=StatusAndHeaders(f"GET /{target} HTTP/1.1", [("User-Agent", "qazflow/0.1")],
                                          is_http_request=True),
            warc_headers_dict={"WARC-Concurrent-To": response.rec_headers.get_header("WARC-Record-ID")})
        w.write_record(request)
        w.write_record(response)
    for f in files:
        f.close()
    return paths


# ----------------------------------------------------------------- variants ----
_W: dict = {}


def _trafilatura_options(include_tables: bool, favor_precision: bool) -> dict:
    """The keyword arguments extract_document gives trafilatura.bare_extraction."""
    return dict(include_comments=False, include_tables=include_tables, favor_precision=favor_precision,
                with_metadata=True, deduplicate=False,
                date_extraction_params={"original_date": True, "extensive_search": False})


def _init_worker(pages_file: str | None, options: dict) -> None:
    import logging

    import trafilatura  # noqa: F401 - imported before the clock

    import operators.news.extract  # noqa: F401 - silences trafilatura's loggers as in the pipeline

    logging.getLogger("trafilatura").setLevel(logging.ERROR)
    logging.getLogger("htmldate").setLevel(logging.ERROR)
    _W["options"] = options
    if pages_file:
        with open(pages_file, "rb") as f:
            _W["pages"] = pickle.load(f)


def _warm(_):
    """One extraction of each kind in this worker (first-call costs out of the clock)."""
    import trafilatura

    from operators.news.extract import extract_document
    from tests.news_site import ARTICLES

    body = ARTICLES["/kk/ai-damuy.html"].html("https://x.kz").encode()
    trafilatura.bare_extraction(body, url="https://x.kz/a", **_trafilatura_options(**_W["options"]))
    extract_document("https://x.kz/a", body, "w.warc.gz", 0, "<urn:uuid:0>", "text/html; charset=utf-8", **_W["options"])
    time.sleep(0.3)  # so the warm-up tasks spread over every worker
    return os.getpid()


def _trafilatura_chunk(indices: list[int]) -> list[tuple[int, str]]:
    import trafilatura

    options = _trafilatura_options(**_W["options"])
    out = []
    for i in indices:
        page = _W["pages"][i]
        doc = trafilatura.bare_extraction(page["body"], url=page["url"], **options)
        out.append((i, (doc.text or "").strip() if doc is not None else ""))
    return out


def _extract_document_file(path: str, max_bytes: int) -> list[tuple[str, str, str | None]]:
    from operators.news.extract import extract_document
    from operators.news.warc import DISCOVERY_KINDS, iter_warc_responses

    out = []
    with open(path, "rb") as stream:
        for fields, offset in iter_warc_responses(stream, with_body=True, max_bytes=max_bytes):
            if fields["kind"] in DISCOVERY_KINDS or fields["http_status"] != 200 or not fields["url"]:
                continue
            doc = extract_document(fields["url"], fields["body"], path, offset, fields["warc_record_id"],
                                   fields["content_type"], **_W["options"])
            out.append((doc["url"], doc["text"], doc["reason"]))
    return out


def run_trafilatura(pool: ProcessPoolExecutor, n: int) -> tuple[float, list[str]]:
    chunks = [list(range(k, min(k + CHUNK, n))) for k in range(0, n, CHUNK)]
    texts = [""] * n
    started = time.perf_counter()
    for part in pool.map(_trafilatura_chunk, chunks):
        for i, text in part:
            texts[i] = text
    return time.perf_counter() - started, texts


def run_extract_document(pool: ProcessPoolExecutor, files: list[str], max_bytes: int) -> tuple[float, list]:
    started = time.perf_counter()
    rows = [r for part in pool.map(_extract_document_file, files, [max_bytes] * len(files)) for r in part]
    return time.perf_counter() - started, rows


def run_pipeline(cfg, storage, files: list[str]) -> tuple[float, list[dict], str]:
    """(seconds, rows, Ray Data's per-operator stats of the run)."""
    from flows.news import extract_warcs

    started = time.perf_counter()
    ds = extract_warcs(cfg, storage, files).materialize()
    seconds = time.perf_counter() - started
    stats = ds.stats()  # not timed, nor is reading the rows back
    rows = ds.select_columns(["url", "text", "reason", "detail"]).take_all()
    return seconds, rows, stats


# --------------------------------------------------------------------- main ----
def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--pages", type=int, help="news pages (default 2000, quick 300)")
    ap.add_argument("--repeats", type=int, help="repetitions of each variant (default 3, quick 1)")
    ap.add_argument("--warc-files", type=int, default=4, help="WARC files the pages are spread over (default 4)")
    args = ap.parse_args()
    n = args.pages or (300 if args.quick else 2000)
    repeats = args.repeats or (1 if args.quick else 3)
    machine = C.machine()  # the load average before this run adds its own

    import ray
    import trafilatura

    from flows.build import storage_for
    from flows.config import load_config
    from flows.news import warc_files
    from flows.runtime import ray_session

    started = time.time()
    with tempfile.TemporaryDirectory(prefix="qazflow-news-extract-") as tmp:
        tmp = Path(tmp)
        pages = make_pages(n)
        files = write_warcs(pages, tmp / "warc", args.warc_files)
        warm_files = write_warcs(make_pages(2 * CHUNK, seed=99), tmp / "warm", 1, prefix="warm")
        with open(tmp / "pages.pkl", "wb") as f:
            pickle.dump([{"url": p["url"], "body": p["body"]} for p in pages], f)
        html_bytes = sum(len(p["body"]) for p in pages)
        warc_bytes = sum(os.path.getsize(f) for f in files)

        overrides = [f"ray.num_cpus={CPUS}", f"ray.object_store_memory={1024**3}",
                     f"inputs.warc=[{','.join(files)}]"]
        cfg = load_config([f"output={tmp / 'out'}", *overrides])
        storage = storage_for(cfg)
        assert warc_files(cfg, storage) == files, warc_files(cfg, storage)
        split_cfg = load_config([f"output={tmp / 'out_split'}", *overrides, "news.extract.split_files=always"])
        warm_cfg = load_config([f"output={tmp / 'out_warm'}", *overrides[:2], f"inputs.warc=[{warm_files[0]}]"])
        ext = cfg.news.extract
        options = {"include_tables": bool(ext.include_tables), "favor_precision": bool(ext.favor_precision)}
        print(f"{n} pages ({html_bytes / n / 1024:.1f} KB of HTML each on average) in {len(files)} WARC files "
              f"({warc_bytes / 2**20:.1f} MiB gzip); inputs ready in {time.time() - started:.0f} s",
              file=sys.stderr, flush=True)

        runs = {"trafilatura_direct": [], "extract_document": [], "pipeline": [], "pipeline_split": []}
        checks = {}
        with ray_session(cfg), \
                ProcessPoolExecutor(CPUS, mp_context=SPAWN, initializer=_init_worker,
                                    initargs=(str(tmp / "pages.pkl"), options)) as tpool, \
                ProcessPoolExecutor(CPUS, mp_context=SPAWN, initializer=_init_worker,
                                    initargs=(None, options)) as dpool:
            t0 = time.perf_counter()
            pids = {"trafilatura_direct": sorted(set(tpool.map(_warm, range(2 * CPUS)))),
                    "extract_document": sorted(set(dpool.map(_warm, range(2 * CPUS))))}
            pool_warmup = time.perf_counter() - t0
            t0 = time.perf_counter()
            ray.data.range(4).materialize()  # Ray Data's own warm-up, not a pipeline cost
            _, warm_rows, _ = run_pipeline(warm_cfg, storage, warm_files)  # Ray workers import trafilatura
            assert len(warm_rows) == 2 * CHUNK, len(warm_rows)
            ray_warmup = time.perf_counter() - t0

            def direct():
                seconds, texts = run_trafilatura(tpool, n)
                runs["trafilatura_direct"].append(seconds)
                checks["trafilatura_direct"] = {p["url"]: t for p, t in zip(pages, texts)}

            def document():
                seconds, rows = run_extract_document(dpool, files, int(cfg.news.max_bytes))
                runs["extract_document"].append(seconds)
                checks["extract_document"] = {u: (t, r) for u, t, r in rows}
                checks["extract_document_rows"] = len(rows)

            def pipeline(key="pipeline", config=cfg):
                seconds, rows, stats = run_pipeline(config, storage, files)
                if not runs[key] or seconds < min(runs[key]):
                    checks[f"{key}_stats"] = stats
                runs[key].append(seconds)
                checks[key] = {r["url"]: (r["text"], r["reason"], r["detail"]) for r in rows}
                checks[f"{key}_rows"] = len(rows)

            steps = [direct, document, pipeline, lambda: pipeline("pipeline_split", split_cfg)]
            for rep in range(repeats):  # the order rotates, so a neighbour's burst of load hits every variant
                for step in steps[rep % 4:] + steps[:rep % 4]:
                    step()
                print(f"repetition {rep + 1}/{repeats}: trafilatura {runs['trafilatura_direct'][-1]:.2f} s, "
                      f"extract_document {runs['extract_document'][-1]:.2f} s, "
                      f"pipeline {runs['pipeline'][-1]:.2f} s, split {runs['pipeline_split'][-1]:.2f} s",
                      file=sys.stderr, flush=True)

    # ---- fairness: same pages in, same texts out ----
    direct_texts = checks["trafilatura_direct"]
    pipe = checks["pipeline"]
    docs = checks["extract_document"]
    pipe_errors = {u: v[2] for u, v in pipe.items() if v[1] is not None}
    fairness = {
        "pages": n,
        "pipeline_rows": checks["pipeline_rows"],
        "pipeline_documents": sum(1 for v in pipe.values() if v[1] is None and v[0]),
        "pipeline_error_rows": len(pipe_errors),
        "pipeline_error_examples": dict(list(pipe_errors.items())[:3]),
        "urls_missing_from_pipeline": len(set(direct_texts) - set(pipe)),
        "direct_empty_texts": sum(1 for t in direct_texts.values() if not t),
        "pipeline_vs_trafilatura_differ": sum(1 for u, t in direct_texts.items() if pipe.get(u, (None,))[0] != t),
        "pipeline_vs_extract_document_differ": sum(1 for u, (t, _) in docs.items() if pipe.get(u, (None,))[0] != t),
        "extract_document_rows": checks["extract_document_rows"],
        "pipeline_vs_split_differ": sum(1 for u, v in pipe.items() if checks["pipeline_split"].get(u) != v),
    }
    diff = [u for u, t in direct_texts.items() if pipe.get(u, (None,))[0] != t][:1]
    if diff:
        fairness["first_difference"] = {"url": diff[0], "trafilatura": direct_texts[diff[0]][:300],
                                        "pipeline": (pipe.get(diff[0], ("",))[0] or "")[:300]}

    best = {k: min(v) for k, v in runs.items()}
    rate = {k: n / s for k, s in best.items()}
    ratio = rate["pipeline"] / rate["trafilatura_direct"]

    def row(label, key):
        return [label, n, best[key], rate[key], rate[key] / CPUS, f"{rate[key] / rate['trafilatura_direct']:.3f}",
                ", ".join(f"{v:.2f}" for v in runs[key])]

    headers = ["variant", "pages", "best s", "pages/s", "pages/s/core", "ratio vs trafilatura", "all repetitions (s)"]
    lines = [f"## News extraction from WARC ({'quick' if args.quick else 'full'} run, {CPUS} CPUs)", "",
             f"trafilatura {trafilatura.__version__}, Ray {ray.__version__}; {n} pages (kk/ru/en thirds, "
             f"{html_bytes / n / 1024:.1f} KB HTML on average) in {len(files)} gzip WARC files "
             f"({warc_bytes / 2**20:.1f} MiB); news.extract range_bytes {ext.range_bytes}, records_per_block "
             f"{ext.records_per_block}; load average at start {machine['loadavg_at_start']}.", "",
             C.md_table(headers, [
                 row("trafilatura.bare_extraction direct, HTML in memory, 2 processes", "trafilatura_direct"),
                 row("extract_document from the WARC files, 2 processes, no Ray", "extract_document"),
                 row("**pipeline**: `extract_warcs` on Ray, to materialize(); whole files", "pipeline"),
                 row("pipeline, files split into byte ranges", "pipeline_split"),
             ]), "",
             f"Pipeline / direct trafilatura pages/s: **{ratio:.3f}** "
             f"({(best['pipeline'] / best['trafilatura_direct'] - 1) * 100:+.1f}% time); "
             f"extract_document without Ray: {rate['extract_document'] / rate['trafilatura_direct']:.3f}.", "",
             f"Fairness: {fairness['pipeline_documents']}/{n} pages came out of the pipeline as documents with text "
             f"({fairness['pipeline_error_rows']} error rows, {fairness['urls_missing_from_pipeline']} missing); texts "
             f"differing from direct trafilatura: {fairness['pipeline_vs_trafilatura_differ']}, from extract_document: "
             f"{fairness['pipeline_vs_extract_document_differ']}, from the split pipeline: "
             f"{fairness['pipeline_vs_split_differ']}.", "",
             f"Excluded warm-ups: worker pools {pool_warmup:.1f} s; Ray Data + one {2 * CHUNK}-page pipeline run "
             f"{ray_warmup:.1f} s."]
    print("\n".join(lines))
    path = C.write_results(NAME, {
        "benchmark": NAME, "quick": args.quick, "machine": machine, "trafilatura": trafilatura.__version__,
        "ray": ray.__version__, "cpus": CPUS, "pages": n, "warc_files": len(files), "html_bytes": html_bytes,
        "warc_bytes": warc_bytes, "repeats": repeats, "extract_options": options,
        "range_bytes": int(ext.range_bytes), "records_per_block": int(ext.records_per_block),
        "runs": runs, "best_seconds": best, "pages_per_s": rate,
        "median_seconds": {k: statistics.median(v) for k, v in runs.items()},
        "ratio_pipeline_vs_trafilatura": ratio,
        "ratio_extract_document_vs_trafilatura": rate["extract_document"] / rate["trafilatura_direct"],
        "ratio_pipeline_split_vs_trafilatura": rate["pipeline_split"] / rate["trafilatura_direct"],
        "fairness": fairness, "pipeline_ray_data_stats_best_run": checks["pipeline_stats"],
        "pipeline_split_ray_data_stats_best_run": checks["pipeline_split_stats"],
        "pool_warmup_s": pool_warmup, "ray_warmup_s": ray_warmup, "worker_pids": pids,
    })
    print(f"\nresults: {path.relative_to(C.REPO)}")
    if fairness["pipeline_documents"] != n or fairness["pipeline_vs_trafilatura_differ"]:
        print("WARNING: the pipeline's output differs from direct extraction (see fairness above)", file=sys.stderr)


if __name__ == "__main__":
    main()
