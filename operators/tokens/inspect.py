"""`qazflow shards inspect`: what a trainer wants to see before pointing a run at shards."""
from __future__ import annotations

import numpy as np

from operators.tokens.reader import ShardStore, filesystem_for, load_manifest

BINS = [0, 64, 256, 1024, 4096, 16384, 65536, 1 << 62]


def inspect_shards(shards_dir: str, sample_tokens: int = 48) -> str:
    from tokenizers import Tokenizer

    manifest = load_manifest(shards_dir)
    fs, base = filesystem_for(shards_dir)
    with fs.open_input_stream(f"{base}/{manifest.tokenizer.get('path', 'tokenizer.json')}") as f:
        tokenizer = Tokenizer.from_str(f.read().decode("utf-8"))
    store = ShardStore(shards_dir, manifest)
    t = manifest.totals
    lines = [f"{shards_dir}: {t['n_shards']} shards, {t['n_docs']} documents, {t['n_tokens']} tokens, "
             f"{t['n_bytes']} bytes ({manifest.kind}, tokenizer vocab {manifest.tokenizer.get('vocab_size')})",
             "tokens by source:   " + ", ".join(f"{k} {v}" for k, v in t["by_source"].items()),
             "tokens by language: " + ", ".join(f"{k} {v}" for k, v in t["by_lang"].items())]
    lengths, samples = [], {}
    for entry in manifest.shards:
        table = store.open(entry.path).read(columns=["doc_id", "n_tokens", "input_ids", "chunk"])
        docs = table.group_by("doc_id", use_threads=False).aggregate([("n_tokens", "sum")])
        lengths.append(docs.column("n_tokens_sum").to_numpy())
        if entry.partition_key not in samples and table.num_rows:
            samples[entry.partition_key] = tokenizer.decode(table.column("input_ids")[0].as_py()[:sample_tokens])
    counts, _ = np.histogram(np.concatenate(lengths) if lengths else np.zeros(0), bins=BINS)
    lines.append("document length (tokens):")
    for lo, hi, n in zip(BINS, BINS[1:], counts):
        lines.append(f"  {lo:>6}–{'' if hi > 1 << 40 else hi:<6} {n:>8}")
    lines.append("partitions:")
    for key, n in manifest.partitions.items():
        lines.append(f"  {key:<16} {n:>12} tokens   «{samples.get(key, '').replace(chr(10), ' ')}»")
    return "\n".join(lines)
