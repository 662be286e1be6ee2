"""A token shard: one row per document, or per chunk of a document longer than
`shards.max_doc_tokens`; tokens unpacked, so a shard decodes back to the curated text
and packs for any context length.

`chunk` numbers the pieces of one document from 0; a trainer joins them in that order.
Every shard holds one partition (e.g. source × language), named in the manifest, so a
mixture can weight partitions without reading the rows.
"""
import pyarrow as pa

TOKEN_TYPE = pa.uint32()

SHARD = pa.schema(
    [
        pa.field("doc_id", pa.string(), nullable=False),
        pa.field("source", pa.string(), nullable=False),
        pa.field("lang", pa.string(), nullable=False),  # "und" where language ID gave none
        pa.field("input_ids", pa.list_(TOKEN_TYPE), nullable=False),
        pa.field("n_tokens", pa.int32(), nullable=False),
        pa.field("chunk", pa.int32(), nullable=False),
    ]
)

# SFT shards (OUTPUT/sft/): the same rows plus `labels`, the token ids the loss is
# computed on: -100 outside assistant responses (the chat template's prompt parts).
SFT_SHARD = pa.schema([*SHARD, pa.field("labels", pa.list_(pa.int32()), nullable=False)])
