"""Near-duplicate removal on Ray Data: MinHash -> LSH buckets -> verified pairs ->
connected components -> one keeper per cluster (issue "Curation", item 5).

Every step is a map over blocks or a shuffle; the driver only sees small counters. Each
shuffle groups rows by `shard_of(key)` (a stable hash of the band key, node, cluster or
doc_id, modulo a count sized to the data), so one call gets many whole keys and handles
them vectorized (operators/dedup/near.py); grouping by the bare key costs a Python call
per key, most of them singleton buckets. The shuffles are flows/exchange.py's plain Ray
tasks, not Ray Data's sort-based groupby: about a dozen of them run per build, and Ray
Data's per-shuffle sampling, sorting and per-execution start-up cost more CPU than the
dedup work. Memory per call is bounded by the group size and by the largest cluster,
never by the corpus.

Verification uses the MinHash estimate by default (`verify_on: minhash`): it needs the
two signatures (512 bytes each) at the ends of a candidate pair, so it costs two shuffles of
signatures. `verify_on: text` ships both texts instead and computes the exact shingle
Jaccard; it is exact but moves every kept text through two shuffles.

The result does not depend on how rows are split into blocks: buckets become star edges
from their smallest id, components are named by their smallest id, the keeper is chosen by
a total order, and nothing depends on row order.
"""
from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, fields
from functools import partial

import pyarrow as pa
import pyarrow.compute as pc
from omegaconf import DictConfig, OmegaConf

from flows.exchange import Blocks
from flows.runtime import cluster_cpus, log
from operators.dedup.components import edges_from_buckets
from operators.dedup.minhash import UNITS, MinHashSignature, band_keys, lsh_params
from operators.dedup.near import (
    SHARD, adjacency_both_ways, adjacency_from_larger_end, apply_verdict_rows, attribute_rows,
    canonical_from_star_edges, edge_rows, label_rows, large_star, members_of_clusters, minhash_similarity,
    payload_rows, pick_keepers, send_payload_to_other_end, signed_documents, small_star, text_similarity,
    verdict_rows, verify_at_this_end, with_shard,
)

REASON = "NearDedup"


class NearDedupError(RuntimeError):
    pass


@dataclass(frozen=True)
class NearDedupSettings:
    """`dedup.near` in flows/conf/dedup/default.yaml, checked."""

    enabled: bool = True
    num_perm: int = 128
    seed: int = 1
    shingle_size: int = 5
    unit: str = "char"
    threshold: float = 0.6
    bands: int | None = None
    rows: int | None = None
    verify: bool = True
    verify_on: str = "minhash"
    verify_threshold: float = 0.5
    max_rounds: int = 40
    score_column: str | None = None
    # A group is what one reduce task holds at once: rows of the small exchanges (edges,
    # bands, signatures), and bytes of documents in the final shuffle.
    group_rows: int = 100_000
    group_bytes: int = 64 * 1024**2

    @classmethod
    def from_config(cls, cfg: DictConfig | dict) -> "NearDedupSettings":
        values = OmegaConf.to_container(cfg, resolve=True) if isinstance(cfg, DictConfig) else dict(cfg)
        if "near" in values and isinstance(values["near"], dict):  # the whole `dedup` section
            values = values["near"]
        known = {f.name for f in fields(cls)}
        if unknown := sorted(set(values) - known):
            raise NearDedupError(f"dedup.near: unknown key(s) {', '.join(unknown)}")
        settings = cls(**values)
        settings.lsh()  # fails early on impossible band settings
        if settings.unit not in UNITS:
            raise NearDedupError(f"dedup.near.unit: expected one of {UNITS}, got {settings.unit!r}")
        if settings.verify_on not in ("minhash", "text"):
            raise NearDedupError(f"dedup.near.verify_on: expected minhash or text, got {settings.verify_on!r}")
        if not 0 < settings.threshold <= 1 or not 0 <= settings.verify_threshold <= 1:
            raise NearDedupError("dedup.near.threshold and verify_threshold must lie in (0, 1]")
        if settings.max_rounds < 1:
            raise NearDedupError("dedup.near.max_rounds must be at least 1")
        if settings.group_rows < 1 or settings.group_bytes < 1:
            raise NearDedupError("dedup.near.group_rows and group_bytes must be at least 1")
        return settings

    def lsh(self) -> tuple[int, int]:
        """(bands, rows): as configured, one of them derived from the other, or both from
        `threshold` like datasketch's MinHashLSH."""
        bands, rows = self.bands, self.rows
        if bands is None and rows is None:
            return lsh_params(self.threshold, self.num_perm)
        bands = bands or self.num_perm // rows
        rows = rows or self.num_perm // bands
        if bands < 1 or rows < 1 or bands * rows > self.num_perm:
            raise NearDedupError(f"dedup.near: {bands} bands x {rows} rows needs {bands * rows} hashes, "
                                 f"more than num_perm={self.num_perm}")
        return bands, rows

    def signer(self) -> MinHashSignature:
        return MinHashSignature(self.num_perm, self.seed, self.shingle_size, self.unit)


# ---------------------------------------------------------------- block functions (run on workers)

def _sign_documents(table: pa.Table, settings: dict) -> pa.Table:
    """The documents with their `minhash`; one the signer fails on is rejected here, on
    the document itself, so it leaves near-dedup as an error row whatever path it takes."""
    return NearDedupSettings(**settings).signer()(table)


def _sign(table: pa.Table, settings: dict) -> pa.Table:
    s = NearDedupSettings(**settings)
    return signed_documents(table, s.signer(), s.score_column, with_text=s.verify and s.verify_on == "text")


def _without_signature(table: pa.Table) -> pa.Table:
    return table.drop_columns(["minhash"]) if "minhash" in table.column_names else table


def _band_rows(signed: pa.Table, bands: int, rows: int, shards: int) -> pa.Table:
    return with_shard(band_keys(signed.select(["doc_id", "minhash"]), bands, rows), "band_key", shards)


def _bucket_edges(group: pa.Table) -> pa.Table:
    return canonical_from_star_edges(edges_from_buckets(group.select(["doc_id", "band_key"])))


def _edge_rows(edges: pa.Table, payload_type: pa.DataType, shards: int) -> pa.Table:
    return with_shard(edge_rows(edges, payload_type), "node", shards)


def _payload_rows(signed: pa.Table, payload: str, shards: int) -> pa.Table:
    return with_shard(payload_rows(signed, payload), "node", shards)


def _rekey(table: pa.Table, key: str, shards: int) -> pa.Table:
    table = table.drop_columns([SHARD]) if SHARD in table.column_names else table
    return with_shard(table, key, shards)


def _documents_by_id(table: pa.Table, shards: int) -> pa.Table:
    return _rekey(_without_signature(table), "doc_id", shards)


def _adjacency(edges: pa.Table, both_ways: bool, shards: int) -> pa.Table:
    adjacency = adjacency_both_ways(edges) if both_ways else adjacency_from_larger_end(edges)
    return with_shard(adjacency, "u", shards)


def _label_rows(edges: pa.Table, minhash_type: pa.DataType, shards: int) -> pa.Table:
    return with_shard(label_rows(edges, minhash_type), "doc_id", shards)


def _attribute_rows(signed: pa.Table, shards: int) -> pa.Table:
    return with_shard(attribute_rows(signed), "doc_id", shards)


def _verdict_rows(verdicts: pa.Table, shards: int) -> pa.Table:
    return with_shard(verdict_rows(verdicts), "doc_id", shards)


def _count(table: pa.Table, column: str | None = None) -> pa.Table:
    n = len(table) if column is None else (pc.sum(table[column].cast(pa.int64())).as_py() or 0)
    return pa.table({"n": [n]})


def _removed(verdicts: pa.Table) -> pa.Table:
    return pa.table({"n": [pc.sum(pc.not_equal(verdicts["doc_id"], verdicts["keeper"]).cast(pa.int64())).as_py() or 0]})


def _with_null_cluster(table: pa.Table) -> pa.Table:
    table = _without_signature(table)
    if "dedup_cluster" in table.column_names:
        table = table.drop_columns(["dedup_cluster"])
    return table.append_column("dedup_cluster", pa.nulls(len(table), pa.string()))


# ---------------------------------------------------------------- the flow

class _Plan:
    """Shard counts of one near_dedup call; its steps run on flows/exchange.py's Blocks."""

    def __init__(self, group_rows: int, group_bytes: int):
        import ray

        cpus = cluster_cpus() if ray.is_initialized() else 1
        self.min_groups = max(2, 2 * cpus)
        self.group_rows, self.group_bytes = group_rows, group_bytes

    def shards(self, rows: int) -> int:
        return max(self.min_groups, math.ceil(rows / self.group_rows))

    def byte_shards(self, n_bytes: int) -> int:
        return max(self.min_groups, math.ceil(n_bytes / self.group_bytes))


def near_dedup(docs, cfg_dedup: DictConfig, stats: dict | None = None):
    """Rejects near-duplicates in a dataset of CURATION batches (some rows already rejected).

    Returns the same rows: in every cluster of near-duplicate kept documents all but one
    keeper get `reason="NearDedup"` and `detail="near duplicate of <keeper> (cluster <id>,
    jaccard 0.87)"` (the MinHash estimate against the keeper); every row gets
    `dedup_cluster`, the cluster's smallest doc_id on its kept and removed members, null
    elsewhere. Rejected rows pass through untouched; a document the signer fails on is
    rejected with `reason="NearDedup"`, `detail="MinHashSignature failed: <type>: <message>"`.
    `docs` is a Ray dataset or flows.exchange.Blocks, and so is the result (Blocks in,
    Blocks out); `cfg_dedup` is the `dedup` section (or its `near` part); `stats`, when
    given, is filled with the counters that are also logged and seconds per step
    (`candidate_edges` counts a pair once per shuffle group that found it).
    """
    settings = NearDedupSettings.from_config(cfg_dedup)
    stats = {} if stats is None else stats
    if not settings.enabled:
        return docs
    as_dataset = not isinstance(docs, Blocks)
    plan = _Plan(settings.group_rows, settings.group_bytes)
    bands, rows = settings.lsh()
    seconds = stats.setdefault("seconds", {})
    clock = [time.perf_counter()]

    def lap(step: str) -> None:
        now = time.perf_counter()
        seconds[step] = round(now - clock[0], 2)
        clock[0] = now

    def out(blocks: Blocks):
        return blocks.dataset() if as_dataset else blocks

    # The documents are read twice (signatures now, verdicts at the end): keep them, signed.
    docs = Blocks.of(docs).map(_sign_documents, settings=asdict(settings)).done()
    sizes = docs.sizes()
    lap("upstream")  # includes signing, done on the documents themselves
    n_docs, n_bytes = sum(r for r, _ in sizes), sum(b for _, b in sizes)
    if not n_docs:
        return out(docs.map(_without_signature))
    columns = [c for c in docs.column_names() if c != "minhash"]
    if settings.score_column and settings.score_column not in columns:
        raise NearDedupError(f"dedup.near.score_column: no column {settings.score_column!r} in the documents")
    signed = docs.map(_sign, settings=asdict(settings)).done()
    stats.update(documents=n_docs, signed=signed.count(), bands=bands, rows=rows, rounds=0,
                 candidate_edges=0, edges=0, clusters=0, clustered=0, removed=0)
    lap("signatures")
    if stats["signed"] < 2:
        return out(docs.map(_with_null_cluster))

    # Candidate pairs: documents sharing a band key, as star edges from each bucket's smallest id.
    shards = plan.shards(stats["signed"] * bands)
    edges = signed.map(_band_rows, bands=bands, rows=rows, shards=shards).shuffle(_bucket_edges, shards)
    stats["candidate_edges"] = edges.count()
    lap("candidates")

    if settings.verify and stats["candidate_edges"]:
        edges = _verify(plan, signed, edges, stats["candidate_edges"] + stats["signed"], settings)
        lap("verify")
    stats["edges"] = edges.count()
    if not stats["edges"]:
        log(f"near-dedup: {stats['signed']} documents signed, no near-duplicates")
        return out(docs.map(_with_null_cluster))

    edges = _connected_components(plan, edges, stats["edges"], settings.max_rounds, stats)
    lap("components")
    verdicts = _keepers(plan, signed, edges, 2 * stats["edges"] + stats["signed"], settings)
    stats["clustered"] = verdicts.count()
    lap("keepers")
    stats["removed"] = verdicts.total(_removed)
    stats["clusters"] = stats["clustered"] - stats["removed"]
    log(f"near-dedup: {stats['signed']} documents signed, {stats['candidate_edges']} candidate edges, "
        f"{stats['edges']} pairs kept after verification, {stats['rounds']} component rounds, "
        f"{stats['clusters']} clusters of {stats['clustered']} documents, {stats['removed']} removed")

    # A group per group_bytes of documents: the one exchange that moves whole texts
    shards = plan.byte_shards(n_bytes)
    merged = docs.map(_documents_by_id, shards=shards).union(verdicts.map(_verdict_rows, shards=shards))
    return out(merged.shuffle(apply_verdict_rows, shards, columns=columns))


def _verify(plan: _Plan, signed: Blocks, edges: Blocks, rows: int, settings: NearDedupSettings) -> Blocks:
    """Keeps candidate edges whose ends are at least `verify_threshold` similar: one shuffle
    brings the smaller end's payload to the edge, a second meets the other end's."""
    if settings.verify_on == "text":
        payload, payload_type = "text", pa.string()
        similarity = partial(text_similarity, k=settings.shingle_size, unit=settings.unit)
    else:
        payload, payload_type = "minhash", pa.list_(pa.uint32(), settings.num_perm)
        similarity = minhash_similarity
    shards = plan.shards(rows)
    payloads = signed.map(_payload_rows, payload=payload, shards=shards).done()
    sent = edges.map(_edge_rows, payload_type=payload_type, shards=shards).union(payloads).shuffle(
        send_payload_to_other_end, shards)
    met = sent.map(_rekey, key="node", shards=shards).union(payloads)
    return met.shuffle(verify_at_this_end, shards, threshold=settings.verify_threshold, similarity=similarity)


def _connected_components(plan: _Plan, edges: Blocks, n_edges: int, max_rounds: int, stats: dict) -> Blocks:
    """Large-star then small-star until neither moves an edge: each component is then a
    star around its smallest id (operators/dedup/near.py)."""
    shards = plan.shards(2 * n_edges)
    for round_ in range(1, max_rounds + 1):
        large = edges.map(_adjacency, both_ways=True, shards=shards).shuffle(large_star, shards)
        small = large.map(_adjacency, both_ways=False, shards=shards).shuffle(small_star, shards)
        moved = large.total(_count, column="changed") + small.total(_count, column="changed")
        stats["rounds"], edges = round_, small
        if not moved:
            return edges
    raise NearDedupError(f"near-dedup: connected components still moving {moved} edge(s) after "
                         f"dedup.near.max_rounds={max_rounds} rounds; raise it (a round is two shuffles)")


def _keepers(plan: _Plan, signed: Blocks, edges: Blocks, rows: int, settings: NearDedupSettings) -> Blocks:
    """VERDICTS for every clustered document: labels meet the documents' attributes (a
    shuffle by doc_id), then each cluster meets itself (a shuffle by cluster)."""
    shards = plan.shards(rows)
    minhash_type = pa.list_(pa.uint32(), settings.num_perm)
    rows_ = edges.map(_label_rows, minhash_type=minhash_type, shards=shards).union(
        signed.map(_attribute_rows, shards=shards))
    members = rows_.shuffle(members_of_clusters, shards)
    return members.map(_rekey, key="cluster", shards=shards).shuffle(pick_keepers, shards)
