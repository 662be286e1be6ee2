"""Quality of OCR'd books: engine confidence, garbage characters, dictionary hit rate.

Only documents of the configured sources (books) are judged; the others pass with null
signals. A rule that cannot run (no confidence recorded, no dictionary for the language,
a dictionary file missing) is skipped and named in `ocr_rules_skipped`, never a crash.
"""
from __future__ import annotations

import re

import pyarrow as pa

from operators.base import DocumentFilter
from operators.text.dictionary import HunspellWords
from operators.text.perlang import PerLanguage
from operators.text.rules import above, below, first_failure, ratio

HUNSPELL_DICTIONARIES = {
    "kk": "/usr/share/hunspell/kk_KZ.dic",
    "ru": "/usr/share/hunspell/ru_RU.dic",
    "en": "/usr/share/hunspell/en_US.dic",
}
SCRIPT_LETTERS = {"cyrillic": "\u0400-\u052f", "latin": "A-Za-z\u00c0-\u024f"}
# Punctuation of ordinary kk/ru/en print. What OCR makes of specks and broken glyphs
# (| ~ ^ ¦ ¬ \ _ { }, stray Greek or box-drawing characters) is not here.
COMMON_PUNCTUATION = ".,;:!?()[]«»\"'“”„‘’‹›-‐‑–—/%‰№§*+=<>&@#$€₽₸°…•·"
LETTER_RUN = re.compile(r"[^\W\d_]+")


def garbage_pattern(scripts: tuple[str, ...]) -> re.Pattern:
    letters = "".join(SCRIPT_LETTERS[script] for script in scripts)
    return re.compile(f"[^\\s\\d{letters}{re.escape(COMMON_PUNCTUATION)}]")


class OcrQuality(DocumentFilter):
    """Rejects books whose OCR is poor: low mean confidence, many garbage characters,
    or few words a dictionary of the document's language knows."""

    signals = {"ocr_garbage_ratio": pa.float32(), "ocr_dict_hit_rate": pa.float32(), "ocr_rules_skipped": pa.string()}

    # The OCR engine's mean word confidence (0..100, as the page schema records it):
    # where a book averages under 60, most of its words are misread.
    MIN_OCR_CONFIDENCE = 60.0
    MAX_GARBAGE_RATIO = 0.05
    # Clean print hits 0.9+ in every language; garbled OCR stays under 0.1. hunspell-kk
    # is smaller and Kazakh books name many people and places, so kk gets more room.
    MIN_DICT_HIT_RATE = {"default": 0.6, "kk": 0.5}
    # Latin is native to English; Kazakh and Russian books quote Latin-script names.
    SCRIPTS = {"default": ("cyrillic", "latin"), "en": ("latin",)}

    def __init__(self, sources=("book",), min_ocr_confidence=MIN_OCR_CONFIDENCE, max_garbage_ratio=MAX_GARBAGE_RATIO,
                 min_dict_hit_rate=MIN_DICT_HIT_RATE, dictionaries=HUNSPELL_DICTIONARIES, min_stem_length: int = 4,
                 scripts=SCRIPTS):
        self.sources = set(sources)
        self.min_ocr_confidence = PerLanguage(min_ocr_confidence, self.MIN_OCR_CONFIDENCE)
        self.max_garbage_ratio = PerLanguage(max_garbage_ratio, self.MAX_GARBAGE_RATIO)
        self.min_dict_hit_rate = PerLanguage(min_dict_hit_rate, self.MIN_DICT_HIT_RATE)
        self.garbage = PerLanguage(scripts, self.SCRIPTS).map(lambda names: garbage_pattern(tuple(names)))
        self.dictionaries: dict[str, HunspellWords] = {}
        self.unloaded: dict[str, str] = {}
        for lang, path in dict(dictionaries or {}).items():
            try:
                self.dictionaries[lang] = HunspellWords.load(path, min_stem_length)
            except (OSError, LookupError, re.error) as exc:  # unreadable, unknown SET encoding, bad rule
                self.unloaded[lang] = f"{path}: {type(exc).__name__}"

    def dictionary_hit_rate(self, text: str, lang: str | None) -> tuple[float | None, str | None]:
        """The share of words in the language's letters that its dictionary knows, or why not known."""
        words = self.dictionaries.get(lang)
        if words is None:
            return None, f"dictionary: {self.unloaded.get(lang, f'none for lang {lang}')}"
        spelled = [token for token in LETTER_RUN.findall(text) if words.can_spell(token)]
        if not spelled:
            return None, f"dictionary: no words in {lang} letters"
        return ratio(sum(token in words for token in spelled), len(spelled)), None

    def filter(self, doc: dict):
        if doc.get("source") not in self.sources:
            doc.update(dict.fromkeys(self.signals))
            return True
        text, lang = doc["text"], doc.get("lang")
        confidence = doc.get("ocr_confidence")
        hit_rate, dictionary_skipped = self.dictionary_hit_rate(text, lang)
        skipped = ["confidence: none recorded"] if confidence is None else []
        skipped += [dictionary_skipped] if dictionary_skipped else []
        visible = sum(not ch.isspace() for ch in text)
        doc["ocr_garbage_ratio"] = garbage = ratio(len(self.garbage(lang).findall(text)), visible)
        doc["ocr_dict_hit_rate"] = hit_rate
        doc["ocr_rules_skipped"] = "; ".join(skipped) or None
        return first_failure((
            None if confidence is None else below("ocr_confidence", confidence, self.min_ocr_confidence(lang)),
            above("garbage_ratio", garbage, self.max_garbage_ratio(lang)),
            None if hit_rate is None else below(f"dict_hit_rate[{lang}]", hit_rate, self.min_dict_hit_rate(lang)),
        ))
