"""Latin words on a page read with Cyrillic models, read again with a Latin one.

A Kazakh book is read with kaz+rus: adding eng to the page's models makes Tesseract read
Kazakh letters as Latin ones (ocr_eval.py). But Kazakh books and papers carry English
names, acronyms and addresses, and kaz+rus has no Latin letters to write them with:
"Windows" comes out as "У/тдо\\$", "GPU" as "СРО", "www.kaznu.kz" as "м/м/м/.Ка?ла.К2,",
text no later step can mend (latin_acronyms.py only maps letters that look alike).

Tesseract itself tells those words apart: it is unsure of them (word confidence below ~90,
where Kazakh and Russian words on a clean page score 93-97), and the same box read alone
with the English model comes out sure (94-96) and in Latin letters, where a Kazakh or
Russian word read with it scores low ("жұмыс" → "JKYMBIC", 0). So a word is replaced by
its English reading when

  - the page's reading was unsure of it (below `below`) and it has two letters or more;
  - the English reading is in Latin letters, at least `min_confidence` sure and surer than
    the page's reading;
  - the page's reading is no word the page's languages know (`known`: "на" read as "Ha",
    "Ол" as "On" on a worn page), nor, in capitals, the same shapes ("ВВС" / "BBC", "ҚР" /
    "KP": no glyph tells those apart, and the page's models knew the language). Without
    `known`, any word of the same shapes stays. The same shapes in lower case are English
    read by Kazakh's models ("Тһеге" for "There", one of the real PDFs nobody here wrote).

Only the unsure words are read again, MAX_WORDS a page at most: +12% OCR CPU on 20 kk and
mixed pages, half of them with English sentences (README, "English words on Kazakh pages").
"""
from __future__ import annotations

import re
from collections.abc import Callable

# Cyrillic letters (Kazakh's included) as the Latin ones of the same shape, in lower case
# (н, т, в, г as their capitals look: Н, Т, В, Г read as H, T, B, r).
SHAPES = str.maketrans("авсеёнікқмпоөрғгтуүұхһ", "abceehikkmnoopfrtyyyxh")
NOT_A_LETTER = re.compile(r"[\W\d_]+")
PAD = 4  # pixels around a word's box: Tesseract's boxes are tight to the ink
# Words read again per page at most (~7 ms each here): a page with more unsure words is not
# mostly Kazakh or Russian, and the page language check reads it again whole.
MAX_WORDS = 60

# (left, top, right, bottom) of a word in the page image → (text, confidence 0..100)
ReadBox = Callable[[tuple[int, int, int, int]], tuple[str, float]]


def is_latin(text: str) -> bool:
    return any(ch.isalpha() for ch in text) and all(ch.isascii() for ch in text)


def same_shapes(latin: str, cyrillic: str) -> bool:
    return latin.lower() == cyrillic.lower().translate(SHAPES)


def keeps_its_reading(word: str, latin: str, known: Callable[[str], bool] | None) -> bool:
    letters = NOT_A_LETTER.sub("", word)
    if known is not None and known(letters):
        return True
    return same_shapes(NOT_A_LETTER.sub("", latin), letters) and (known is None or letters.isupper())


def reread_latin_words(tsv: str, read_box: ReadBox, size: tuple[int, int], below: float = 90.0,
                       min_confidence: float = 90.0, known: Callable[[str], bool] | None = None) -> tuple[str, int]:
    """(Tesseract TSV with unsure words replaced by their Latin reading where it is sure, words
    replaced). `size` is the image's (width, height), to keep padded boxes inside it; `known`
    says whether the page's languages know a word (its letters, as read)."""
    lines = tsv.split("\n")
    replaced = asked = 0
    for i, line in enumerate(lines):
        if asked == MAX_WORDS:
            break
        fields = line.split("\t")
        if len(fields) != 12 or fields[0] != "5":
            continue
        word, confidence = fields[11].strip(), float(fields[10])
        if not 0 <= confidence < below or sum(ch.isalpha() for ch in word) < 2 or is_latin(word):
            continue
        left, top, width, height = (int(v) for v in fields[6:10])
        box = (max(0, left - PAD), max(0, top - PAD), min(size[0], left + width + PAD), min(size[1], top + height + PAD))
        asked += 1
        try:
            text, sure = read_box(box)
        except Exception:  # a box the second model cannot take (empty, outside the image): the word stays as read
            continue
        text = text.strip()
        if (" " in text or not is_latin(text) or sure < min_confidence or sure <= confidence
                or keeps_its_reading(word, text, known)):
            continue
        fields[10], fields[11] = f"{sure:g}", text
        lines[i] = "\t".join(fields)
        replaced += 1
    return "\n".join(lines), replaced
