#!/usr/bin/env python
"""Token shards for trainers, one run on one input: (a) tokenization MB/s through qazflow's
`Tokenize` operator vs HF tokenizers' `encode_batch` called directly; (b) packed tokens/s of
`PackedReader` on one core vs megatron-core's `IndexedDataset` over the export of the same
shards and vs mosaicml-streaming's `StreamingDataset` over the same token sequences as MDS;
(c) the reader's peak RSS over an epoch at 1x and 4x the corpus.

    make bench-deps-streaming      # once: mosaicml-streaming in .bench/streaming-venv
    .venv/bin/python tests/benchmarks/tokens_reader.py [--quick] [--mb 12]

Input: web-like documents of ~2 kB from `_corpus.CorpusMaker(seed).good` (real kk/ru/en
sentences, samples/text plus ../shared/seeds when present, a third of their content words
swapped for hunspell dictionary words; languages 50/25/25 kk/ru/en) until the text reaches
--mb MB (UTF-8). The 4x corpus of (c) is drawn the same way with another seed: distinct
text that compresses like the 1x one, so its row groups hold comparable token counts
(copies of the 1x corpus compressed ~3x better and made row groups ~3x larger). The
tokenizer is byte-level BPE trained by `train_bpe` on the first TRAIN_MB of the 1x text.

(a) Same process, same Rayon thread pool (all cores), same 256-document batches (the
    config's shards.batch_size); alternate repeats, the best of each is kept. The operator's
    time includes what it adds to the encoding: chunking, Arrow list columns, word/char
    counts. `encode_batch_fast` (what the operator calls: no offsets) is shown as well.
(b) Shards written by `ShardPacker` (partition by source/lang; 256 kB row groups instead of the
    16 MB default so the 1x corpus has several row groups per partition), exported by
    `operators.tokens.megatron.export_megatron`, and the documents of PackedReader's epoch-0
    stream, in that order, exported as tokens.npy + doc_offsets.npy for mosaicml-streaming
    (`_streaming_worker.py`, run in its own venv, writes them as MDS: one sample per document,
    and pre-packed, one sample per seq_len+1 window). Each reader runs in its own child
    process pinned to one CPU (Arrow's thread pools at 1); every pass yields int64 arrays
    (what an embedding takes):
      - PackedReader: samples of seq_len+1 (mixture-ordered row groups, eos between documents);
      - megatron documents: `ds[i]` in index order cast to int64; megatron packed: seq_len+1
        windows over consecutive documents with `ds.get(doc, offset, length)` (GPTDataset's
        packing, sequential, no shuffle);
      - streaming documents: `StreamingDataset(local=..., shuffle=False)` iterated, packed on
        the fly exactly like PackedReader (eos after each document, the concatenation cut into
        seq_len+1 windows, the short tail dropped): the same samples, which the sha256 of both
        readers' epoch-0 samples checks; streaming `get_item(i)` in index order packed the same
        way (its sample access without the iterator's threads); streaming pre-packed: the
        windows stored at write time (llm-foundry's concat_tokens layout), iterated.
    (streaming's predownload set above the sample count: see _streaming_worker.py.) The best
    of N passes or more (until MIN_SECONDS) after one warm-up pass, in R rounds of fresh
    children, one child per reader in turn, so load from other users of the machine hits
    all readers alike; the files are in the page cache for all of them.
(c) One child per corpus size iterates a full epoch of PackedReader; peak RSS is the
    child's VmHWM (/proc/self/status), shown with its RSS after imports and opening the
    reader. Not getrusage's ru_maxrss: Linux carries the parent's peak over fork and exec
    into it, and this parent holds the 4x corpus (measured: ~480 MB for both children).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C  # noqa: E402
from _corpus import LANG_SHARE, CorpusMaker  # noqa: E402

NAME = "tokens_reader"
BATCH = 256  # shards.batch_size in flows/conf/config.yaml
ROW_GROUP_BYTES = 256 << 10
TARGET_BYTES = 16 << 20
TRAIN_MB = 3  # BPE training text: enough for the 32k merges, a few seconds to train
# passes per reader child: at least `passes`, more until MIN_SECONDS of them (a pass of the
# quick corpus takes ~10 ms for the fast readers, too short to stand out of the load's noise)
MIN_SECONDS, MAX_PASSES = 1.0, 200
HERE = Path(__file__).resolve().parent
STREAMING_PY = C.REPO / ".bench" / "streaming-venv" / "bin" / "python"
READERS = ("qazflow", "megatron_docs", "megatron_packed", "streaming_docs", "streaming_getitem", "streaming_packed")
LABELS = {"qazflow": "qazflow PackedReader (seq_len+1 samples)",
          "megatron_docs": "megatron-core IndexedDataset, documents",
          "megatron_packed": "megatron-core IndexedDataset, GPT-style packed",
          "streaming_docs": "mosaicml-streaming StreamingDataset, documents packed on the fly",
          "streaming_getitem": "mosaicml-streaming get_item(i) in order, packed on the fly",
          "streaming_packed": "mosaicml-streaming StreamingDataset, pre-packed at write time"}


# ------------------------------------------------------------------ corpus ----
def make_documents(target_bytes: int, seed: int):
    """Web-like documents of ~2 kB from `_corpus.CorpusMaker(seed).good`: real kk/ru/en
    sentences with a third of their content words swapped for dictionary words, so two
    seeds give distinct text that compresses alike (copies of one corpus would not)."""
    import pyarrow as pa

    maker = CorpusMaker(seed)
    langs, weights = list(LANG_SHARE), list(LANG_SHARE.values())
    rows, size, i = [], 0, 0
    while size < target_bytes:
        lang = maker.rng.choices(langs, weights)[0]
        text = maker.good(lang)
        rows.append({"doc_id": hashlib.sha1(f"{seed}:doc-{i}".encode()).hexdigest()[:16], "source": "web",
                     "lang": lang, "text": text})
        size += len(text.encode("utf-8"))
        i += 1
    table = pa.Table.from_pylist(rows)
    return table.sort_by([("source", "ascending"), ("lang", "ascending"), ("doc_id", "ascending")])


def write_shards(out_dir: Path, rows, tokenizer) -> dict:
    """Tokenize output (sorted by partition, doc_id, chunk) → shards + tokenizer + manifest,
    as flows/shards.py writes them."""
    from operators.tokens.bpe import special_ids
    from operators.tokens.shards import ShardPacker
    from schemas import ShardEntry, ShardManifest

    out_dir.mkdir(parents=True, exist_ok=True)
    entries, by_source, by_lang = [], Counter(), Counter()
    packer = ShardPacker(str(out_dir), ["source", "lang"],
                         lambda path, e: entries.append(ShardEntry(path=os.path.basename(path), **e)),
                         target_bytes=TARGET_BYTES, row_group_bytes=ROW_GROUP_BYTES)
    for start in range(0, rows.num_rows, BATCH):
        packer(rows.slice(start, BATCH))
    packer.close()
    for s, lang, n in zip(*(rows.column(c).to_pylist() for c in ("source", "lang", "n_tokens"))):
        by_source[s] += n
        by_lang[lang] += n
    text = tokenizer.to_str()
    (out_dir / "tokenizer.json").write_text(text, encoding="utf-8")
    manifest = ShardManifest(tokenizer={"path": "tokenizer.json", "sha256": hashlib.sha256(text.encode()).hexdigest(),
                                        "kind": "hf-tokenizers", "vocab_size": tokenizer.get_vocab_size(),
                                        **special_ids(tokenizer)},
                             shards=entries, created="2026-12-04T00:00:00+00:00", qazflow_version="benchmark",
                             config_hash=f"bench-{out_dir.name}", by_source=dict(by_source), by_lang=dict(by_lang))
    (out_dir / "manifest.json").write_text(manifest.to_json(), encoding="utf-8")
    return manifest.totals


# ------------------------------------------------------------ (a) tokenize ----
def bench_tokenize(docs, tokenizer, repeats: int) -> tuple[dict, object]:
    from operators.tokens.bpe import Tokenize

    op = Tokenize(tokenizer.to_str(), 65536)  # shards.max_doc_tokens default
    batches = [docs.slice(s, BATCH) for s in range(0, docs.num_rows, BATCH)]
    texts = [b.column("text").to_pylist() for b in batches]
    n_bytes = sum(len(t.encode("utf-8")) for batch in texts for t in batch)

    def run_op():
        return [op(b) for b in batches]

    def run_hf():
        return [tokenizer.encode_batch(t, add_special_tokens=False) for t in texts]

    def run_hf_fast():
        return [tokenizer.encode_batch_fast(t, add_special_tokens=False) for t in texts]

    best = {"qazflow Tokenize": float("inf"), "HF encode_batch": float("inf"), "HF encode_batch_fast": float("inf")}
    fns = {"qazflow Tokenize": run_op, "HF encode_batch": run_hf, "HF encode_batch_fast": run_hf_fast}
    out = {}
    run_hf_fast()  # warm the word cache for everyone
    for _ in range(repeats):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            out[name] = fn()
            best[name] = min(best[name], time.perf_counter() - t0)
    import pyarrow as pa

    rows = pa.concat_tables(out["qazflow Tokenize"])
    hf_tokens = sum(len(e.ids) for batch in out["HF encode_batch"] for e in batch)
    op_tokens = int(sum(rows.column("n_tokens").to_pylist()))
    res = {"bytes": n_bytes, "docs": docs.num_rows, "batch_docs": BATCH, "repeats": repeats,
           "tokens_operator": op_tokens, "tokens_hf": hf_tokens, "same_tokens": op_tokens == hf_tokens,
           "rayon_threads": os.environ.get("RAYON_NUM_THREADS", f"default ({os.cpu_count()} cpus)"),
           "seconds": {k: round(v, 4) for k, v in best.items()},
           "mb_per_s": {k: round(n_bytes / 1e6 / v, 3) for k, v in best.items()}}
    res["ratio_vs_encode_batch"] = round(best["HF encode_batch"] / best["qazflow Tokenize"], 3)
    res["ratio_vs_encode_batch_fast"] = round(best["HF encode_batch_fast"] / best["qazflow Tokenize"], 3)
    return res, rows.drop_columns(["n_words", "n_chars"])


# ---------------------------------------------------------------- children ----
def _vm(field: str) -> int:
    for line in open("/proc/self/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1]) // 1024  # kB → MB
    return -1


def _one_core() -> int:
    cpu = max(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpu})
    import pyarrow as pa

    pa.set_cpu_count(1)
    pa.set_io_thread_count(1)
    return cpu


def child(kind: str, path: str, seq_len: int, passes: int) -> dict:
    import numpy as np

    cpu = _one_core()
    res = {"kind": kind, "cpu": cpu, "loadavg": [round(x, 2) for x in os.getloadavg()]}
    if kind in ("qazflow", "rss"):
        from operators.tokens.reader import PackedReader

        reader = PackedReader(path, seq_len=seq_len, seed=0)
        res["baseline_rss_mb"] = _vm("VmRSS")
        res["stream_tokens"] = int(reader.offsets[-1])  # tokens + one eos per document

        def one_pass(p, digest=None):
            reader.set_epoch(p)
            n = 0
            for s in reader:
                n += len(s["input_ids"])
                if digest is not None:
                    digest.update(s["input_ids"].tobytes())
            return n
    else:
        from megatron.core.datasets.indexed_dataset import IndexedDataset

        sets = [IndexedDataset(str(Path(path) / p.stem)) for p in sorted(Path(path).glob("*.idx"))]
        res["baseline_rss_mb"] = _vm("VmRSS")
        res["stream_tokens"] = int(sum(int(ds.sequence_lengths.sum()) for ds in sets))

        if kind == "megatron_docs":
            def one_pass(p, digest=None):
                n = 0
                for ds in sets:
                    for i in range(len(ds)):
                        n += len(ds[i].astype(np.int64))
                return n
        else:  # GPTDataset-style packing: windows of seq_len+1 over consecutive documents
            def one_pass(p, digest=None):
                n, size = 0, seq_len + 1
                for ds in sets:
                    lengths = ds.sequence_lengths
                    doc, offset = 0, 0
                    while True:
                        parts, need = [], size
                        while need and doc < len(ds):
                            take = min(need, int(lengths[doc]) - offset)
                            parts.append(ds.get(doc, offset, take))
                            need -= take
                            offset += take
                            if offset == lengths[doc]:
                                doc, offset = doc + 1, 0
                        if need:
                            break  # the partition's short tail is dropped, as the reader drops the epoch's
                        n += len(np.concatenate(parts).astype(np.int64))
                return n
    if kind == "rss":
        # VmHWM after each quarter of the epoch: memory that grew with what was read would
        # show as a rising peak within the epoch, whatever the corpus size
        t0, n, quarters = time.perf_counter(), 0, []
        for i, s in enumerate(reader, 1):
            n += len(s["input_ids"])
            if i * 4 // reader.n_samples > len(quarters):
                quarters.append(_vm("VmHWM"))
        res["tokens"] = n
        res["seconds"] = round(time.perf_counter() - t0, 4)
        res["peak_rss_mb_by_quarter"] = quarters
        res["peak_rss_mb"] = _vm("VmHWM")
        res["n_samples"] = reader.n_samples
        res["row_groups"] = len(reader.units)
        return res
    digest = hashlib.sha256()
    one_pass(0, digest)  # warm-up; epoch 0 is the stream the streaming readers were given
    res["sha256"] = digest.hexdigest()
    times = []
    while len(times) < passes or (sum(times) < MIN_SECONDS and len(times) < MAX_PASSES):
        t0 = time.perf_counter()
        res["tokens"] = one_pass(len(times) + 1)
        times.append(time.perf_counter() - t0)
    res["seconds"] = [round(t, 4) for t in times]
    res["tokens_per_s"] = round(res["tokens"] / min(times))
    res["peak_rss_mb"] = _vm("VmHWM")
    return res


def _run(cmd: list[str], what: str) -> dict:
    env = {**os.environ, "TOKENIZERS_PARALLELISM": "false", "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore"}
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=900)
    if out.returncode:
        raise SystemExit(f"{what} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def run_child(kind: str, path: Path, seq_len: int, passes: int) -> dict:
    return _run([sys.executable, __file__, "--child", kind, str(path), str(seq_len), str(passes)], f"child {kind}")


def run_reader(kind: str, tmp: Path, seq_len: int, eos: int, passes: int) -> dict:
    if kind.startswith("streaming_"):
        res = _run([str(STREAMING_PY), str(HERE / "_streaming_worker.py"), "read", str(tmp / "streaming"),
                    kind.removeprefix("streaming_"), str(seq_len), str(eos), str(passes), str(MIN_SECONDS),
                    str(MAX_PASSES)], f"streaming {kind}")
        res["kind"] = kind
        return res
    return run_child(kind, tmp / ("x1" if kind == "qazflow" else "megatron"), seq_len, passes)


# ------------------------------------------------------------------ exports ----
def export_stream(shards: Path, out: Path, seq_len: int) -> dict:
    """The documents of PackedReader's epoch-0 stream (seed 0, natural mixture), in stream
    order, as tokens.npy (uint32, back to back) + doc_offsets.npy: read from the row groups
    here, independently of the reader, so equal sample digests cross-check both."""
    import numpy as np
    import pyarrow.parquet as pq

    from operators.tokens.reader import PackedReader

    reader = PackedReader(str(shards), seq_len=seq_len, seed=0)
    files, parts, lengths = {}, [], []
    for unit in reader.units:
        f = files.setdefault(unit.shard, pq.ParquetFile(shards / unit.shard))
        table = f.read_row_group(unit.row_group, columns=["doc_id", "input_ids"])
        ids = table.column("input_ids").combine_chunks()
        offsets = ids.offsets.to_numpy()
        doc = table.column("doc_id").to_numpy(zero_copy_only=False)
        last = np.append(doc[1:] != doc[:-1], True)  # a document's chunks are consecutive rows
        ends = offsets[1:][last] - offsets[0]
        parts.append(ids.flatten().to_numpy())
        lengths.append(np.diff(ends, prepend=0))
    out.mkdir(parents=True, exist_ok=True)
    tokens = np.concatenate(parts).astype(np.uint32)
    doc_offsets = np.concatenate([[0], np.cumsum(np.concatenate(lengths))]).astype(np.int64)
    np.save(out / "tokens.npy", tokens)
    np.save(out / "doc_offsets.npy", doc_offsets)
    return {"docs": len(doc_offsets) - 1, "tokens": int(doc_offsets[-1]), "eos_id": reader.eos,
            "stream_tokens": int(doc_offsets[-1]) + len(doc_offsets) - 1, "row_groups": len(reader.units)}


def tokenize_rows(docs, tokenizer):
    """The Tokenize operator's output for `docs`, in batches as the pipeline runs it."""
    import pyarrow as pa

    from operators.tokens.bpe import Tokenize

    op = Tokenize(tokenizer.to_str(), 65536)
    rows = pa.concat_tables([op(docs.slice(s, BATCH)) for s in range(0, docs.num_rows, BATCH)])
    return rows.drop_columns(["n_words", "n_chars"])


def row_group_stats(shards: Path) -> dict:
    from schemas import ShardManifest

    manifest = ShardManifest.from_json((shards / "manifest.json").read_text(encoding="utf-8"))
    tokens = [t for s in manifest.shards for t in s.row_group_tokens]
    return {"row_groups": len(tokens), "median_tokens": int(statistics.median(tokens)), "max_tokens": max(tokens),
            "min_tokens": min(tokens), "n_bytes": sum(s.n_bytes for s in manifest.shards),
            "bytes_per_token": round(sum(s.n_bytes for s in manifest.shards) / sum(tokens), 3)}


# -------------------------------------------------------------------- main ----
def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    ap.add_argument("--quick", action="store_true", help="3 MB of text, one round of readers, fewer repeats")
    ap.add_argument("--mb", type=float, default=None, help="text size in MB (default 12; 3 with --quick)")
    ap.add_argument("--seq-len", type=int, default=2048)
    ap.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        kind, path, seq_len, passes = args.child
        print(json.dumps(child(kind, path, int(seq_len), int(passes))))
        return
    if not STREAMING_PY.exists():
        raise SystemExit(f"{STREAMING_PY.relative_to(C.REPO)} is missing: run `make bench-deps-streaming` first")
    from operators.tokens.bpe import train_bpe
    from operators.tokens.megatron import export_megatron

    mb = args.mb or (3.0 if args.quick else 12.0)
    repeats, passes, rounds = (2, 2, 1) if args.quick else (2, 3, 3)
    started = time.perf_counter()
    results = {"benchmark": NAME, "machine": C.machine(), "quick": args.quick, "text_mb": mb, "seq_len": args.seq_len,
               "row_group_bytes": ROW_GROUP_BYTES, "target_bytes": TARGET_BYTES, "rounds": rounds,
               "passes_per_round": passes}
    docs = make_documents(int(mb * 1e6), seed=0)
    texts = docs.column("text").to_pylist()
    train, size = [], 0
    for t in texts:
        if size >= TRAIN_MB * 1e6:
            break
        train.append(t)
        size += len(t.encode("utf-8"))
    tokenizer = train_bpe(train, vocab_size=32000)
    results["input"] = {"docs": docs.num_rows, "docs_by_lang": dict(Counter(docs.column("lang").to_pylist())),
                        "bpe_training_bytes": size, "vocab_size": tokenizer.get_vocab_size()}
    print(f"corpus: {docs.num_rows} docs, {mb} MB, vocab {tokenizer.get_vocab_size()}", file=sys.stderr, flush=True)

    phases = results["phase_seconds"] = {"corpus_and_bpe": round(time.perf_counter() - started, 1)}
    tok, rows = bench_tokenize(docs, tokenizer, repeats)
    phases["tokenize"] = round(time.perf_counter() - started - sum(phases.values()), 1)
    results["tokenize"] = tok
    print(f"(a) {tok['mb_per_s']}", file=sys.stderr, flush=True)

    with tempfile.TemporaryDirectory(prefix="qazflow-bench-tokens-") as tmp:
        tmp = Path(tmp)
        results["shards_1x"] = write_shards(tmp / "x1", rows, tokenizer)
        results["megatron_export"] = export_megatron(str(tmp / "x1"), str(tmp / "megatron"))
        stream = export_stream(tmp / "x1", tmp / "streaming", args.seq_len)
        stream["mds"] = _run([str(STREAMING_PY), str(HERE / "_streaming_worker.py"), "write", str(tmp / "streaming"),
                              str(args.seq_len), str(stream["eos_id"])], "streaming write")
        results["streaming_export"] = stream
        phases["shards_and_exports"] = round(time.perf_counter() - started - sum(phases.values()), 1)
        runs = {k: [] for k in READERS}
        for r in range(rounds):
            for k in READERS:
                runs[k].append(run_reader(k, tmp, args.seq_len, stream["eos_id"], passes))
                print(f"(b) round {r} {k}: {runs[k][-1]['tokens_per_s']} tokens/s", file=sys.stderr, flush=True)
        read = {}
        for k, rs in runs.items():
            best = max(rs, key=lambda x: x["tokens_per_s"])
            every = [x["tokens"] / t for x in rs for t in x["seconds"]]
            read[k] = {**best, "tokens_per_s_by_round": [x["tokens_per_s"] for x in rs],
                       "median_tokens_per_s": round(statistics.median(every))}
        q = read["qazflow"]["tokens_per_s"]
        read["same_stream_tokens"] = read["qazflow"]["stream_tokens"] == read["megatron_docs"]["stream_tokens"] \
            == stream["stream_tokens"]
        # PackedReader and streaming packing yield the very same samples (epoch 0)
        read["same_samples_as_streaming"] = len({read[k]["sha256"] for k in
                                                 ("qazflow", "streaming_docs", "streaming_getitem",
                                                  "streaming_packed")}) == 1
        read["ratios"] = {f"qazflow_vs_{k}": round(q / read[k]["tokens_per_s"], 3) for k in READERS[1:]}
        # the same from every pass's median (all rounds): less flattering to whoever had a quiet moment
        read["ratios_of_medians"] = {f"qazflow_vs_{k}": round(read["qazflow"]["median_tokens_per_s"]
                                                              / read[k]["median_tokens_per_s"], 3)
                                     for k in READERS[1:]}
        results["read"] = read

        phases["readers"] = round(time.perf_counter() - started - sum(phases.values()), 1)
        docs4 = make_documents(int(4 * mb * 1e6), seed=1)
        results["shards_4x"] = write_shards(tmp / "x4", tokenize_rows(docs4, tokenizer), tokenizer)
        del docs4
        phases["corpus_4x"] = round(time.perf_counter() - started - sum(phases.values()), 1)
        rss = {"1x": run_child("rss", tmp / "x1", args.seq_len, 1), "4x": run_child("rss", tmp / "x4", args.seq_len, 1)}
        rss["row_groups"] = {"1x": row_group_stats(tmp / "x1"), "4x": row_group_stats(tmp / "x4")}
    phases["rss"] = round(time.perf_counter() - started - sum(phases.values()), 1)
    rss["peak_ratio_4x_over_1x"] = round(rss["4x"]["peak_rss_mb"] / rss["1x"]["peak_rss_mb"], 3)
    rss["growth_mb"] = {k: rss[k]["peak_rss_mb"] - rss[k]["baseline_rss_mb"] for k in ("1x", "4x")}
    rss["flat_criterion"] = "peak RSS at 4x within 10% of peak RSS at 1x"
    rss["flat"] = rss["4x"]["peak_rss_mb"] <= 1.1 * rss["1x"]["peak_rss_mb"]
    # the comparison means something only when both have full-size row groups: with --quick
    # the 1x partitions are smaller than one row group's worth of tokens
    medians = rss["row_groups"]["1x"]["median_tokens"], rss["row_groups"]["4x"]["median_tokens"]
    rss["row_groups_comparable"] = 0.8 <= medians[0] / medians[1] <= 1.25
    results["rss"] = rss
    results["machine"]["loadavg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    results["total_seconds"] = round(time.perf_counter() - started, 1)

    mbs, sec = tok["mb_per_s"], tok["seconds"]
    rows_a = [[name, round(mbs[name], 2), round(sec[name], 3),
               round(sec["HF encode_batch"] / sec[name], 3)] for name in sec]
    print(f"\n(a) tokenization, {tok['bytes'] / 1e6:.1f} MB, {tok['docs']} docs, batches of {BATCH}")
    print(C.md_table(["path", "MB/s", "best s", "x HF encode_batch"], rows_a))
    rows_b = [[LABELS[k], read[k]["tokens_per_s"], round(q / read[k]["tokens_per_s"], 3),
               read[k]["median_tokens_per_s"], round(read["qazflow"]["median_tokens_per_s"]
                                                     / read[k]["median_tokens_per_s"], 3), read[k]["peak_rss_mb"]]
              for k in READERS]
    print(f"\n(b) reading on one core, seq_len {args.seq_len}, {stream['stream_tokens']} stream tokens, "
          f"best of {rounds} x {passes} passes; same samples as streaming: {read['same_samples_as_streaming']}")
    print(C.md_table(["reader", "best tokens/s", "qazflow / this", "median tokens/s", "qazflow / this (medians)",
                      "peak RSS MB"], rows_b))
    rows_c = [[k, results[f"shards_{k}"]["n_tokens"], rss["row_groups"][k]["row_groups"],
               rss["row_groups"][k]["median_tokens"], rss[k]["baseline_rss_mb"], rss[k]["peak_rss_mb"],
               rss["growth_mb"][k], rss[k]["peak_rss_mb_by_quarter"]] for k in ("1x", "4x")]
    print("\n(c) PackedReader peak RSS over a full epoch")
    print(C.md_table(["corpus", "tokens", "row groups", "median tokens/row group", "RSS after open MB",
                      "peak RSS MB", "growth MB", "peak after each quarter MB"], rows_c))
    print(f"flat ({rss['flat_criterion']}): {rss['flat']}; row groups comparable (medians within 25%): "
          f"{rss['row_groups_comparable']}; load average at start "
          f"{results['machine']['loadavg_at_start']}, at end {results['machine']['loadavg_at_end']}")
    path = C.write_results(NAME + ("_quick" if args.quick else ""), results)
    print(f"\nresults: {path.relative_to(C.REPO)} ({results['total_seconds']} s)")


if __name__ == "__main__":
    main()
