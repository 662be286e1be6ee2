"""Which language an OCR'd page is in, and whether it was read with the wrong models.

Catalogs are wrong in practice (a Kazakh book filed as Russian), books mix languages, and
some have no catalog row. Tesseract reads a Kazakh page with the Russian models without
complaint, but every ә ғ қ ң ө ұ ү һ і becomes its Russian look-alike (қ→к, ұ→у, і→i).
Such a text is still recognisably Kazakh: lid.176 ranks Turkic labels (kk, ky, tt, ba)
high, and the Kazakh word list knows more of its words (by their stems) than the Russian
one does. So a page's language is the library language with the best

    0.7 · share of its words the language's hunspell list knows + 0.3 · lid.176 probability

where the Turkic Cyrillic labels count as Kazakh: the choice here is which Tesseract
models to read the page with, not the document's label (curation decides that later).

A page is read a second time when its language has no model in the first reading
(Kazakh read with rus+eng), or when the reading knows too few words in any language (an
English page read with kaz+rus is Cyrillic gibberish): then with the models of the
library language the reading lacked. The better reading is kept:

    quality = 0.7 · dictionary hit rate in the reading's own language + 0.3 · confidence/100
"""
from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from operators.text.dictionary import HunspellWords

# Tesseract's language codes → ISO 639-1.
TESSERACT_LANGUAGES = {"kaz": "kk", "rus": "ru", "eng": "en"}
TURKIC_CYRILLIC = ("kk", "ky", "tt", "ba", "uz")  # lid.176's labels for Kazakh read without its letters
DICTIONARIES = {
    "kk": "/usr/share/hunspell/kk_KZ.dic",
    "ru": "/usr/share/hunspell/ru_RU.dic",
    "en": "/usr/share/hunspell/en_US.dic",
}
WORD = re.compile(r"[^\W\d_]{3,}")  # letters only, three or more: "и", "of", OCR crumbs say nothing
MAX_WORDS = 400
DICTIONARY_WEIGHT = 0.7
# Below this share of known words in every language, the page is in none of them as read:
# an English page read with kaz+rus comes out as Cyrillic gibberish ("Тһе диіск бгом/п").
MIN_KNOWN_WORDS = 0.3
UNKNOWN = "und"
MIN_SHORT_WORDS = 2  # words (of WORD) a page too short for language ID needs to be judged by word lists
SHORT_KNOWN = 0.5  # ... and the share of them its reading's lists must know to be read only once
# A reading in the right language knows most of its words (Kazakh read with kaz+rus 0.9,
# Russian with rus+eng 0.8 on degraded scans); below this, a language the reading had no
# model for and that scores close (RIVAL_SHARE of the best) gets its own reading too.
DOUBTFUL_HITS = 0.6
RIVAL_SHARE = 0.6


def languages_read(languages: str) -> frozenset[str]:
    """The ISO languages a reading had models for: "kaz+rus" → {kk, ru}, EasyOCR's "ru+en" → {ru, en}."""
    codes = languages.split("+")
    return frozenset(TESSERACT_LANGUAGES.get(code, code) for code in codes)


@dataclass(frozen=True)
class Verdict:
    language: str | None  # None: too little text to tell; "und": none of the candidates as read
    scores: dict[str, float]  # per candidate language
    hits: dict[str, float]  # dictionary hit rate per candidate language

    @property
    def evidence(self) -> dict:
        return {"detected": self.language, "scores": self.scores, "dict": self.hits}


class PageLanguage:
    """OCR text → its language among the library's (kk, ru, en), and reading quality."""

    def __init__(self, langid, candidates: tuple[str, ...] = ("kk", "ru", "en"), min_letters: int = 150,
                 dictionaries: dict[str, str] | None = None):
        self.langid = langid  # anything with ranked(text, k) → [(label, probability)], e.g. FastTextLangID
        self.candidates = tuple(candidates)
        self.min_letters = min_letters
        paths = DICTIONARIES if dictionaries is None else dictionaries
        self.words = {lang: HunspellWords.load(path) for lang, path in paths.items()
                      if lang in self.candidates and path and os.path.exists(path)}

    def hits(self, text: str) -> dict[str, float]:
        words = WORD.findall(text.lower())[:MAX_WORDS]
        if not words:
            return {lang: 0.0 for lang in self.words}
        return {lang: round(sum(w in known for w in words) / len(words), 3) for lang, known in self.words.items()}

    def detect(self, text: str | None) -> Verdict:
        text = text or ""
        if sum(ch.isalpha() for ch in text) < self.min_letters:
            return Verdict(None, {}, {})
        probability = dict.fromkeys(self.candidates, 0.0)
        for label, p in self.langid.ranked(text, 5):
            label = "kk" if label in TURKIC_CYRILLIC else label
            if label in probability:
                probability[label] += p
        hits = self.hits(text)
        scores = {lang: round(DICTIONARY_WEIGHT * hits.get(lang, 0.0) + (1 - DICTIONARY_WEIGHT) * p, 3)
                  for lang, p in probability.items()}
        if max(hits.values(), default=0.0) < MIN_KNOWN_WORDS:
            return Verdict(UNKNOWN, scores, hits)
        return Verdict(max(scores, key=scores.get), scores, hits)

    def second_reading(self, verdict: Verdict, read_for: frozenset[str]) -> tuple[str, str] | None:
        """(language to OCR the page again for, why), None when the reading fits its text:
        the detected language where the reading had no model for it; for text in none of
        the candidates as read, the first candidate the reading had no model for; for a
        doubtful reading, a close candidate it had no model for."""
        language = verdict.language
        if language is None:
            return None
        if language in read_for:
            hits = verdict.hits.get(language, 0.0)
            rivals = [lang for lang in self.candidates if lang not in read_for
                      and verdict.scores.get(lang, 0.0) >= RIVAL_SHARE * verdict.scores[language]]
            if hits >= DOUBTFUL_HITS or not rivals:
                return None
            rival = max(rivals, key=verdict.scores.get)
            return rival, (f"text reads as {language} with only {hits:.0%} of its words known, "
                           f"{rival} close ({verdict.scores[rival]:.2f} vs {verdict.scores[language]:.2f})")
        if language in self.candidates:
            return language, f"text reads as {language}"
        target = next((lang for lang in self.candidates if lang not in read_for), None)
        return (target, "text reads as none of the languages it was OCR'd for") if target else None

    def short_page_reading(self, text: str | None, read_for: frozenset[str]) -> tuple[str, str] | None:
        """(language to OCR the page again for, why) for a page with too little text for
        language ID (a title page, a caption, a form): where the reading's word lists know
        under SHORT_KNOWN of its words, the first candidate the reading had no model for.
        An English form read with kaz+rus comes out "СоуТеге із а perfectly стотпшепі word.";
        a Kazakh title page's words are known, and it is read once."""
        if len(WORD.findall((text or "").lower())) < MIN_SHORT_WORDS:
            return None
        share = self.known_share(text, read_for)
        target = next((lang for lang in self.candidates if lang not in read_for), None)
        if share >= SHORT_KNOWN or target is None:
            return None
        return target, f"short page: the word lists of the languages it was read in know {share:.0%} of its words"

    def known_share(self, text: str | None, languages: frozenset[str]) -> float:
        """Share of the words any of `languages`' lists knows: one yardstick for two
        readings of a mixed page (a Kazakh page quoting Russian reads best with kaz+rus,
        though its Russian words alone favour rus+eng)."""
        words = WORD.findall((text or "").lower())[:MAX_WORDS]
        lists = [self.words[lang] for lang in languages if lang in self.words]
        if not words or not lists:
            return 0.0
        return round(sum(any(w in known for known in lists) for w in words) / len(words), 3)

    def book_quality(self, text: str | None, confidence: float | None, languages: frozenset[str]) -> float:
        return round(DICTIONARY_WEIGHT * self.known_share(text, languages)
                     + (1 - DICTIONARY_WEIGHT) * (confidence or 0.0) / 100, 4)

    def keep_better_by_words(self, first: dict, second: dict, attempts: list[dict], languages: frozenset[str],
                             reason: str) -> dict:
        """keep_better for two readings measured alike where language ID cannot judge them:
        by the words any of `languages` knows, and confidence (`book_quality`)."""
        kept_attempt(attempts)["book_quality"] = self.book_quality(first["text"], first["confidence"], languages)
        attempts[-1]["book_quality"] = self.book_quality(second["text"], second["confidence"], languages)
        return keep_better(first, second, attempts, reason, measure="book_quality")

    def quality(self, confidence: float | None, verdict: Verdict) -> float:
        hit_rate = verdict.hits.get(verdict.language, 0.0) if verdict.language else 0.0
        return round(DICTIONARY_WEIGHT * hit_rate + (1 - DICTIONARY_WEIGHT) * (confidence or 0.0) / 100, 4)


def attempt(row: dict, languages: str, verdict: Verdict, quality: float) -> dict:
    """One reading of a page, as `ocr_attempts` records it."""
    return {"engine": row["method"], "languages": languages, "confidence": row["confidence"],
            "error": row["error"], "quality": quality, **verdict.evidence}


def kept_attempt(attempts: list[dict]) -> dict:
    """The record of the reading kept so far, among all but the last attempt."""
    return next((entry for entry in attempts[:-1] if entry.get("kept")), attempts[0])


def keep_better(first: dict, second: dict, attempts: list[dict], reason: str, measure: str = "quality") -> dict:
    """`first` (the kept one of the earlier attempts) or `second` (the last attempt),
    whichever has the higher `measure` (`first` on a tie); every attempt recorded."""
    a = kept_attempt(attempts)
    b = attempts[-1]
    kept_second = second["error"] is None and (first["error"] is not None or b[measure] > a[measure])
    kept, record = (second, b) if kept_second else (first, a)
    for entry in attempts:
        entry["kept"] = entry is record
    return {**kept, "ocr_language": record["languages"], "detected_language": record["detected"],
            "reocr_reason": reason, "ocr_attempts": json.dumps(attempts, ensure_ascii=False)}


# ---------------------------------------------------------------- the book as a whole ----
# A page's own check misses where its text is too degraded to tell: a Kazakh page read
# with the Russian models on a noisy scan can score as Russian. The book knows better:
# when most of its checked pages read as one language, its pages never read with that
# language's models are read again with them (`ocr_pass` 2), the better reading kept.
BOOK_PASS = 2
PLAN_COLUMNS = ["book_id", "page", "method", "error", "ocr_language", "detected_language", "ocr_attempts",
                "ocr_pass"]


def book_language(detected: list[str | None]) -> tuple[str, int, int] | None:
    """(language, pages, checked pages) when more than half of a book's checked pages
    (at least two) read as one language; None otherwise."""
    checked = [d for d in detected if d and d != UNKNOWN]
    if len(checked) < 2:
        return None
    language = max(sorted(set(checked)), key=checked.count)
    n = checked.count(language)
    return (language, n, len(checked)) if 2 * n > len(checked) else None


def readings_of(row: dict) -> frozenset[str]:
    """Every language some reading of the page had models for."""
    languages = {row["ocr_language"]} if row.get("ocr_language") else set()
    try:
        languages.update(entry["languages"] for entry in json.loads(row.get("ocr_attempts") or "[]"))
    except (ValueError, TypeError, KeyError):  # a damaged record: the kept reading's languages only
        pass
    return frozenset().union(*(languages_read(lang) for lang in languages if lang))


def _could_need_a_pass(pages: pa.Table, candidates: tuple[str, ...]) -> pa.Table:
    """The rows of books in which some page reads as a language that this row's kept
    reading had no models for: the only books a pass can concern (vectorized, so a
    library's million page rows never become Python objects)."""
    ocr = pc.and_(pc.and_(pc.invert(pc.is_in(pages["method"], pa.array(["textlayer", "none"]))),
                          pc.is_null(pages["error"])), pc.greater(pages["page"], 0))
    pages = pages.filter(pc.fill_null(ocr, False))
    if pages.num_rows == 0:
        return pages
    readings = [r for r in pages["ocr_language"].unique().to_pylist() if r]
    wanted = pa.array([False] * pages.num_rows, pa.bool_())
    for language in candidates:
        with_models = pa.array([r for r in readings if language in languages_read(r)], pa.string())
        lacking = pc.invert(pc.fill_null(pc.is_in(pages["ocr_language"], with_models), False))
        books = pc.unique(pages.filter(pc.fill_null(pc.equal(pages["detected_language"], language), False))["book_id"])
        wanted = pc.or_(wanted, pc.and_(lacking, pc.is_in(pages["book_id"], books)))
    books = pc.unique(pages.filter(wanted)["book_id"])
    return pages.filter(pc.is_in(pages["book_id"], books))


def book_pass_plan(pages: pa.Table, candidates: tuple[str, ...]) -> list[tuple[dict, str, str]]:
    """Current page rows (PLAN_COLUMNS at least) → (row, language, why) per page to read
    again: OCR'd pages, read without error and not by the book pass already, of books
    whose language (book_language) is a candidate no reading of the page had models for."""
    by_book: dict[str, list[dict]] = {}
    for row in _could_need_a_pass(pages, candidates).to_pylist():
        by_book.setdefault(row["book_id"], []).append(row)
    plan = []
    for book_id in sorted(by_book):
        rows = by_book[book_id]
        found = book_language([r["detected_language"] for r in rows])
        if found is None or found[0] not in candidates:
            continue
        language, n, total = found
        for row in sorted(rows, key=lambda r: r["page"]):
            if (row.get("ocr_pass") or 1) < BOOK_PASS and language not in readings_of(row):
                why = (f"book reads as {language} ({n} of {total} checked pages); this page read as "
                       f"{row['detected_language'] or 'too little text to tell'} with {row['ocr_language']}")
                plan.append((row, language, why))
    return plan
