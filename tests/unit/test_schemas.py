import pyarrow as pa
import pytest

from schemas import DOCUMENT, REJECTED, SHARD, SchemaError, ShardEntry, ShardManifest, validate


def doc(**over):
    row = {"doc_id": "a1", "source": "text", "source_id": "1", "uri": "x.jsonl", "text": "Сәлем, әлем!", "n_chars": 12}
    row.update(over)
    return row


def test_validate_orders_casts_and_fills_nullable_columns():
    table = pa.Table.from_pylist([{"signal_x": 1.5, **doc(n_chars=12)}])
    out = validate(table, DOCUMENT)
    assert out.schema.names[: len(DOCUMENT)] == DOCUMENT.names
    assert out.schema.field("n_chars").type == pa.int64()
    assert out.column("lang").to_pylist() == [None]
    assert out.column_names[-1] == "signal_x"  # signals kept after the contract


def test_validate_names_the_bad_column():
    with pytest.raises(SchemaError, match="'text' is missing"):
        validate(pa.Table.from_pylist([{k: v for k, v in doc().items() if k != "text"}]), DOCUMENT)
    with pytest.raises(SchemaError, match="'doc_id'.*null"):
        validate(pa.Table.from_pylist([doc(doc_id=None)]), DOCUMENT)
    with pytest.raises(SchemaError, match="'n_chars'"):
        validate(pa.Table.from_pylist([doc(n_chars="many")]), DOCUMENT)
    with pytest.raises(SchemaError, match="unexpected column"):
        validate(pa.Table.from_pylist([{"extra": 1, **doc()}]), DOCUMENT, allow_extra=False)


def test_rejected_requires_a_reason():
    with pytest.raises(SchemaError, match="'reason'"):
        validate(pa.Table.from_pylist([doc()]), REJECTED)
    ok = validate(pa.Table.from_pylist([doc(reason="LengthFilter", detail="n_chars=12 < 200")]), REJECTED)
    assert ok.column("reason").to_pylist() == ["LengthFilter"]


def test_shard_schema_holds_uint32_token_lists_and_requires_a_language():
    row = {"doc_id": "a", "source": "text", "lang": "kk", "input_ids": [1, 2, 70_000], "n_tokens": 3, "chunk": 0}
    assert validate(pa.Table.from_pylist([row]), SHARD).schema.field("input_ids").type == pa.list_(pa.uint32())
    with pytest.raises(Exception):
        validate(pa.Table.from_pylist([{**row, "lang": None}]), SHARD)


def test_manifest_round_trips_and_totals():
    def entry(path, source, lang, tokens):
        return ShardEntry(path=path, sha256="0" * 64, n_bytes=100, n_docs=2, n_rows=3, n_tokens=tokens,
                          partition={"source": source, "lang": lang}, row_group_tokens=[tokens],
                          row_group_rows=[3], row_group_docs=[2])

    manifest = ShardManifest(tokenizer={"path": "tokenizer.json", "eos_id": 0},
                             shards=[entry("a.parquet", "text", "kk", 10), entry("b.parquet", "news", "ru", 5),
                                     entry("c.parquet", "text", "kk", 1)],
                             created="2026-01-01T00:00:00+00:00", qazflow_version="0.1.0", config_hash="abc",
                             by_source={"text": 11, "news": 5}, by_lang={"kk": 11, "ru": 5})
    again = ShardManifest.from_json(manifest.to_json())
    assert again == manifest
    assert again.totals["n_tokens"] == 16 and again.totals["n_rows"] == 9 and again.totals["n_docs"] == 6
    assert again.partitions == {"news/ru": 5, "text/kk": 11}
    assert again.entry("b.parquet").partition_key == "news/ru"
    with pytest.raises(ValueError, match="version"):
        ShardManifest.from_json(manifest.to_json().replace('"version": 2', '"version": 99'))
