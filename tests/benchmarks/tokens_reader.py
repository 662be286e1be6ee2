#!/usr/bin/env python
"""Token shards for trainers, one run on one input: (a) tokenization MB/s through qazflow's
`Tokenize` operator vs HF tokenizers' `encode_batch` called directly; (b) packed tokens/s of
`PackedReader` on one core vs megatron-core's `IndexedDataset` over the export of the same
shards; (c) the reader's peak RSS at 1x and 4x the corpus.

    .venv/bin/python tests/benchmarks/tokens_reader.py [--quick] [--mb 12]

Input: real kk/ru/en paragraphs (samples/text, plus ../shared/seeds when present, via
_common.paragraphs), grouped 1-6 at a time into documents, a language drawn uniformly per
document, repeated with fresh doc_ids until the text reaches --mb MB (UTF-8). The unique text
is small (~80 kB), so HF's word cache is warm for both sides alike: the MB/s are those of a
repetitive corpus, the ratio is what counts. The tokenizer is byte-level BPE trained by
`train_bpe` on the unique paragraphs (vocab 32000 asked; the text gives fewer merges).

(a) Same process, same Rayon thread pool (all cores), same 256-document batches (the
    config's shards.batch_size); alternate repeats, the best of each is kept. The operator's
    time includes what it adds to the encoding: chunking, Arrow list columns, word/char
    counts. `encode_batch_fast` (what the operator calls: no offsets) is shown as well.
(b) Shards written by `ShardPacker` (partition by source/lang; 256 kB row groups instead of the
    16 MB default so the 1x corpus has several row groups per partition), exported by
    `operators.tokens.megatron.export_megatron`. Each reader runs in its own child process
    pinned to one CPU with Arrow's thread pools at 1; every pass yields int64 arrays (what
    an embedding takes): PackedReader samples of seq_len+1 (mixture-ordered row groups,
    eos between documents), megatron's documents `ds[i]` in index order cast to int64, and
    megatron packed the way GPTDataset packs (seq_len+1 windows over consecutive documents
    with `ds.get(doc, offset, length)`, sequential, no shuffle). Best of N passes after one
    warm-up pass; the files are in the page cache for all of them.
(c) One child per corpus size iterates a full epoch of PackedReader; peak RSS is the
    child's VmHWM (/proc/self/status), shown with its baseline after imports and opening.

mosaicml-streaming is not measured: `pip install --dry-run mosaicml-streaming` into the
project's venv would change numpy, tokenizers and huggingface-hub (see results "streaming").
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C  # noqa: E402

NAME = "tokens_reader"
BATCH = 256  # shards.batch_size in flows/conf/config.yaml
ROW_GROUP_BYTES = 256 << 10
TARGET_BYTES = 16 << 20
STREAMING_SKIPPED = ("not measured: `pip install --dry-run mosaicml-streaming` (0.13.0) into the project venv "
                     "would replace numpy 2.4.6 -> 2.1.3, tokenizers 0.23.3 -> 0.22.2, huggingface-hub "
                     "2.4.0 -> 0.36.2 (and add ~35 packages); the brief forbids changing installed versions")


# ------------------------------------------------------------------ corpus ----
def make_documents(target_bytes: int, seed: int = 0):
    import pyarrow as pa

    pools = C.paragraphs()
    langs = [lang for lang in ("kk", "ru", "en") if pools[lang]]
    rng = random.Random(seed)
    rows, size, i = [], 0, 0
    while size < target_bytes:
        lang = rng.choice(langs)
        text = "\n".join(rng.choice(pools[lang]) for _ in range(rng.randint(1, 6)))
        rows.append({"doc_id": hashlib.sha1(f"doc-{i}".encode()).hexdigest()[:16], "source": "web",
                     "lang": lang, "text": text})
        size += len(text.encode("utf-8"))
        i += 1
    table = pa.Table.from_pylist(rows)
    return table.sort_by([("source", "ascending"), ("lang", "ascending"), ("doc_id", "ascending")]), pools


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


def replicate(rows, times: int):
    """The Tokenize output `times` over, each copy with fresh doc_ids, re-sorted."""
    import pyarrow as pa

    copies = []
    for r in range(times):
        ids = [hashlib.sha1(f"{r}:{d}".encode()).hexdigest()[:16] for d in rows.column("doc_id").to_pylist()]
        copies.append(rows.set_column(rows.schema.get_field_index("doc_id"), "doc_id", pa.array(ids, pa.string())))
    return pa.concat_tables(copies).sort_by([("source", "ascending"), ("lang", "ascending"),
                                             ("doc_id", "ascending"), ("chunk", "ascending")])


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
    res = {"kind": kind, "cpu": cpu}
    if kind in ("qazflow", "rss"):
        from operators.tokens.reader import PackedReader

        reader = PackedReader(path, seq_len=seq_len, seed=0)
        res["baseline_rss_mb"] = _vm("VmRSS")
        res["stream_tokens"] = int(reader.offsets[-1])  # tokens + one eos per document

        def one_pass(p):
            reader.set_epoch(p)
            n = 0
            for s in reader:
                n += len(s["input_ids"])
            return n
    else:
        from megatron.core.datasets.indexed_dataset import IndexedDataset

        sets = [IndexedDataset(str(Path(path) / p.stem)) for p in sorted(Path(path).glob("*.idx"))]
        res["baseline_rss_mb"] = _vm("VmRSS")
        res["stream_tokens"] = int(sum(int(ds.sequence_lengths.sum()) for ds in sets))

        if kind == "megatron_docs":
            def one_pass(p):
                n = 0
                for ds in sets:
                    for i in range(len(ds)):
                        n += len(ds[i].astype(np.int64))
                return n
        else:  # GPTDataset-style packing: windows of seq_len+1 over consecutive documents
            def one_pass(p):
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
        t0 = time.perf_counter()
        res["tokens"] = one_pass(0)
        res["seconds"] = round(time.perf_counter() - t0, 4)
        res["peak_rss_mb"] = _vm("VmHWM")
        res["n_samples"] = reader.n_samples
        res["row_groups"] = len(reader.units)
        return res
    one_pass(0)  # warm-up
    times = []
    for p in range(passes):
        t0 = time.perf_counter()
        res["tokens"] = one_pass(p + 1)
        times.append(time.perf_counter() - t0)
    res["seconds"] = [round(t, 4) for t in times]
    res["tokens_per_s"] = round(res["tokens"] / min(times))
    res["peak_rss_mb"] = _vm("VmHWM")
    return res


def run_child(kind: str, path: Path, seq_len: int, passes: int) -> dict:
    env = {**os.environ, "TOKENIZERS_PARALLELISM": "false", "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore"}
    out = subprocess.run([sys.executable, __file__, "--child", kind, str(path), str(seq_len), str(passes)],
                         capture_output=True, text=True, env=env, timeout=900)
    if out.returncode:
        raise SystemExit(f"child {kind} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


# -------------------------------------------------------------------- main ----
def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="3 MB of text, fewer repeats (under a minute)")
    ap.add_argument("--mb", type=float, default=None, help="text size in MB (default 12; 3 with --quick)")
    ap.add_argument("--seq-len", type=int, default=2048)
    ap.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        kind, path, seq_len, passes = args.child
        print(json.dumps(child(kind, path, int(seq_len), int(passes))))
        return
    from operators.tokens.bpe import train_bpe
    from operators.tokens.megatron import export_megatron

    mb = args.mb or (3.0 if args.quick else 12.0)
    repeats, passes = (2, 2) if args.quick else (3, 4)
    started = time.perf_counter()
    results = {"benchmark": NAME, "machine": C.machine(), "quick": args.quick, "text_mb": mb, "seq_len": args.seq_len,
               "row_group_bytes": ROW_GROUP_BYTES, "target_bytes": TARGET_BYTES}
    docs, pools = make_documents(int(mb * 1e6))
    unique = [p for lang in pools for p in pools[lang]]
    tokenizer = train_bpe(unique, vocab_size=32000)
    results["input"] = {"docs": docs.num_rows, "unique_paragraphs": {k: len(v) for k, v in pools.items()},
                        "unique_bytes": sum(len(p.encode()) for p in unique),
                        "docs_by_lang": dict(Counter(docs.column("lang").to_pylist())),
                        "vocab_size": tokenizer.get_vocab_size()}
    print(f"corpus: {docs.num_rows} docs, {mb} MB, vocab {tokenizer.get_vocab_size()}", file=sys.stderr, flush=True)

    tok, rows = bench_tokenize(docs, tokenizer, repeats)
    results["tokenize"] = tok
    print(f"(a) {tok['mb_per_s']}", file=sys.stderr, flush=True)

    with tempfile.TemporaryDirectory(prefix="qazflow-bench-tokens-") as tmp:
        tmp = Path(tmp)
        results["shards_1x"] = write_shards(tmp / "x1", rows, tokenizer)
        results["megatron_export"] = export_megatron(str(tmp / "x1"), str(tmp / "megatron"))
        read = {k: run_child(k, tmp / ("x1" if k == "qazflow" else "megatron"), args.seq_len, passes)
                for k in ("qazflow", "megatron_docs", "megatron_packed")}
        results["read"] = read
        results["read"]["same_stream_tokens"] = read["qazflow"]["stream_tokens"] == read["megatron_docs"]["stream_tokens"]
        results["read"]["ratio_vs_megatron_docs"] = round(read["qazflow"]["tokens_per_s"]
                                                          / read["megatron_docs"]["tokens_per_s"], 3)
        results["read"]["ratio_vs_megatron_packed"] = round(read["qazflow"]["tokens_per_s"]
                                                            / read["megatron_packed"]["tokens_per_s"], 3)
        print(f"(b) { {k: v['tokens_per_s'] for k, v in read.items() if isinstance(v, dict)} }", file=sys.stderr,
              flush=True)
        results["shards_4x"] = write_shards(tmp / "x4", replicate(rows, 4), tokenizer)
        rss = {"1x": run_child("rss", tmp / "x1", args.seq_len, 1), "4x": run_child("rss", tmp / "x4", args.seq_len, 1)}
    rss["peak_ratio_4x_over_1x"] = round(rss["4x"]["peak_rss_mb"] / rss["1x"]["peak_rss_mb"], 3)
    growth = [rss[k]["peak_rss_mb"] - rss[k]["baseline_rss_mb"] for k in ("1x", "4x")]
    rss["growth_mb"] = {"1x": growth[0], "4x": growth[1]}
    results["rss"] = rss
    results["streaming"] = STREAMING_SKIPPED
    results["total_seconds"] = round(time.perf_counter() - started, 1)

    mbs, sec = tok["mb_per_s"], tok["seconds"]
    rows_a = [[name, round(mbs[name], 2), round(sec[name], 3),
               round(sec["HF encode_batch"] / sec[name], 3)] for name in sec]
    print(f"\n(a) tokenization, {tok['bytes'] / 1e6:.1f} MB, {tok['docs']} docs, batches of {BATCH}")
    print(C.md_table(["path", "MB/s", "best s", "x HF encode_batch"], rows_a))
    rows_b = [[name, read[k]["tokens_per_s"], round(read[k]["tokens_per_s"] / read["qazflow"]["tokens_per_s"], 3)]
              for name, k in (("qazflow PackedReader (seq_len+1 samples)", "qazflow"),
                              ("megatron-core IndexedDataset, documents", "megatron_docs"),
                              ("megatron-core IndexedDataset, GPT-style packed", "megatron_packed"))]
    print(f"\n(b) reading on one core, seq_len {args.seq_len}, {read['qazflow']['stream_tokens']} stream tokens")
    print(C.md_table(["reader", "tokens/s", "x qazflow"], rows_b))
    print(f"qazflow / megatron documents: {results['read']['ratio_vs_megatron_docs']}, "
          f"/ megatron packed: {results['read']['ratio_vs_megatron_packed']}; mosaicml-streaming: not measured")
    rows_c = [[k, results[f"shards_{k}"]["n_tokens"], rss[k]["baseline_rss_mb"], rss[k]["peak_rss_mb"],
               rss["growth_mb"][k]] for k in ("1x", "4x")]
    print("\n(c) PackedReader peak RSS over a full epoch")
    print(C.md_table(["corpus", "tokens", "RSS after open MB", "peak RSS MB", "growth MB"], rows_c))
    path = C.write_results(NAME + ("_quick" if args.quick else ""), results)
    print(f"\nresults: {path.relative_to(C.REPO)} ({results['total_seconds']} s)")


if __name__ == "__main__":
    main()
