"""Repairs Kazakh typed in the legacy KZ-1048 code page and read as Windows-1251.

KZ-1048 (STRK 1048, the Kazakh standard single-byte page) is cp1251 with the Kazakh
letters on the positions of Serbian, Macedonian, Ukrainian and Belarusian letters. Read
as cp1251, "Қазақстан" becomes "Ќазаќстан" and "әлем" becomes "јлем". The positions are
real letters of other languages, so the remap is applied only to a whole document that
looks like such Kazakh:
- it has no genuine Kazakh letters (ә ғ қ ң ө ұ ү һ) at all,
- it has і, which KZ-1048 keeps on cp1251's own position and every Kazakh text uses,
  while Serbian and Macedonian (ј ћ ќ ѕ) never do,
- at least two of ќ ћ ј ѕ ў appear, which Ukrainian (є ї ґ) and Belarusian (ў) do not
  combine,
- and a real share of its Cyrillic words carry such letters.
"""
from __future__ import annotations

import re


def _misread_letters() -> dict[str, str]:
    table = {}
    for value in range(0x80, 0xC0):
        byte = bytes([value])
        shown, meant = byte.decode("cp1251", errors="ignore"), byte.decode("kz1048", errors="ignore")
        if shown != meant and meant.isalpha():
            table[shown] = meant
    return table


MISREAD = _misread_letters()
MISREAD_RE = re.compile("[" + "".join(MISREAD) + "]")
KAZAKH_MARKERS = set("ќћјѕў")
KAZAKH_LETTERS = re.compile("[әғқңөұүһӘҒҚҢӨҰҮҺ]")
KAZAKH_I = re.compile("[іІ]")
CYRILLIC_WORD = re.compile(r"\w*[\u0400-\u04ff]\w*")


def looks_like_kz1048(text: str, min_word_share: float) -> bool:
    if KAZAKH_LETTERS.search(text) or not KAZAKH_I.search(text):
        return False
    markers = {ch.lower() for ch in MISREAD_RE.findall(text)} & KAZAKH_MARKERS
    if len(markers) < 2:
        return False
    cyrillic_words = CYRILLIC_WORD.findall(text)
    with_legacy = sum(1 for word in cyrillic_words if MISREAD_RE.search(word))
    return with_legacy >= min_word_share * len(cyrillic_words)


def repair_legacy_kz(text: str, min_word_share: float = 0.05) -> tuple[str, int]:
    """Returns the repaired text and the number of letters remapped."""
    if not looks_like_kz1048(text, min_word_share):
        return text, 0
    return MISREAD_RE.subn(lambda m: MISREAD[m.group()], text)
