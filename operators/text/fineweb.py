"""FineWeb's line-level quality rules (Penedo et al. 2024), per language.

FineWeb replaced C4's removal of unpunctuated lines by a document-level ratio, and added
rules against duplicated lines and list-like pages. Defaults are FineWeb's.
"""
from __future__ import annotations

import pyarrow as pa

from operators.base import DocumentFilter
from operators.text.gopher import duplicates
from operators.text.perlang import PerLanguage
from operators.text.rules import above, below, first_failure, ratio
from operators.text.units import ends_sentence, lines, words


class FineWebQuality(DocumentFilter):
    """Rejects pages whose lines rarely end a sentence, are mostly short, repeat each
    other, or are so many per word that the page is a list."""

    signals = {
        "fineweb_line_punct_ratio": pa.float32(),
        "fineweb_short_line_ratio": pa.float32(),
        "fineweb_dup_line_chars": pa.float32(),
        "fineweb_lines_per_word": pa.float32(),
    }

    MIN_LINE_PUNCT_RATIO = 0.12
    MAX_SHORT_LINE_RATIO = 0.67
    SHORT_LINE_CHARS = 30
    MAX_DUP_LINE_CHARS = 0.01
    # FineWeb counts "\n" per word on text with one "\n" between paragraphs; non-blank
    # lines are counted here, so books with blank lines between paragraphs score the
    # same. A Kazakh line says in fewer (longer) words what a Russian or English one
    # says, so the same layout has more lines per word.
    MAX_LINES_PER_WORD = {"default": 0.3, "kk": 0.4}

    def __init__(self, min_line_punct_ratio=MIN_LINE_PUNCT_RATIO, max_short_line_ratio=MAX_SHORT_LINE_RATIO,
                 short_line_chars=SHORT_LINE_CHARS, max_dup_line_chars=MAX_DUP_LINE_CHARS,
                 max_lines_per_word=MAX_LINES_PER_WORD):
        self.min_line_punct_ratio = PerLanguage(min_line_punct_ratio, self.MIN_LINE_PUNCT_RATIO)
        self.max_short_line_ratio = PerLanguage(max_short_line_ratio, self.MAX_SHORT_LINE_RATIO)
        self.short_line_chars = PerLanguage(short_line_chars, self.SHORT_LINE_CHARS)
        self.max_dup_line_chars = PerLanguage(max_dup_line_chars, self.MAX_DUP_LINE_CHARS)
        self.max_lines_per_word = PerLanguage(max_lines_per_word, self.MAX_LINES_PER_WORD)

    def filter(self, doc: dict):
        text, lang = doc["text"], doc.get("lang")
        text_lines = lines(text)
        _, dup_chars = duplicates(text_lines)
        doc["fineweb_line_punct_ratio"] = punct = ratio(sum(map(ends_sentence, text_lines)), len(text_lines))
        doc["fineweb_short_line_ratio"] = short = ratio(
            sum(len(line) <= self.short_line_chars(lang) for line in text_lines), len(text_lines))
        doc["fineweb_dup_line_chars"] = dup = ratio(dup_chars, len(text.replace("\n", "")))
        doc["fineweb_lines_per_word"] = per_word = ratio(len(text_lines), len(words(text)))
        return first_failure((
            below("line_punct_ratio", punct, self.min_line_punct_ratio(lang)),
            above("short_line_ratio", short, self.max_short_line_ratio(lang)),
            above("dup_line_chars", dup, self.max_dup_line_chars(lang)),
            above("lines_per_word", per_word, self.max_lines_per_word(lang)),
        ))
