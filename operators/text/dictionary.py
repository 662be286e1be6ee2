"""Known words from the hunspell dictionaries Debian ships (hunspell-kk, -ru, -en-us).

A word is known when it is a stem of the .dic file, or a stem with one suffix rule of the
.aff file applied (the way hunspell inflects "новый" → "новой"), or when it begins with a
stem of at least `min_stem_length` letters: Kazakh stacks suffixes ("университет" →
"университеттерінің") beyond the one rule hunspell's Kazakh table describes. Prefix
rules and compounding are not applied. Short stems must match whole: otherwise any
garbage that starts with "ал" or "бе" would pass.
"""
from __future__ import annotations

import functools
import os
import re
from collections import defaultdict

from operators.text.homoglyphs import repair_homoglyphs

SET_ENCODING = re.compile(r"^\ufeff?SET\s+(\S+)", re.MULTILINE)
ASCII_LETTER = re.compile("[A-Za-z]")


def normalize_word(word: str) -> str:
    # Russian text mostly writes ё as е; the dictionaries spell ё.
    return word.lower().replace("ё", "е")


def normalize_stem(stem: str) -> str:
    # hunspell-kk spells a few names with a Latin "i" ("Темiртас"): the same repair the
    # Normalizer applies to text, so both sides agree and the alphabet stays Cyrillic.
    if ASCII_LETTER.search(stem) and not stem.isascii():
        stem = repair_homoglyphs(stem)[0]
    return normalize_word(stem)


def _read_lines(path: str, encoding: str) -> list[str]:
    with open(path, encoding=encoding, errors="replace") as file:
        return file.read().lstrip("\ufeff").splitlines()


def aff_encoding(aff_path: str) -> str:
    """The encoding named by the .aff file's SET line (UTF-8 when there is none)."""
    try:
        with open(aff_path, "rb") as aff:
            head = aff.read(4096).decode("ascii", errors="ignore")
    except OSError:
        return "utf-8"
    match = SET_ENCODING.search(head)
    return match.group(1) if match else "utf-8"


def dic_entries(dic_path: str, encoding: str) -> list[tuple[str, str]]:
    """(stem as written, its affix flags) per entry (first line is the entry count; flags after '/')."""
    lines = _read_lines(dic_path, encoding)
    if lines and lines[0].strip().isdigit():
        lines = lines[1:]
    entries = (line.split("\t", 1)[0].strip().partition("/") for line in lines)
    return [(stem, flags) for stem, _, flags in entries if stem]


def load_stems(dic_path: str, encoding: str) -> dict[str, str]:
    """Lowercased stem → its affix flags."""
    stems: dict[str, str] = defaultdict(str)
    for stem, flags in dic_entries(dic_path, encoding):
        stems[normalize_stem(stem)] += flags
    return dict(stems)


def load_suffix_rules(aff_path: str, encoding: str) -> dict[str, list[tuple[str, str, re.Pattern]]]:
    """Appended ending → [(flag, stripped ending, condition on the stem)] from `SFX` lines."""
    rules: dict[str, list[tuple[str, str, re.Pattern]]] = defaultdict(list)
    if not os.path.exists(aff_path):
        return {}
    for line in _read_lines(aff_path, encoding):
        fields = line.split()
        if len(fields) < 5 or fields[0] != "SFX":  # 4 fields: a rule group's header
            continue
        flag, strip, add, condition = fields[1], fields[2], fields[3].split("/")[0], fields[4]
        strip, add = ("" if strip == "0" else strip), ("" if add == "0" else add)
        rules[normalize_word(add)].append((flag, normalize_word(strip), re.compile(f"(?:{condition})$")))
    return dict(rules)


class HunspellWords:
    def __init__(self, stems: dict[str, str], suffix_rules: dict[str, list], min_stem_length: int = 4):
        self.stems = stems
        self.suffix_rules = suffix_rules
        self.min_stem_length = min_stem_length
        self.alphabet = frozenset(ch for stem in stems for ch in stem if ch.isalpha())

    @classmethod
    @functools.cache
    def load(cls, dic_path: str, min_stem_length: int = 4) -> HunspellWords:
        """Read-only once loaded: one copy per process, however many operators ask."""
        aff_path = os.path.splitext(dic_path)[0] + ".aff"
        encoding = aff_encoding(aff_path)
        return cls(load_stems(dic_path, encoding), load_suffix_rules(aff_path, encoding), min_stem_length)

    def _inflected(self, word: str) -> bool:
        for cut in range(1, len(word) + 1):
            for flag, strip, condition in self.suffix_rules.get(word[cut:], ()):
                stem = word[:cut] + strip
                if flag in self.stems.get(stem, "") and condition.search(stem):
                    return True
        return False

    def can_spell(self, word: str) -> bool:
        """Whether the word is written in this language's letters at all."""
        return all(ch in self.alphabet for ch in normalize_word(word))

    def __contains__(self, word: str) -> bool:
        return self.knows(word)

    def coverage(self, word: str) -> int:
        """How much of the word the list accounts for: all of it for a stem or a stem with
        one suffix rule, else the length of its longest stem prefix (0 under `min_stem_length`)."""
        word = normalize_word(word)
        if word in self.stems or self._inflected(word):
            return len(word)
        return next((end for end in range(len(word) - 1, self.min_stem_length - 1, -1) if word[:end] in self.stems), 0)

    def knows(self, word: str, stem_prefixes: bool = True) -> bool:
        """A stem, a stem with one suffix rule, or (with `stem_prefixes`) a word that starts
        with a stem of at least `min_stem_length` letters."""
        word = normalize_word(word)
        return (
            word in self.stems
            or self._inflected(word)
            or stem_prefixes and any(word[:end] in self.stems
                                     for end in range(len(word) - 1, self.min_stem_length - 1, -1))
        )
