"""Token shards: tokenizer (trained or loaded), shards with checksums, manifest last."""
from __future__ import annotations

import hashlib
import io
import json
from collections import Counter
from datetime import datetime, timezone

import pyarrow as pa
import pyarrow.parquet as pq
from omegaconf import DictConfig, OmegaConf

from flows.runtime import actor_pool, log
from flows.stages import stage_key
from flows.storage import Storage, join
from operators.tokens.bpe import EOS, Tokenize, train_bpe
from schemas import DOCUMENT, SHARD, ShardEntry, ShardManifest, validate

MANIFEST = "manifest.json"
TOKENIZER = "tokenizer.json"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def qazflow_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("qazflow")
    except PackageNotFoundError:
        return "unknown"


class WriteShard:
    """A batch of tokenized documents → one shard file; returns its manifest entry.

    The file is named after its first document, so a retried task rewrites the same
    file instead of adding a second copy.
    """

    def __init__(self, storage: Storage, shards_dir: str):
        self.storage = storage
        self.shards_dir = shards_dir

    def __call__(self, table: pa.Table) -> pa.Table:
        table = validate(table, SHARD, allow_extra=False)
        ids = table.column("doc_id").to_pylist()
        name = f"shard-{ids[0]}.parquet"
        buffer = io.BytesIO()
        pq.write_table(table, buffer, compression="zstd")
        data = buffer.getvalue()
        self.storage.write_bytes(join(self.shards_dir, name), data)
        tokens = table.column("n_tokens").to_pylist()
        by_source, by_lang = Counter(), Counter()
        for source, lang, n in zip(table.column("source").to_pylist(), table.column("lang").to_pylist(), tokens):
            by_source[source] += n
            by_lang[lang or "und"] += n
        entry = dict(path=name, sha256=sha256(data), n_docs=len(ids), n_tokens=sum(tokens), n_bytes=len(data),
                     first_doc_id=ids[0], last_doc_id=ids[-1])
        return pa.table({"entry": [json.dumps(entry)], "by_source": [json.dumps(by_source)],
                         "by_lang": [json.dumps(by_lang)]})


def _shares(counters) -> dict:
    total = Counter()
    for c in counters:
        total.update(json.loads(c))
    n = sum(total.values()) or 1
    return {k: round(v / n, 6) for k, v in sorted(total.items())}


def _tokenizer_json(cfg: DictConfig, storage: Storage, docs) -> str:
    if cfg.tokenizer.path:
        return storage.read_text(cfg.tokenizer.path)

    def texts():
        budget = cfg.tokenizer.train_max_chars
        for batch in docs.iter_batches(batch_size=1000, batch_format="pyarrow"):
            for text in batch.column("text").to_pylist():
                if budget <= 0:
                    return
                budget -= len(text)
                yield text

    tokenizer = train_bpe(texts(), cfg.tokenizer.vocab_size, cfg.tokenizer.min_frequency)
    return tokenizer.to_str()


def build_shards(cfg: DictConfig, storage: Storage, stages, upstream_key: str) -> dict:
    import ray
    from tokenizers import Tokenizer

    shards_dir = join(cfg.output, "shards")
    key = stage_key("shards", upstream_key, OmegaConf.to_container(cfg.tokenizer))
    if (done := stages.finished("shards", key)) and storage.exists(join(shards_dir, MANIFEST)):
        log(f"shards: already done ({done['n_shards']} shards), skipped")
        return done
    started = stages.start("shards", [shards_dir])
    docs_dir = join(cfg.output, "documents")
    if storage.exists(docs_dir):
        fs, path = storage.resolve(docs_dir)
        docs = ray.data.read_parquet(path, filesystem=fs, schema=DOCUMENT).select_columns(["doc_id", "source", "lang", "text"])
    else:  # every document was rejected
        docs = ray.data.from_items([])
    tokenizer_json = _tokenizer_json(cfg, storage, docs)
    storage.write_text(join(shards_dir, TOKENIZER), tokenizer_json)
    tokenizer = Tokenizer.from_str(tokenizer_json)

    rows = []
    if docs.count():
        rows = (
            docs.sort("doc_id")
            .map_batches(Tokenize, fn_constructor_args=(tokenizer_json,), batch_format="pyarrow",
                         compute=actor_pool(cfg), batch_size=512)
            .map_batches(WriteShard(storage, shards_dir), batch_size=cfg.tokenizer.shard_docs, batch_format="pyarrow")
            .take_all()
        )
    entries = sorted((ShardEntry(**json.loads(r["entry"])) for r in rows), key=lambda e: e.first_doc_id)
    manifest = ShardManifest(
        tokenizer={"path": TOKENIZER, "sha256": sha256(tokenizer_json.encode("utf-8")), "kind": "byte-level-bpe",
                   "vocab_size": tokenizer.get_vocab_size(), "eos_id": tokenizer.token_to_id(EOS),
                   "trained": not cfg.tokenizer.path},
        shards=entries,
        mixture={"by_source": _shares(r["by_source"] for r in rows), "by_lang": _shares(r["by_lang"] for r in rows)},
        created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        qazflow_version=qazflow_version(),
        config_hash=key,
    )
    storage.write_text(join(shards_dir, MANIFEST), manifest.to_json())  # last, atomically
    info = stages.finish("shards", key, started, manifest.totals)
    log(f"shards: {info['n_shards']} shards, {info['n_docs']} documents, {info['n_tokens']} tokens")
    return info
