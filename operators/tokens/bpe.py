"""Byte-level BPE (HF tokenizers): trained on the run's corpus or loaded from a file.

Byte-level pre-tokenization with no normalizer makes decoding exact, so a shard always
decodes back to the curated text it was made from.
"""
from __future__ import annotations

import hashlib
from collections.abc import Iterable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

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
    """The ids a trainer needs. eos is required (the reader separates documents with
    it); a loaded tokenizer without bos or pad gets None for them."""
    ids = {"bos_id": tokenizer.token_to_id(bos), "eos_id": tokenizer.token_to_id(eos),
           "pad_id": tokenizer.token_to_id(pad)}
    if ids["eos_id"] is None:
        raise ValueError(f"tokenizer has no eos token {eos!r}; set tokenizer.special_tokens.eos to its own")
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

    Also returns `n_words` and `n_chars` (on chunk 0) for the fertility report, and
    `error`: null, or for a document the tokenizer failed on, its one row (no tokens)
    says why ("TypeError: ..."); `tokenization_failures` takes such rows out before the
    shard writer, which drops the extra columns.
    """

    def __init__(self, tokenizer_json: str, max_doc_tokens: int = 0):
        from tokenizers import Tokenizer

        self.tokenizer = Tokenizer.from_str(tokenizer_json)
        self.max_doc_tokens = max_doc_tokens

    def _encode(self, texts: list[str]) -> tuple[list, list[str | None]]:
        """Token ids per text and per text the failure that left it without any."""
        try:
            return [e.ids for e in self.tokenizer.encode_batch_fast(texts, add_special_tokens=False)], \
                [None] * len(texts)
        except Exception:  # one bad document fails the whole batch call: find it, keep the others
            ids, errors = [], []
            for text in texts:
                try:
                    ids.append(self.tokenizer.encode(text, add_special_tokens=False).ids)
                    errors.append(None)
                except Exception as exc:
                    ids.append([])
                    errors.append(f"{type(exc).__name__}: {exc}")
            return ids, errors

    def __call__(self, table: pa.Table) -> pa.Table:
        texts = table.column("text").to_pylist()
        encodings, errors = self._encode(texts)
        rows = []  # (document index, chunk, ids)
        step = self.max_doc_tokens or None
        for i, e in enumerate(encodings):
            ids = np.asarray(e, dtype=np.uint32)
            if step is None or len(ids) <= step:
                rows.append((i, 0, ids))
            else:
                rows.extend((i, c, ids[start:start + step]) for c, start in enumerate(range(0, len(ids), step)))
        index = pa.array([r[0] for r in rows], pa.int64())
        lengths = np.array([len(r[2]) for r in rows], dtype=np.int32)
        offsets = np.concatenate([[0], np.cumsum(lengths, dtype=np.int64)]).astype(np.int32)
        flat = np.concatenate([r[2] for r in rows]) if rows else np.zeros(0, np.uint32)
        first = np.array([r[1] == 0 for r in rows], dtype=bool)
        ok = np.array([e is None for e in errors], dtype=bool)[index.to_numpy()]
        words = np.array([len(t.split()) if isinstance(t, str) else 0 for t in texts],
                         dtype=np.int64)[index.to_numpy()] * first * ok
        chars = np.array([len(t) if isinstance(t, str) else 0 for t in texts],
                         dtype=np.int64)[index.to_numpy()] * first * ok
        return pa.table(
            {
                "doc_id": table.column("doc_id").take(index),
                "source": table.column("source").take(index),
                "lang": table.column("lang").take(index),
                "input_ids": pa.ListArray.from_arrays(pa.array(offsets), pa.array(flat, TOKEN_TYPE)),
                "n_tokens": pa.array(lengths, pa.int32()),
                "chunk": pa.array([r[1] for r in rows], pa.int32()),
                "n_words": pa.array(words), "n_chars": pa.array(chars),
                "error": pa.array([errors[r[0]] for r in rows], pa.string()),
            },
        ).cast(pa.schema([*SHARD, pa.field("n_words", pa.int64()), pa.field("n_chars", pa.int64()),
                          pa.field("error", pa.string())]))


def tokenization_failures(table: pa.Table) -> tuple[pa.Table, list[dict]]:
    """`Tokenize` output → (the rows to shard, `{"doc_id", "error"}` of each failed document)."""
    if "error" not in table.column_names or not table["error"].null_count < len(table):
        return table, []
    failed = pc.is_valid(table["error"])
    bad = table.filter(failed).select(["doc_id", "error"]).to_pylist()
    return table.filter(pc.invert(failed)), bad


def training_fractions(chars: dict[tuple[str, str], int], lang_weights: dict[str, float],
                       budget_chars: int) -> tuple[dict[tuple[str, str], float], dict]:
    """How much of each (source, lang) partition the tokenizer trains on.

    Languages get `lang_weights` shares of `budget_chars` (a language not named gets
    the weight of "default", else 0 when others are named); within a language,
    sources keep their natural proportions. A language with less text than its share
    gives all it has: the sample is then smaller, not refilled with Russian, which is
    what keeps Kazakh from being drowned. Returns (fraction per partition, the shares
    of the resulting sample by language and by source).
    """
    by_lang: dict[str, int] = {}
    for (_, lang), n in chars.items():
        by_lang[lang] = by_lang.get(lang, 0) + n
    default = lang_weights.get("default", 0.0 if lang_weights else 1.0)
    weights = {lang: float(lang_weights.get(lang, default)) for lang in by_lang}
    total_w = sum(weights.values()) or 1.0
    take = {lang: min(n, budget_chars * weights[lang] / total_w) for lang, n in by_lang.items()}
    fractions = {key: (take[key[1]] / by_lang[key[1]] if by_lang[key[1]] else 0.0) for key in chars}
    taken = {key: chars[key] * f for key, f in fractions.items()}
    n = sum(taken.values()) or 1.0
    shares: dict = {"by_lang": {}, "by_source": {}}
    for (source, lang), t in taken.items():
        shares["by_lang"][lang] = shares["by_lang"].get(lang, 0) + t / n
        shares["by_source"][source] = shares["by_source"].get(source, 0) + t / n
    shares = {k: {name: round(v, 6) for name, v in sorted(d.items())} for k, d in shares.items()}
    return fractions, {**shares, "n_chars": int(sum(taken.values()))}


class SampleForTraining:
    """Keeps the documents of the tokenizer's training sample (by doc_id, so every run
    trains on the same text)."""

    def __init__(self, fractions: dict[tuple[str, str], float]):
        self.fractions = fractions

    def __call__(self, table: pa.Table) -> pa.Table:
        keep = [in_sample(d, self.fractions.get((s, lang), 0.0)) for d, s, lang in zip(
            table.column("doc_id").to_pylist(), table.column("source").to_pylist(), table.column("lang").to_pylist())]
        return table.filter(pa.array(keep, pa.bool_()))


class Fertility:
    """Tokens per word and characters per token, per language, from `Tokenize` output."""

    def __init__(self):
        self.counts: dict[str, list[int]] = {}  # lang → [tokens, words, chars]

    def add(self, table: pa.Table) -> None:
        for lang, t, w, c in zip(table.column("lang").to_pylist(), table.column("n_tokens").to_pylist(),
                                 table.column("n_words").to_pylist(), table.column("n_chars").to_pylist()):
            acc = self.counts.setdefault(lang, [0, 0, 0])
            acc[0] += t
            acc[1] += w
            acc[2] += c

    def report(self) -> dict:
        return {lang: {"tokens": t, "words": w, "chars": c,
                       "tokens_per_word": round(t / w, 4) if w else None,
                       "chars_per_token": round(c / t, 4) if t else None}
                for lang, (t, w, c) in sorted(self.counts.items())}
