"""Runs datatrove on a benchmark corpus; started by curation_vs_datatrove.py with the
datatrove venv's python (.bench/datatrove-venv, `make bench-deps`), never imported by qazflow.

    python _datatrove_worker.py filters CORPUS.jsonl SPEC.json
    python _datatrove_worker.py minhash CORPUS.jsonl WORKDIR [WORKERS]

Prints one JSON object (timings, kept/removed ids, peak memory) on the last stdout line.
"""
from __future__ import annotations

import json
import os
import resource
import sys
import time


def peak_rss_mb() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, children) / 1024  # Linux: KiB


def filters(corpus: str, spec_path: str) -> dict:
    """GopherRepetition → GopherQuality → C4Quality → FineWebQuality (FineWeb's order), one
    pipeline per language (datatrove's filters take one language each), single process."""
    from datatrove.data import Document
    from datatrove.pipeline.filters import (C4QualityFilter, FineWebQualityFilter, GopherQualityFilter,
                                            GopherRepetitionFilter)

    spec = json.load(open(spec_path))
    t0 = time.perf_counter()
    by_lang: dict[str, list] = {}
    with open(corpus, encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            by_lang.setdefault(r["lang"], []).append(
                Document(text=r["text"], id=r["id"], metadata={"language": r["lang"], "kind": r["kind"]}))
    parse = time.perf_counter() - t0
    from datatrove.utils.word_tokenizers import load_word_tokenizer

    pipelines = {}
    for lang in sorted(by_lang):
        tok = spec["tokenizer"][lang]
        pipelines[lang] = [
            GopherRepetitionFilter(language=tok),
            GopherQualityFilter(stop_words=spec["stop_words"][lang], language=tok),
            C4QualityFilter(language=tok),
            FineWebQualityFilter(language=tok),
        ]
        # spaCy loads lazily on the first document; load it here, outside the timing, as
        # qazflow's word lists load in Curate() before its timing starts.
        load_word_tokenizer(tok).word_tokenize("Warm up.")
        load_word_tokenizer(tok).sent_tokenize("Warm up. Two sentences.")
    kept, reasons, per_lang = [], {}, {}
    started, cpu = time.perf_counter(), time.process_time()
    for lang, docs in sorted(by_lang.items()):
        steps = pipelines[lang]
        t = time.perf_counter()
        stream = iter(docs)
        for step in steps:
            stream = step.run(stream, rank=0, world_size=1)
        lang_kept = [d.id for d in stream]
        per_lang[lang] = {"docs": len(docs), "kept": len(lang_kept), "seconds": time.perf_counter() - t}
        kept += lang_kept
        for step in steps:  # datatrove's own counters: dropped per reason
            for key, value in step.stats.stats.items():
                if key.startswith("dropped_"):
                    reasons[f"{step.name}:{key[8:]}"] = reasons.get(f"{step.name}:{key[8:]}", 0) + value.total
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    settings = {type(step).__name__: _settings(step) for step in next(iter(pipelines.values()))}
    return {"seconds": seconds, "cpu_seconds": cpu, "parse_seconds": parse, "docs": sum(len(v) for v in by_lang.values()),
            "kept_ids": kept, "reasons": reasons, "per_lang": per_lang, "peak_rss_mb": peak_rss_mb(),
            "settings": settings, "tokenizer": {lang: spec["tokenizer"][lang] for lang in pipelines},
            "stop_words": {lang: len(spec["stop_words"][lang]) for lang in pipelines}}


def _settings(step) -> dict:
    """A filter's thresholds (its plain attributes; long tables and compiled patterns left out)."""
    skip = {"stats", "exclusion_writer", "batch_size", "language", "stop_words", "stop_chars"}
    out = {}
    for key, value in vars(step).items():
        if key.startswith("_") or key in skip:
            continue
        if isinstance(value, (int, float, str, bool, type(None))):
            out[key] = value
        elif isinstance(value, (tuple, list)) and len(value) <= 12:
            out[key] = value
    return out


class TreeMemory:
    """Peak RSS of the largest single process and peak summed PSS of this process and its
    descendants (LocalPipelineExecutor's pool workers hang off a forkserver, which
    RUSAGE_CHILDREN does not see while it lives), sampled every 0.5 s."""

    def __init__(self):
        import threading

        import psutil

        self.max_process_rss = self.tree_pss = 0
        self._me = psutil.Process()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        import psutil

        while not self._stop.is_set():
            pss = 0
            for p in [self._me, *self._me.children(recursive=True)]:
                try:
                    m = p.memory_full_info()
                except psutil.Error:
                    continue
                pss += m.pss
                self.max_process_rss = max(self.max_process_rss, m.rss)
            self.tree_pss = max(self.tree_pss, pss)
            self._stop.wait(0.5)

    def stop(self) -> dict:
        self._stop.set()
        self._thread.join()
        return {"max_process_rss_mb": self.max_process_rss / 2**20, "tree_pss_mb": self.tree_pss / 2**20}


def minhash(corpus: str, workdir: str, workers: int = 1) -> dict:
    """datatrove's 4-stage MinHash dedup with its default MinhashConfig, LocalPipelineExecutor:
    signatures → buckets (one task per bucket) → cluster → filter (+ writer). `workers` > 1:
    the corpus is first split (untimed) into that many JSONL files, datatrove's unit of
    parallelism for readers, and the signature and filter stages run one task per file."""
    from datatrove.executor import LocalPipelineExecutor
    from datatrove.pipeline.dedup import (MinhashDedupBuckets, MinhashDedupCluster, MinhashDedupFilter,
                                          MinhashDedupSignature)
    from datatrove.pipeline.dedup.minhash import MinhashConfig
    from datatrove.pipeline.readers import JsonlReader
    from datatrove.pipeline.writers import JsonlWriter

    config = MinhashConfig()
    d = lambda name: os.path.join(workdir, name)  # noqa: E731
    if workers == 1:
        input_dir, glob = os.path.dirname(corpus), os.path.basename(corpus)
    else:
        input_dir, glob = d("input"), "*.jsonl"
        os.makedirs(input_dir)
        lines = open(corpus, encoding="utf-8").readlines()
        step = -(-len(lines) // workers)
        for i in range(workers):
            with open(os.path.join(input_dir, f"{i:03d}.jsonl"), "w", encoding="utf-8") as f:
                f.writelines(lines[i * step:(i + 1) * step])
        del lines
    memory = TreeMemory()

    def reader():
        return JsonlReader(input_dir, glob_pattern=glob, text_key="text", id_key="id")

    stages = {
        "signatures": LocalPipelineExecutor(
            pipeline=[reader(), MinhashDedupSignature(output_folder=d("sigs"), config=config)],
            tasks=workers, workers=workers, logging_dir=d("logs/sigs"), skip_completed=False),
        "buckets": LocalPipelineExecutor(
            pipeline=[MinhashDedupBuckets(input_folder=d("sigs"), output_folder=d("buckets"), config=config)],
            tasks=config.num_buckets, workers=workers, logging_dir=d("logs/buckets"), skip_completed=False),
        "cluster": LocalPipelineExecutor(
            pipeline=[MinhashDedupCluster(input_folder=d("buckets"), output_folder=d("remove"), config=config,
                                          save_cluster_id=True)],
            tasks=1, workers=1, logging_dir=d("logs/cluster"), skip_completed=False),
        "filter": LocalPipelineExecutor(
            pipeline=[reader(),
                      MinhashDedupFilter(input_folder=d("remove"), load_cluster_ids=True,
                                         exclusion_writer=JsonlWriter(d("removed"), compression=None)),
                      JsonlWriter(d("kept"), compression=None)],
            tasks=workers, workers=workers, logging_dir=d("logs/filter"), skip_completed=False),
    }
    seconds, cpu = {}, time.process_time()
    for name, executor in stages.items():
        t = time.perf_counter()
        executor.run()
        seconds[name] = time.perf_counter() - t
    clusters, removed = {}, []
    for folder, is_removed in (("removed", True), ("kept", False)):
        for name in sorted(os.listdir(d(folder))):
            with open(os.path.join(d(folder), name), encoding="utf-8") as f:
                for line in f:
                    r = json.loads(line)
                    cid = r["metadata"].get("minhash_cluster_id", -1)
                    if cid != -1:
                        clusters.setdefault(str(cid), []).append(r["id"])
                    if is_removed:
                        removed.append(r["id"])
    cpu = time.process_time() - cpu if workers == 1 else None  # pool workers' CPU is not visible here
    tree = memory.stop()
    return {"seconds": seconds, "total_seconds": sum(seconds.values()), "cpu_seconds": cpu, "removed_ids": removed,
            "clusters": list(clusters.values()), "workers": workers, "memory": tree,
            "peak_rss_mb": peak_rss_mb() if workers == 1 else tree["tree_pss_mb"],
            "peak_rss_kind": "ru_maxrss" if workers == 1 else "peak summed PSS of the process tree, sampled",
            "config": {"n_grams": config.n_grams, "num_buckets": config.num_buckets,
                       "hashes_per_bucket": config.hashes_per_bucket, "hash": str(config.hash_config)}}


if __name__ == "__main__":
    import logging

    from loguru import logger

    logger.remove()  # datatrove logs every step to stderr; the parent wants one JSON line
    logger.add(sys.stderr, level="WARNING")
    logging.disable(logging.INFO)
    mode, corpus, arg = sys.argv[1:4]
    if mode == "filters":
        result = filters(corpus, arg)
    else:
        result = minhash(corpus, arg, int(sys.argv[4]) if len(sys.argv) > 4 else 1)
    from importlib.metadata import version

    result["datatrove_version"] = version("datatrove")
    result["spacy_version"] = version("spacy")
    print(json.dumps(result))
