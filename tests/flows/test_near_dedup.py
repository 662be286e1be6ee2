"""Near-duplicate removal (flows/near_dedup.py) on the session's shared local Ray.

The corpus: every sample document (samples/text), the near-duplicate pairs samples/expected.json
plants, two generated copies of each sample at 2/5/10/20% of words edited (replaced words or
OCR letter confusions), a chain of seven revisions whose ends share little, and rejected
rows (planted rejections and the exact duplicates exact dedup already removed). The
connected-components and keeper steps are also checked without Ray against union-find and
`choose_keeper`.
"""
from __future__ import annotations

import itertools
import json
import random
import re
from collections import defaultdict
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from omegaconf import OmegaConf

from flows.near_dedup import NearDedupError, NearDedupSettings, near_dedup
from operators.dedup.components import choose_keeper, components
from operators.dedup.minhash import true_jaccard
from operators.dedup.near import (
    CANONICAL, SHARD, adjacency_both_ways, adjacency_from_larger_end, labels_from_stars, large_star,
    mark_near_duplicates, pick_keepers, small_star, with_shard,
)
from schemas import CURATION, validate
from tests.unit.test_dedup_components import random_graph

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
RATES = (0.02, 0.05, 0.10, 0.20)
REJECTED = {"kk-0010": "LengthFilter", "kk-0011": "LanguageFilter", "en-0011": "LanguageFilter",
            "en-0010": "C4Lines"}
OCR = {"қ": "к", "ә": "а", "і": "i", "ң": "н", "ө": "о", "ұ": "у", "ү": "у", "ғ": "г", "о": "0", "е": "c",
       "и": "н", "л": "п", "e": "c", "l": "1", "a": "o", "o": "0"}


# ---------------------------------------------------------------- the corpus

def sample_documents() -> dict[str, str]:
    """doc_id -> text of every sample record; a record without `id` is `file:line`."""
    docs = {}
    for path in sorted((SAMPLES / "text").glob("*.jsonl")):
        for line_no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            record = json.loads(line)
            docs[record.get("id") or f"{path.name}:{line_no}"] = record["text"]
    curated = pq.read_table(SAMPLES / "text" / "curated.parquet")
    docs.update(zip(curated["id"].to_pylist(), curated["text"].to_pylist()))
    docs["mixed_kk_ru.txt"] = (SAMPLES / "text" / "mixed_kk_ru.txt").read_text(encoding="utf-8")
    return docs


def ref_id(ref: dict) -> str:
    return ref.get("id") or f"{Path(ref['file']).name}:{ref['line']}"


def edited(text: str, rate: float, kind: str, vocabulary: list[str], rng: random.Random) -> str:
    """`rate` of the words replaced (kind "words") or given one OCR letter confusion ("ocr")."""
    words = text.split(" ")
    for i in rng.sample(range(len(words)), max(1, round(len(words) * rate))):
        if kind == "words":
            words[i] = rng.choice(vocabulary)
        else:
            spots = [j for j, ch in enumerate(words[i]) if ch.lower() in OCR]
            if spots:
                j = rng.choice(spots)
                words[i] = words[i][:j] + OCR[words[i][j].lower()] + words[i][j + 1:]
    return " ".join(words)


def chain(texts: list[str], rng: random.Random, n: int = 7, size: int = 300, step: int = 24) -> list[str]:
    """Seven revisions of one text, each a window `step` words on from the last: neighbours
    share ~85% of their shingles, the two ends ~35%. Sentences come shuffled from many
    documents, so no window resembles any one sample document."""
    sentences = sorted({s for t in texts for s in re.split(r"(?<=[.!?])\s+", t) if len(s) > 20})
    rng.shuffle(sentences)
    words = " ".join(sentences).split()
    return [" ".join(words[i * step: i * step + size]) for i in range(n)]


def build_corpus():
    """(CURATION table, doc_id -> origin, copies: doc_id -> (source, rate, kind))."""
    rng = random.Random(7)
    expected = json.loads((SAMPLES / "expected.json").read_text(encoding="utf-8"))
    texts = sample_documents()
    origin = {doc_id: doc_id for doc_id in texts}
    reasons = dict(REJECTED)
    for pair in expected["exact_duplicates"]:  # exact dedup ran before: the second copy is rejected
        a, b = ref_id(pair["a"]), ref_id(pair["b"])
        reasons[b], origin[b] = "ExactDedup", a
    for pair in expected["near_duplicates"]:
        origin[ref_id(pair["b"])] = ref_id(pair["a"])
    rows = [{"doc_id": d, "text": t, "reason": reasons.get(d),
             "detail": f"planted: {reasons[d]}" if d in reasons else None} for d, t in texts.items()]

    sources = sorted(d for d in texts if d not in reasons)
    vocabulary = defaultdict(list)
    for d in sources:
        vocabulary[d[:2]].extend(texts[d].split())
    copies = {}
    for i, source in enumerate(sources):
        for copy, rate in enumerate((RATES[i % 4], RATES[(i + 2) % 4])):
            kind = ("words", "ocr")[(i + copy) % 2]
            doc_id = f"{source}~{kind}{round(rate * 100):02d}"
            text = edited(texts[source], rate, kind, vocabulary[source[:2]] or texts[source].split(), rng)
            rows.append({"doc_id": doc_id, "text": text, "reason": None, "detail": None})
            origin[doc_id], copies[doc_id] = origin[source], (source, rate, kind)
    for n, text in enumerate(chain([texts[d] for d in sources if d.startswith(("en", "ru"))], rng)):
        rows.append({"doc_id": f"chain-{n}", "text": text, "reason": None, "detail": None})
        origin[f"chain-{n}"] = "chain"

    # quality: the keeper's score. Every third copy outranks its source; kk-0007 outranks kk-0004.
    quality = {d: (0.9 if n % 3 == 0 else None) for n, d in enumerate(sorted(copies))}
    quality.update({s: 0.5 for s in sources}, **{"kk-0004": 0.1, "kk-0007": 0.95})
    for row in rows:
        row.update(source="text", source_id=row["doc_id"], uri="samples", title=None, n_chars=len(row["text"]),
                   lang=row["doc_id"][:2], quality=quality.get(row["doc_id"]))
    table = validate(pa.Table.from_pylist(rows), CURATION)
    return table, origin, copies


NEAR = {"enabled": True, "score_column": "quality"}


def run(ray_session, table: pa.Table, blocks: int, stats: dict | None = None, **near) -> pa.Table:
    cfg = OmegaConf.create({"exact": True, "near": {**NEAR, **near}})
    docs = ray_session.data.from_arrow(table).repartition(blocks)
    out = near_dedup(docs, cfg, stats).materialize()
    tables = ray_session.get(out.to_arrow_refs())
    return pa.concat_tables(tables, promote_options="permissive").sort_by("doc_id")


@pytest.fixture(scope="module")
def corpus():
    return build_corpus()


@pytest.fixture(scope="module")
def result(ray_session, corpus):
    stats = {}
    return run(ray_session, corpus[0], 7, stats), stats


def clusters_of(out: pa.Table) -> dict[str, list[str]]:
    found = defaultdict(list)
    for doc_id, cluster in zip(out["doc_id"].to_pylist(), out["dedup_cluster"].to_pylist()):
        if cluster is not None:
            found[cluster].append(doc_id)
    return dict(found)


# ---------------------------------------------------------------- on Ray

def test_rows_are_kept_and_rejected_rows_pass_untouched(corpus, result):
    table, _, _ = corpus
    out, stats = result
    assert out.num_rows == table.num_rows == stats["documents"]
    assert sorted(out["doc_id"].to_pylist()) == sorted(table["doc_id"].to_pylist())
    assert out.column_names == table.column_names + ["dedup_cluster"]
    before = {r["doc_id"]: r for r in table.to_pylist()}
    for row in out.to_pylist():
        cluster = row.pop("dedup_cluster")
        if before[row["doc_id"]]["reason"] is not None:
            assert row == before[row["doc_id"]] and cluster is None, row["doc_id"]
        elif row["reason"] is None:  # kept: nothing changed but the cluster
            assert row == before[row["doc_id"]]
    # exact copies of kept documents that exact dedup rejected are nobody's near duplicate
    assert out.filter(pc.equal(out["reason"], "ExactDedup"))["dedup_cluster"].null_count == 3


def test_clusters_name_their_smallest_member_and_keep_one(corpus, result):
    table, _, _ = corpus
    out, stats = result
    rows = {r["doc_id"]: r for r in out.to_pylist()}
    found = clusters_of(out)
    assert len(found) == stats["clusters"] and sum(map(len, found.values())) == stats["clustered"]
    removed = 0
    for cluster, members in found.items():
        assert cluster == min(members) and len(members) >= 2
        kept = [m for m in members if rows[m]["reason"] is None]
        assert len(kept) == 1, (cluster, members)
        keeper = kept[0]
        assert keeper == choose_keeper(table.filter(pc.is_in(table["doc_id"], pa.array(members))), "quality")
        for m in members:
            if m != keeper:
                removed += 1
                assert rows[m]["reason"] == "NearDedup"
                assert re.fullmatch(rf"near duplicate of {re.escape(keeper)} \(cluster {re.escape(cluster)}, "
                                    r"jaccard (0\.\d\d|1\.00)\)", rows[m]["detail"]), rows[m]["detail"]
    assert removed == stats["removed"] > 0
    assert out.filter(pc.equal(out["reason"], "NearDedup")).num_rows == removed


def test_planted_pairs_are_found_with_the_keeper_by_score(result):
    out, _ = result
    rows = {r["doc_id"]: r for r in out.to_pylist()}
    expected = json.loads((SAMPLES / "expected.json").read_text(encoding="utf-8"))
    for pair in expected["near_duplicates"]:
        a, b = ref_id(pair["a"]), ref_id(pair["b"])
        assert rows[a]["dedup_cluster"] == rows[b]["dedup_cluster"] == min(a, b)
    # kk-0007 scores higher: it is kept although the cluster is named after kk-0004
    assert rows["kk-0007"]["reason"] is None and rows["kk-0004"]["reason"] == "NearDedup"
    assert rows["kk-0004"]["detail"].startswith("near duplicate of kk-0007 (cluster kk-0004")


def test_precision_and_recall_against_planted_duplicates(corpus, result):
    table, origin, copies = corpus
    out, _ = result
    rows = {r["doc_id"]: r for r in out.to_pylist()}
    found = clusters_of(out)
    pairs = [(a, b) for members in found.values() for a, b in itertools.combinations(members, 2)]
    true_pairs = [p for p in pairs if origin[p[0]] == origin[p[1]]]
    assert len(true_pairs) == len(pairs), [p for p in pairs if origin[p[0]] != origin[p[1]]]  # precision 1.0
    recall = {}
    for rate in RATES:
        at_rate = [d for d, (_, r, _) in copies.items() if r == rate]
        hits = [d for d in at_rate if rows[d]["dedup_cluster"] is not None
                and rows[d]["dedup_cluster"] == rows[copies[d][0]]["dedup_cluster"]]
        recall[rate] = len(hits) / len(at_rate)
    assert recall[0.02] == recall[0.05] == 1.0, recall
    assert recall[0.10] >= 0.75, recall  # char-5 Jaccard 0.72-0.94; 18x7 bands catch J=0.72 85% of the time
    assert recall[0.20] >= 0.5, recall  # char-5 Jaccard ~0.6: the S-curve's knee


def test_a_chain_of_revisions_is_one_cluster(corpus, result):
    table, _, _ = corpus
    out, stats = result
    texts = dict(zip(table["doc_id"].to_pylist(), table["text"].to_pylist()))
    assert true_jaccard(texts["chain-0"], texts["chain-6"]) < 0.4  # the ends are not near duplicates
    assert true_jaccard(texts["chain-0"], texts["chain-1"]) > 0.8
    rows = {r["doc_id"]: r for r in out.to_pylist()}
    assert {rows[f"chain-{n}"]["dedup_cluster"] for n in range(7)} == {"chain-0"}
    assert 1 <= stats["rounds"] <= 6


def test_the_result_does_not_depend_on_the_blocks(ray_session, corpus, result):
    one = run(ray_session, corpus[0], 1)  # one input block: one signing task, one split per shuffle
    seven, _ = result
    columns = ["doc_id", "reason", "detail", "dedup_cluster"]
    assert one.select(columns).to_pylist() == seven.select(columns).to_pylist()


def test_the_result_does_not_depend_on_the_group_caps(ray_session, corpus, result):
    # Caps far below the corpus: every exchange splits into many more groups than CPUs.
    capped = run(ray_session, corpus[0], 7, group_rows=500, group_bytes=20_000)
    columns = ["doc_id", "reason", "detail", "dedup_cluster"]
    assert capped.select(columns).to_pylist() == result[0].select(columns).to_pylist()


def test_exact_text_verification_agrees_on_the_planted_pairs(ray_session, corpus, result):
    table, _, copies = corpus
    stats = {}
    exact = run(ray_session, table, 3, stats, verify_on="text")
    rows, by_minhash = {r["doc_id"]: r for r in exact.to_pylist()}, {r["doc_id"]: r for r in result[0].to_pylist()}
    for doc_id, (source, rate, _) in copies.items():
        if rate <= 0.05:
            assert rows[doc_id]["dedup_cluster"] == rows[source]["dedup_cluster"] is not None
    assert stats["edges"] <= stats["candidate_edges"]
    assert {d for d, r in rows.items() if r["dedup_cluster"]} >= {d for d, r in by_minhash.items()
                                                                   if r["dedup_cluster"] and d in copies
                                                                   and copies[d][1] <= 0.05}


def test_too_few_rounds_fail_with_a_clear_error(ray_session, corpus):
    table, _, _ = corpus
    chain_only = table.filter(pc.starts_with(table["doc_id"], "chain-"))
    with pytest.raises(NearDedupError, match="max_rounds=1"):
        run(ray_session, chain_only, 2, max_rounds=1, verify=False)


def test_no_candidates_and_disabled(ray_session, corpus):
    table, _, _ = corpus
    singles = table.filter(pc.is_in(table["doc_id"], pa.array(["kk-0001", "ru-0001", "en-0001", "kk-0010"])))
    out = run(ray_session, singles, 2)
    assert out.num_rows == 4 and out["dedup_cluster"].null_count == 4
    assert out.drop_columns(["dedup_cluster"]).to_pylist() == singles.sort_by("doc_id").to_pylist()
    docs = ray_session.data.from_arrow(singles)
    assert near_dedup(docs, OmegaConf.create({"exact": True, "near": {"enabled": False}})) is docs


# ---------------------------------------------------------------- the pieces, without Ray

def exchange(table: pa.Table, key: str, shards: int, step) -> pa.Table:
    """What a shuffle by `shard_of(key)` followed by map_groups does, in one process."""
    keyed = with_shard(table, key, shards)
    return pa.concat_tables([step(keyed.filter(pc.equal(keyed[SHARD], s))) for s in range(shards)])


def star_components(pairs, shards: int) -> tuple[dict[str, str], int]:
    edges = pa.table({"a": [min(p) for p in pairs], "b": [max(p) for p in pairs],
                      "changed": [False] * len(pairs)}, schema=CANONICAL)
    for rounds in itertools.count(1):
        large = exchange(adjacency_both_ways(edges), "u", shards, large_star)
        edges = exchange(adjacency_from_larger_end(large), "u", shards, small_star)
        if not pc.any(large["changed"]).as_py() and not pc.any(edges["changed"]).as_py():
            labels = labels_from_stars(edges)
            return dict(zip(labels["doc_id"].to_pylist(), labels["label"].to_pylist())), rounds


def test_large_and_small_star_find_the_components_of_any_graph_and_split():
    rng = random.Random(3)
    for trial in range(12):
        pairs = random_graph(rng)
        pairs += [(b, a) for a, b in rng.sample(pairs, 10)] + [(pairs[0][0], pairs[0][0])]  # repeats, a loop
        rng.shuffle(pairs)
        assert star_components(pairs, rng.choice([1, 2, 5]))[0] == components(pairs)


def test_rounds_grow_with_the_log_of_a_chain():
    rounds = {}
    for n in (16, 256, 4096):
        ids = [f"x{i:06d}" for i in random.Random(n).sample(range(10**6), n)]
        labels, rounds[n] = star_components(list(zip(ids, ids[1:])), 4)
        assert set(labels.values()) == {min(ids)} and len(labels) == n
    assert rounds[16] < rounds[256] < rounds[4096] <= 12, rounds


def test_keepers_follow_choose_keeper_and_jaccard_is_against_the_keeper():
    nan = float("nan")
    rows = [("a", "c1", 0.5, 10), ("b", "c1", 0.9, 5), ("c", "c1", None, 99),
            ("d", "c2", None, 10), ("e", "c2", None, 12), ("f", "c2", None, 12),
            ("g", "c3", nan, 50), ("h", "c3", 0.1, 1)]
    signature = pa.list_(pa.uint32(), 4)
    members = pa.table({"doc_id": [r[0] for r in rows], "cluster": [r[1] for r in rows],
                        "score": pa.array([r[2] for r in rows], pa.float64()), "n_chars": [r[3] for r in rows],
                        "minhash": pa.array([[1, 2, 3, 4]] * 7 + [[1, 2, 0, 0]], signature)})
    verdicts = {r["doc_id"]: r for r in pick_keepers(members.take([7, 3, 0, 5, 1, 6, 2, 4])).to_pylist()}
    for cluster in ("c1", "c2", "c3"):
        group = members.filter(pc.equal(members["cluster"], cluster))
        expected = choose_keeper(group, "score")
        assert {verdicts[d]["keeper"] for d in group["doc_id"].to_pylist()} == {expected}
    assert [verdicts[d]["keeper"] for d in "adg"] == ["b", "e", "h"]
    assert verdicts["g"]["jaccard"] == 0.5 and verdicts["a"]["jaccard"] == 1.0


def test_marking_touches_only_kept_members():
    docs = pa.table({"doc_id": ["a", "b", "c", "d"], "reason": [None, None, "LengthFilter", None],
                     "detail": [None, None, "too short", None], "text": ["x", "y", "z", "w"]})
    verdicts = pa.table({"doc_id": ["a", "b", "c"], "cluster": ["a", "a", "a"], "keeper": ["b", "b", "b"],
                         "jaccard": pa.array([0.8, 1.0, 0.7], pa.float32())})
    out = mark_near_duplicates(docs, verdicts).to_pylist()
    assert out[0] == {"doc_id": "a", "reason": "NearDedup", "detail": "near duplicate of b (cluster a, jaccard 0.80)",
                      "text": "x", "dedup_cluster": "a"}
    assert out[1]["reason"] is None and out[1]["dedup_cluster"] == "a"
    assert out[2] == {**docs.to_pylist()[2], "dedup_cluster": None}
    assert out[3] == {**docs.to_pylist()[3], "dedup_cluster": None}


def test_settings_derive_lsh_and_reject_nonsense():
    assert NearDedupSettings.from_config(OmegaConf.load(Path(__file__).parents[2] / "flows/conf/dedup/default.yaml")
                                         ).lsh() == (18, 7)
    assert NearDedupSettings.from_config({"bands": 16}).lsh() == (16, 8)
    assert NearDedupSettings.from_config({"rows": 4, "num_perm": 64}).lsh() == (16, 4)
    for bad in ({"bands": 20, "rows": 7}, {"unit": "byte"}, {"verify_on": "eyes"}, {"max_rounds": 0},
                {"threshold": 0}, {"typo": 1}, {"shuffle": "fast"}, {"group_bytes": 0}):
        with pytest.raises(NearDedupError):
            NearDedupSettings.from_config(bad)
