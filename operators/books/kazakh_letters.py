"""Kazakh letters OCR misreads, repaired with the Kazakh word list.

Even with the Kazakh models, Tesseract now and then reads a Kazakh letter as the Russian
or Latin letter it resembles: ұ as у, ә as э, ө as е, һ as h or В (measured in
tests/benchmarks/ocr_eval.py). A word is repaired only when

  - the Russian word list does not know it (Russian words in a Kazakh text are never
    touched), nor the Kazakh list as a whole word (a stem, or a stem with a suffix rule),
    nor is it a Kazakh stem of four letters or more with Kazakh endings in harmony
    (kazakh_words.py): "қуатын", "жеңілдіктерін" are accusatives that hunspell-kk's rules
    do not make, and "repairing" them gave the possessives "қуатың", "жеңілдіктерің";
  - replacing at most `max_changes` of its look-alike letters makes a word the Kazakh list
    accounts for further (`HunspellWords.coverage`: whole word, else the longest stem it
    starts with) than the word as read, and exactly one replacement does so best.

hunspell-kk has only 19 words with һ, so һ is also repaired by its shape alone: inside a
Cyrillic word, a Latin h, or a capital В after a lowercase letter ("шаВар"), is һ; neither
is ever right there in Kazakh or Russian.

Two things no word list can check are repaired by their form, on Kazakh text only:
  - patronymics, a father's name + ұлы (son) or қызы (daughter) written as one capitalised
    word ("Құнанбайұлы", "Нұрәділұлы"), which OCR reads "-улы", "-кызы": the suffix is
    repaired, and э inside the name is ә (Kazakh writes э only in Russian loans, and those
    begin with it: "Эльдар" stays); the rest of the name, which no list knows, is left as
    read. The letter before "улы" must not be a vowel: "Таулы" (тау + лы, mountainous) is
    an adjective;
  - the abbreviations ғ. of ғылым in academic degrees ("ф.-м. ғ. д.", "т.ғ.к.") and of
    ғасыр after a Roman numeral ("XIX ғ.", "ХІХ ғ." in Cyrillic letters), which OCR reads
    "г.", Russian's year and city.

A page that is not Kazakh as a whole (a bilingual book's Russian page) has only its Kazakh
paragraphs repaired (`kazakh_paragraphs`, with the page language check's verdict per paragraph).

Comparing coverage, not mere knowledge, matters because Kazakh stacks suffixes beyond
the list's rules: "казакстан" starts with the stem "казак", but "қазақстан" is a word.
"""
from __future__ import annotations

import itertools
import re
from collections.abc import Callable

from operators.text.dictionary import HunspellWords, normalize_word
from operators.text.kazakh_words import KazakhWords

# What OCR reads → the Kazakh letters it may stand for.
LOOK_ALIKES = {
    "у": "ұү", "У": "ҰҮ", "э": "ә", "Э": "Ә", "е": "ө", "о": "ө", "О": "Ө", "к": "қ", "К": "Қ",
    "н": "ң", "Н": "Ң", "г": "ғ", "Г": "Ғ", "h": "һ", "Һ": "һ", "В": "һ", "i": "і", "I": "І", "и": "і",
    "a": "ә", "e": "ө", "y": "ұү", "k": "қ",
}
WORD = re.compile(r"[\u0400-\u04ffa-zA-Z]+")
CYRILLIC = re.compile("[\u0400-\u04ff]")
SHAPE_OF_H = re.compile(r"(?<=[\u0400-\u04ff])h|h(?=[\u0400-\u04ff])|(?<=[а-яёәғқңөұүһі])В")
PARAGRAPH_BREAK = re.compile(r"(\n[ \t]*\n)")
PATRONYMIC = re.compile(r"([А-ЯЁӘҒҚҢӨҰҮҺІ][\u0400-\u04ff]*[^\W\d_аеёиоуыэюяәөұүі])(улы|ұлы|кызы|қызы)")
ABBREVIATED_G = re.compile(r"(?<![^\W\d_])г\.(?=\s?[дк]\.)|(?<![^\W\d_])([IVXLCІХ]+ )г\.(?![^\W\d_])")
NAME_LETTERS = str.maketrans("эЭ", "әӘ")
MAX_POSITIONS = 8  # a word with more look-alike letters has too many readings to trust one
MIN_READ_STEM = 4  # a shorter stem with endings matches misreadings by chance ("көн"+"і"+"лі" for "көңілі")


class KazakhLetterRepair:
    def __init__(self, kazakh: HunspellWords, russian: HunspellWords | None = None, max_changes: int = 2,
                 kazakh_words: KazakhWords | None = None):
        self.kazakh, self.russian, self.max_changes = kazakh, russian, max_changes
        self.kazakh_words = kazakh_words

    @classmethod
    def load(cls, kazakh_dic: str, russian_dic: str | None = None, max_changes: int = 2) -> KazakhLetterRepair:
        kazakh = HunspellWords.load(kazakh_dic)
        russian = HunspellWords.load(russian_dic) if russian_dic else None
        words = KazakhWords(kazakh, russian, kazakh_dic.removesuffix(".dic") + ".aff") if russian else None
        return cls(kazakh, russian, max_changes, words)

    def repair_word(self, word: str) -> str:
        if len(word) < 3 or not CYRILLIC.search(word):
            return word
        word = SHAPE_OF_H.sub("һ", word)
        if self.russian is not None and self.russian.knows(word, stem_prefixes=False):
            return word
        as_read = self.kazakh.coverage(word)
        positions = [i for i, ch in enumerate(word) if ch in LOOK_ALIKES]
        if as_read == len(word) or not positions or len(positions) > MAX_POSITIONS:
            return word
        if self.kazakh_words is not None and self.kazakh_words.stem_with_endings(normalize_word(word), MIN_READ_STEM):
            return word
        for changes in range(1, self.max_changes + 1):
            best, found = as_read, set()
            for where in itertools.combinations(positions, changes):
                for letters in itertools.product(*(LOOK_ALIKES[word[i]] for i in where)):
                    candidate = list(word)
                    for i, letter in zip(where, letters):
                        candidate[i] = letter
                    candidate = "".join(candidate)
                    covered = self.kazakh.coverage(candidate)
                    if covered > best:
                        best, found = covered, {candidate}
                    elif covered == best and found:
                        found.add(candidate)
            if found:
                return found.pop() if len(found) == 1 else word  # two readings fit: leave it to a person
        return word

    def knows(self, word: str) -> bool:
        """The Kazakh or the Russian list knows the word as written (a stem or a stem with a suffix rule)."""
        return self.kazakh.knows(word, stem_prefixes=False) or (
            self.russian is not None and self.russian.knows(word, stem_prefixes=False))

    def patronymic(self, word: str) -> str | None:
        """The word repaired as a patronymic, or None if it is none. A name no list knows is
        not guessed at further ("Кунанбайулы" → "Кунанбайұлы")."""
        match = PATRONYMIC.fullmatch(word)
        if match is None or self.knows(word):
            return None
        name, suffix = match.groups()
        return name[0] + name[1:].translate(NAME_LETTERS) + {"улы": "ұлы", "кызы": "қызы"}.get(suffix, suffix)

    def __call__(self, text: str) -> tuple[str, int]:
        """(text with misread Kazakh letters repaired, letters repaired)."""
        count = 0

        def counted(repair: Callable[[re.Match], str]) -> Callable[[re.Match], str]:
            def substitute(match: re.Match) -> str:
                nonlocal count
                fixed = repair(match)
                count += sum(a != b for a, b in zip(fixed, match.group()))
                return fixed
            return substitute

        def word(match: re.Match) -> str:
            fixed = self.patronymic(match.group())
            return self.repair_word(match.group()) if fixed is None else fixed

        text = ABBREVIATED_G.sub(counted(lambda match: (match.group(1) or "") + "ғ."), text)
        return WORD.sub(counted(word), text), count

    def kazakh_paragraphs(self, text: str, is_kazakh: Callable[[str], bool]) -> tuple[str, int]:
        """A page that is not Kazakh as a whole (a bilingual book's Russian page): the
        paragraphs (blank-line separated, as OCR writes them) that `is_kazakh` are repaired."""
        paragraphs = PARAGRAPH_BREAK.split(text)
        count = 0
        for i in range(0, len(paragraphs), 2):  # even items: paragraphs; odd: the breaks
            if is_kazakh(paragraphs[i]):
                paragraphs[i], repaired = self(paragraphs[i])
                count += repaired
        return "".join(paragraphs), count
