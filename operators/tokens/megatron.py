"""Export to Megatron-LM's indexed dataset format (`.bin` + `.idx`, "MMIDIDX").

One pair per partition (e.g. `text_kk.bin/.idx`), so Megatron's own blending weights
partitions like our mixture does. One sequence per document (its chunks joined, an
eos appended as Megatron's `preprocess_data.py --append-eod` does), document indices
0..n. Written here from the format, not with megatron-core, so that a test reading it
with megatron-core's `IndexedDataset` checks an independent implementation.
"""
from __future__ import annotations

import os
import re
import struct

import numpy as np

from operators.tokens.reader import ShardStore, load_manifest

INDEX_HEADER = b"MMIDIDX\x00\x00"
DTYPE_CODES = {np.uint16: 8, np.int32: 4}


def export_megatron(shards_dir: str, out_dir: str, append_eos: bool = True, cache_dir: str | None = None) -> dict:
    """Writes OUT/<partition>.bin/.idx for every partition; returns {prefix: n_docs}."""
    manifest = load_manifest(shards_dir)
    store = ShardStore(shards_dir, manifest, cache_dir=cache_dir)  # sha256-checked like the reader
    dtype = np.uint16 if manifest.tokenizer["vocab_size"] <= 65536 else np.int32
    eos = int(manifest.tokenizer["eos_id"])
    os.makedirs(out_dir, exist_ok=True)
    written = {}
    for key in sorted(manifest.partitions):
        prefix = os.path.join(out_dir, re.sub(r"[^A-Za-z0-9_.]+", "_", key.replace("/", "_")))
        lengths = []
        with open(f"{prefix}.bin.tmp", "wb") as bin_file:
            for entry in (s for s in manifest.shards if s.partition_key == key):
                file = store.open(entry.path)
                for g in range(file.num_row_groups):  # row groups never cut a document
                    table = file.read_row_group(g, columns=["doc_id", "input_ids"])
                    ids = table.column("input_ids").combine_chunks()
                    values, offsets = ids.values.to_numpy(), ids.offsets.to_numpy()
                    doc = table.column("doc_id").to_numpy(zero_copy_only=False)
                    ends = np.flatnonzero(np.append(doc[1:] != doc[:-1], True)) + 1
                    starts = np.concatenate([[0], ends[:-1]])
                    for a, b in zip(offsets[starts], offsets[ends]):
                        tokens = values[a:b].astype(dtype)
                        if append_eos:
                            tokens = np.append(tokens, dtype(eos))
                        bin_file.write(tokens.tobytes(order="C"))
                        lengths.append(len(tokens))
        lengths = np.array(lengths, dtype=np.int32)
        pointers = np.concatenate([[0], np.cumsum(lengths[:-1], dtype=np.int64)]) * np.dtype(dtype).itemsize
        with open(f"{prefix}.idx.tmp", "wb") as idx:
            idx.write(INDEX_HEADER + struct.pack("<Q", 1) + struct.pack("<B", DTYPE_CODES[dtype]))
            idx.write(struct.pack("<Q", len(lengths)) + struct.pack("<Q", len(lengths) + 1))
            idx.write(lengths.tobytes() + pointers.astype(np.int64).tobytes()
                      + np.arange(len(lengths) + 1, dtype=np.int64).tobytes())
        os.replace(f"{prefix}.bin.tmp", f"{prefix}.bin")  # .idx last: a reader never sees a pair half-written
        os.replace(f"{prefix}.idx.tmp", f"{prefix}.idx")
        written[os.path.basename(prefix)] = len(lengths)
    return written
