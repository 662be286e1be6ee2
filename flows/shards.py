"""Token shards: tokenizer (trained or loaded), size-cut shards per partition, manifest last.

Wiring only: documents are sorted by (partition, doc_id) so the output is the same for
any Ray block count, tokenized by an actor pool (the tokenizer loads once per actor,
order preserved), and streamed through one `ShardPacker` on the driver, which holds a
row group at a time: memory does not grow with the corpus.
"""
from __future__ import annotations

import hashlib
import os
import tempfile
from collections import Counter
from datetime import datetime, timezone

import numpy as np
import pyarrow as pa
from omegaconf import DictConfig, OmegaConf

from flows.runtime import actor_pool, log
from flows.stages import stage_key
from flows.storage import Storage, is_s3, join
from operators.tokens.bpe import FillLanguage, Fertility, SampleForTraining, Tokenize, special_ids, \
    tokenization_failures, train_bpe, training_fractions
from operators.tokens.reader import PackedReader
from operators.tokens.shards import ShardPacker
from schemas import DOCUMENT, ShardEntry, ShardManifest

MANIFEST = "manifest.json"
TOKENIZER = "tokenizer.json"
PARTITION_COLUMNS = ("source", "lang")
MAX_LISTED_FAILURES = 100  # report.json lists this many failed documents by id; the count is always whole


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def qazflow_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("qazflow")
    except PackageNotFoundError:
        return "unknown"


def _chars_by_partition(table: pa.Table) -> pa.Table:
    counts = table.group_by(["source", "lang"], use_threads=False).aggregate([("n_chars", "sum")])
    return counts.rename_columns(["source", "lang", "n_chars"])


def _tokenizer_json(cfg: DictConfig, storage: Storage, docs) -> tuple[str, dict]:
    """(tokenizer.json text, shares of its training sample; {} for a loaded one)."""
    tok = cfg.tokenizer
    if tok.mode == "load" or tok.path:
        return storage.read_text(tok.path), {}
    chars = Counter()
    for row in [] if docs is None else docs.map_batches(_chars_by_partition, batch_format="pyarrow").take_all():
        chars[(row["source"], row["lang"])] += row["n_chars"] or 0
    fractions, shares = training_fractions(dict(chars), OmegaConf.to_container(tok.train_weights),
                                           tok.train_max_chars)
    def texts():
        if docs is None:
            return
        sample = docs.map_batches(SampleForTraining(fractions), batch_format="pyarrow")
        for batch in sample.iter_batches(batch_size=1000, batch_format="pyarrow"):
            yield from batch.column("text").to_pylist()

    st = tok.special_tokens
    tokenizer = train_bpe(texts(), tok.vocab_size, tok.min_frequency, special_tokens=(st.eos, st.pad, st.bos))
    log(f"shards: tokenizer trained on {shares['n_chars']} chars, by language {shares['by_lang']}")
    return tokenizer.to_str(), shares


def _publisher(storage: Storage, shards_dir: str, entries: list):
    """Moves each finished local shard to the output (a streamed upload on S3)."""

    def publish(local_path: str, entry: dict) -> None:
        name = os.path.basename(local_path)
        if is_s3(shards_dir):
            fs, path = storage.resolve(join(shards_dir, name))
            with open(local_path, "rb") as src, fs.open_output_stream(path, compression=None) as dst:
                while chunk := src.read(8 << 20):
                    dst.write(chunk)
            os.remove(local_path)
        entries.append(ShardEntry(path=name, **entry))

    return publish


def build_shards(cfg: DictConfig, storage: Storage, stages, upstream_key: str) -> dict:
    import ray
    from ray.data import DataContext
    from tokenizers import Tokenizer

    shards_dir = join(cfg.output, "shards")
    partition_by = list(cfg.shards.partition_by)
    if not set(partition_by) <= set(PARTITION_COLUMNS):
        raise ValueError(f"shards.partition_by: {partition_by}: only {list(PARTITION_COLUMNS)} are shard columns")
    key = stage_key("shards", upstream_key, OmegaConf.to_container(cfg.tokenizer),
                    OmegaConf.to_container(cfg.shards))
    if (done := stages.finished("shards", key)) and storage.exists(join(shards_dir, MANIFEST)):
        log(f"shards: already done ({done['n_shards']} shards), skipped")
        return done
    started = stages.start("shards", [shards_dir])
    docs_dir = join(cfg.output, "documents")
    if storage.exists(docs_dir):
        fs, path = storage.resolve(docs_dir)
        docs = (ray.data.read_parquet(path, filesystem=fs, schema=DOCUMENT)
                .select_columns(["doc_id", "source", "lang", "text", "n_chars"])
                .map_batches(FillLanguage(), batch_format="pyarrow"))
    else:  # every document was rejected
        docs = None
    tokenizer_json, sample_shares = _tokenizer_json(cfg, storage, docs)
    tokenizer = Tokenizer.from_str(tokenizer_json)
    st = cfg.tokenizer.special_tokens
    specials = special_ids(tokenizer, st.bos, st.eos, st.pad)  # a loaded tokenizer without eos fails here
    storage.write_text(join(shards_dir, TOKENIZER), tokenizer_json)

    entries: list[ShardEntry] = []
    fertility, by_source, by_lang = Fertility(), Counter(), Counter()
    failures: list[dict] = []  # documents the tokenizer failed on: in documents/, not in any shard
    local = not is_s3(shards_dir)
    with tempfile.TemporaryDirectory(prefix="qazflow-shards-") as tmp:
        work_dir = shards_dir if local else tmp
        os.makedirs(work_dir, exist_ok=True)
        packer = ShardPacker(work_dir, partition_by, _publisher(storage, shards_dir, entries),
                             target_bytes=cfg.shards.target_bytes, row_group_bytes=cfg.shards.row_group_bytes)
        if docs is not None:
            context = DataContext.get_current()
            preserve = context.execution_options.preserve_order
            context.execution_options.preserve_order = True  # the packer needs the sorted order
            try:
                rows = docs.sort([*partition_by, "doc_id"]).map_batches(
                    Tokenize, fn_constructor_args=(tokenizer_json, cfg.shards.max_doc_tokens),
                    compute=actor_pool(cfg), batch_size=cfg.shards.batch_size, batch_format="pyarrow")
                for batch in rows.iter_batches(batch_size=None, batch_format="pyarrow"):
                    batch, failed = tokenization_failures(batch)
                    failures += failed
                    fertility.add(batch)
                    for source, lang, n in zip(batch.column("source").to_pylist(), batch.column("lang").to_pylist(),
                                               batch.column("n_tokens").to_pylist()):
                        by_source[source] += n
                        by_lang[lang] += n
                    packer(batch)
            finally:
                context.execution_options.preserve_order = preserve
        packer.close()
    manifest = ShardManifest(
        tokenizer={"path": TOKENIZER, "sha256": sha256(tokenizer_json.encode("utf-8")), "kind": "hf-tokenizers",
                   "vocab_size": tokenizer.get_vocab_size(), **specials,
                   "trained": not (cfg.tokenizer.mode == "load" or cfg.tokenizer.path),
                   "loaded_from": cfg.tokenizer.path},
        shards=entries,
        created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        qazflow_version=qazflow_version(),
        config_hash=key,
        partition_by=partition_by,
        max_doc_tokens=cfg.shards.max_doc_tokens,
        by_source=dict(by_source), by_lang=dict(by_lang),
        tokenizer_sample=sample_shares,
    )
    storage.write_text(join(shards_dir, MANIFEST), manifest.to_json())  # last; temp + rename / one PUT
    info = stages.finish("shards", key, started, {**manifest.totals, "fertility": fertility.report(),
                                                  "tokenizer_sample": sample_shares,
                                                  "failed": {"documents": len(failures),
                                                             "first": failures[:MAX_LISTED_FAILURES]}})
    log(f"shards: {info['n_shards']} shards, {info['n_docs']} documents, {info['n_tokens']} tokens"
        + (f", {len(failures)} document(s) failed to tokenize" if failures else ""))
    return info


def instruction_files(cfg: DictConfig, storage: Storage) -> list[str]:
    """inputs.instructions: JSONL or JSON-array files, or directories of them."""
    files = []
    for uri in cfg.inputs.instructions:
        uri = str(uri)
        found = [f for f in storage.list_files(uri) if f.endswith((".jsonl", ".jsonl.gz", ".json", ".json.gz"))] \
            if storage.is_dir(uri) else [uri]
        files += found
    return sorted(files)


def _holds_json_array(storage: Storage, uri: str) -> bool:
    from operators.tokens.sft import holds_json_array

    try:
        with storage.open_input(uri) as stream:
            return holds_json_array(uri, stream)
    except OSError:  # vanished since listed: reading it by lines reports it
        return False


def build_sft_shards(cfg: DictConfig, storage: Storage, stages, upstream_key: str) -> dict | None:
    """OUTPUT/sft/: instruction pairs as SFT shards with labels, their own manifest
    (kind "sft") and the pretraining shards' tokenizer."""
    import ray
    from ray.data import DataContext

    from flows.near_dedup import NearDedupSettings
    from operators.tokens.sft import NearDuplicates, SftRows, array_records
    from schemas.shard import SFT_SHARD

    files = instruction_files(cfg, storage)
    if not files:
        return None
    sft_dir = join(cfg.output, "sft")
    key = stage_key("sft", upstream_key, files, OmegaConf.to_container(cfg.sft))
    if (done := stages.finished("sft", key)) and storage.exists(join(sft_dir, MANIFEST)):
        log(f"sft: already done ({done['n_docs']} conversations), skipped")
        return done
    started = stages.start("sft", [sft_dir])
    tokenizer_json = storage.read_text(join(cfg.output, "shards", TOKENIZER))  # the pretraining tokenizer
    storage.write_text(join(sft_dir, TOKENIZER), tokenizer_json)
    fs, _ = storage.resolve(files[0])
    gone = [f for f in files if not storage.exists(f)]  # under inputs.on_missing=reject, or vanished since
    paths = [storage.resolve(f)[1] for f in files if f not in gone]
    context = DataContext.get_current()
    preserve = context.execution_options.preserve_order
    context.execution_options.preserve_order = True
    entries, rejected, last_id = [], Counter({"cannot open the file": len(gone)} if gone else {}), None
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_str(tokenizer_json)
    st = cfg.tokenizer.special_tokens
    near = NearDedupSettings.from_config({**OmegaConf.to_container(cfg.dedup.near), "threshold": cfg.sft.near_threshold})
    bands, rows_per_band = near.lsh()
    seen = NearDuplicates(bands, rows_per_band, cfg.sft.near_threshold)
    local = not is_s3(sft_dir)
    try:
        with tempfile.TemporaryDirectory(prefix="qazflow-sft-") as tmp:
            work_dir = sft_dir if local else tmp
            packer = ShardPacker(work_dir, ["source", "lang"], _publisher(storage, sft_dir, entries),
                                 target_bytes=cfg.shards.target_bytes, row_group_bytes=cfg.shards.row_group_bytes,
                                 schema=SFT_SHARD)
            # JSONL by lines; a file holding one JSON array (Alpaca's .json) by its elements.
            arrays = [p for f, p in zip([f for f in files if f not in gone], paths) if _holds_json_array(storage, f)]
            lines, max_record = [p for p in paths if p not in arrays], int(cfg.inputs.max_line_bytes)
            parts = [ray.data.read_text(lines, filesystem=fs)] if lines else []
            if arrays:
                parts.append(ray.data.read_binary_files(arrays, filesystem=fs, include_paths=True).flat_map(
                    lambda r: array_records(r["path"], r["bytes"], max_record)))
            records = parts[0].union(*parts[1:]) if len(parts) > 1 else (parts[0] if parts else None)
            rows = (records.filter(lambda r: bool(r["text"].strip()))
                    .map_batches(lambda t: t.rename_columns(["record"]), batch_format="pyarrow")
                    .map_batches(SftRows, fn_constructor_args=(tokenizer_json, OmegaConf.to_container(cfg.sft.template),
                                                               near.signer(), cfg.filters.lang.model_path),
                                 compute=actor_pool(cfg), batch_size=64, batch_format="pyarrow")
                    .sort(["lang", "doc_id"])) if paths else None  # every file gone: counted above
            for batch in rows.iter_batches(batch_size=None, batch_format="pyarrow") if rows is not None else ():
                for reason, detail, doc_id in zip(batch.column("reason").to_pylist(), batch.column("detail").to_pylist(),
                                                  batch.column("doc_id").to_pylist()):
                    if reason is not None:
                        rejected[detail.split(":")[0]] += 1
                keep = [r is None and d != p for r, d, p in zip(
                    batch.column("reason").to_pylist(), batch.column("doc_id").to_pylist(),
                    [last_id, *batch.column("doc_id").to_pylist()[:-1]])]
                dupes = sum(r is None for r in batch.column("reason").to_pylist()) - sum(keep)
                if dupes:
                    rejected["exact duplicate"] += dupes
                if batch.num_rows:
                    last_id = batch.column("doc_id")[-1].as_py()
                batch = batch.filter(pa.array(keep, pa.bool_()))
                unique = [match is None for match in seen.earlier(batch)]
                rejected["near duplicate"] += unique.count(False)
                packer(batch.filter(pa.array(unique, pa.bool_())).drop_columns(["minhash"]))
            packer.close()
    finally:
        context.execution_options.preserve_order = preserve
    manifest = ShardManifest(
        tokenizer={"path": TOKENIZER, "sha256": sha256(tokenizer_json.encode("utf-8")), "kind": "hf-tokenizers",
                   "vocab_size": tokenizer.get_vocab_size(), **special_ids(tokenizer, st.bos, st.eos, st.pad)},
        shards=entries, created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        qazflow_version=qazflow_version(), config_hash=key, kind="sft",
        by_source={"sft": sum(e.n_tokens for e in entries)},
        by_lang=dict(sum((Counter({e.partition["lang"]: e.n_tokens}) for e in entries), Counter())),
    )
    storage.write_text(join(sft_dir, MANIFEST), manifest.to_json())
    info = stages.finish("sft", key, started, {**manifest.totals, "rejected": dict(sorted(rejected.items()))})
    log(f"sft: {info['n_docs']} conversations kept, rejected {info['rejected']}")
    return info


def ray_dataset(reader: PackedReader, chunk: int = 64):
    """This consumer's samples (same order and split as iterating `reader`) as a Ray
    Dataset with an `input_ids` column (and `position_ids`), for Ray Train loops."""
    import ray

    indices = list(reader.sample_indices())
    items = [{"indices": indices[i:i + chunk]} for i in range(0, len(indices), chunk)]

    def read(batch: dict) -> dict:
        samples = [reader.sample(int(i)) for group in batch["indices"] for i in group]
        return {k: np.stack([s[k] for s in samples]) for k in samples[0]} if samples else {"input_ids": np.zeros(
            (0, reader.seq_len + 1), np.int64)}

    context = ray.data.DataContext.get_current()
    context.execution_options.preserve_order = True
    return ray.data.from_items(items, override_num_blocks=max(1, min(len(items), 16))).map_batches(read, batch_size=1)
