"""Connected components of the candidate-pair graph, in pieces a distributed flow can run.

Documents that share an LSH band key are candidate duplicates; a cluster is a connected
component of those pairs. Every id of a component ends up labelled with the component's
smallest id, so the result does not depend on the order or partitioning of edges.

Tables: buckets `(doc_id, band_key)`, edges `(src, dst)`, labels `(doc_id, label)`.
"""
from __future__ import annotations

from collections.abc import Iterable

import pyarrow as pa
import pyarrow.compute as pc

EDGES = pa.schema([("src", pa.string()), ("dst", pa.string())])
LABELS = pa.schema([("doc_id", pa.string()), ("label", pa.string())])


def edges_from_buckets(buckets: pa.Table) -> pa.Table:
    """Star edges (smallest id in the bucket -> every other id), deduplicated.

    A star connects a bucket as well as all pairs do, with n-1 edges instead of n²/2, so
    a band key shared by thousands of boilerplate pages stays cheap. `buckets` may hold any
    number of whole buckets (one group or one shuffle partition).
    """
    heads = buckets.group_by("band_key").aggregate([("doc_id", "min")])
    heads = heads.select(["band_key", "doc_id_min"]).rename_columns(["band_key", "src"])
    pairs = buckets.join(heads, "band_key").select(["src", "doc_id"]).rename_columns(["src", "dst"])
    pairs = pairs.filter(pc.not_equal(pairs["src"], pairs["dst"]))
    # The same pair usually shares several bands; ship it through the shuffle once.
    unique = pairs.group_by(["src", "dst"]).aggregate([]).select(["src", "dst"])
    return unique.sort_by([("src", "ascending"), ("dst", "ascending")]).cast(EDGES)


class UnionFind:
    """Disjoint sets over string ids: path compression plus union by rank."""

    def __init__(self) -> None:
        self.parent: dict[str, str] = {}
        self.rank: dict[str, int] = {}

    def find(self, x: str) -> str:
        parent = self.parent
        root = parent.setdefault(x, x)
        while parent[root] != root:
            root = parent[root]
        while parent[x] != root:  # point the whole path at the root
            parent[x], x = root, parent[x]
        return root

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return
        rank_a, rank_b = self.rank.get(ra, 0), self.rank.get(rb, 0)
        if rank_a < rank_b:
            ra, rb = rb, ra
        self.parent[rb] = ra
        if rank_a == rank_b:
            self.rank[ra] = rank_a + 1


def components(edges: pa.Table | Iterable[tuple[str, str]]) -> dict[str, str]:
    """Every id in `edges` -> the smallest id of its connected component."""
    if isinstance(edges, pa.Table):
        edges = zip(edges["src"].to_pylist(), edges["dst"].to_pylist())
    sets = UnionFind()
    for a, b in edges:
        sets.union(a, b)
    smallest: dict[str, str] = {}
    for x in sorted(sets.parent):
        smallest.setdefault(sets.find(x), x)
    # The rank-chosen root is arbitrary; naming a component by its minimum is what makes
    # the answer independent of edge order, and equal to `label_propagation_step`'s fixpoint.
    return {x: smallest[sets.find(x)] for x in sets.parent}


def _lookup(keys: pa.Table, key: str, labels: pa.Table, out: str) -> pa.Table:
    """Left-join each row's `key` to its label, an id without a label being its own label."""
    found = keys.join(labels.rename_columns([key, out]), key, join_type="left outer")
    return found.set_column(found.column_names.index(out), out, pc.coalesce(found[out], found[key]))


def _min_label(candidates: pa.Table) -> pa.Table:
    smallest = candidates.group_by("doc_id").aggregate([("label", "min")])
    return smallest.select(["doc_id", "label_min"]).rename_columns(["doc_id", "label"])


def label_propagation_step(edges: pa.Table, labels: pa.Table) -> tuple[pa.Table, int]:
    """One round of min-label propagation: `(new labels, how many labels changed)`.

    `labels` has one row per id; ids missing from it start as their own label, so the first
    round may begin from an empty table. Across every edge (both ways) an id takes its
    neighbour's label if smaller, and so does the id its own label names ("hooking"); then
    every id takes its label's label ("pointer jumping"). Each move keeps labels inside
    their component, and together they settle a chain of n near-duplicate revisions in
    about log2(n) rounds (12 for 4,096 shuffled ids), each a distributed shuffle, where
    plain propagation needs n. Iterate until the count is 0: the fixpoint labels every id
    with its component's smallest id, whatever the order or split of `edges` (a round may
    run per edge partition against the same labels, merging results by min per id).
    """
    labels = labels.select(["doc_id", "label"]).cast(LABELS)
    edges = edges.select(["src", "dst"]).cast(EDGES)
    ends = pa.concat_tables([edges, edges.rename_columns(["dst", "src"]).select(["src", "dst"])])
    ends = _lookup(_lookup(ends, "src", labels, "src_label"), "dst", labels, "dst_label")
    candidates = [
        labels,
        pa.table({"doc_id": ends["src"], "label": ends["src_label"]}),
        pa.table({"doc_id": ends["src"], "label": ends["dst_label"]}),
        pa.table({"doc_id": ends["src_label"], "label": ends["dst_label"]}),
    ]
    stepped = _min_label(pa.concat_tables(candidates))
    jumped = _lookup(stepped.rename_columns(["doc_id", "via"]), "via", stepped, "label")
    new = _min_label(pa.concat_tables([stepped, jumped.select(["doc_id", "label"])])).sort_by("doc_id")
    old = _lookup(new.select(["doc_id"]), "doc_id", labels, "old").sort_by("doc_id")
    changed = pc.sum(pc.not_equal(new["label"], old["old"])).as_py() or 0
    return new, changed


def choose_keeper(cluster: pa.Table, score_column: str) -> str:
    """The `doc_id` a cluster keeps: highest `score_column` (nulls last), then the longest
    text (`n_chars`), then the smallest `doc_id`, so reruns keep the same document."""
    keys = [(score_column, "descending"), ("n_chars", "descending"), ("doc_id", "ascending")]
    order = pc.sort_indices(cluster, sort_keys=keys)  # Arrow sorts NaN after every number and nulls last
    return cluster["doc_id"][order[0].as_py()].as_py()
