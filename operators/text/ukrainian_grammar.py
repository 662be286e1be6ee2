"""Ukrainian readings that Ukrainian grammar does not allow: a locative without a preposition.

Kazakh's possessive -і ("ява тілі", "CSR алгоритмі", "аудио декодері": its language, its
algorithm, its decoder) makes word forms that Ukrainian has too, as locatives ("у тілі",
"в алгоритмі"), so Ukrainian's word list knows them and lid.176 reads them as Ukrainian.
But Ukrainian uses the locative only after a preposition (в/у, на, по, при, о/об): a word
that can only be a locative, with no word before it that can be a preposition, is no
Ukrainian word in that text.

The word forms and their cases come from pymorphy3's Ukrainian dictionary (VESUM); words
it does not know are never counted as bare locatives.
"""
from __future__ import annotations

import functools


@functools.cache
def _analyzer():
    import pymorphy3  # loaded once per process, on the first short text that needs it

    return pymorphy3.MorphAnalyzer(lang="uk")


@functools.lru_cache(maxsize=65536)  # a text's words are looked up by several rules, and words recur
def only_locative(word: str) -> bool:
    """Every reading the dictionary has of `word` is a locative ("тілі", "алгоритмі";
    not "панелі", which is also a genitive, dative and plural)."""
    parses = [p for p in _analyzer().parse(word) if p.is_known]
    return bool(parses) and all(p.tag.case == "loct" for p in parses)


@functools.lru_cache(maxsize=65536)
def may_be_preposition(word: str) -> bool:
    return any(p.tag.POS == "PREP" for p in _analyzer().parse(word))


def bare_locatives(words: list[str]) -> set[int]:
    """Positions of the words (lower case) that Ukrainian could read only as locatives
    and that have no possible preposition anywhere before them."""
    bare = set()
    for i, word in enumerate(words):
        if may_be_preposition(word):
            break  # every later word may be governed by it
        if word.endswith("і") and only_locative(word):  # Ukrainian locatives a Kazakh word can look like
            bare.add(i)
    return bare
