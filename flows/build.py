"""`qazflow build`: inputs → pages → curated documents → token shards → report.

Only wiring lives here: which operator runs where, with what resources, reading and
writing. Each stage is resumable (flows/stages.py).
"""
from __future__ import annotations

import time
from datetime import datetime, timezone

from omegaconf import DictConfig, OmegaConf

from flows.curate import curate_units, dedup_and_write
from flows.inputs import check_output_writable, find_inputs
from flows.ledger import write_ledger
from flows.news import crawl_news, news_fingerprint
from flows.pages import pages_stage
from flows.report import write_report
from flows.runtime import actor_pool, log, ray_session, surviving_lost_nodes
from flows.shards import build_sft_shards, build_shards
from flows.stages import StageLog, stage_key
from flows.storage import S3Settings, Storage, join
from operators.text.basic import LengthFilter
from operators.text.c4 import C4Lines, C4Quality
from operators.text.fineweb import FineWebQuality
from operators.text.gopher import GopherQuality, GopherRepetition
from operators.text.langid import FastTextLangID, LanguageFilter
from operators.text.normalize import Normalizer
from operators.text.ocr_quality import OcrQuality
from operators.text.pii import PiiRedactor

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
    docs_out, rejected_out = join(cfg.output, "documents"), join(cfg.output, "rejected")
    key = stage_key("curate", text_files, upstream_key, news_fingerprint(cfg, storage),
                    OmegaConf.to_container(cfg.inputs),
                    OmegaConf.to_container(cfg.filters), OmegaConf.to_container(cfg.dedup))
    if (done := stages.finished("curate", key)) and not done.get("unreadable_files"):
        log(f"curate: already done ({done['kept']} kept), skipped")
        return done
    started = stages.start("curate", [docs_out, rejected_out])
    units, unreadable = curate_units(cfg, storage, curation_chain(cfg), text_files, books, upstream_key)
    counts = dedup_and_write(cfg, storage, units, docs_out, rejected_out)
    kept = counts.pop("", 0)
    info = stages.finish("curate", key, started, {"documents_in": kept + sum(counts.values()), "kept": kept,
                                                  "rejected": dict(sorted(counts.items())),
                                                  "unreadable_files": unreadable})
    log(f"curate: {info['documents_in']} documents in, {kept} kept, rejected {info['rejected']}")
    return info


def produced(info: dict, *outcome: str) -> str:
    """What the stages after a stage depend on: its key and its outcome (counts), since a
    stage that ran again to read inputs storage could not give before makes other output
    under the same key."""
    return stage_key(info["key"], [info.get(name) for name in outcome])


def run_build(cfg: DictConfig) -> dict:
    """Runs every stage (skipping finished ones) and returns the report."""
    run_started = time.time()
    storage = storage_for(cfg)
    missing, text_files, books, warcs, left_out, catalog = find_inputs(cfg, storage)  # a typo fails in a second
    check_output_writable(cfg, storage)  # and so does a read-only or full output disk
    if not text_files and not books and not (cfg.inputs.news.seeds or cfg.inputs.warc or cfg.inputs.instructions):
        raise SystemExit("qazflow: nothing to do: give inputs.text, inputs.books, inputs.news.seeds, inputs.warc "
                         "or inputs.instructions")
    stages = StageLog(storage, cfg.output, cfg.resume)
    started_iso = datetime.now(timezone.utc).isoformat(timespec="seconds")
    if books or catalog.missing:  # registered before OCR starts: `qazflow status` shows them queued
        write_ledger(cfg, storage, started_iso, catalog.books, catalog.missing, pages_complete=False)
    retries: list[dict] = []

    def stage(name, run):
        return surviving_lost_nodes(name, run, cfg.ray.stage_attempts, retries)

    with ray_session(cfg):
        pages = stage("pages", lambda: pages_stage(cfg, storage, stages, books, actor_pool)) if books else None
        # The crawl is incremental by its own state.
        news = stage("news", lambda: crawl_news(cfg, storage)) if cfg.inputs.news.seeds else None
        curate = stage("curate", lambda: curate_stage(cfg, storage, stages, text_files, books,
                                                      pages and produced(pages, "pages", "by_method", "failed")))
        shards = stage("shards", lambda: build_shards(cfg, storage, stages,
                                                              produced(curate, "documents_in", "kept", "rejected")))
        # None without inputs.instructions
        sft = stage("sft", lambda: build_sft_shards(cfg, storage, stages, shards["key"]))
    ledger = write_ledger(cfg, storage, started_iso, catalog.books, catalog.missing,
                          catalog_problems=catalog.problems) if books or catalog.missing else None
    return write_report(cfg, storage, {
        "inputs": {"text_files": len(text_files), "books": len(books),
                   "ignored_files": left_out,
                   "missing_paths": missing},  # under inputs.on_missing=reject
        "pages": pages, "news": news, "ledger": ledger, "curate": curate, "shards": shards, "sft": sft,
        "curation_stages": stage_names(cfg), "stage_retries": retries,
        "seconds": round(time.time() - run_started, 3),
    })
