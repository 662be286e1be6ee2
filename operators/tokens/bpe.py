"""Byte-level BPE (HF tokenizers): trained on the run's corpus or loaded from a file.

Byte-level pre-tokenization with no normalizer makes decoding exact, so a shard always
decodes back to the curated text it was made from.
"""
from __future__ import annotations

import hashlib
from collections.abc import Iterable

import numpy as np
import pyarrow as pa

from schemas import SHARD
from schemas.shard import TOKEN_TYPE

BOS = "<|bos|>"
EOS = "<|endoftext|>"
PAD = "<|pad|>"
UNKNOWN_LANG = "und"


def train_bpe(texts: Iterable[str], vocab_size: int = 32000, min_frequency: int = 2,
              special_tokens: Iterable[str] = (EOS, PAD, BOS)) -> "tokenizers.Tokenizer":
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


def special_ids(tokenizer, bos: str = BOS, eos: str = EOS, pad: str = PAD) -> dict:
    """The ids a trainer needs; a loaded tokenizer without one of them is refused."""
    ids = {"bos_id": tokenizer.token_to_id(bos), "eos_id": tokenizer.token_to_id(eos),
           "pad_id": tokenizer.token_to_id(pad)}
    missing = [name for name, i in zip((bos, eos, pad), ids.values()) if i is None]
    if missing:
        raise ValueError(f"tokenizer has no special token(s) {missing}; set tokenizer.special_tokens.* to its own")
    return {**ids, "bos": bos, "eos": eos, "pad": pad}


def in_sample(doc_id: str, fraction: float) -> bool:
    """A deterministic Bernoulli draw by document id: the same documents in every run."""
    if fraction >= 1:
        return True
    h = int.from_bytes(hashlib.blake2b(doc_id.encode(), digest_size=8).digest(), "little")
    return h / 2**64 < fraction


class FillLanguage:
    """`lang` null → "und", so every row belongs to a partition."""

    def __call__(self, table: pa.Table) -> pa.Table:
        i = table.schema.get_field_index("lang")
        lang = table.column(i).cast(pa.string()).fill_null(UNKNOWN_LANG)
        return table.set_column(i, "lang", lang)


class Tokenize:
    """Documents → shard rows; a document longer than `max_doc_tokens` becomes several
    rows with `chunk` 0, 1, ... Loads the tokenizer once per actor.

    Also returns `n_words` and `n_chars` (on chunk 0) for the fertility report; the
    shard writer drops them.
    """

    def __init__(self, tokenizer_json: str, max_doc_tokens: int = 0):
        from tokenizers import Tokenizer

        self.tokenizer = Tokenizer.from_str(tokenizer_json)
        self.max_doc_tokens = max_doc_tokens

    def __call__(self, table: pa.Table) -> pa.Table:
        texts = table.column("text").to_pylist()
        encodings = self.tokenizer.encode_batch_fast(texts, add_special_tokens=False)
        rows = []  # (document index, chunk, ids)
        step = self.max_doc_tokens or None
        for i, e in enumerate(encodings):
            ids = np.asarray(e.ids, dtype=np.uint32)
            if step is None or len(ids) <= step:
                rows.append((i, 0, ids))
            else:
                rows.extend((i, c, ids[start:start + step]) for c, start in enumerate(range(0, len(ids), step)))
        index = pa.array([r[0] for r in rows], pa.int64())
        lengths = np.array([len(r[2]) for r in rows], dtype=np.int32)
        offsets = np.concatenate([[0], np.cumsum(lengths, dtype=np.int64)]).astype(np.int32)
        flat = np.concatenate([r[2] for r in rows]) if rows else np.zeros(0, np.uint32)
        first = np.array([r[1] == 0 for r in rows], dtype=bool)
        words = np.array([len(t.split()) for t in texts], dtype=np.int64)[index.to_numpy()] * first
        chars = np.array([len(t) for t in texts], dtype=np.int64)[index.to_numpy()] * first
        return pa.table(
            {
                "doc_id": table.column("doc_id").take(index),
                "source": table.column("source").take(index),
                "lang": table.column("lang").take(index),
                "input_ids": pa.ListArray.from_arrays(pa.array(offsets), pa.array(flat, TOKEN_TYPE)),
                "n_tokens": pa.array(lengths, pa.int32()),
                "chunk": pa.array([r[1] for r in rows], pa.int32()),
                "n_words": pa.array(words), "n_chars": pa.array(chars),
            },
        ).cast(pa.schema([*SHARD, pa.field("n_words", pa.int64()), pa.field("n_chars", pa.int64())]))
