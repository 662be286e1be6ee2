"""Byte-level BPE (HF tokenizers): trained on the run's corpus or loaded from a file.

Byte-level pre-tokenization with no normalizer makes decoding exact, so a shard always
decodes back to the curated text it was made from.
"""
from __future__ import annotations

from collections.abc import Iterable

import pyarrow as pa

from schemas import SHARD

EOS = "<|endoftext|>"
PAD = "<|pad|>"


def train_bpe(texts: Iterable[str], vocab_size: int = 32000, min_frequency: int = 2,
              special_tokens: list[str] = (EOS, PAD)) -> "tokenizers.Tokenizer":
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size, min_frequency=min_frequency, special_tokens=list(special_tokens),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False,
    )
    tokenizer.train_from_iterator(texts, trainer=trainer)
    return tokenizer


class Tokenize:
    """Documents → shard rows (doc_id, source, lang, input_ids, n_tokens). Loads once per actor."""

    def __init__(self, tokenizer_json: str):
        from tokenizers import Tokenizer

        self.tokenizer = Tokenizer.from_str(tokenizer_json)

    def __call__(self, table: pa.Table) -> pa.Table:
        encodings = self.tokenizer.encode_batch_fast(table.column("text").to_pylist(), add_special_tokens=False)
        ids = [e.ids for e in encodings]
        return pa.table(
            {
                "doc_id": table.column("doc_id"),
                "source": table.column("source"),
                "lang": table.column("lang"),
                "input_ids": pa.array(ids, pa.list_(pa.int32())),
                "n_tokens": pa.array([len(i) for i in ids], pa.int32()),
            },
            schema=SHARD,
        )
