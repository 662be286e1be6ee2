"""A synthetic web-like corpus from real kk/ru/en sentences, with labelled junk and planted
near-duplicates, for the curation and dedup benchmarks. Pure Python, no qazflow imports,
so both the qazflow venv and the datatrove venv can read what it writes.

Background documents are real sentences (samples/text, plus _common.SEEDS if present) in random
order with ~35% of their content words (4+ letters; function words stay) swapped for
words of the same language from Debian's hunspell word lists (kk_KZ, ru_RU, en_US, drawn
with Zipf weights). The
swap matters: the seed text has only ~60 Kazakh sentences, and documents sharing whole
sentences would be near-duplicates of each other by construction. Every record carries `kind` (good | junk:<type> | dup:<edit>)
and `cluster` (the original's id for planted duplicates and their originals, else null).
"""
from __future__ import annotations

import itertools
import json
import random
import re

import _common as C

LANG_SHARE = {"kk": 0.5, "ru": 0.25, "en": 0.25}
JUNK_SHARE = 0.08
DUP_SHARE = 0.12  # copies, on top of their originals
DUP_EDITS = ["exact", "word_edits", "ocr_noise", "wrap", "truncate"]
JUNK_KINDS = ["menu", "short", "repeated", "hashtags", "bullets", "garbage_chars", "code", "ellipsis"]
SWAP = 0.35  # share of content words (4+ letters) swapped for a dictionary word
DICTIONARIES = {"kk": "/usr/share/hunspell/kk_KZ.dic", "ru": "/usr/share/hunspell/ru_RU.dic",
                "en": "/usr/share/hunspell/en_US.dic"}
TARGET_CHARS = 2000

_TOKEN = re.compile(r"^([«\"(\[]*)(.*?)([»\".,;:!?)\]…]*)$", re.DOTALL)
OCR_CONFUSIONS = {"қ": "к", "ә": "э", "і": "i", "ң": "н", "ө": "о", "ұ": "у", "ү": "у", "ғ": "г", "һ": "h",
                  "е": "c", "о": "0", "л": "п", "и": "н", "ш": "щ", "rn": "m", "l": "1", "e": "c", "a": "o"}
MENUS = {"kk": ["Басты бет", "Жаңалықтар", "Саясат", "Экономика", "Байланыс", "Біз туралы", "Іздеу", "Кіру"],
         "ru": ["Главная", "Новости", "Политика", "Экономика", "Контакты", "О нас", "Поиск", "Войти"],
         "en": ["Home", "News", "Politics", "Business", "Contact", "About us", "Search", "Sign in"]}
FOOTERS = {"kk": ["Барлық құқықтар қорғалған © 2024", "Бөлісу: Facebook Telegram WhatsApp", "Пікір қалдыру"],
           "ru": ["Все права защищены © 2024", "Поделиться: Facebook Telegram WhatsApp", "Оставить комментарий"],
           "en": ["All rights reserved © 2024", "Share: Facebook Telegram WhatsApp", "Leave a comment"]}
READ_MORE = {"kk": "Толығырақ...", "ru": "Читать далее...", "en": "Read more..."}


class CorpusMaker:
    def __init__(self, seed: int = 1234):
        self.rng = random.Random(seed)
        self.sentences = C.sentence_pools()
        self.words = {}
        for lang, pool in self.sentences.items():
            cores = []
            for s in pool:
                for tok in s.split():
                    core = _TOKEN.match(tok).group(2)
                    if core and any(ch.isalpha() for ch in core):
                        cores.append(core.lower())
            self.words[lang] = cores
        # Swapped-in words follow Zipf's law over a shuffled word list (weight 1/(rank+20)):
        # real text repeats its words, and tokenizers with a vocabulary cache (spaCy) would be
        # unfairly slow on a uniform draw where almost every word is new.
        self.dictionary, self.cum_weights = {}, {}
        shuffler = random.Random(seed + 1)
        for lang, path in DICTIONARIES.items():
            with open(path, encoding="utf-8", errors="replace") as f:
                entries = [line.split("/")[0].strip() for line in f]
            words = sorted({w for w in entries if w.isalpha() and w.islower() and 4 <= len(w) <= 14})
            shuffler.shuffle(words)
            self.dictionary[lang] = words
            self.cum_weights[lang] = list(itertools.accumulate(1 / (rank + 20) for rank in range(len(words))))

    # ---------------------------------------------------------------- good ----
    def sentence(self, lang: str) -> str:
        toks = self.rng.choice(self.sentences[lang]).split()
        out = []
        for i, tok in enumerate(toks):
            pre, core, post = _TOKEN.match(tok).groups()
            if core and core.isalpha() and len(core) >= 4 and self.rng.random() < SWAP:
                new = self.rng.choices(self.dictionary[lang], cum_weights=self.cum_weights[lang])[0]
                core = new.capitalize() if i == 0 else new
            out.append(pre + core + post)
        return " ".join(out)

    def good(self, lang: str) -> str:
        paras, size = [], 0
        target = self.rng.randint(int(TARGET_CHARS * 0.7), int(TARGET_CHARS * 1.3))
        while size < target:
            para = " ".join(self.sentence(lang) for _ in range(self.rng.randint(2, 4)))
            paras.append(para)
            size += len(para) + 1
        return "\n".join(paras)

    # ---------------------------------------------------------------- junk ----
    def junk(self, kind: str, lang: str) -> str:
        r = self.rng
        if kind == "menu":
            lines = []
            for _ in range(r.randint(15, 30)):
                lines.append(" | ".join(r.sample(MENUS[lang], r.randint(3, 6))))
                if r.random() < 0.3:
                    lines.append(r.choice(FOOTERS[lang]))
            return "\n".join(lines + [self.sentence(lang)])
        if kind == "short":
            return " ".join(self.sentence(lang) for _ in range(r.randint(1, 2)))
        if kind == "repeated":
            para = " ".join(self.sentence(lang) for _ in range(3))
            return "\n".join([para] * r.randint(4, 7))
        if kind == "hashtags":
            return "\n".join(" ".join("#" + r.choice(self.words[lang]) for _ in range(r.randint(5, 12)))
                             for _ in range(r.randint(10, 25)))
        if kind == "bullets":
            return "\n".join("- " + " ".join(r.choice(self.words[lang]) for _ in range(r.randint(1, 4)))
                             for _ in range(r.randint(30, 60)))
        if kind == "garbage_chars":
            pool = "ҚқӘәІіҢңӨөҰұҮүҺһ.,;:'\"~^`|/\\_-=+*#%0123456789аеоикнтlI1!"
            return "\n".join("".join(r.choice(pool) for _ in range(r.randint(40, 90))) for _ in range(r.randint(15, 30)))
        if kind == "code":
            lines = []
            for i in range(r.randint(20, 40)):
                name = r.choice(self.words["en"])
                lines.append(r.choice([f"function {name}_{i}(a, b) {{", f"  var {name} = document.getElementById('{name}');",
                                       "  if (a > b) { return a; }", "}", f".{name} {{ color: #333; margin: 0 auto; }}",
                                       f"  console.log('{name}', {i});"]))
            return "\n".join(lines)
        if kind == "ellipsis":
            return "\n".join(self.sentence(lang)[: r.randint(40, 90)].rstrip() + "... " + READ_MORE[lang]
                             for _ in range(r.randint(12, 25)))
        raise ValueError(kind)

    # ---------------------------------------------------------- duplicates ----
    def edit(self, text: str, kind: str, lang: str) -> str:
        r = self.rng
        if kind == "exact":
            return text
        if kind == "word_edits":  # ~10% of words replaced
            toks = text.split(" ")
            for i in r.sample(range(len(toks)), max(1, len(toks) // 10)):
                pre, core, post = _TOKEN.match(toks[i]).groups()
                toks[i] = pre + r.choice(self.words[lang]) + post
            return " ".join(toks)
        if kind == "ocr_noise":  # ~2% of characters swapped for an OCR confusion
            chars = list(text)
            positions = [i for i, ch in enumerate(chars) if ch.lower() in OCR_CONFUSIONS]
            for i in r.sample(positions, min(len(positions), max(1, len(chars) // 50))):
                chars[i] = OCR_CONFUSIONS[chars[i].lower()]
            return "".join(chars)
        if kind == "wrap":  # a different site's header and footer around the same article
            head = " | ".join(r.sample(MENUS[lang], 5))
            return "\n".join([head, *text.split("\n"), *r.sample(FOOTERS[lang], 2)])
        if kind == "truncate":  # the last ~20% cut
            return text[: int(len(text) * 0.8)].rsplit(" ", 1)[0]
        raise ValueError(kind)

    # -------------------------------------------------------------- corpus ----
    def make(self, n: int) -> list[dict]:
        r = self.rng
        n_dup = int(n * DUP_SHARE)
        n_junk = int(n * JUNK_SHARE)
        n_good = n - n_dup - n_junk
        langs = list(LANG_SHARE)
        weights = list(LANG_SHARE.values())
        docs = []
        for i in range(n_good):
            lang = r.choices(langs, weights)[0]
            docs.append({"text": self.good(lang), "lang": lang, "kind": "good", "cluster": None})
        for i in range(n_junk):
            lang = r.choices(langs, weights)[0]
            kind = JUNK_KINDS[i % len(JUNK_KINDS)]
            docs.append({"text": self.junk(kind, lang), "lang": lang, "kind": f"junk:{kind}", "cluster": None})
        originals = r.sample(range(n_good), n_dup)  # one copy each
        for j, o in enumerate(originals):
            kind = DUP_EDITS[j % len(DUP_EDITS)]
            src = docs[o]
            docs.append({"text": self.edit(src["text"], kind, src["lang"]), "lang": src["lang"], "kind": f"dup:{kind}",
                         "cluster": o})
        order = list(range(len(docs)))
        r.shuffle(order)
        ids = {old: f"doc{new:06d}" for new, old in enumerate(order)}
        for old, doc in enumerate(docs):
            doc["id"] = ids[old]
        for o in originals:
            docs[o]["cluster"] = o
        for doc in docs:
            if doc["cluster"] is not None:
                doc["cluster"] = ids[doc["cluster"]]
        return sorted(docs, key=lambda d: d["id"])


def write_jsonl(docs: list[dict], path) -> None:
    with open(path, "w", encoding="utf-8") as f:
        for d in docs:
            f.write(json.dumps({"id": d["id"], "text": d["text"], "lang": d["lang"], "kind": d["kind"],
                                "cluster": d["cluster"]}, ensure_ascii=False) + "\n")
