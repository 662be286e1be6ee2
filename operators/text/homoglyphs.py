"""Replaces Latin look-alike letters inside Cyrillic words.

Kazakh was long typed on keyboards without і, һ, ә, ө, so people used the Latin letters
that look the same ("бiлiм", "Қaзақстан"); OCR mixes them up too. Such words break
tokenization, deduplication and dictionary lookups. A word is repaired only when it has
Cyrillic letters, every Latin letter in it has a Cyrillic twin, and it does not begin
with two Latin letters (a Latin name or acronym with a Kazakh or Russian suffix:
"AIжүйесі", "Cocaны"). Words without Cyrillic ("Python", "iPhone") are never touched.
"""
from __future__ import annotations

import re

LATIN_TO_CYRILLIC = {
    "a": "а", "c": "с", "e": "е", "o": "о", "p": "р", "x": "х", "y": "у", "k": "к",
    "i": "і", "h": "һ",
    "A": "А", "B": "В", "C": "С", "E": "Е", "H": "Н", "I": "І", "K": "К", "M": "М",
    "O": "О", "P": "Р", "T": "Т", "X": "Х", "Y": "У",
    # Schwa and barred o of Latin-script Turkic keyboards stand in for ә and ө.
    "ə": "ә", "Ə": "Ә", "ɵ": "ө", "Ɵ": "Ө",
}
LETTER_RUN = re.compile(r"[^\W\d_]+")
CYRILLIC = re.compile("[\u0400-\u052f]")
LATIN = re.compile("[A-Za-z\u00c0-\u024f\u0259\u0275]")
LATIN_NAME_WITH_SUFFIX = re.compile("[A-Za-z]{2}")


def _repair_word(match: re.Match) -> str:
    word = match.group()
    latin = LATIN.findall(word)
    if not latin or not CYRILLIC.search(word) or LATIN_NAME_WITH_SUFFIX.match(word):
        return word
    if not all(ch in LATIN_TO_CYRILLIC for ch in latin):
        return word
    return "".join(LATIN_TO_CYRILLIC.get(ch, ch) for ch in word)


def repair_homoglyphs(text: str) -> tuple[str, int]:
    """Returns the repaired text and the number of letters replaced."""
    if not LATIN.search(text) or not CYRILLIC.search(text):
        return text, 0  # a mixed word needs both alphabets in the text
    count = 0

    def repair(match: re.Match) -> str:
        nonlocal count
        word = match.group()
        fixed = _repair_word(match)
        if fixed != word:
            count += sum(a != b for a, b in zip(fixed, word))
        return fixed

    return LETTER_RUN.sub(repair, text), count
