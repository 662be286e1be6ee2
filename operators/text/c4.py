"""C4's heuristics (Raffel et al. 2020), split in two as the rest of the chain is:

- `C4Quality` rejects a whole document: lorem ipsum, code (curly brackets), or too few
  sentences left once the line rules have run. Run it before `C4Lines`, which removes
  the very lines (code, menus) that betray such documents.
- `C4Lines` removes the lines web boilerplate is made of: no sentence ending, too few
  words, "javascript", cookie and legal notices, absurdly long "words"; and wiki
  citation marks. It counts what it removed.
"""
from __future__ import annotations

import re
from collections import Counter

import pyarrow as pa

from operators.base import DocumentFilter, DocumentOperator
from operators.text.perlang import PerLanguage
from operators.text.rules import above, below, first_failure, ratio
from operators.text.units import ends_sentence, ends_with_ellipsis, lines, words

# Web pages mix languages (a Kazakh page with a Russian cookie banner), so every list
# applies to every document.
POLICY_PHRASES = (
    "terms of use", "privacy policy", "cookie policy", "uses cookies", "use of cookies", "use cookies",
    "all rights reserved",
    "политика конфиденциальности", "пользовательское соглашение", "условия использования",
    "файлы cookie", "файлов cookie", "использует cookie", "все права защищены",
    "cookie файлдары", "құпиялылық саясаты", "пайдаланушы келісімі",
    "пайдалану шарттары", "барлық құқықтар қорғалған",
)
CITATION = re.compile(r"\[(?:\d+|edit|citation needed|өңдеу|править)\]", re.IGNORECASE)
SENTENCE_END = re.compile(r"[.!?…]+(?=[\s\"'»”)\]]|$)")
MAX_NEWLINES = re.compile(r"\n{3,}")


def line_fault(line: str, min_words: int, max_word_length: int) -> str | None:
    """Why C4 drops this (stripped, non-blank) line, or None to keep it."""
    lowered = line.lower()
    if "javascript" in lowered:
        return "javascript"
    if any(phrase in lowered for phrase in POLICY_PHRASES):
        return "policy"
    line_words = words(line)
    if any(len(word) > max_word_length for word in line_words):
        return "long_word"
    if not ends_sentence(line) or ends_with_ellipsis(line):
        return "no_terminal_punct"
    if len(line_words) < min_words:
        return "few_words"
    return None


class C4Settings:
    """Line rules shared by both C4 steps, so they agree on which lines survive."""

    # C4 keeps lines of at least 3 words. A Kazakh sentence needs fewer words than a
    # Russian or English one (suffixes do the work of prepositions and auxiliaries):
    # "Рахмет сізге!" is a whole sentence.
    MIN_WORDS_PER_LINE = {"default": 3, "kk": 2}
    MAX_WORD_LENGTH = 1000

    def __init__(self, min_words_per_line=MIN_WORDS_PER_LINE, max_word_length=MAX_WORD_LENGTH):
        self.min_words_per_line = PerLanguage(min_words_per_line, self.MIN_WORDS_PER_LINE)
        self.max_word_length = PerLanguage(max_word_length, self.MAX_WORD_LENGTH)

    def fault(self, line: str, lang: str | None) -> str | None:
        return line_fault(line, self.min_words_per_line(lang), self.max_word_length(lang))


class C4Lines(DocumentOperator):
    """Removes C4's boilerplate lines and citation marks; rejects a document left empty."""

    signals = {"c4_lines_removed": pa.int32(), "c4_citations_removed": pa.int32()}

    def __init__(self, min_words_per_line=C4Settings.MIN_WORDS_PER_LINE,
                 max_word_length=C4Settings.MAX_WORD_LENGTH, remove_citations: bool = True):
        self.settings = C4Settings(min_words_per_line, max_word_length)
        self.remove_citations = remove_citations

    def process(self, doc: dict) -> dict:
        lang = doc.get("lang")
        text, citations = CITATION.subn("", doc["text"]) if self.remove_citations else (doc["text"], 0)
        kept, faults = [], Counter()
        for line in text.split("\n"):
            fault = self.settings.fault(line.strip(), lang) if line.strip() else None
            if fault:
                faults[fault] += 1
            else:
                kept.append(line)
        text = MAX_NEWLINES.sub("\n\n", "\n".join(kept)).strip()
        doc.update(text=text, n_chars=len(text), c4_lines_removed=faults.total(), c4_citations_removed=citations)
        if not text:
            removed = ", ".join(f"{n} {fault}" for fault, n in faults.most_common())
            return self.reject(doc, f"no line left after C4 line rules (removed: {removed})")
        return doc


class C4Quality(DocumentFilter):
    """Rejects lorem ipsum, code-like documents and those with too few sentences in C4's kept lines."""

    signals = {"c4_sentences": pa.int32(), "c4_curly_bracket_lines": pa.float32(), "c4_lorem_ipsum": pa.bool_()}

    # C4 drops pages with fewer than 5 sentences. Kazakh text is scarce and Kazakh news
    # items are short, so a 3-sentence Kazakh note is kept.
    MIN_SENTENCES = {"default": 5, "kk": 3}
    # C4 rejects a page on a single "{", to catch code. Papers and books converted to
    # Markdown carry the odd `^{1}` superscript, so a small share of lines is tolerated.
    MAX_CURLY_BRACKET_LINES = 0.02

    def __init__(self, min_sentences=MIN_SENTENCES, max_curly_bracket_lines=MAX_CURLY_BRACKET_LINES,
                 min_words_per_line=C4Settings.MIN_WORDS_PER_LINE, max_word_length=C4Settings.MAX_WORD_LENGTH):
        self.min_sentences = PerLanguage(min_sentences, self.MIN_SENTENCES)
        self.max_curly_bracket_lines = PerLanguage(max_curly_bracket_lines, self.MAX_CURLY_BRACKET_LINES)
        self.settings = C4Settings(min_words_per_line, max_word_length)

    def filter(self, doc: dict):
        text, lang = doc["text"], doc.get("lang")
        text_lines = lines(CITATION.sub("", text))
        kept = [line for line in text_lines if not self.settings.fault(line, lang)]
        doc["c4_sentences"] = sentences = sum(len(SENTENCE_END.findall(line)) for line in kept)
        doc["c4_curly_bracket_lines"] = curly = ratio(sum("{" in line for line in text_lines), len(text_lines))
        doc["c4_lorem_ipsum"] = lorem = "lorem ipsum" in text.lower()
        return first_failure((
            "lorem ipsum" if lorem else None,
            above("curly_bracket_lines", curly, self.max_curly_bracket_lines(lang)),
            below("sentences", sentences, self.min_sentences(lang)),
        ))
