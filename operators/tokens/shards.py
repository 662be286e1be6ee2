"""Shard writing: rows sorted by (partition, doc_id, chunk) → Parquet files cut by size.

`ShardPacker` is fed batches in order and writes each shard to a local file as it goes,
so memory is one row group, whatever the corpus. A shard holds one partition, closes
when the next row group would take it past `target_bytes`, and is named by partition
and sequence number: the same input gives the same files, names and bytes.

Row groups (and so shards) end only at document boundaries: all chunks of a document
sit in one row group, so a reader can join them and knows from the manifest's
`row_group_docs` how many document separators each row group adds to its stream.
"""
from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from schemas import SHARD

ZSTD_LEVEL = 3


def shard_name(partition: dict, index: int) -> str:
    slug = "-".join(re.sub(r"[^A-Za-z0-9_.]+", "_", str(v)) for v in partition.values()) or "all"
    return f"shard-{slug}-{index:05d}.parquet"


def file_sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 22):
            h.update(chunk)
    return h.hexdigest()


class _OpenShard:
    def __init__(self, path: str, partition: dict, schema: pa.Schema = SHARD):
        self.path, self.partition = path, partition
        self.sink = pa.OSFile(path, "wb")
        self.writer = pq.ParquetWriter(self.sink, schema, compression="zstd", compression_level=ZSTD_LEVEL,
                                       write_statistics=["doc_id", "chunk"])
        self.row_group_tokens: list[int] = []
        self.row_group_rows: list[int] = []
        self.row_group_docs: list[int] = []

    def write(self, table: pa.Table) -> int:
        before = self.sink.tell()
        self.writer.write_table(table, row_group_size=table.num_rows)
        self.row_group_tokens.append(int(pc.sum(table.column("n_tokens")).as_py() or 0))
        self.row_group_rows.append(table.num_rows)
        # rows are in (doc_id, chunk) order and documents never cross row groups
        self.row_group_docs.append(int(pc.count_distinct(table.column("doc_id")).as_py()))
        return self.sink.tell() - before

    def close(self) -> dict:
        self.writer.close()
        self.sink.close()
        return {"n_bytes": os.path.getsize(self.path), "sha256": file_sha256(self.path),
                "n_docs": sum(self.row_group_docs), "n_rows": sum(self.row_group_rows),
                "n_tokens": sum(self.row_group_tokens), "partition": self.partition,
                "row_group_tokens": self.row_group_tokens, "row_group_rows": self.row_group_rows,
                "row_group_docs": self.row_group_docs}


class ShardPacker:
    """Call with batches in (partition, doc_id, chunk) order, then `close()`.

    `on_shard(local_path, entry)` receives each finished shard (entry: the manifest's
    fields but `path`, which is the file's name). Row groups are sized in tokens from
    the compressed bytes per token seen so far, aiming at `row_group_bytes` each.
    """

    def __init__(self, local_dir: str, partition_by: list[str], on_shard: Callable[[str, dict], None],
                 target_bytes: int = 256 << 20, row_group_bytes: int = 16 << 20, schema: pa.Schema = SHARD):
        if row_group_bytes > target_bytes:
            raise ValueError("shards.row_group_bytes must not exceed shards.target_bytes")
        self.local_dir, self.partition_by, self.on_shard = local_dir, list(partition_by), on_shard
        self.target_bytes, self.row_group_bytes = target_bytes, row_group_bytes
        os.makedirs(local_dir, exist_ok=True)
        self.schema = schema  # SHARD, or SFT_SHARD with labels
        self.bytes_per_token = 4.0  # uncompressed uint32 until a row group has been measured
        self.counters: dict[str, int] = {}
        self.shard: _OpenShard | None = None
        self.pending: list[pa.Table] = []
        self.pending_tokens = 0
        self.partition: dict | None = None

    def __call__(self, batch: pa.Table) -> None:
        batch = batch.select(self.schema.names).cast(self.schema)
        if not batch.num_rows:
            return
        keys = [batch.column(c).to_pylist() for c in self.partition_by]
        start = 0
        for i in range(1, batch.num_rows + 1):  # split the batch where the partition changes
            if i == batch.num_rows or any(k[i] != k[start] for k in keys):
                self._add(dict(zip(self.partition_by, (k[start] for k in keys))), batch.slice(start, i - start))
                start = i

    def _add(self, partition: dict, rows: pa.Table) -> None:
        if partition != self.partition:
            self._flush_row_group()
            self._close_shard()
            self.partition = partition
        self.pending.append(rows)
        self.pending_tokens += int(pc.sum(rows.column("n_tokens")).as_py() or 0)
        while self.pending_tokens * self.bytes_per_token >= self.row_group_bytes:
            if not self._flush_row_group(limit_tokens=int(self.row_group_bytes / self.bytes_per_token) + 1):
                break  # one document's chunks fill what is pending: wait for its last chunk

    def _flush_row_group(self, limit_tokens: int | None = None) -> bool:
        if not self.pending:
            return False
        table = pa.concat_tables(self.pending).combine_chunks()
        if limit_tokens is not None:  # cut at the first document boundary at or after the limit
            cum = pc.cumulative_sum(table.column("n_tokens").cast(pa.int64())).to_numpy()
            ids = table.column("doc_id").to_numpy(zero_copy_only=False)
            # a boundary after row i: the next row starts another document (the last
            # pending row is not one: its document's next chunk may be in the next batch)
            boundaries = np.flatnonzero(ids[1:] != ids[:-1]) + 1
            fit = boundaries[boundaries >= min(int((cum < limit_tokens).sum()) + 1, table.num_rows)]
            if not len(fit):
                return False
            n = int(fit[0])
            table, rest = table.slice(0, n), table.slice(n)
        else:
            rest = table.slice(table.num_rows)
        tokens = int(pc.sum(table.column("n_tokens")).as_py() or 0)
        if self.shard is not None and self._size() + tokens * self.bytes_per_token > self.target_bytes:
            self._close_shard()
        if self.shard is None:
            index = self.counters.get(repr(self.partition), 0)
            self.counters[repr(self.partition)] = index + 1
            self.shard = _OpenShard(os.path.join(self.local_dir, shard_name(self.partition, index)), self.partition,
                                     self.schema)
        written = self.shard.write(table)
        if tokens:
            self.bytes_per_token = max(written / tokens, 0.05)
        self.pending = [rest] if rest.num_rows else []
        self.pending_tokens = int(pc.sum(rest.column("n_tokens")).as_py() or 0) if rest.num_rows else 0
        return True

    def _size(self) -> int:
        return self.shard.sink.tell() if self.shard else 0

    def _close_shard(self) -> None:
        if self.shard is not None:
            shard, self.shard = self.shard, None
            self.on_shard(shard.path, shard.close())

    def close(self) -> None:
        self._flush_row_group()
        self._close_shard()
