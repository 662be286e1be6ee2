"""MinHash signatures, LSH parameters and band keys (operators/dedup/minhash.py). No Ray.

Real texts come from samples/text (Kazakh, Russian, English); planted near-duplicates are
generated from those texts' own words. Signatures are compared with datasketch >= 2.0,
whose default MinHash scheme is "affine32".
"""
from __future__ import annotations

import functools
import itertools
import json
import random
from collections import defaultdict
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from datasketch import MinHash
from datasketch.lsh import _optimal_param

from operators.dedup.minhash import (
    MinHashSignature, band_keys, jaccard, lsh_params, normalize, shingles, true_jaccard,
)

TEXT = Path(__file__).resolve().parents[2] / "samples" / "text"
THRESHOLD = 0.6  # recommended with character 5-grams (operators/dedup/minhash.py)


def jsonl(name: str) -> list[dict]:
    return [json.loads(line) for line in (TEXT / name).read_text(encoding="utf-8").splitlines() if line.strip()]


@functools.cache
def sample_texts() -> dict[str, list[str]]:
    """Every real text in samples/text by language; the bilingual notice split by paragraph."""
    texts: dict[str, list[str]] = defaultdict(list)
    for lang, name in [("kk", "kk_news.jsonl"), ("ru", "ru_articles.jsonl"), ("en", "en_articles.jsonl")]:
        texts[lang] += [record["text"] for record in jsonl(name)]
    for row in pq.read_table(TEXT / "curated.parquet").to_pylist():
        texts[row["id"].split("-")[1]].append(row["text"])
    for paragraph in (TEXT / "mixed_kk_ru.txt").read_text(encoding="utf-8").split("\n\n"):
        texts["kk" if set(paragraph) & set("әғқңөұүһіӘҒҚҢӨҰҮҺІ") else "ru"].append(paragraph)
    return texts


def table(texts, reasons=None) -> pa.Table:
    columns = {"doc_id": [f"d{i:04d}" for i in range(len(texts))], "text": texts}
    if reasons is not None:
        columns["reason"] = reasons
    return pa.table(columns)


def datasketch_signature(text: str, num_perm: int, seed: int, k: int, unit: str) -> np.ndarray:
    m = MinHash(num_perm=num_perm, seed=seed)
    for shingle in shingles(text, k, unit):
        m.update(shingle.encode("utf8"))
    return m.hashvalues


def test_normalization_keeps_kazakh_letters_and_drops_punctuation_case_and_spacing():
    text = "  ҚАЗАҚСТАН — Әл-Фараби,\u00a0«ұлттық»\n\tҒЫЛЫМ   һәм ІЗДЕНІС! Ударе\u0301ние ﬁne"
    assert normalize(pa.array([text])).to_pylist() == ["қазақстан әлфараби ұлттық ғылым һәм ізденіс ударение fine"]


def test_shingles_by_word_and_by_character():
    assert shingles("Бір, ЕКІ үш төрт бес алты", k=5, unit="word") == {"бір екі үш төрт бес", "екі үш төрт бес алты"}
    assert shingles("Әлем!", k=3, unit="char") == {"әле", "лем"}
    assert shingles("ab  c", k=5, unit="char") == {"ab c"}  # shorter than k: one shingle
    assert shingles(" .,; ", k=5, unit="char") == set()
    with pytest.raises(ValueError):
        shingles("x", k=5, unit="byte")


@pytest.mark.parametrize("num_perm,seed,k,unit", [(128, 1, 5, "char"), (64, 7, 5, "word"), (32, 3, 3, "char")])
def test_signatures_identical_to_datasketch(num_perm, seed, k, unit):
    texts = [t for lang in sample_texts().values() for t in lang]
    assert len(texts) >= 45 and {"kk", "ru", "en"} <= set(sample_texts())
    out = MinHashSignature(num_perm=num_perm, seed=seed, shingle_size=k, unit=unit)(table(texts))
    assert out.schema.field("minhash").type == pa.list_(pa.uint32(), num_perm)
    for text, signature in zip(texts, out["minhash"].to_pylist()):
        assert signature == datasketch_signature(text, num_perm, seed, k, unit).tolist()


def test_rejected_and_empty_rows_get_null_signatures_and_rerun_replaces_the_column():
    texts = ["Қазақ тілі — мемлекеттік тіл.", "Қазақ тілі — мемлекеттік тіл.", "", " ?! ", "a"]
    op = MinHashSignature(num_perm=16)
    out = op(table(texts, reasons=[None, "LengthFilter", None, None, None]))
    sigs = out["minhash"].to_pylist()
    assert [s is None for s in sigs] == [False, True, True, True, False]
    again = op(out)
    assert again.column_names == out.column_names and again["minhash"].equals(out["minhash"])


def test_texts_longer_than_one_permutation_block_give_the_same_signatures(monkeypatch):
    texts = [t for lang in sample_texts().values() for t in lang][:8]
    whole = MinHashSignature(num_perm=16)(table(texts))["minhash"]
    monkeypatch.setattr("operators.dedup.minhash._CHUNK_CELLS", 16 * 37)  # 37 shingles per block
    assert MinHashSignature(num_perm=16)(table(texts))["minhash"].equals(whole)


@pytest.mark.parametrize("threshold,num_perm", [(0.5, 32), (0.6, 128), (0.8, 64), (0.9, 128)])
def test_lsh_params_match_datasketch(threshold, num_perm):
    assert lsh_params(threshold, num_perm) == _optimal_param(threshold, num_perm, 0.5, 0.5)


def test_band_keys_identical_for_identical_texts_and_identical_bands_only():
    text = sample_texts()["kk"][0]
    sigs = MinHashSignature(num_perm=32)(table([text, text, "басқа мәтін мүлдем", None]))
    keys = band_keys(sigs, bands=8, rows=4)
    assert keys.schema == pa.schema([("doc_id", pa.string()), ("band_key", pa.int64())])
    by_doc = defaultdict(list)
    for row in keys.to_pylist():
        by_doc[row["doc_id"]].append(row["band_key"])
    assert set(by_doc) == {"d0000", "d0001", "d0002"}  # the null signature has no bands
    assert by_doc["d0000"] == by_doc["d0001"] and len(set(by_doc["d0000"])) == 8
    assert not set(by_doc["d0000"]) & set(by_doc["d0002"])

    # Two signatures that agree on band 2 only share exactly that band's key; the same
    # values in another band position give another key.
    a = np.arange(12, dtype=np.uint32)
    b = a + 100
    b[4:6] = a[4:6]
    c = np.roll(a, 2)  # a's band-2 values, in band 3
    minhash = pa.FixedSizeListArray.from_arrays(pa.array(np.concatenate([a, b, c])), type=pa.list_(pa.uint32(), 12))
    manual = pa.table({"doc_id": ["a", "b", "c"], "minhash": minhash})
    keys = band_keys(manual, bands=6, rows=2).to_pydict()
    per = {d: keys["band_key"][i * 6 : i * 6 + 6] for i, d in enumerate("abc")}
    assert [x == y for x, y in zip(per["a"], per["b"])] == [False, False, True, False, False, False]
    assert not set(per["a"]) & set(per["c"])
    with pytest.raises(ValueError):
        band_keys(manual, bands=5, rows=3)


def test_jaccard_estimate_tracks_true_jaccard():
    by_id = {record.get("id"): record["text"] for record in jsonl("en_articles.jsonl")}
    a, b = by_id["en-0004"], by_id["en-0008"]  # planted near-duplicates (samples/README.md)
    sigs = MinHashSignature(num_perm=256)(table([a, b]))["minhash"].to_pylist()
    assert abs(jaccard(*sigs) - true_jaccard(a, b)) < 0.1
    assert true_jaccard(a, a) == 1.0 and true_jaccard("", "") == 0.0
    assert true_jaccard("a b c d e f", "a b c d e g", k=5, unit="word") == 1 / 3


EDIT_RATES = (0.01, 0.05, 0.10, 0.20, 0.40)


def planted_corpus(rng: random.Random, bases_per_lang: int = 10, n_words: int = 300):
    """Unrelated ~300-word documents drawn from each language's real word stream, and for
    each one a copy per edit rate with that share of its words replaced."""
    texts, group, rate = [], [], []
    for lang_texts in sample_texts().values():
        words = [w for t in lang_texts for w in t.split()]
        for _ in range(bases_per_lang):
            base = rng.choices(words, k=n_words)
            g = len(set(group))
            for r in (0.0, *EDIT_RATES):
                copy = list(base)
                for i in rng.sample(range(n_words), round(r * n_words)):
                    copy[i] = rng.choice(words)
                texts.append(" ".join(copy))
                group.append(g)
                rate.append(r)
    return texts, group, rate


def candidate_pairs(keys: pa.Table) -> set[tuple[str, str]]:
    buckets = defaultdict(list)
    for doc_id, key in zip(keys["doc_id"].to_pylist(), keys["band_key"].to_pylist()):
        buckets[key].append(doc_id)
    return {pair for ids in buckets.values() for pair in itertools.combinations(sorted(set(ids)), 2)}


def test_planted_near_duplicates_precision_and_recall():
    texts, group, rate = planted_corpus(random.Random(20240501))
    docs = table(texts)
    ids = docs["doc_id"].to_pylist()
    candidates = candidate_pairs(band_keys(MinHashSignature()(docs), *lsh_params(THRESHOLD, 128)))

    base_of = {g: ids[i] for i, g in enumerate(group) if rate[i] == 0.0}
    recall = {r: np.mean([(base_of[group[i]], ids[i]) in candidates for i in range(len(ids)) if rate[i] == r])
              for r in EDIT_RATES}
    group_of = dict(zip(ids, group))
    same = {(a, b) for a, b in itertools.combinations(ids, 2) if group_of[a] == group_of[b]}
    unrelated = len(ids) * (len(ids) - 1) // 2 - len(same)
    false = len(candidates - same)
    precision = len(candidates & same) / len(candidates)
    print(f"\nrecall by edit rate {recall}; precision {precision:.3f}; "
          f"unrelated pairs that are candidates {false}/{unrelated}")
    assert recall[0.01] == recall[0.05] == 1.0
    assert recall[0.10] >= 0.9
    assert recall[0.40] <= 0.3  # far-edited copies are different documents
    assert false / unrelated <= 0.001 and precision >= 0.98
