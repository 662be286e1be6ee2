"""Latin acronyms that OCR with Cyrillic models wrote in Cyrillic letters.

Tesseract reading with kaz+rus models writes "MIT" and "API" as "МІТ" and "АРІ": every
capital has a Cyrillic twin of the same shape (А В Е І К М Н О Р С Т Х У), and no glyph can
tell them apart. The text then carries a false Kazakh letter І, and the word is neither
Kazakh, Russian nor English to the tools that read the corpus next.

Context decides instead: an all-capital word written only in twin letters goes back to Latin
when it has an І (Russian never writes І, and Kazakh acronyms with one, "ІІМ", are not
English acronyms), the English list has its Latin twin as a capitalised acronym ("MIT",
"API", "IBM"), and the Kazakh list does not know it. A Cyrillic acronym without І ("ВВС",
the Russian air force) stays as read, though English has "BBC".
"""
from __future__ import annotations

import functools
import re

from operators.text.dictionary import HunspellWords, aff_encoding, dic_entries

TWINS = str.maketrans("АВЕІКМНОРСТХУ", "ABEIKMHOPCTXY")
CANDIDATE = re.compile(r"(?<![^\W\d_])[АВЕІКМНОРСТХУ]*І[АВЕІКМНОРСТХУ]*(?![^\W\d_])")


@functools.cache
def capital_acronyms(dic_path: str) -> frozenset[str]:
    """The entries of a hunspell list written all in capitals, as written ("MIT", "IBM"), of two
    letters at least: a lone І (a Roman one, "І тарау") never matches."""
    entries = dic_entries(dic_path, aff_encoding(dic_path.removesuffix(".dic") + ".aff"))
    return frozenset(stem for stem, _ in entries if len(stem) > 1 and stem.isalpha() and stem.isupper())


class LatinAcronyms:
    def __init__(self, english: frozenset[str], kazakh: HunspellWords | None = None):
        self.english, self.kazakh = english, kazakh

    @classmethod
    def load(cls, english_dic: str, kazakh_dic: str | None = None) -> LatinAcronyms:
        return cls(capital_acronyms(english_dic), HunspellWords.load(kazakh_dic) if kazakh_dic else None)

    def __call__(self, text: str) -> tuple[str, int]:
        """(text with such acronyms in Latin letters, letters rewritten)."""
        count = 0

        def latin(match: re.Match) -> str:
            nonlocal count
            word = match.group()
            twin = word.translate(TWINS)
            if twin not in self.english or (self.kazakh is not None and word in self.kazakh):
                return word
            count += len(word)
            return twin

        return CANDIDATE.sub(latin, text), count
