"""Is a page's text layer legible? Pages that pass are read, never OCR'd.

Old scans often carry an invisible OCR layer of garbage; a page passes only when its
text looks like language: enough letters, few replacement or private-use characters,
words of plausible length, text not decoded with the wrong code page, and words that
can be pronounced. Each test is cheap and script-level, so it holds for kk, ru and en
alike (no word lists to load for every page).
"""
from __future__ import annotations

import re
import unicodedata
from collections import Counter

from operators.text.mojibake import repair_mojibake

_WORD = re.compile(r"[^\W\d_]+")
_LONG_WORD = re.compile(r"[^\W\d_]{3,}")
_URL = re.compile(r"\S*(?:https?://|www\.|@)\S*")
_CYRILLIC = "а-яёәғқңөұүһі"
_CYRILLIC_VOWELS = "аәеёиоөуұүыіэюя"
_LATIN_VOWELS = "aeiouyäöüıàáâãåèéêëìíîïòóôõùúû"
# Four consonants in a row are rare in Kazakh and Russian words ("вств" is the common
# exception), five in English ("ngths"); letters an old OCR layer strung together at
# random have such runs, or no vowel at all, in a quarter to a half of their words.
_CYRILLIC_CLUSTER = re.compile(f"(?:(?![{_CYRILLIC_VOWELS}])[{_CYRILLIC}]){{4,}}")
_LATIN_CLUSTER = re.compile(f"(?:(?![{_LATIN_VOWELS}])[a-z]){{5,}}")
_IS_CYRILLIC = re.compile(f"[{_CYRILLIC}]")


def implausible_word_share(text: str) -> float:
    """Share of words (3+ letters; not abbreviations, URLs or e-mails) nobody could say."""
    if "://" in text or "www." in text or "@" in text:  # the URL regex is slow where it cannot match
        text = _URL.sub(" ", text)
    words = Counter(w.lower() for w in _LONG_WORD.findall(text) if not w.isupper())
    bad = 0
    for word, n in words.items():  # a page says most of its words more than once: each is judged once
        vowels, cluster = (_CYRILLIC_VOWELS, _CYRILLIC_CLUSTER) if _IS_CYRILLIC.search(word) else \
            (_LATIN_VOWELS, _LATIN_CLUSTER)
        if not any(ch in vowels for ch in word) or cluster.search(word) is not None:
            bad += n
    return bad / max(words.total(), 1)


def misdecoded_line_share(text: str) -> float:
    """Share of lines that are mojibake (UTF-8 or cp1251 bytes read with another code page)."""
    lines = [line for line in text.split("\n") if line.strip()]
    return repair_mojibake("\n".join(lines))[1] / max(len(lines), 1)


def text_layer_verdict(text: str, min_chars: int = 30, min_letter_share: float = 0.55,
                       max_bad_share: float = 0.02, max_misdecoded_share: float = 0.2,
                       max_implausible_share: float = 0.15,
                       mean_word_len: tuple[float, float] = (2.0, 15.0)) -> tuple[bool, str]:
    # Characters other than whitespace (what str.split() drops), each kind judged once: a
    # page of 2,000 characters has a hundred kinds.
    kinds = Counter(text)
    chars = letters = bad = 0
    for ch, n in kinds.items():
        if ch.isspace():
            continue
        chars += n
        letters += n if ch.isalpha() else 0
        bad += n if ch == "\ufffd" or unicodedata.category(ch) in ("Co", "Cn", "Cc") else 0
    if chars < min_chars:
        return False, f"text layer has {chars} chars < {min_chars}"
    if letters / chars < min_letter_share:
        return False, f"letter share {letters / chars:.2f} < {min_letter_share}"
    if bad / chars > max_bad_share:
        return False, f"unreadable-char share {bad / chars:.2f} > {max_bad_share}"
    words = _WORD.findall(text)
    mean = sum(map(len, words)) / max(len(words), 1)
    if not mean_word_len[0] <= mean <= mean_word_len[1]:
        return False, f"mean word length {mean:.1f} outside {mean_word_len}"
    if (share := misdecoded_line_share(text)) > max_misdecoded_share:
        return False, f"mis-decoded (mojibake) line share {share:.2f} > {max_misdecoded_share}"
    if (share := implausible_word_share(text)) > max_implausible_share:
        return False, f"unpronounceable word share {share:.2f} > {max_implausible_share}"
    return True, "legible text layer"
