"""Is a page's text layer legible? Pages that pass are read, never OCR'd.

Old scans often carry an invisible OCR layer of garbage; a page passes only when its
text looks like language: enough letters, few replacement or private-use characters,
and words of plausible length.
"""
from __future__ import annotations

import re
import unicodedata

_WORD = re.compile(r"[^\W\d_]+")


def text_layer_verdict(text: str, min_chars: int = 30, min_letter_share: float = 0.55,
                       max_bad_share: float = 0.02, mean_word_len: tuple[float, float] = (2.0, 15.0)) -> tuple[bool, str]:
    stripped = "".join(text.split())
    if len(stripped) < min_chars:
        return False, f"text layer has {len(stripped)} chars < {min_chars}"
    letters = sum(ch.isalpha() for ch in stripped)
    bad = sum(ch == "\ufffd" or unicodedata.category(ch) in ("Co", "Cn", "Cc") for ch in stripped)
    if letters / len(stripped) < min_letter_share:
        return False, f"letter share {letters / len(stripped):.2f} < {min_letter_share}"
    if bad / len(stripped) > max_bad_share:
        return False, f"unreadable-char share {bad / len(stripped):.2f} > {max_bad_share}"
    words = _WORD.findall(text)
    mean = sum(map(len, words)) / max(len(words), 1)
    if not mean_word_len[0] <= mean <= mean_word_len[1]:
        return False, f"mean word length {mean:.1f} outside {mean_word_len}"
    return True, "legible text layer"
