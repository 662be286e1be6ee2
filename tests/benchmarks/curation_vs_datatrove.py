#!/usr/bin/env python
"""qazflow's quality filters and MinHash near-dedup vs datatrove's, same corpus, one run.

    .venv/bin/python tests/benchmarks/curation_vs_datatrove.py [--quick] [--docs N] [--skip-minhash]

Needs datatrove in its own venv (kept out of qazflow's dependencies): `make bench-deps`
creates <repo>/.bench/datatrove-venv with
    python3 -m venv .bench/datatrove-venv
    .bench/datatrove-venv/bin/pip install 'datatrove[processing]' 'xxhash<4' spacy psutil orjson
($DATATROVE_PYTHON overrides which python runs datatrove.)

Corpus (tests/benchmarks/_corpus.py): N documents of ~2 KB, 50% Kazakh, 25% Russian, 25%
English, built from real sentences (samples/text, $QAZFLOW_SEEDS if present) with content words
swapped for hunspell dictionary words; 8% labelled junk (menus, repeated paragraphs,
hashtags, bullets, OCR garbage, code, teaser lines, very short); 12% planted near-duplicate
copies (exact, 10% words replaced, 2% OCR character noise, other site's header/footer,
last 20% cut). Every system reads the same JSONL; each runs in a fresh single process.

(a) Filters. qazflow: C4Quality → C4Lines → GopherQuality → GopherRepetition →
    FineWebQuality with flows/conf settings (curation_chain(cfg)), run as `Curate` does on
    256-row pyarrow batches. datatrove: GopherRepetitionFilter → GopherQualityFilter →
    C4QualityFilter → FineWebQualityFilter with its defaults, one pipeline per language
    (its filters take one language), given qazflow's stop-word lists (its default list is
    English: every kk/ru document would fail at once). datatrove tokenizes words with spaCy;
    for Kazakh it assigns Stanza, which needs a model download, so kk documents use spaCy's
    Kyrgyz tokenizer ("ky", Turkic, Cyrillic). Timed: the filtering only, not JSON parsing.
    Also timed for context: qazflow's whole chain (normalize, fastText language ID, ...,
    PII), which datatrove's four filters do not cover.
(b) Near-dedup. qazflow: MinHashSignature (char 5-grams, 128 permutations) + band_keys
    (lsh_params(0.6, 128) = 18 bands x 7 rows) + edges_from_buckets + components, keeping the
    smallest doc_id, writing kept rows as Parquet; also with datatrove's shape (word 5-grams,
    14 x 8) to separate implementation speed from the choice of shingles. datatrove: its
    4-stage MinhashDedup with the default MinhashConfig (word 5-grams, 14 buckets x 8
    hashes, 64-bit xxhash) on LocalPipelineExecutor, one worker, writing kept JSONL; again
    with 2 workers (corpus split into 2 files beforehand, untimed) as the match for the Ray
    flow. If flows/near_dedup.py exists, its flow is run too (Ray, 2 CPUs, dedup.near config,
    Ray start excluded; keeper: longest text, where the operators keep the smallest doc_id),
    twice: the documents in 256-row blocks (as the Curate stage emits them) and as one block
    (one signing task; a sort shuffle makes one partition per input block).
    Memory: ru_maxrss of single processes; for multi-process runs the peak summed PSS of the
    process tree and the largest single worker (USS for Ray workers), sampled every 0.5 s.
    Scored against the planted clusters: removed-document precision/recall/F1, pair
    precision/recall, recall per edit.

Results: tests/benchmarks/results/curation_vs_datatrove.json (default 20,000 docs) or
curation_vs_datatrove_<N>docs.json for other sizes.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from math import comb
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C  # noqa: E402

NAME = "curation_vs_datatrove"
DATATROVE_PY = os.environ.get("DATATROVE_PYTHON") or str(C.REPO / ".bench" / "datatrove-venv" / "bin" / "python")
HERE = Path(__file__).resolve().parent
FILTER_OPERATORS = ("C4Quality", "C4Lines", "GopherQuality", "GopherRepetition", "FineWebQuality")
BATCH = 256  # curate_stage's map_batches batch_size


def peak_rss_mb() -> float:
    return max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
               resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024


# ------------------------------------------------------------ qazflow workers ----
def _documents_table(corpus: str):
    import pyarrow as pa

    from operators.documents import new_document
    from schemas import CURATION, validate

    rows = []
    with open(corpus, encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            doc = new_document("text", corpus, r["id"], r["text"], lang=r["lang"])
            doc["doc_id"] = r["id"]  # the corpus id, so results compare by id
            rows.append(doc)
    return validate(pa.Table.from_pylist(rows, schema=CURATION), CURATION)


def qz_filters(corpus: str) -> dict:
    from flows.build import curation_chain
    from flows.curate import Curate
    from flows.config import load_config

    cfg = load_config(["output=/tmp/qazflow-bench-unused"])
    t0 = time.perf_counter()
    table = _documents_table(corpus)
    parse = time.perf_counter() - t0
    out = {"docs": table.num_rows, "parse_seconds": parse}
    full = curation_chain(cfg)
    for label, chain in (("filters", [(op, s) for op, s in full if op.__name__ in FILTER_OPERATORS]),
                         ("full_chain", full)):
        curate = Curate(chain)  # models and word lists load here, once per actor in the flow
        started, cpu = time.perf_counter(), time.process_time()
        results = [curate(table.slice(i, BATCH)) for i in range(0, table.num_rows, BATCH)]
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        reasons, kept = Counter(), []
        for t in results:
            for doc_id, reason, detail in zip(t["doc_id"].to_pylist(), t["reason"].to_pylist(), t["detail"].to_pylist()):
                if reason is None:
                    kept.append(doc_id)
                else:
                    reasons[f"{reason}:{(detail or '').split(' ')[0]}"] += 1
        out[label] = {"seconds": seconds, "cpu_seconds": cpu, "operators": [op.__name__ for op, _ in chain], "kept_ids": kept,
                      "reasons": dict(reasons), "settings": {op.__name__: s for op, s in chain}}
    out["peak_rss_mb"] = peak_rss_mb()
    return out


def near_settings() -> dict:
    """qazflow's `dedup.near` settings (flows/conf/dedup/default.yaml), or the defaults the
    operators document when that section does not exist yet."""
    from flows.config import load_config

    cfg = load_config(["output=/tmp/qazflow-bench-unused"])
    near = cfg.dedup.get("near") if "near" in cfg.dedup else None
    base = {"num_perm": 128, "seed": 1, "shingle_size": 5, "unit": "char", "threshold": 0.6, "bands": None,
            "rows": None, "verify": True, "verify_threshold": 0.5}
    if near is not None:
        from omegaconf import OmegaConf

        base.update({k: v for k, v in OmegaConf.to_container(near, resolve=True).items() if k in base})
    return base


def qz_minhash(corpus: str, workdir: str, shape: str) -> dict:
    """Single process, the operators the flow is made of: MinHashSignature → band_keys →
    edges_from_buckets → (signature-estimate check of each candidate edge) → components;
    keeper = smallest doc_id; kept rows written as Parquet. Reports the result with and
    without the edge check from the same run (the check is timed on its own)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.json as pj
    import pyarrow.parquet as pq

    from operators.dedup.components import components, edges_from_buckets
    from operators.dedup.minhash import MinHashSignature, band_keys, lsh_params

    if shape == "config":
        s = near_settings()
        signer = MinHashSignature(s["num_perm"], s["seed"], s["shingle_size"], s["unit"])
        if s["bands"] is None and s["rows"] is None:
            bands, rows = lsh_params(s["threshold"], s["num_perm"])
        else:
            bands = s["bands"] or s["num_perm"] // s["rows"]
            rows = s["rows"] or s["num_perm"] // bands
        verify_threshold = s["verify_threshold"]
    else:  # datatrove's default shape: word 5-grams, 14 bands x 8 rows
        signer, (bands, rows), verify_threshold = MinHashSignature(112, 1, 5, "word"), (14, 8), 0.5
    seconds = {}
    cpu0 = time.process_time()
    t = time.perf_counter()
    table = pj.read_json(corpus)
    table = table.rename_columns(["doc_id" if c == "id" else c for c in table.column_names])
    seconds["read"] = time.perf_counter() - t
    t = time.perf_counter()
    signed, keys = [], []
    for b in table.to_batches(max_chunksize=1000):
        batch = signer(pa.Table.from_batches([b]))
        keys.append(band_keys(batch, bands, rows))
        signed.append(batch.select(["doc_id", "minhash"]))
    seconds["signatures"] = time.perf_counter() - t
    t = time.perf_counter()
    edges = edges_from_buckets(pa.concat_tables(keys))
    seconds["buckets"] = time.perf_counter() - t
    cpu_common = time.process_time() - cpu0
    t, cpu0 = time.perf_counter(), time.process_time()
    sigs = pa.concat_tables(signed)
    row_of = {d: i for i, d in enumerate(sigs["doc_id"].to_pylist())}
    matrix = sigs["minhash"].combine_chunks().flatten().to_numpy().reshape(len(row_of), -1)
    src_ids, dst_ids = edges["src"].to_pylist(), edges["dst"].to_pylist()
    src = np.array([row_of[x] for x in src_ids], dtype=np.int64)
    dst = np.array([row_of[x] for x in dst_ids], dtype=np.int64)
    estimate = (matrix[src] == matrix[dst]).mean(axis=1) if len(src) else np.zeros(0)
    good = estimate >= verify_threshold
    seconds["verify"] = time.perf_counter() - t
    cpu_verify = time.process_time() - cpu0

    def finish(edge_pairs, name: str) -> dict:
        t, cpu0 = time.perf_counter(), time.process_time()
        labels = components(edge_pairs)
        cluster_s = time.perf_counter() - t
        t = time.perf_counter()
        removed = sorted(x for x, label in labels.items() if x != label)
        kept = table.filter(pc.invert(pc.is_in(table["doc_id"], pa.array(removed, pa.string()))))
        pq.write_table(kept, os.path.join(workdir, f"kept_{name}.parquet"))
        filter_s = time.perf_counter() - t
        cpu = time.process_time() - cpu0
        clusters = defaultdict(list)
        for x, label in labels.items():
            clusters[label].append(x)
        return {"cluster": cluster_s, "filter": filter_s, "cpu": cpu, "removed_ids": removed,
                "clusters": list(clusters.values())}

    plain = finish(list(zip(src_ids, dst_ids)), "plain")
    checked = finish([(a, b) for a, b, g in zip(src_ids, dst_ids, good) if g], "verified")
    common = {k: seconds[k] for k in ("read", "signatures", "buckets")}
    config = {"unit": signer.unit, "shingle": signer.shingle_size, "num_perm": signer.num_perm, "bands": bands,
              "rows": rows, "verify_threshold": verify_threshold}
    out = {}
    for name, part, extra in (("plain", plain, {}), ("verified", checked, {"verify": seconds["verify"]})):
        stage = {**common, **extra, "cluster": part["cluster"], "filter": part["filter"]}
        cpu = cpu_common + part["cpu"] + (cpu_verify if name == "verified" else 0)
        out[name] = {"seconds": stage, "total_seconds": sum(stage.values()), "cpu_seconds": cpu,
                     "removed_ids": part["removed_ids"],
                     "clusters": part["clusters"], "candidate_edges": edges.num_rows,
                     "edges": int(good.sum()) if name == "verified" else edges.num_rows, "config": config}
    out["peak_rss_mb"] = peak_rss_mb()
    out["plain"]["peak_rss_mb"] = out["verified"]["peak_rss_mb"] = out["peak_rss_mb"]
    return out


class TreeRss:
    """Memory of this process and all its descendants (Ray's workers, raylet, GCS), sampled
    every 0.5 s: Ray's memory is not one process's maxrss. Tracks the peak of the summed PSS
    (shared pages, the object store's included, split between the processes mapping them, so
    nothing is counted twice), the peak of the summed RSS (counts shared pages once per
    process: an upper bound), and the largest USS (memory of its own) of any single Ray
    worker process: the "memory per worker" that must not grow with the corpus."""

    def __init__(self, interval: float = 0.5):
        import threading

        import psutil

        self.interval = interval
        self.peak_pss = self.peak_rss = self.peak_worker_uss = self.peak_driver_uss = 0
        self.workers_seen = set()
        self._cpu: dict[int, float] = {}  # pid -> user+system seconds, last sample
        self._cpu_start: dict[int, float] | None = None
        self._cpu_end: dict[int, float] | None = None
        self._lock = threading.Lock()
        self._sampler_cpu = 0.0  # this sampler thread's own CPU time, left out of the tree's
        self._sampler_cpu_span = [0.0, 0.0]
        self._stop = threading.Event()
        self._me = psutil.Process()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    @staticmethod
    def _is_worker(p) -> bool:
        try:
            cmd = " ".join(p.cmdline())
        except Exception:
            return False
        return cmd.startswith("ray::") or "default_worker.py" in cmd

    def _sample_cpu(self):
        import psutil

        for p in [self._me, *self._me.children(recursive=True)]:
            try:
                t = p.cpu_times()
            except psutil.Error:
                continue
            with self._lock:
                self._cpu[p.pid] = t.user + t.system

    def mark_start(self):
        self._sample_cpu()
        with self._lock:
            self._cpu_start = dict(self._cpu)
            self._sampler_cpu_span[0] = self._sampler_cpu

    def mark_end(self):
        self._sample_cpu()
        with self._lock:
            self._cpu_end = dict(self._cpu)
            self._sampler_cpu_span[1] = self._sampler_cpu

    def _run(self):
        import psutil

        while not self._stop.is_set():
            pss = rss = 0
            for p in [self._me, *self._me.children(recursive=True)]:
                try:
                    m = p.memory_full_info()
                    t = p.cpu_times()
                except psutil.Error:
                    continue
                if self._cpu_end is None:
                    with self._lock:
                        self._cpu[p.pid] = t.user + t.system
                pss, rss = pss + m.pss, rss + m.rss
                if p.pid == self._me.pid:
                    self.peak_driver_uss = max(self.peak_driver_uss, m.uss)
                elif self._is_worker(p):
                    self.workers_seen.add(p.pid)
                    self.peak_worker_uss = max(self.peak_worker_uss, m.uss)
            self.peak_pss, self.peak_rss = max(self.peak_pss, pss), max(self.peak_rss, rss)
            with self._lock:
                self._sampler_cpu = time.thread_time()
            self._stop.wait(self.interval)

    def stop(self) -> dict:
        self._stop.set()
        self._thread.join()
        mb = 2**20
        cpu = None
        if self._cpu_start is not None and self._cpu_end is not None:
            cpu = sum(v - self._cpu_start.get(pid, 0.0) for pid, v in self._cpu_end.items())
            cpu -= self._sampler_cpu_span[1] - self._sampler_cpu_span[0]
        return {"tree_cpu_seconds": cpu, "tree_pss_mb": self.peak_pss / mb, "tree_rss_sum_mb": self.peak_rss / mb,
                "max_worker_uss_mb": self.peak_worker_uss / mb, "driver_uss_mb": self.peak_driver_uss / mb,
                "worker_processes": len(self.workers_seen)}


def _kept_rows(batch):
    import pyarrow.compute as pc

    return batch.filter(pc.is_null(batch["reason"]))


def qz_near_dedup_flow(corpus: str, workdir: str, rows_per_block: int) -> dict:
    """flows/near_dedup.py end to end on an embedded Ray with 2 CPUs (Ray start excluded), the
    documents handed in as blocks of `rows_per_block` rows (256: what the Curate stage's
    map_batches produces) or as one block (0)."""
    import inspect

    import pyarrow as pa
    import ray

    from flows.config import load_config
    from flows.near_dedup import near_dedup

    cfg = load_config(["output=" + workdir])
    table = _documents_table(corpus)
    rss = TreeRss()
    ray.init(num_cpus=2, include_dashboard=False, logging_level="warning", object_store_memory=1024**3)
    from ray.data import DataContext

    DataContext.get_current().enable_progress_bars = False
    ray.data.range(4).materialize()  # Ray Data warm-up, as a long-running build has it
    stats: dict = {}
    rss.mark_start()
    t = time.perf_counter()
    # The block layout matters: the signatures map runs one task per block (one block: one
    # task, one core), and a sort shuffle makes one partition per input block.
    blocks = [table.slice(i, rows_per_block) for i in range(0, table.num_rows, rows_per_block)] \
        if rows_per_block else [table]
    out = near_dedup(ray.data.from_arrow(blocks), cfg.dedup, stats=stats).materialize()
    out.map_batches(_kept_rows, batch_format="pyarrow").write_parquet(os.path.join(workdir, "kept"))
    seconds = time.perf_counter() - t
    rss.mark_end()
    result = pa.concat_tables(ray.get(out.select_columns(["doc_id", "reason", "dedup_cluster"]).to_arrow_refs()))
    ray.shutdown()
    memory = rss.stop()
    removed = [d for d, r in zip(result["doc_id"].to_pylist(), result["reason"].to_pylist()) if r == "NearDedup"]
    clusters = defaultdict(list)
    for d, c in zip(result["doc_id"].to_pylist(), result["dedup_cluster"].to_pylist()):
        if c is not None:
            clusters[c].append(d)
    return {"total_seconds": seconds, "cpu_seconds": memory["tree_cpu_seconds"], "input_blocks": len(blocks),
            "removed_ids": removed, "clusters": list(clusters.values()),
            "peak_rss_mb": memory["tree_pss_mb"], "peak_rss_kind": "peak summed PSS of the Ray process tree "
            "(driver, raylet, GCS, workers; object store included), sampled every 0.5 s", "memory": memory,
            "flow_stats": stats, "signature": str(inspect.signature(near_dedup))}


def run_worker(argv: list[str]) -> None:
    mode = argv[0]
    if mode == "qz-filters":
        result = qz_filters(argv[1])
    elif mode == "qz-minhash":
        result = qz_minhash(argv[1], argv[2], argv[3])
    elif mode == "qz-flow":
        result = qz_near_dedup_flow(argv[1], argv[2], int(argv[3]))
    else:
        raise SystemExit(f"unknown worker mode {mode}")
    print(json.dumps(result))


def subprocess_json(cmd: list[str], timeout: int = 900) -> dict:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
           "RAY_AUTH_MODE": "disabled", "PYTHONHASHSEED": "0"}
    t = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, cwd=C.REPO)
    wall = time.perf_counter() - t
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:3])} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["process_wall_seconds"] = wall
    return result


# ----------------------------------------------------------------- scoring ----
def dedup_scores(docs: list[dict], removed: list[str], clusters: list[list[str]] | None) -> dict:
    truth = defaultdict(set)
    for d in docs:
        if d["cluster"] is not None:
            truth[d["cluster"]].add(d["id"])
    removable = sum(len(c) - 1 for c in truth.values())
    removed_set = set(removed)
    tp = sum(min(len(removed_set & c), len(c) - 1) for c in truth.values())
    precision = tp / len(removed_set) if removed_set else None
    recall = tp / removable if removable else None
    f1 = 2 * precision * recall / (precision + recall) if precision and recall else 0.0
    by_id = {d["id"]: d for d in docs}
    out = {"removed": len(removed_set), "removable": removable, "tp": tp, "precision": precision, "recall": recall,
           "f1": f1, "removed_by_kind": dict(Counter(by_id[x]["kind"] for x in removed_set))}
    out.update(non_junk_scores(out))
    if clusters is not None:
        cluster_of = {x: i for i, c in enumerate(clusters) for x in c}
        truth_pairs = sum(comb(len(c), 2) for c in truth.values())
        pred_pairs = sum(comb(len(c), 2) for c in clusters)
        hit_pairs = sum(comb(n, 2) for c in truth.values() for n in Counter(cluster_of.get(x, f"-{x}") for x in c).values())
        out.update(pair_precision=hit_pairs / pred_pairs if pred_pairs else None, pair_recall=hit_pairs / truth_pairs,
                   predicted_clusters=len(clusters), largest_cluster=max(map(len, clusters), default=0))
        caught = Counter()
        total = Counter()
        for d in docs:
            if d["kind"].startswith("dup:"):
                total[d["kind"][4:]] += 1
                if d["id"] in cluster_of and cluster_of.get(d["cluster"]) == cluster_of[d["id"]]:
                    caught[d["kind"][4:]] += 1
        out["recall_by_edit"] = {k: caught[k] / total[k] for k in sorted(total)}
    return out


def non_junk_scores(s: dict) -> dict:
    """Precision/F1 with removed junk documents left out. Junk is not labelled as duplicates,
    yet the menu pages (the same 8 menu items reshuffled) are close to each other: char-5
    Jaccard 0.3-0.6 between two of them, against <= 0.22 between good documents (measured
    on the 20,000-doc corpus). In a build the quality filters reject them before near-dedup."""
    junk = sum(v for k, v in s["removed_by_kind"].items() if k.startswith("junk:"))
    removed = s["removed"] - junk
    precision = s["tp"] / removed if removed else None
    recall = s["recall"]
    f1 = 2 * precision * recall / (precision + recall) if precision and recall else 0.0
    return {"removed_junk": junk, "precision_non_junk": precision, "f1_non_junk": f1}


def rejection_by_kind(docs: list[dict], kept_ids: list[str]) -> dict:
    kept = set(kept_ids)
    total, rejected = Counter(), Counter()
    for d in docs:
        kind = d["kind"] if not d["kind"].startswith("dup:") else "dup (copies)"
        key = f"{kind} [{d['lang']}]" if kind == "good" else kind
        total[key] += 1
        rejected[key] += d["id"] not in kept
    return {k: {"docs": total[k], "rejected": rejected[k], "share": rejected[k] / total[k]} for k in sorted(total)}


# -------------------------------------------------------------------- main ----
def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="2,000 documents")
    ap.add_argument("--docs", type=int, help="corpus size (default 20,000; quick 2,000)")
    ap.add_argument("--repeats", type=int, default=1, help="filter runs per system (alternating)")
    ap.add_argument("--skip-minhash", action="store_true")
    ap.add_argument("--worker", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        return run_worker(args.worker)
    if not Path(DATATROVE_PY).exists():
        raise SystemExit(f"no datatrove venv at {DATATROVE_PY}; see this script's docstring")
    n = args.docs or (2000 if args.quick else 20000)

    import _corpus

    from operators.text.stopwords import STOP_WORDS

    me = [sys.executable, str(Path(__file__).resolve()), "--worker"]
    dt = [DATATROVE_PY, str(HERE / "_datatrove_worker.py")]
    started = time.time()
    results: dict = {"benchmark": NAME, "quick": args.quick, "machine": C.machine(), "docs": n,
                     "seed_text": {"seeds_dir": str(C.SEEDS), "seeds_files": len(list(C.SEEDS.glob("*.txt")))
                                   if C.SEEDS.is_dir() else 0}}
    with tempfile.TemporaryDirectory(prefix="qazflow-curation-bench-") as tmp:
        tmp = Path(tmp)
        t = time.perf_counter()
        docs = _corpus.CorpusMaker(seed=1234).make(n)
        corpus = tmp / "corpus.jsonl"
        _corpus.write_jsonl(docs, corpus)
        results["corpus"] = {"docs": len(docs), "bytes": corpus.stat().st_size,
                             "mean_chars": sum(len(d["text"]) for d in docs) / len(docs),
                             "kinds": dict(Counter(d["kind"] for d in docs)),
                             "langs": dict(Counter(d["lang"] for d in docs)),
                             "seconds": time.perf_counter() - t}
        print(f"corpus: {len(docs)} docs, {corpus.stat().st_size / 1e6:.1f} MB, "
              f"{results['corpus']['seconds']:.0f} s", file=sys.stderr, flush=True)
        spec = tmp / "spec.json"
        spec.write_text(json.dumps({"stop_words": {k: sorted(v) for k, v in STOP_WORDS.items()},
                                    "tokenizer": {"kk": "ky", "ru": "ru", "en": "en"}}, ensure_ascii=False))

        # (a) filters, alternating systems
        qz_runs, dt_runs = [], []
        for rep in range(args.repeats):
            qz_runs.append(subprocess_json(me + ["qz-filters", str(corpus)]))
            print(f"qazflow filters: {qz_runs[-1]['filters']['seconds']:.1f} s", file=sys.stderr, flush=True)
            dt_runs.append(subprocess_json(dt + ["filters", str(corpus), str(spec)]))
            print(f"datatrove filters: {dt_runs[-1]['seconds']:.1f} s", file=sys.stderr, flush=True)
        qz_best = min(qz_runs, key=lambda r: r["filters"]["seconds"])
        dt_best = min(dt_runs, key=lambda r: r["seconds"])
        if not qz_best["docs"] == dt_best["docs"] == len(docs):  # same documents in, or no comparison
            raise SystemExit(f"documents read: qazflow {qz_best['docs']}, datatrove {dt_best['docs']}, corpus {len(docs)}")
        results["filters"] = {
            "qazflow": {k: v for k, v in qz_best.items() if k not in ("filters", "full_chain")} | {
                "filters": {k: v for k, v in qz_best["filters"].items() if k != "kept_ids"},
                "full_chain": {k: v for k, v in qz_best["full_chain"].items() if k != "kept_ids"},
                "all_seconds": [r["filters"]["seconds"] for r in qz_runs],
                "all_full_chain_seconds": [r["full_chain"]["seconds"] for r in qz_runs]},
            "datatrove": {k: v for k, v in dt_best.items() if k != "kept_ids"} | {
                "all_seconds": [r["seconds"] for r in dt_runs]},
            "rejection_by_kind": {
                "qazflow_filters": rejection_by_kind(docs, qz_best["filters"]["kept_ids"]),
                "qazflow_full_chain": rejection_by_kind(docs, qz_best["full_chain"]["kept_ids"]),
                "datatrove": rejection_by_kind(docs, dt_best["kept_ids"])},
            "agreement": len(set(qz_best["filters"]["kept_ids"]) ^ set(dt_best["kept_ids"])),
        }

        # (b) near-dedup
        if not args.skip_minhash:
            md = {}
            (tmp / "qz").mkdir()
            (tmp / "qzw").mkdir()
            (tmp / "dt").mkdir()
            (tmp / "dt2").mkdir()
            r = subprocess_json(me + ["qz-minhash", str(corpus), str(tmp / "qz"), "config"])
            md["qazflow_ops"], md["qazflow_ops_unverified"] = r["verified"], r["plain"]
            print(f"qazflow minhash: {md['qazflow_ops']['total_seconds']:.1f} s", file=sys.stderr, flush=True)
            md["datatrove"] = subprocess_json(dt + ["minhash", str(corpus), str(tmp / "dt")])
            print(f"datatrove minhash: {md['datatrove']['total_seconds']:.1f} s", file=sys.stderr, flush=True)
            md["datatrove_2workers"] = subprocess_json(dt + ["minhash", str(corpus), str(tmp / "dt2"), "2"])
            print(f"datatrove minhash, 2 workers: {md['datatrove_2workers']['total_seconds']:.1f} s", file=sys.stderr,
                  flush=True)
            md["qazflow_ops_word5_14x8"] = subprocess_json(me + ["qz-minhash", str(corpus), str(tmp / "qzw"),
                                                                 "word"])["plain"]
            if (C.REPO / "flows" / "near_dedup.py").exists():
                for name, rows in (("qazflow_near_dedup_flow", BATCH), ("qazflow_near_dedup_flow_1block", 0)):
                    (tmp / name).mkdir()
                    try:
                        md[name] = subprocess_json(me + ["qz-flow", str(corpus), str(tmp / name), str(rows)])
                        print(f"{name}: {md[name]['total_seconds']:.1f} s", file=sys.stderr, flush=True)
                    except Exception as exc:  # a flow still being written must not sink the other results
                        md[name] = {"error": str(exc)[-2000:]}
            for name, r in md.items():
                if "error" in r:
                    continue
                r["scores"] = dedup_scores(docs, r.pop("removed_ids"), r.pop("clusters"))
            results["minhash"] = md
    results["seconds"] = time.time() - started
    print(report(results))
    # the default size keeps the plain name; other sizes get their own file, so a quick run
    # does not overwrite the full one (and two sizes can be compared)
    path = C.write_results(NAME if n == 20000 else f"{NAME}_{n}docs", results)
    print(f"\nresults: {path.relative_to(C.REPO)}")


def report(r: dict) -> str:
    n = r["corpus"]["docs"]
    f = r["filters"]
    qz, dt = f["qazflow"], f["datatrove"]
    qs, ds, fs = qz["filters"]["seconds"], dt["seconds"], qz["full_chain"]["seconds"]
    dc = dt.get("cpu_seconds")

    def ratio(a, b):
        return f"{a / b:.2f}x" if a and b else ""

    out = [f"## Curation vs datatrove ({'quick' if r['quick'] else 'full'} run)", "",
           f"Corpus: {n} docs, {r['corpus']['bytes'] / 1e6:.1f} MB, mean {r['corpus']['mean_chars']:.0f} chars; "
           f"langs {r['corpus']['langs']}; datatrove {dt.get('datatrove_version')}; "
           f"load average at start {r['machine']['loadavg_at_start']}.", "",
           "### (a) Quality filters, single process (filtering only, JSON parsing excluded)", "",
           C.md_table(["system", "operators", "seconds", "docs/s", "vs datatrove", "CPU s", "vs datatrove (CPU)",
                       "kept"], [
               ["datatrove", "GopherRepetition, GopherQuality, C4Quality, FineWebQuality", ds, n / ds, "1.00x",
                dc, "1.00x", sum(v["kept"] for v in dt["per_lang"].values())],
               ["qazflow `Curate`", ", ".join(qz["filters"]["operators"]), qs, n / qs, f"{ds / qs:.2f}x",
                qz["filters"].get("cpu_seconds"), ratio(dc, qz["filters"].get("cpu_seconds")),
                n - sum(qz["filters"]["reasons"].values())],
               ["qazflow `Curate`, whole chain", "curation_chain(cfg): " + ", ".join(qz["full_chain"]["operators"]),
                fs, n / fs, f"{ds / fs:.2f}x", qz["full_chain"].get("cpu_seconds"),
                ratio(dc, qz["full_chain"].get("cpu_seconds")), n - sum(qz["full_chain"]["reasons"].values())],
           ]), "",
           "vs datatrove = datatrove seconds / system seconds (>1: faster than datatrove). CPU s: the "
           "process's CPU time over the same span, less sensitive to other load on the machine.", "",
           "Rejected share by document kind:", ""]
    rk = f["rejection_by_kind"]
    out.append(C.md_table(["kind", "docs", "qazflow filters", "datatrove", "qazflow whole chain"],
                          [[k, v["docs"], v["share"], rk["datatrove"][k]["share"], rk["qazflow_full_chain"][k]["share"]]
                           for k, v in rk["qazflow_filters"].items()]))
    out += ["", f"Both read the same {n} documents (same JSONL, same ids and language labels). Settings: "
            "qazflow's from flows/conf/filters (per-language values as `{default, kk, ru}`), datatrove's defaults "
            f"except the stop words, tokenizers {dt.get('tokenizer')} (spaCy {dt.get('spacy_version')}), "
            f"stop-word list sizes {dt.get('stop_words')}; tokenizer loading excluded on both sides.", ""]
    compact = lambda d: json.dumps(d, ensure_ascii=False, separators=(",", ":"))  # noqa: E731
    out.append(C.md_table(["system", "filter", "settings"],
                          [["qazflow", k, compact(v)] for k, v in qz["filters"].get("settings", {}).items()]
                          + [["datatrove", k, compact(v)] for k, v in dt.get("settings", {}).items()]))
    if "minhash" in r:
        out += ["", "### (b) MinHash near-dedup (wall seconds from reading the corpus to writing the kept documents)",
                "", "CPU s: the process's CPU time; for the Ray flow the summed CPU time of its process tree "
                "(driver, raylet, GCS, workers; a process that ended between two 0.5 s samples loses up to 0.5 s); "
                "not measured for datatrove's 2 workers (forkserver pool).", ""]
        rows = []
        labels = {"datatrove": "datatrove 4-stage, default MinhashConfig (word 5-grams, 14×8), 1 worker",
                  "datatrove_2workers": "same, LocalPipelineExecutor 2 workers (corpus split in 2 files)",
                  "qazflow_ops": "qazflow operators, dedup.near config + candidate check",
                  "qazflow_ops_unverified": "qazflow operators, dedup.near config, no candidate check",
                  "qazflow_ops_word5_14x8": "qazflow operators, datatrove's shape (word 5-grams, 14×8), no check",
                  "qazflow_near_dedup_flow": "qazflow `near_dedup` flow on Ray, 2 CPUs, dedup.near config, "
                                             "256-row input blocks (as Curate emits)",
                  "qazflow_near_dedup_flow_1block": "same flow, the corpus as one input block"}
        dts = r["minhash"]["datatrove"]["total_seconds"]
        dts2 = r["minhash"].get("datatrove_2workers", {}).get("total_seconds")
        for name, m in r["minhash"].items():
            if "error" in m:
                rows.append([labels.get(name, name), "error"] + [""] * 13)
                continue
            s = {**m["scores"], **non_junk_scores(m["scores"])}
            rows.append([labels.get(name, name), m["total_seconds"], n / m["total_seconds"],
                         f"{dts / m['total_seconds']:.2f}x", f"{dts2 / m['total_seconds']:.2f}x" if dts2 else "",
                         m.get("cpu_seconds"), m["peak_rss_mb"], s["removed"], s["precision"], s["recall"], s["f1"],
                         s.get("pair_precision"), s["removed_junk"], s["precision_non_junk"], s["f1_non_junk"]])
        out.append(C.md_table(["system", "seconds", "docs/s", "vs datatrove 1w", "vs datatrove 2w", "CPU s",
                               "peak RSS MB", "removed", "precision", "recall", "F1", "pair precision",
                               "junk removed", "precision w/o junk", "F1 w/o junk"], rows))
        out += ["", "w/o junk: removed junk documents left out (not labelled as duplicates, but menu pages built "
                "from the same 8 menu items reach char-5 Jaccard 0.3-0.6 with each other; a build's quality "
                "filters reject them before near-dedup).", ""]
        out += ["", f"Planted: {r['minhash']['datatrove']['scores']['removable']} removable copies. Recall by edit "
                "(copy lands in its original's cluster):", ""]
        edits = sorted(r["minhash"]["datatrove"]["scores"].get("recall_by_edit", {}))
        out.append(C.md_table(["system"] + edits, [[labels.get(k, k)] + [m["scores"]["recall_by_edit"][e] for e in edits]
                                                   for k, m in r["minhash"].items()
                                                   if "error" not in m and "recall_by_edit" in m["scores"]]))
        out += ["", "peak RSS MB: ru_maxrss of the single process (datatrove 1 worker, qazflow operators); "
                "peak summed PSS of the process tree for datatrove 2 workers and the Ray flow (driver, raylet, GCS, "
                "workers, object store; the driver holds the whole corpus as one Arrow table, the operators' "
                "process too). Largest single worker process:", ""]
        mem_rows = []
        for k, m in r["minhash"].items():
            mem = m.get("memory") or {}
            if "max_worker_uss_mb" in mem:
                mem_rows.append([labels.get(k, k), f"USS {mem['max_worker_uss_mb']:.0f} (of "
                                 f"{mem['worker_processes']} Ray workers); driver USS {mem['driver_uss_mb']:.0f}; "
                                 f"tree RSS sum {mem['tree_rss_sum_mb']:.0f}"])
            elif "max_process_rss_mb" in mem:
                mem_rows.append([labels.get(k, k), f"RSS {mem['max_process_rss_mb']:.0f}"])
        out.append(C.md_table(["system", "largest process (MB)"], mem_rows))
        out += ["", "Stage seconds:", ""]
        stage_rows = []
        for k, m in r["minhash"].items():
            if isinstance(m.get("seconds"), dict):
                stage_rows.append([labels.get(k, k), ", ".join(f"{a} {b:.1f}" for a, b in m["seconds"].items())])
        out.append(C.md_table(["system", "stages (s)"], stage_rows))
    out.append(f"\nTotal benchmark time {r['seconds']:.0f} s.")
    return "\n".join(out)


if __name__ == "__main__":
    main()
