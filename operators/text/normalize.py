"""The first curation step: one canonical Unicode form for every document.

Order matters: encodings are repaired on the raw text (NFC or whitespace folding would
destroy the byte patterns they recognise), then the text is composed (NFC joins the
"и" + combining breve that PDF extraction leaves into "й"), cleaned of invisible
characters, its look-alike letters repaired, and its whitespace folded last.
"""
from __future__ import annotations

import re
import unicodedata

import pyarrow as pa

from operators.base import DocumentOperator
from operators.text.homoglyphs import repair_homoglyphs
from operators.text.legacy_kz import repair_legacy_kz
from operators.text.mojibake import repair_mojibake

# Line breaks of other systems and page breaks (\v, \f, NEL, LINE SEPARATOR) become
# "\n": they are folded with the whitespace, not removed as control characters.
LINE_BREAK = re.compile("\r\n|[\r\x0b\x0c\x85\u2028]")
PARAGRAPH_SEPARATOR = re.compile("\u2029")
# C0/C1 controls except tab and the line breaks above; then invisible format characters:
# soft hyphens split words for search and dedup, zero-width characters and byte-order
# marks hide inside words, direction marks and isolates are noise in kk/ru/en text.
CONTROL = re.compile(
    "[\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f"
    "\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]"
)
# Every space separator except the plain space: NBSP, thin, em, ideographic spaces...
ODD_SPACE = re.compile("[\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]")
SPACE_RUN = re.compile(" {2,}")
TRAILING_SPACE = re.compile("[ \t]+(?=\n|$)")
FOLDS = ((LINE_BREAK, "\n"), (PARAGRAPH_SEPARATOR, "\n\n"), (ODD_SPACE, " "), (SPACE_RUN, " "),
         (TRAILING_SPACE, ""))


def remove_control_chars(text: str) -> tuple[str, int]:
    return CONTROL.subn("", text)


def normalize_whitespace(text: str, max_newlines: int = 2) -> tuple[str, int]:
    """Folds spaces and line breaks; returns the text and the number of edits."""
    edits = 0
    for pattern, replacement in (*FOLDS, (re.compile("\n{%d,}" % (max_newlines + 1)), "\n" * max_newlines)):
        text, n = pattern.subn(replacement, text)
        edits += n
    stripped = text.strip()
    return stripped, edits + (stripped != text)


class Normalizer(DocumentOperator):
    """NFC, encoding repairs, invisible characters out, Kazakh look-alikes in, whitespace folded.

    Each signal counts the repairs of one kind: lines with mojibake, legacy KZ-1048
    letters, Latin look-alike letters, control/invisible characters, whitespace edits.
    """

    signals = {
        "norm_mojibake": pa.int32(),
        "norm_legacy_kz": pa.int32(),
        "norm_homoglyphs": pa.int32(),
        "norm_control_chars": pa.int32(),
        "norm_whitespace": pa.int32(),
    }

    def __init__(self, mojibake: bool = True, legacy_kz: bool = True, homoglyphs: bool = True,
                 legacy_min_word_share: float = 0.05, max_newlines: int = 2):
        self.mojibake = mojibake
        self.legacy_kz = legacy_kz
        self.homoglyphs = homoglyphs
        self.legacy_min_word_share = legacy_min_word_share
        self.max_newlines = max_newlines

    def process(self, doc: dict) -> dict:
        text = doc["text"] or ""
        text, doc["norm_mojibake"] = repair_mojibake(text) if self.mojibake else (text, 0)
        text, doc["norm_legacy_kz"] = (
            repair_legacy_kz(text, self.legacy_min_word_share) if self.legacy_kz else (text, 0)
        )
        text = unicodedata.normalize("NFC", text)
        text, doc["norm_control_chars"] = remove_control_chars(text)
        text, doc["norm_homoglyphs"] = repair_homoglyphs(text) if self.homoglyphs else (text, 0)
        text, doc["norm_whitespace"] = normalize_whitespace(text, self.max_newlines)
        doc["text"] = text
        doc["n_chars"] = len(text)
        if not text:
            return self.reject(doc, "empty after normalization")
        return doc
