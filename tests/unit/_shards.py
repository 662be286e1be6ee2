"""Real shards for reader tests: trained BPE + `Tokenize` + `ShardPacker`, the manifest
built as flows/shards.py builds it."""
from __future__ import annotations

import hashlib
import random
from collections import Counter

import pyarrow as pa

from operators.tokens.bpe import Tokenize, special_ids, train_bpe
from operators.tokens.shards import ShardPacker
from schemas import ShardEntry, ShardManifest

KK = ["Қазақ тілі — түркі тілдерінің бірі.", "Әліпбиде ә ғ қ ң ө ұ ү һ і әріптері бар.",
      "Біз кітапханадағы ескі кітаптарды цифрлаймыз.", "Ауылда жаңбыр жауып, өзен толды.",
      "Ұстаз шәкірттеріне өлең оқып берді.", "Күз келгенде құстар оңтүстікке ұшады."]
RU = ["Русский язык широко используется в Казахстане.", "Газета вышла утром, и все её читали.",
      "Библиотека оцифровывает старые книги.", "Весной степь покрывается тюльпанами."]
EN = ["English is the third language of the corpus.", "The library scans old books every day.",
      "Rivers rise after the spring rain."]


def documents(n: int, seed: int = 0) -> pa.Table:
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        lang, source = rng.choice([("kk", "text"), ("kk", "book"), ("ru", "news"), ("en", "news")])
        pool = {"kk": KK, "ru": RU, "en": EN}[lang]
        text = " ".join(rng.choice(pool) for _ in range(rng.randint(1, 12)))
        rows.append({"doc_id": hashlib.sha1(f"{i}".encode()).hexdigest()[:16], "source": source, "lang": lang,
                     "text": text})
    return pa.Table.from_pylist(rows)


def write_shards(out_dir, n_docs: int = 400, max_doc_tokens: int = 48, row_group_bytes: int = 2_000,
                 target_bytes: int = 8_000, seed: int = 0) -> tuple[ShardManifest, pa.Table, object]:
    tokenizer = train_bpe(KK * 20 + RU * 10 + EN * 10, vocab_size=500, min_frequency=2)
    docs = documents(n_docs, seed)
    docs = docs.sort_by([("source", "ascending"), ("lang", "ascending"), ("doc_id", "ascending")])
    rows = Tokenize(tokenizer.to_str(), max_doc_tokens)(docs)
    entries, by_source, by_lang = [], Counter(), Counter()
    packer = ShardPacker(str(out_dir), ["source", "lang"],
                         lambda path, e: entries.append(ShardEntry(path=path.rsplit("/", 1)[-1], **e)),
                         target_bytes=target_bytes, row_group_bytes=row_group_bytes)
    for start in range(0, rows.num_rows, 50):
        packer(rows.slice(start, 50))
    packer.close()
    for s, l, n in zip(*(rows.column(c).to_pylist() for c in ("source", "lang", "n_tokens"))):
        by_source[s] += n
        by_lang[l] += n
    text = tokenizer.to_str()
    (out_dir / "tokenizer.json").write_text(text)
    manifest = ShardManifest(tokenizer={"path": "tokenizer.json", "sha256": hashlib.sha256(text.encode()).hexdigest(),
                                        "vocab_size": tokenizer.get_vocab_size(), **special_ids(tokenizer)},
                             shards=entries, created="2026-12-04T00:00:00+00:00", qazflow_version="test",
                             config_hash=f"test-{seed}", by_source=dict(by_source), by_lang=dict(by_lang))
    (out_dir / "manifest.json").write_text(manifest.to_json())
    return manifest, rows, tokenizer
