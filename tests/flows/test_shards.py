"""The shards stage on its own (documents → tokenizer → shards → manifest) on the
session's Ray, then the reader and the CLI over what it wrote."""
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from tokenizers import Tokenizer

from flows.build import storage_for
from flows.cli import main
from flows.config import load_config
from flows.shards import build_shards
from flows.stages import StageLog
from flows.verify import verify_shards
from operators.tokens.reader import PackedReader
from schemas import DOCUMENT, ShardManifest
from tests.unit._shards import documents


def write_documents(out, files: int):
    docs = documents(300, seed=11)
    n = docs.num_rows
    docs = docs.append_column("n_chars", pa.array([len(t) for t in docs.column("text").to_pylist()], pa.int64()))
    full = pa.table({f.name: docs.column(f.name) if f.name in docs.column_names else
                     (pa.array(["x"] * n) if not f.nullable else pa.nulls(n, f.type)) for f in DOCUMENT},
                    schema=DOCUMENT)
    (out / "documents").mkdir(parents=True)
    step = -(-n // files)
    for i in range(files):  # another file (Ray block) count: the shards must not change
        pq.write_table(full.slice(i * step, step), out / "documents" / f"part-{i}.parquet")
    return full


def run_shards(out, *extra):
    cfg = load_config([f"output={out}", "tokenizer.vocab_size=600", "shards.max_doc_tokens=40",
                       "shards.row_group_bytes=3000", "shards.target_bytes=9000", "shards.batch_size=32", *extra])
    return cfg, build_shards(cfg, storage_for(cfg), StageLog(storage_for(cfg), str(out), True), "docs-v1")


@pytest.fixture(scope="module")
def built(ray_session, tmp_path_factory):
    out = tmp_path_factory.mktemp("shards") / "a"
    docs = write_documents(out, files=1)
    cfg, info = run_shards(out)
    return out, cfg, info, docs


def test_shards_are_identical_for_any_block_count_and_decode_back(built, tmp_path):
    out, _, info, docs = built
    other = tmp_path / "b"
    write_documents(other, files=7)
    run_shards(other)
    a = ShardManifest.from_json((out / "shards/manifest.json").read_text())
    b = ShardManifest.from_json((other / "shards/manifest.json").read_text())
    assert [(s.path, s.sha256) for s in a.shards] == [(s.path, s.sha256) for s in b.shards]
    assert a.totals["n_docs"] == docs.num_rows and a.totals["n_shards"] >= 4
    tokenizer = Tokenizer.from_file(str(out / "shards/tokenizer.json"))
    parts = {}
    for s in a.shards:
        for row in pq.read_table(out / "shards" / s.path).to_pylist():
            parts.setdefault(row["doc_id"], []).append((row["chunk"], row["input_ids"]))
    assert any(len(p) > 1 for p in parts.values())  # max_doc_tokens=40 split some documents
    decoded = {d: tokenizer.decode([t for _, ids in sorted(p) for t in ids]) for d, p in parts.items()}
    assert decoded == dict(zip(docs.column("doc_id").to_pylist(), docs.column("text").to_pylist()))
    assert all(len({*pq.read_table(out / "shards" / s.path).column("lang").to_pylist()}) == 1 for s in a.shards)
    assert {s.partition_key for s in a.shards} == set(a.partitions) and "text/kk" in a.partitions
    assert info["fertility"]["kk"]["tokens_per_word"] > 1
    assert set(info["tokenizer_sample"]["by_lang"]) == {"kk", "ru", "en"}
    assert info["tokenizer_sample"]["by_lang"]["kk"] > 0.4  # weighted, not the natural share


def test_reader_streams_the_flow_output_and_verify_passes(built):
    out, cfg, _, _ = built
    assert verify_shards(storage_for(cfg), str(out / "shards")) == []
    r = PackedReader(str(out / "shards"), seq_len=63)
    seen = [tuple(s["input_ids"]) for s in r]
    manifest = r.manifest
    assert len(seen) == (manifest.totals["n_tokens"] + manifest.totals["n_docs"]) // 64 == r.n_samples


def test_mixture_command_writes_a_file_the_reader_follows(built, capsys):
    out, _, _, _ = built
    assert main(["shards", "mixture", str(out), "text/kk=1:3", "book/kk=1:3", "news/ru=1", "news/en=1"]) == 0
    printed = capsys.readouterr().out
    assert "text/kk" in printed and "wrote" in printed
    mixture = json.loads((out / "shards/mixture.json").read_text())
    assert mixture["max_epochs"] == {"text/kk": 3.0, "book/kk": 3.0}
    r = PackedReader(str(out / "shards"), seq_len=63, mixture=str(out / "shards/mixture.json"))
    kk = sum(u.tokens for u in r.units if u.partition.endswith("/kk"))
    assert kk / sum(u.tokens for u in r.units) == pytest.approx(0.5, abs=0.1)
    assert main(["shards", "mixture", str(out), "news/kk=1"]) == 2  # no such partition


def test_loaded_tokenizer_is_used_as_is(built, tmp_path):
    out, _, _, _ = built
    other = tmp_path / "c"
    write_documents(other, files=2)
    _, info = run_shards(other, "tokenizer=load", f"tokenizer.path={out}/shards/tokenizer.json")
    a = json.loads((out / "shards/manifest.json").read_text())
    b = json.loads((other / "shards/manifest.json").read_text())
    assert b["tokenizer"]["sha256"] == a["tokenizer"]["sha256"] and b["tokenizer"]["trained"] is False
    assert [s["sha256"] for s in b["shards"]] == [s["sha256"] for s in a["shards"]]
    assert info["tokenizer_sample"] == {}


def test_ray_dataset_gives_each_rank_what_the_reader_gives_it(built):
    from flows.shards import ray_dataset

    out, _, _, _ = built
    seen = []
    for rank in range(2):
        r = PackedReader(str(out / "shards"), seq_len=63, rank=rank, world_size=2, block_samples=4)
        rows = ray_dataset(r, chunk=5).take_all()
        assert [tuple(x["input_ids"]) for x in rows] == [tuple(s["input_ids"]) for s in r]
        seen += [tuple(x["input_ids"]) for x in rows]
    whole = PackedReader(str(out / "shards"), seq_len=63)
    assert sorted(seen) == sorted(tuple(s["input_ids"]) for s in whole)
