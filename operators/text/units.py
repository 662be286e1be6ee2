"""Words, lines and paragraphs as the quality filters count them.

Words are Unicode word characters (`\\w` covers Kazakh ә ғ қ ң ө ұ ү һ і like any other
letter), joined across inner hyphens and apostrophes so that "жан-жақты", "2024-2029"
and "don't" are one word each.
"""
from __future__ import annotations

import re

WORD = re.compile(r"\w+(?:[-'’]\w+)*")
PARAGRAPH_BREAK = re.compile(r"\n\s*\n")
# Closing quotes and brackets may follow the mark that ends a sentence: «...келді.»
CLOSERS = "\"'»”’)]"
SENTENCE_MARKS = ".!?…"
ELLIPSIS = ("...", "…")


def words(text: str) -> list[str]:
    return WORD.findall(text)


def lines(text: str) -> list[str]:
    """Non-blank lines, stripped."""
    return [line.strip() for line in text.split("\n") if line.strip()]


def paragraphs(text: str) -> list[str]:
    return [p.strip() for p in PARAGRAPH_BREAK.split(text) if p.strip()]


def ends_sentence(line: str) -> bool:
    return line.rstrip().rstrip(CLOSERS).endswith(tuple(SENTENCE_MARKS))


def ends_with_ellipsis(line: str) -> bool:
    return line.rstrip().rstrip(CLOSERS).endswith(ELLIPSIS)


def has_letter(word: str) -> bool:
    return any(ch.isalpha() for ch in word)
