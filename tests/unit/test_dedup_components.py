"""Connected components of candidate pairs (operators/dedup/components.py). No Ray.

Label propagation is checked against union-find on random graphs, whatever the order and
partitioning of the edges, and the whole chain (signatures -> band keys -> star edges ->
components) against the duplicates planted in samples/.
"""
from __future__ import annotations

import json
import math
import random
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from operators.dedup.components import (
    EDGES, LABELS, UnionFind, choose_keeper, components, edges_from_buckets, label_propagation_step,
)
from operators.dedup.minhash import MinHashSignature, band_keys, lsh_params

SAMPLES = Path(__file__).resolve().parents[2] / "samples"


def buckets(rows) -> pa.Table:
    return pa.table({"doc_id": [d for d, _ in rows], "band_key": pa.array([k for _, k in rows], pa.int64())})


def edge_table(pairs) -> pa.Table:
    return pa.table({"src": [a for a, _ in pairs], "dst": [b for _, b in pairs]}, schema=EDGES)


def test_edges_from_buckets_are_deduplicated_stars_from_the_smallest_id():
    rows = [("d", 1), ("b", 1), ("c", 1), ("a", 2), ("e", 2), ("b", 3), ("d", 3), ("z", 4), ("z", 5), ("z", 5)]
    edges = edges_from_buckets(buckets(rows))
    assert edges.schema == EDGES
    # bucket 1 is a star from b (2 edges, not 3 pairs); bucket 3 repeats b-d; z is alone
    assert edges.to_pylist() == [{"src": "a", "dst": "e"}, {"src": "b", "dst": "c"}, {"src": "b", "dst": "d"}]
    big = edges_from_buckets(buckets([(f"x{i:04d}", 9) for i in range(1000)]))
    assert len(big) == 999 and set(big["src"].to_pylist()) == {"x0000"}


def test_union_find_and_components_name_each_component_by_its_smallest_id():
    sets = UnionFind()
    for a, b in [("q", "r"), ("s", "t"), ("r", "t")]:
        sets.union(a, b)
    assert len({sets.find(x) for x in "qrst"}) == 1 and sets.find("u") == "u"
    pairs = [("m", "k"), ("k", "z"), ("b", "y"), ("y", "c")]
    expected = {"k": "k", "m": "k", "z": "k", "b": "b", "c": "b", "y": "b"}
    assert components(pairs) == expected == components(edge_table(pairs[::-1]))


def random_graph(rng: random.Random) -> list[tuple[str, str]]:
    """Chains, stars, cycles, pairs and cliques with shuffled ids, as one edge list."""
    names = [f"doc{n:05d}" for n in rng.sample(range(100_000), 600)]
    edges, at = [], 0
    for shape in ["chain", "star", "cycle", "pair", "clique"] * 8:
        size = {"pair": 2, "clique": 5}.get(shape, rng.randint(3, 25))
        ids, at = names[at : at + size], at + size
        if shape in ("chain", "cycle"):
            edges += list(zip(ids, ids[1:])) + ([(ids[-1], ids[0])] if shape == "cycle" else [])
        elif shape == "star":
            edges += [(ids[0], x) for x in ids[1:]]
        else:
            edges += [(a, b) for i, a in enumerate(ids) for b in ids[i + 1 :]]
    edges = [(b, a) if rng.random() < 0.5 else (a, b) for a, b in edges]
    rng.shuffle(edges)
    return edges


def propagate(edges: list[tuple[str, str]], partitions: int, rng: random.Random) -> tuple[dict, int]:
    """Iterate the step to a fixpoint as a flow would: each round runs per edge partition
    against the same labels, and the partial results merge by min label per id."""
    labels, rounds = LABELS.empty_table(), 0
    while True:
        rounds += 1
        shuffled = rng.sample(edges, len(edges))
        parts = [label_propagation_step(edge_table(shuffled[i::partitions]), labels) for i in range(partitions)]
        merged = pa.concat_tables([p for p, _ in parts]).group_by("doc_id").aggregate([("label", "min")])
        labels = merged.select(["doc_id", "label_min"]).rename_columns(["doc_id", "label"])
        if not sum(changed for _, changed in parts):
            return dict(zip(labels["doc_id"].to_pylist(), labels["label"].to_pylist())), rounds


@pytest.mark.parametrize("seed,partitions", [(1, 1), (2, 1), (3, 4), (4, 7)])
def test_label_propagation_fixpoint_equals_union_find_for_any_edge_order_and_partitioning(seed, partitions):
    rng = random.Random(seed)
    edges = random_graph(rng)
    labels, _ = propagate(edges, partitions, rng)
    assert labels == components(edges)


def test_one_step_reports_changes_and_a_long_chain_needs_few_rounds():
    edges = [("c", "b"), ("b", "a")]
    labels, changed = label_propagation_step(edge_table(edges), LABELS.empty_table())
    assert labels.schema == LABELS and changed == 2  # b and c move to a; a stays itself
    assert label_propagation_step(edge_table(edges), labels) == (labels, 0)

    n = 1024
    ids = [f"n{i:05d}" for i in range(n)]
    for order in (sorted(ids), random.Random(5).sample(ids, n)):
        labels, rounds = propagate(list(zip(order, order[1:])), 1, random.Random(0))
        assert set(labels.values()) == {"n00000"}
        assert rounds <= 2 * math.log2(n)  # plain min-label propagation needs about n rounds


def cluster(rows) -> pa.Table:
    return pa.table({"doc_id": [r[0] for r in rows], "quality": pa.array([r[1] for r in rows], pa.float64()),
                     "n_chars": pa.array([r[2] for r in rows], pa.int64())})


def test_choose_keeper_prefers_quality_then_length_then_smallest_id():
    assert choose_keeper(cluster([("a", 0.2, 900), ("b", 0.9, 10), ("c", None, 5000)]), "quality") == "b"
    assert choose_keeper(cluster([("a", 0.5, 900), ("b", 0.5, 1000), ("c", None, 5000)]), "quality") == "b"
    assert choose_keeper(cluster([("d", 0.5, 1000), ("b", 0.5, 1000), ("c", 0.5, 1000)]), "quality") == "b"
    assert choose_keeper(cluster([("a", None, 10), ("b", float("nan"), 1), ("c", None, 99)]), "quality") == "b"
    assert choose_keeper(cluster([("a", None, 10), ("c", None, 99)]), "quality") == "c"


def sample_documents() -> pa.Table:
    """Every text document in samples/, named `file:id` (or `file:line N` without an id)."""
    ids, texts = [], []
    for name in ("kk_news.jsonl", "ru_articles.jsonl", "en_articles.jsonl"):
        for n, line in enumerate((SAMPLES / "text" / name).read_text(encoding="utf-8").splitlines(), 1):
            record = json.loads(line)
            ids.append(f"text/{name}:{record.get('id') or f'line {n}'}")
            texts.append(record["text"])
    for record in pq.read_table(SAMPLES / "text" / "curated.parquet").to_pylist():
        ids.append(f"text/curated.parquet:{record['id']}")
        texts.append(record["text"])
    ids.append("text/mixed_kk_ru.txt:1")
    texts.append((SAMPLES / "text" / "mixed_kk_ru.txt").read_text(encoding="utf-8"))
    return pa.table({"doc_id": ids, "text": texts})


def test_planted_sample_duplicates_and_nothing_else_form_clusters():
    def name(ref):
        return f"{ref['file']}:{ref.get('id') or 'line %d' % ref['line']}"

    expected = json.loads((SAMPLES / "expected.json").read_text(encoding="utf-8"))
    planted = {frozenset((name(p["a"]), name(p["b"])))
               for p in expected["exact_duplicates"] + expected["near_duplicates"]}
    docs = sample_documents()
    edges = edges_from_buckets(band_keys(MinHashSignature()(docs), *lsh_params(0.6, 128)))
    clusters: dict[str, set[str]] = {}
    for doc_id, root in components(edges).items():
        clusters.setdefault(root, set()).add(doc_id)
    assert {frozenset(c) for c in clusters.values()} == planted
