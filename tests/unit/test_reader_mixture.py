"""Mixture proportions on a 10M-token corpus written by the real shard writer: each
partition's tokens come from its own id range, so the reader's stream tells them apart."""
import os

import numpy as np
import pyarrow as pa
import pytest

from operators.tokens.mixture import Mixture
from operators.tokens.reader import PackedReader
from operators.tokens.shards import ShardPacker
from schemas import ShardEntry, ShardManifest

PARTS = {("book", "kk"): (1_500_000, 1), ("news", "en"): (2_500_000, 3), ("news", "ru"): (5_000_000, 2),
         ("text", "kk"): (1_000_000, 0)}  # tokens, id range index (ids in [1000 * (r + 1), 1000 * (r + 2)))


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    out = tmp_path_factory.mktemp("tenm")
    rng = np.random.default_rng(0)
    entries = []
    packer = ShardPacker(str(out), ["source", "lang"],
                         lambda p, e: entries.append(ShardEntry(path=os.path.basename(p), **e)),
                         target_bytes=4 << 20, row_group_bytes=64 << 10)
    for (source, lang), (n, r) in sorted(PARTS.items()):
        per = 1000
        for b in range(0, n // per, 500):
            k = min(500, n // per - b)
            ids = (1000 * (r + 1) + rng.integers(0, 1000, k * per)).astype(np.uint32)
            offsets = pa.array(np.arange(0, k * per + 1, per, dtype=np.int32))
            packer(pa.table({"doc_id": [f"{source}{lang}{i:07d}" for i in range(b, b + k)], "source": [source] * k,
                             "lang": [lang] * k, "input_ids": pa.ListArray.from_arrays(offsets, pa.array(ids)),
                             "n_tokens": pa.array([per] * k, pa.int32()), "chunk": pa.array([0] * k, pa.int32())}))
    packer.close()
    manifest = ShardManifest(tokenizer={"eos_id": 0, "vocab_size": 6000}, shards=entries, created="",
                             qazflow_version="test", config_hash="tenm")
    (out / "manifest.json").write_text(manifest.to_json())
    return out, manifest


def test_stream_proportions_follow_the_mixture_within_one_percent(corpus):
    out, manifest = corpus
    assert manifest.totals["n_tokens"] == 10_000_000
    mix = Mixture(weights={"text/kk": 0.25, "book/kk": 0.25, "news/ru": 0.3, "news/en": 0.2},
                  max_epochs={"text/kk": 3, "book/kk": 3})
    counts = np.zeros(6, np.int64)
    for s in PackedReader(str(out), seq_len=2047, mixture=mix, manifest=manifest, seed=1):
        counts += np.bincount(s["input_ids"] // 1000, minlength=6)
    shares = counts[1:5] / counts[1:5].sum()
    want = {"text/kk": 0.25, "book/kk": 0.25, "news/en": 0.2, "news/ru": 0.3}
    for (source, lang), (_, r) in PARTS.items():
        assert abs(shares[r] - want[f"{source}/{lang}"]) < 0.01, (source, lang, shares)
    # Kazakh text, 1M tokens, is read three times (its cap) and no more
    assert 2_900_000 <= counts[1] <= 3_000_000
    # and Kazakh tokens are spread over the epoch, not bunched at one end
    first_half = np.zeros(6, np.int64)
    r = PackedReader(str(out), seq_len=2047, mixture=mix, manifest=manifest, seed=1)
    for i in range(r.n_samples // 2):
        first_half += np.bincount(r.sample(i)["input_ids"] // 1000, minlength=6)
    assert abs(first_half[1] / counts[1] - 0.5) < 0.05
