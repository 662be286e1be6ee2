"""`qazflow build`: inputs → pages → curated documents → token shards → report.

Only wiring lives here: which operator runs where, with what resources, reading and
writing. Each stage is resumable (flows/stages.py).
"""
from __future__ import annotations

import time
from collections import Counter
from datetime import datetime, timezone

import pyarrow as pa
import pyarrow.compute as pc
from omegaconf import DictConfig, OmegaConf

from flows.config import check_inputs
from flows.inputs import ReadTextFiles, catalog_books, check_output_writable, find_books, find_text_files
from flows.ledger import write_ledger
from flows.near_dedup import near_dedup
from flows.news import crawl_news, news_documents, news_fingerprint
from flows.pages import PAGES, current_pages, ocr_config_hash, pages_stage
from flows.report import write_report
from flows.runtime import actor_pool, log, ray_session
from flows.shards import build_sft_shards, build_shards
from flows.stages import StageLog, stage_key
from flows.storage import S3Settings, Storage, join
from operators.books.assemble import BookAssembly
from operators.text.basic import LengthFilter, add_exact_keys, mark_exact_duplicates
from operators.text.c4 import C4Lines, C4Quality
from operators.text.fineweb import FineWebQuality
from operators.text.gopher import GopherQuality, GopherRepetition
from operators.text.langid import FastTextLangID, LanguageFilter
from operators.text.normalize import Normalizer
from operators.text.ocr_quality import OcrQuality
from operators.text.pii import PiiRedactor
from operators.text.readers import TextReader
from schemas import CURATION, DOCUMENT, REJECTED, validate

# Curation in the order documents meet it: (filters.<section>, operator). The report
# accounts for rejections in this order. C4Quality must see the lines C4Lines removes;
# PII runs last, on the text that is kept.
CHAIN = [
    ("normalize", Normalizer),
    ("lang", FastTextLangID),
    ("lang", LanguageFilter),
    ("length", LengthFilter),
    ("c4_quality", C4Quality),
    ("c4_lines", C4Lines),
    ("gopher_quality", GopherQuality),
    ("gopher_repetition", GopherRepetition),
    ("fineweb_quality", FineWebQuality),
    ("ocr_quality", OcrQuality),
    ("pii", PiiRedactor),
]
LANGID_SETTINGS = ("model_path", "latin_kk_min_score", "kazakh_check", "dictionaries")
READERS = ["TextReader", "BookAssembly", "NewsFetch", "NewsExtract"]


def storage_for(cfg: DictConfig) -> Storage:
    return Storage(S3Settings(**OmegaConf.to_container(cfg.storage.s3)))


def _pyarrow(fn, **kwargs):
    return dict(fn=fn, batch_format="pyarrow", **kwargs)


def book_assembler(books: list[dict], config_hash: str):
    """map_groups adapter: all page rows of one book (from every run) → its document row."""
    by_id = {b["book_id"]: b for b in books}

    def assemble_book(pages: pa.Table) -> pa.Table:
        rows = current_pages(pages, config_hash).to_pylist()
        book = by_id.get(rows[0]["book_id"], {})
        doc = BookAssembly()(rows[0]["book_id"], book.get("uri", rows[0]["uri"]), rows, book.get("title"))
        return validate(pa.Table.from_pylist([doc]), CURATION)

    return assemble_book


class Curate:
    """The whole curation chain in one actor: models (fastText, word lists) load once per
    actor, and a 2-core laptop never has two actor pools waiting on each other's CPUs."""

    def __init__(self, chain: list[tuple[type, dict]]):
        self.operators = [operator(**settings) for operator, settings in chain]

    def __call__(self, table: pa.Table) -> pa.Table:
        for operator in self.operators:
            table = operator(table)
        return table


def count_reasons(table: pa.Table) -> pa.Table:
    counts = table.group_by("reason", use_threads=False).aggregate([("doc_id", "count")])
    return pa.table({"reason": counts.column("reason").fill_null(""), "n": counts.column("doc_id_count")})


def kept_only(table: pa.Table) -> pa.Table:
    return validate(table.filter(pc.is_null(table.column("reason"))).drop_columns(["reason", "detail"]), DOCUMENT)


def rejected_only(table: pa.Table) -> pa.Table:
    return validate(table.filter(pc.is_valid(table.column("reason"))), REJECTED)


def curation_chain(cfg) -> list[tuple[type, dict]]:
    """The enabled operators with their settings from the `filters` config group."""
    chain = []
    for section, operator in CHAIN:
        settings = OmegaConf.to_container(cfg.filters[section], resolve=True)
        if not settings.pop("enabled", True):
            continue
        if operator is FastTextLangID:
            settings = {k: settings[k] for k in LANGID_SETTINGS}
        elif operator is LanguageFilter:
            settings = {k: v for k, v in settings.items() if k not in LANGID_SETTINGS}
        chain.append((operator, settings))
    return chain


def stage_names(cfg) -> list[str]:
    names = READERS + [operator.__name__ for operator, _ in curation_chain(cfg)]
    return names + (["ExactDedup"] if cfg.dedup.exact else []) + (["NearDedup"] if cfg.dedup.near.enabled else [])


def curate_stage(cfg, storage, stages, text_files, books, upstream_key) -> dict:
    import ray

    docs_out, rejected_out = join(cfg.output, "documents"), join(cfg.output, "rejected")
    key = stage_key("curate", text_files, upstream_key, news_fingerprint(cfg, storage),
                    OmegaConf.to_container(cfg.inputs),
                    OmegaConf.to_container(cfg.filters), OmegaConf.to_container(cfg.dedup))
    if done := stages.finished("curate", key):
        log(f"curate: already done ({done['kept']} kept), skipped")
        return done
    started = stages.start("curate", [docs_out, rejected_out])
    reader = TextReader(cfg.inputs.text_field, cfg.inputs.id_field, cfg.inputs.title_field, cfg.inputs.max_file_bytes,
                        cfg.inputs.max_line_bytes, cfg.inputs.max_gzip_ratio)
    parts = []
    if text_files:
        items = [{"uri": u} for u in text_files]
        parts.append(ray.data.from_items(items, override_num_blocks=len(items))
                     .map_batches(ReadTextFiles(storage, reader), batch_size=1, batch_format="pyarrow"))
    if books:
        fs, path = storage.resolve(join(cfg.output, "pages"))
        parts.append(ray.data.read_parquet(path, filesystem=fs, schema=PAGES)
                     .groupby("book_id").map_groups(book_assembler(books, ocr_config_hash(cfg.ocr)),
                                                    batch_format="pyarrow"))
    if (news := news_documents(cfg, storage, crawl=False)) is not None:
        parts.append(news)
    docs = parts[0].union(*parts[1:]) if len(parts) > 1 else parts[0]

    docs = docs.map_batches(Curate, fn_constructor_args=(curation_chain(cfg),), compute=actor_pool(cfg),
                            batch_size=256, batch_format="pyarrow")
    if cfg.dedup.exact:
        docs = docs.map_batches(**_pyarrow(add_exact_keys)).groupby("dedup_key").map_groups(
            mark_exact_duplicates, batch_format="pyarrow")
    if cfg.dedup.near.enabled:
        docs = near_dedup(docs, cfg.dedup, cfg.ray.concurrency)
    curated = docs.materialize()

    counts = Counter()
    for row in curated.map_batches(**_pyarrow(count_reasons)).take_all():
        counts[row["reason"]] += row["n"]
    kept = counts.pop("", 0)
    for out, select, n in ((docs_out, kept_only, kept), (rejected_out, rejected_only, sum(counts.values()))):
        if n:
            fs, path = storage.resolve(out)
            curated.map_batches(**_pyarrow(select)).write_parquet(path, filesystem=fs, min_rows_per_file=50_000)
    info = stages.finish("curate", key, started, {"documents_in": kept + sum(counts.values()), "kept": kept,
                                                  "rejected": dict(sorted(counts.items()))})
    log(f"curate: {info['documents_in']} documents in, {kept} kept, rejected {info['rejected']}")
    return info


def run_build(cfg: DictConfig) -> dict:
    """Runs every stage (skipping finished ones) and returns the report."""
    run_started = time.time()
    storage = storage_for(cfg)
    check_inputs(cfg, storage)  # before Ray starts: a typo fails in a second
    check_output_writable(cfg, storage)  # and so does a read-only or full output disk
    text_files, ignored_text = find_text_files(cfg, storage)
    books, ignored_books = find_books(cfg, storage)
    books, catalog = catalog_books(cfg, storage, books)
    if not text_files and not books and not (cfg.inputs.news.seeds or cfg.inputs.warc or cfg.inputs.instructions):
        raise SystemExit("qazflow: nothing to do: give inputs.text, inputs.books, inputs.news.seeds, inputs.warc "
                         "or inputs.instructions")
    stages = StageLog(storage, cfg.output, cfg.resume)
    started_iso = datetime.now(timezone.utc).isoformat(timespec="seconds")
    if books or catalog.missing:  # registered before OCR starts: `qazflow status` shows them queued
        write_ledger(cfg, storage, started_iso, catalog.books, catalog.missing, pages_complete=False)
    with ray_session(cfg):
        pages = pages_stage(cfg, storage, stages, books, actor_pool) if books else None
        news = crawl_news(cfg, storage) if cfg.inputs.news.seeds else None  # incremental by its own state
        curate = curate_stage(cfg, storage, stages, text_files, books, pages and pages["key"])
        shards = build_shards(cfg, storage, stages, curate["key"])
        sft = build_sft_shards(cfg, storage, stages, shards["key"])  # None without inputs.instructions
    ledger = write_ledger(cfg, storage, started_iso, catalog.books, catalog.missing,
                          catalog_problems=catalog.problems) if books or catalog.missing else None
    return write_report(cfg, storage, {
        "inputs": {"text_files": len(text_files), "books": len(books), "ignored_files": ignored_text + ignored_books},
        "pages": pages, "news": news, "ledger": ledger, "curate": curate, "shards": shards, "sft": sft,
        "curation_stages": stage_names(cfg),
        "seconds": round(time.time() - run_started, 3),
    })
