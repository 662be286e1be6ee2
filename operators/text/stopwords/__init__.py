"""Stop-word lists, written for this project (no download at run time).

Gopher's stop-word rule keeps a document only if it reads like running prose in its
language: prose is full of function words, keyword lists and menus are not. Documents of
another or an unknown language are checked against the union of all lists.
"""
from __future__ import annotations

from operators.text.perlang import DEFAULT
from operators.text.stopwords import en, kk, ru

STOP_WORDS: dict[str, frozenset[str]] = {"kk": kk.WORDS, "ru": ru.WORDS, "en": en.WORDS}
STOP_WORDS[DEFAULT] = frozenset().union(*STOP_WORDS.values())


def stop_words(lang: str | None) -> frozenset[str]:
    return STOP_WORDS.get(lang or DEFAULT, STOP_WORDS[DEFAULT])
