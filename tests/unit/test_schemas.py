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


def test_shard_schema_holds_token_lists():
    table = pa.Table.from_pylist([{"doc_id": "a", "source": "text", "lang": "kk", "input_ids": [1, 2, 3], "n_tokens": 3}])
    assert validate(table, SHARD).schema.field("input_ids").type == pa.list_(pa.int32())


def test_manifest_round_trips_and_totals():
    entry = ShardEntry(path="shard-a.parquet", sha256="0" * 64, n_docs=2, n_tokens=10, n_bytes=100,
                       first_doc_id="a", last_doc_id="b")
    manifest = ShardManifest(tokenizer={"path": "tokenizer.json"}, shards=[entry], mixture={"by_lang": {"kk": 1.0}},
                             created="2026-01-01T00:00:00+00:00", qazflow_version="0.1.0", config_hash="abc")
    again = ShardManifest.from_json(manifest.to_json())
    assert again == manifest
    assert again.totals == {"n_shards": 1, "n_docs": 2, "n_tokens": 10, "n_bytes": 100}
    with pytest.raises(ValueError, match="version"):
        ShardManifest.from_json(manifest.to_json().replace('"version": 1', '"version": 99'))
