"""Labelled kk / ru / uk / ky / tt / ba / uz / be / mn text from sources installed here,
none of them the repository's samples nor the data qazflow's language ID uses
(hunspell word lists), so a figure measured on it says how the operator does on text
it has never seen:

- Thunderbird's language packs (Debian `thunderbird-l10n-{kk,ru,uk,be}`): real UI
  sentences and labels, Fluent / .properties / .dtd strings.
- CLDR through `babel`: names of languages, countries, months, days, in each language
  (the only source here with Bashkir and Tatar).
- Tesseract's own LSTM word lists (Debian `tesseract-ocr-{kaz,kir,tat,ukr,...}`),
  unpacked with `combine_tessdata` and `dawg2wordlist`; words also in the Russian list
  are dropped from the other languages' lists (those lists carry Russian loans and
  names), and so are words with a letter only other alphabets have (ADDED_LETTERS).

Short texts are under 60 characters (labels, headlines, captions); long texts are
paragraphs of at least 200 characters.
"""
from __future__ import annotations

import functools
import glob
import os
import random
import re
import subprocess
import tempfile
import zipfile

THUNDERBIRD = "/usr/lib/thunderbird/extensions/langpack-{lang}@thunderbird.mozilla.org.xpi"
TESSDATA = "/usr/share/tesseract-ocr/5/tessdata"
TESSERACT_CODES = {"kk": "kaz", "ru": "rus", "uk": "ukr", "ky": "kir", "tt": "tat", "uz": "uzb_cyrl",
                   "be": "bel", "mn": "mon"}
CLDR_CODES = {"kk": "kk", "ru": "ru", "uk": "uk", "ky": "ky", "tt": "tt", "ba": "ba", "uz": "uz_Cyrl",
              "be": "be", "mn": "mn"}
# Letters each alphabet adds to Russian's. Tesseract's lists carry words of neighbouring
# languages (its kaz list has Bashkir words with ҡ ҙ): a word with a letter only other
# alphabets add is not in the list's language, and is dropped. (Written out here, not taken
# from operators/text/kazakh_lid.py, so that the eval does not lean on the operator's tables.)
ADDED_LETTERS = {"kk": "әғқңөұүһі", "ky": "ңөү", "tt": "әөүҗңһ", "ba": "әөүғҡңҙҫһ", "uz": "ғқўҳ", "uk": "іїєґ",
                 "be": "іў", "mn": "өү", "ru": ""}
SHORT_MAX = 60
LONG_MIN = 200

_FTL_VALUE = re.compile(r"^\s*(?:[\w.-]+|\.[\w-]+)\s*=\s*(.+)$")
_PROPERTIES_VALUE = re.compile(r"^\s*[\w.-]+\s*=\s*(.+)$")
_DTD_VALUE = re.compile(r'<!ENTITY\s+\S+\s+"([^"]*)"')
_PLACEHOLDER = re.compile(r"\{[^{}]*\}|%(?:\d\$)?[sSdu]|&[\w.-]+;|<[^>]+>|\\n")
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")


def _clean(value: str) -> str:
    return " ".join(_PLACEHOLDER.sub(" ", value).replace("*[other]", " ").split()).strip(" -–:;,")


@functools.cache
def thunderbird_strings(lang: str) -> tuple[str, ...]:
    path = THUNDERBIRD.format(lang=lang)
    if not os.path.exists(path):
        return ()
    seen: dict[str, None] = {}
    with zipfile.ZipFile(path) as pack:
        for name in sorted(pack.namelist()):
            if not name.endswith((".ftl", ".properties", ".dtd")):
                continue
            text = pack.read(name).decode("utf-8", errors="replace")
            if name.endswith(".dtd"):
                values = _DTD_VALUE.findall(text)
            else:
                pattern = _FTL_VALUE if name.endswith(".ftl") else _PROPERTIES_VALUE
                values = [m.group(1) for line in text.splitlines() if (m := pattern.match(line))]
            for value in values:
                value = _clean(value)
                # Real words in Cyrillic, not a key, a URL or a brand name alone.
                if len(_CYRILLIC.findall(value)) >= 4 and "://" not in value:
                    seen.setdefault(value)
    return tuple(seen)


@functools.cache
def cldr_names(lang: str) -> tuple[str, ...]:
    from babel import Locale

    locale = Locale.parse(CLDR_CODES[lang])
    names = [*locale.languages.values(), *locale.territories.values(), *locale.scripts.values(),
             *locale.months["format"]["wide"].values(), *locale.days["format"]["wide"].values()]
    return tuple(dict.fromkeys(n for n in names if len(_CYRILLIC.findall(n)) >= 4))


@functools.cache
def tesseract_words(lang: str) -> tuple[str, ...]:
    code = TESSERACT_CODES.get(lang)
    if not code or not os.path.exists(f"{TESSDATA}/{code}.traineddata"):
        return ()
    with tempfile.TemporaryDirectory() as tmp:
        prefix = os.path.join(tmp, code + ".")
        subprocess.run(["combine_tessdata", "-u", f"{TESSDATA}/{code}.traineddata", prefix],
                       capture_output=True, check=True)
        out = os.path.join(tmp, "words.txt")
        subprocess.run(["dawg2wordlist", prefix + "lstm-unicharset", prefix + "lstm-word-dawg", out],
                       capture_output=True, check=True)
        with open(out, encoding="utf-8") as f:
            words = {w.strip().lower() for w in f}
    foreign = set("".join(ADDED_LETTERS.values())) - set(ADDED_LETTERS[lang])
    words = {w for w in words if w.isalpha() and len(w) >= 2 and _CYRILLIC.search(w) and not foreign & set(w)}
    if lang != "ru":
        words -= set(tesseract_words("ru"))
    return tuple(sorted(words))


def _paragraphs(strings: list[str], rng: random.Random, n: int, separator: str = " ") -> list[str]:
    out = []
    for _ in range(n):
        parts, size = [], 0
        while size < LONG_MIN:
            part = rng.choice(strings)
            parts.append(part)
            size += len(part) + 1
        out.append(separator.join(parts))
    return out


def samples(lang: str, n: int = 400, seed: int = 0) -> dict[str, list[tuple[str, str]]]:
    """{"short": [(source, text)], "long": [...]} for one language, at most n per source and length."""
    rng = random.Random(f"{seed}:{lang}")
    short: list[tuple[str, str]] = []
    long: list[tuple[str, str]] = []

    def add(source: str, shorts: list[str], longs: list[str]):
        short.extend((source, s) for s in shorts)
        long.extend((source, s) for s in longs)

    ui = list(thunderbird_strings(lang))
    if ui:
        shorts = [s for s in ui if len(s) < SHORT_MAX]
        sentences = [s for s in ui if len(s) >= 20]
        add("thunderbird", rng.sample(shorts, min(n, len(shorts))), _paragraphs(sentences, rng, n))
    names = list(cldr_names(lang))
    if names:
        add("cldr", rng.sample(names, min(n, len(names))), _paragraphs(names, rng, n // 2, ", "))
    words = list(tesseract_words(lang))
    if words:
        shorts = [" ".join(rng.sample(words, rng.randint(2, 5)))[:SHORT_MAX] for _ in range(n)]
        add("tesseract", [s for s in shorts if len(s) < SHORT_MAX], _paragraphs(words, rng, n))
    return {"short": short, "long": long}


LANGUAGES = ("kk", "ru", "uk", "ky", "tt", "ba", "uz", "be", "mn")


def available() -> dict[str, list[str]]:
    """Which sources each language has on this machine (packages may be missing)."""
    found = {}
    for lang in LANGUAGES:
        found[lang] = [name for name, ok in (("thunderbird", bool(thunderbird_strings(lang))),
                                             ("cldr", True), ("tesseract", bool(tesseract_words(lang)))) if ok]
    return found


if __name__ == "__main__":
    for lang in LANGUAGES:
        s = samples(lang, 5)
        print(lang, {k: len(v) for k, v in s.items()}, s["short"][:2], s["long"][:1])
    print(glob.glob(THUNDERBIRD.format(lang="*")))
