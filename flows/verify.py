"""`qazflow shards verify DIR`: checksums, counts and manifest consistency."""
from __future__ import annotations

import io

import pyarrow.parquet as pq

from flows.shards import MANIFEST, TOKENIZER, sha256
from flows.storage import Storage, join
from schemas import SHARD, ShardManifest, validate
from schemas.shard import SFT_SHARD


def verify_shards(storage: Storage, shards_dir: str) -> list[str]:
    """Returns the problems found; an empty list means the shards can be trusted."""
    manifest_uri = join(shards_dir, MANIFEST)
    if not storage.exists(manifest_uri):
        return [f"{manifest_uri}: missing (the run did not finish)"]
    try:
        manifest = ShardManifest.from_json(storage.read_text(manifest_uri))
    except (ValueError, TypeError) as exc:
        return [f"{manifest_uri}: unreadable: {exc}"]
    problems = []
    tokenizer = storage.read_bytes(join(shards_dir, TOKENIZER)) if storage.exists(join(shards_dir, TOKENIZER)) else None
    if tokenizer is None:
        problems.append(f"{TOKENIZER}: missing")
    elif sha256(tokenizer) != manifest.tokenizer["sha256"]:
        problems.append(f"{TOKENIZER}: sha256 differs from the manifest")
    seen_docs = set()
    for entry in manifest.shards:
        uri = join(shards_dir, entry.path)
        if not storage.exists(uri):
            problems.append(f"{entry.path}: missing")
            continue
        data = storage.read_bytes(uri)
        if sha256(data) != entry.sha256:
            problems.append(f"{entry.path}: sha256 mismatch")
            continue
        file = pq.ParquetFile(io.BytesIO(data))
        table = file.read()
        try:
            validate(table, SFT_SHARD if manifest.kind == "sft" else SHARD, allow_extra=False)
        except ValueError as exc:
            problems.append(f"{entry.path}: schema: {exc}")
            continue
        ids = table.column("doc_id").to_pylist()
        tokens = table.column("n_tokens").to_pylist()
        if (len(set(ids)), len(ids), sum(tokens)) != (entry.n_docs, entry.n_rows, entry.n_tokens):
            problems.append(f"{entry.path}: {len(set(ids))} docs / {len(ids)} rows / {sum(tokens)} tokens, manifest "
                            f"says {entry.n_docs} / {entry.n_rows} / {entry.n_tokens}")
        groups = [file.metadata.row_group(i).num_rows for i in range(file.num_row_groups)]
        if groups != list(entry.row_group_rows):
            problems.append(f"{entry.path}: row groups {groups} rows, manifest says {entry.row_group_rows}")
        if any(len(row) != n for row, n in zip(table.column("input_ids").to_pylist(), tokens)):
            problems.append(f"{entry.path}: n_tokens disagrees with input_ids")
        if seen_docs.intersection(ids):
            problems.append(f"{entry.path}: documents also present in another shard")
        seen_docs.update(ids)
    return problems
