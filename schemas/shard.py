"""A token shard: one row per curated document, its tokens unpacked.

Trainers pack rows into fixed-length sequences themselves; keeping documents whole
lets a shard be decoded back to the curated text and re-packed for any context length.
"""
import pyarrow as pa

SHARD = pa.schema(
    [
        pa.field("doc_id", pa.string(), nullable=False),
        pa.field("source", pa.string(), nullable=False),
        pa.field("lang", pa.string()),
        pa.field("input_ids", pa.list_(pa.int32()), nullable=False),
        pa.field("n_tokens", pa.int32(), nullable=False),
    ]
)
