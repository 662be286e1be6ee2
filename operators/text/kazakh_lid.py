"""Kazakh-aware language decision on top of lid.176, for Cyrillic text.

lid.176 saw little Kazakh: it labels some Kazakh texts `uk`, `ky`, `ru`, `tt`, `mn` or
`bg`, most often short ones, and now and then calls a Kyrgyz or Tatar text Kazakh. The
alphabets settle most of these cases, because every Cyrillic language of the region
adds its own letters to the Russian ones:

    kk  ә ғ қ ң ө ұ ү һ і        ky  ң ө ү               tt  ә ө ү җ ң һ
    ba  ә ө ү ғ ҡ ң ҙ ҫ һ        uz  ғ қ ў ҳ              uk  і ї є ґ    be  і ў

So a text with ұ, or with і next to қ, is Kazakh and nothing else; a long text with
ө ү ң but none of қ ұ і (the letters Kyrgyz, Tatar and Bashkir lack and every Kazakh
paragraph has) is not Kazakh; ї є ґ җ ҡ ў ... rule Kazakh out. Where letters cannot
decide on a long text (texts without the extra letters), hunspell word lists (Kazakh,
Russian, Ukrainian from Debian) say which language knows more of the words.

Where lid.176 says Russian, Ukrainian, Belarusian or Uzbek and Kazakh is among its
guesses, the word lists are asked which language explains the most words, Kazakh counted
with its loans and their Kazakh endings (kazakh_words.py: "Конфигурация табылды",
"Презентация режимі"); on a tie in a short text, the known words alone are put to lid.176
and the n-gram model, since a name beside them ("клингон тілі") is no evidence.

Cyrillic Uzbek writes қ ғ too, and lid.176 calls it Russian: where the letters rule out
lid.176's label, or a long text labelled kk has more words Uzbek's list knows than Kazakh
explains, the word lists give the label.

Short texts (labels, headlines: fewer than LONG_WORDS words) have too few letters for
that, and lid.176 is least sure on them. There a character n-gram model built from word
lists (char_ngrams.py: kk ru uk be mn uz tt ba) says how each language would spell the
words, and lid.176's label changes only when both agree enough: the model sure of Kazakh
and lid.176 not sure of its own label, or the model sure the Kazakh label is a Tatar,
Bashkir, Uzbek ... text that lid.176 also found plausible. Kyrgyz, which no list covers,
is guarded by its own spelling (long vowels, ө ү after the first syllable). Where
neither model is sure, lid.176's label stays and the evidence says "confidence": "low".
Every decision records its evidence (`lang_evidence`, JSON).
"""
from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass

from operators.text.char_ngrams import CharNgramModel, words_of
from operators.text.dictionary import HunspellWords
from operators.text.kazakh_words import KazakhWords
from operators.text.ukrainian_grammar import bare_locatives

# Letters each language adds to the 33 of Russian (Russian itself adds none).
EXTRA_LETTERS = {
    "kk": frozenset("әғқңөұүһі"),
    "ky": frozenset("ңөү"),
    "tt": frozenset("әөүҗңһ"),
    "ba": frozenset("әөүғҡңҙҫһ"),
    "uz": frozenset("ғқўҳ"),
    "tg": frozenset("ғӣқӯҳҷ"),
    "uk": frozenset("іїєґ"),
    "be": frozenset("іў"),
    "mn": frozenset("өү"),
    "rue": frozenset("іїєґ"),
    "sah": frozenset("ҕҥөһү"),
    "cv": frozenset("ӑӗҫӳ"),
    "sr": frozenset("јљњћџђ"),
    "mk": frozenset("ѓќѕјљњџ"),
    "ru": frozenset(),
    "bg": frozenset(),
}
# Letters of Kazakh that the languages lid.176 knows beyond the table (Caucasian, Finno-
# Ugric, Mongolic ...) do not write.
RARE_ELSEWHERE = frozenset("әғқұ")
RUSSIAN = frozenset("абвгдеёжзийклмнопрстуфхцчшщъыьэюя")
KAZAKH = RUSSIAN | EXTRA_LETTERS["kk"]
# Letters no other language of the table has together: a Kazakh paragraph always has one
# of these, and one of the letters Ukrainian/Uzbek lack.
KAZAKH_CORE = frozenset("құі")
NOT_UKRAINIAN_OR_UZBEK = frozenset("әңөұүһ") | frozenset("ғ")
HUNSPELL = {
    "kk": "/usr/share/hunspell/kk_KZ.dic",
    "ru": "/usr/share/hunspell/ru_RU.dic",
    "uk": "/usr/share/hunspell/uk_UA.dic",
    "be": "/usr/share/hunspell/be_BY.dic",
    "uz": "/usr/share/hunspell/uz_UZ.dic",
}
WORD = re.compile(r"[\u0400-\u04ff]+(?:['’ʼ-][\u0400-\u04ff]+)*")
LONG_WORDS = 12  # from this many Cyrillic words on, a Kazakh text shows its core letters
MAX_WORDS = 300  # words looked up in the dictionaries (enough to compare hit rates)
MIN_MARKED_SHARE = 0.15  # Kazakh prose: 30-60% of words carry one of its nine letters; a
# Russian text with a few Kazakh names stays well below this


# Short-text thresholds on the n-gram model's posteriors (see CharNgramModel.posteriors).
NGRAM_KK_SURE = 0.8  # the model must be this sure of Kazakh to overrule lid.176 ...
LID_UNSURE = 0.9  # ... and lid.176 less sure than this of a label Kazakh's letters allow
NGRAM_RIVAL_SURE = 0.98  # the model this sure of a rival (and of not-Kazakh) to take a kk label back
NGRAM_KK_NONE = 0.01
MIN_LISTED_SHARE = 0.25  # of the words a list must know to take a label (hunspell-uz has few loans)
MIN_WORD_OF_EVIDENCE = 4  # letters of a word that can tip the word lists' count to Kazakh
LID_KK_SEEN_LONG = 0.2  # lid.176's kk share that lets word lists reconsider a long text's label
LID_RIVAL_PLAUSIBLE = 0.05  # ... where lid.176 gave that rival at least this much
# Kyrgyz spelling Kazakh does not have: long vowels, and ө ү after the first syllable
# (Kyrgyz rounds later vowels: "түшүнбөйм", "өлкөнүн"; Kazakh writes "түсінбеймін").
# lid.176 hardly knows Cyrillic Uzbek (it learned Uzbek in Latin letters), so its silence
# on uz is no evidence against it.
LID_BLIND = frozenset({"uz"})
# And verbal nouns in -уу: Kazakh ends them in one у ("жазу"), save one-syllable ones ("жуу").
KYRGYZ_SPELLING = re.compile(r"(аа|оо|өө|үү|ээ|ыы)|[аеёиоуүөыэюяұі][^аеёиоуүөыэюяұіә]+[өү]"
                             r"|[аеёиоуүөыэюяұі][^аеёиоуүөыэюяұіә]*[^аеёиоуүөыэюяұіә]уу$")
KAZAKH_ONLY = frozenset("құғәіһ")  # none of them in Kyrgyz
# And the other way, spellings of Kazakh a neighbour never writes. Kyrgyz merged a vowel + у
# into a long vowel (Kazakh "жасау", "баптау"; Kyrgyz "жасоо"), writes its verbal nouns with
# -уу/-үү ("жабуу"; Kazakh "жабу", "көрсету"), its possessive -у only after a rounded vowel
# ("жолу"; Kazakh "жолы"), and no vowel after у (Kazakh "жазуы"; Kyrgyz "жазуусу"). Tatar and
# Bashkir end a word in у after a front vowel only in "-су" ("зәңгәрсу"; 10 of their 360,000
# word forms): their verbal noun there is -ү ("төзәтү"; Kazakh "түзету").
NEVER_WRITTEN_BY = {
    "ky": re.compile(r"[аеыә]у|уы|[аеыиәі][^аеёиоуүөыэюяұіә]+у$"),
    "tt": re.compile(r"[еәіиөү][^аеёиоуүөыэюяұіә]*[^аеёиоуүөыэюяұіәс]у$"),
}
NEVER_WRITTEN_BY["ba"] = NEVER_WRITTEN_BY["tt"]
# Kazakh endings have only а е ы і for vowels; Kyrgyz rounds them after о ө у ү and writes
# и where Kazakh writes і: "сөздөрүнүн", "жапондорго", "лимонду", "велосипеддин" (Kazakh
# "сөздерінің", "жапондарға", "лимонды", "велосипедтің"), "мештердеги", "келип",
# "теңирибизден" (Kazakh "-дегі", "келіп", "-іміз"), and г where Kazakh writes ғ ("-дагы";
# Kazakh "-дағы"). And Kazakh writes ш where Kyrgyz, Tatar and Uzbek write ч ("жапонша" /
# "жапончо"). Both are checked only on words Kazakh does not explain: Russian loans
# ("коридор", "монитор", "чемпион") have them too.
KYRGYZ_ENDINGS = re.compile(r"[дтнл][уү]н$|[аеыиоөуүяюэ][^аеыиоөуүяюэі]*[дтнл]ин$|[оөуү][^аеёиоуүөыэюяұіә]*[дтл][оө]р"
                            r"|[оөуү][^аеёиоуүөыэюяұіә]+[гк][оө]$|[оөуү][^аеёиоуүөыэюяұіә]*[дтн][уү]$"
                            r"|[аеыиоөуүяюэ][^аеыиоөуүяюэі]*(?:[дт][еи]ги|[дт]агы|[^аеыиоөуүяюэі]ип|[ыи]б[ыи]з\w*)$")


# Kazakh written with a font or keyboard that has ӛ (U+04DB) where ө belongs; common in
# Kazakh PDFs and web text.
# (str.replace, not str.translate: a dict translation costs ~0.1 ms on a 2 KB document.)
KAZAKH_VARIANT, KAZAKH_LETTER = "ӛ", "ө"


# A letter (isalpha: \w less digits and _) Kazakh does not write; one of Kazakh's nine.
NOT_KAZAKH_LETTER = re.compile(f"[^\\W\\d_{''.join(sorted(KAZAKH))}]")
KAZAKH_MARKED = re.compile(f"[{''.join(sorted(EXTRA_LETTERS['kk']))}]")


@dataclass
class Letters:
    words: list[str]
    extras: frozenset[str]  # letters beyond Russian present in the text
    foreign_share: float  # share of words with a Cyrillic letter Kazakh does not have
    marked_share: float  # share of words with one of Kazakh's nine letters (і included)

    @classmethod
    def of(cls, text: str) -> Letters:
        words = WORD.findall(text.lower().replace(KAZAKH_VARIANT, KAZAKH_LETTER))
        letters = frozenset(ch for ch in set("".join(words)) if ch.isalpha())
        n = len(words) or 1
        # Each word is searched only when the text has such letters at all (most has none).
        foreign = sum(1 for w in words if NOT_KAZAKH_LETTER.search(w)) if letters - KAZAKH else 0
        marked = sum(1 for w in words if KAZAKH_MARKED.search(w)) if letters & EXTRA_LETTERS["kk"] else 0
        return cls(words, letters - RUSSIAN, foreign / n, marked / n)

    def rules_out(self, lang: str) -> bool:
        """The text has letters `lang` does not write."""
        if lang in EXTRA_LETTERS:
            return not self.extras <= EXTRA_LETTERS[lang]
        return bool(self.extras & RARE_ELSEWHERE)

    def kazakh_possible(self) -> bool:
        # Ukrainian (є ї ґ), Uzbek (ў ҳ), Bashkir (ҡ ҙ ҫ), Tatar (җ) text has such letters in
        # many words; a Kazakh text only in a few (a quoted name, a stray word), far fewer
        # than words with a Kazakh letter those languages lack (і beside a Ukrainian є is
        # no such letter, nor қ ғ beside an Uzbek ў).
        if self.foreign_share < 0.02:
            return True
        foreign = self.extras - EXTRA_LETTERS["kk"]
        theirs = frozenset().union(*(own for own in EXTRA_LETTERS.values() if own & foreign))
        only_kazakh = EXTRA_LETTERS["kk"] - theirs
        kazakh_words = sum(1 for w in self.words if only_kazakh.intersection(w))
        foreign_words = sum(1 for w in self.words if foreign.intersection(w))
        if self.foreign_share < 0.1:
            return foreign_words * 2 < kazakh_words
        return kazakh_words > foreign_words

    def only_kazakh(self) -> bool:
        """No language of the table but Kazakh writes all of the text's extra letters (ұ, or
        і with қ, ...)."""
        return bool(self.extras) and [lang for lang in EXTRA_LETTERS if not self.rules_out(lang)] == ["kk"]

    def looks_kazakh_long(self) -> bool:
        return (bool(self.extras & KAZAKH_CORE) and bool(self.extras & NOT_UKRAINIAN_OR_UZBEK)
                and self.marked_share >= MIN_MARKED_SHARE)


class KazakhDecision:
    """(lid.176's ranked labels, text) → (lang, score, evidence) for Cyrillic text."""

    def __init__(self, dictionaries: dict[str, str] | None = None, kk_min_stem_length: int = 4,
                 ngrams: CharNgramModel | None | bool = True, rank: Callable[[str], list] | None = None):
        paths = HUNSPELL if dictionaries is None else dictionaries
        self.words = {lang: HunspellWords.load(path, kk_min_stem_length)
                      for lang, path in paths.items() if path and os.path.exists(path)}
        self.kazakh_words = (KazakhWords(self.words["kk"], self.words["ru"], os.path.splitext(paths["kk"])[0] + ".aff")
                             if {"kk", "ru"} <= set(self.words) else None)
        # True: the model shipped with the package; False/None: letters and words only.
        self.ngrams = CharNgramModel.bundled() if ngrams is True else ngrams or None
        self.rank = rank  # lid.176's ranking of another text (FastTextLangID.ranked)

    def hits(self, letters: Letters, strict: bool = False, label: str = "") -> dict[str, float]:
        """Share of the words that Kazakh's dictionary knows, and the label's, and those of
        Russian, Ukrainian and every language whose letters the text allows. Kazakh stacks
        suffixes beyond hunspell-kk's rules, so a Kazakh word may merely start with a known
        stem unless `strict`; other words must always be stems or their inflections (else
        "алгоритмі" would be Russian because "алгоритм" is)."""
        sample = letters.words[:MAX_WORDS]
        if not sample:
            return {}
        return {lang: round(len(self.known_positions(lang, sample, lang == "kk" and not strict)) / len(sample), 3)
                for lang in self.words if lang in ("kk", "ru", "uk", label) or not letters.rules_out(lang)}

    def known_positions(self, lang: str, words: list[str], stem_prefixes: bool = False) -> set[int]:
        """Positions of the words `lang`'s list knows. In a short text, Ukrainian does not know
        a word it could only read as a locative without a preposition ("ява тілі": тілі is
        Kazakh's "its language" and Ukrainian's "in the body"; ukrainian_grammar.py)."""
        known = {i for i, w in enumerate(words) if self.words[lang].knows(w, stem_prefixes)}
        if lang == "uk" and known and len(words) < LONG_WORDS:
            known -= bare_locatives(words)
        return known

    def explained_words(self, letters: Letters) -> list[str]:
        """The words (of the first MAX_WORDS) Kazakh explains, loans and their endings included."""
        return [w for w in letters.words[:MAX_WORDS] if self.kazakh_words.explains(w)]

    def explained_share(self, letters: Letters) -> float:
        words = letters.words[:MAX_WORDS]
        if self.kazakh_words is None or not words:
            return 1.0
        return len(self.explained_words(letters)) / len(words)

    def known_counts(self, letters: Letters, label: str = "") -> dict[str, int]:
        """How many of the words each list knows (no stem guessing), for the label and every
        language but Kazakh whose letters the text allows."""
        words = letters.words[:MAX_WORDS]
        return {lang: len(self.known_positions(lang, words)) for lang in self.words
                if lang == label or lang != "kk" and not letters.rules_out(lang)}

    def better_known(self, letters: Letters) -> str | None:
        """The language, among those the letters allow, whose word list knows more of the
        words than Kazakh explains: Uzbek has қ ғ, and lid.176 hardly knows Cyrillic Uzbek."""
        if self.kazakh_words is None or not (known := self.known_counts(letters)):
            return None
        best = max(known, key=known.get)
        return best if known[best] > len(self.explained_words(letters)) else None

    def listed_fit(self, letters: Letters, label: str) -> str | None:
        """Where the letters rule lid.176's label out (Cyrillic Uzbek, which lid.176 calls
        Russian): the language other than Kazakh whose letters the text allows and whose word
        list knows more of its words than any other list, the label's included (a Russian
        text quoting a Kazakh name keeps its label)."""
        ranked = sorted(self.known_counts(letters, label).items(), key=lambda kv: -kv[1])
        if (not ranked or ranked[0][0] == label or len(ranked) > 1 and ranked[1][1] == ranked[0][1]
                or ranked[0][1] < MIN_LISTED_SHARE * len(letters.words[:MAX_WORDS])):
            return None
        return ranked[0][0]

    @staticmethod
    def best_rival(hits: dict[str, float]) -> float:
        return max((share for lang, share in hits.items() if lang != "kk"), default=0.0)

    def decide(self, ranked: list[tuple[str, float]], text: str) -> tuple[str, float, str]:
        lid, lid_score = ranked[0] if ranked else ("und", 0.0)
        p_lid = dict(ranked)
        p_kk = p_lid.get("kk", 0.0)
        letters = Letters.of(text)
        evidence = {"lid176": [[lang, round(p, 3)] for lang, p in ranked[:3]],
                    "extras": "".join(sorted(letters.extras)), "marked": round(letters.marked_share, 3)}
        long = len(letters.words) >= LONG_WORDS

        def answer(lang: str, score: float, rule: str) -> tuple[str, float, str]:
            if lang not in ("kk", "und") and letters.rules_out(lang) and (fits := self.listed_fit(letters, lang)):
                lang, score, rule = fits, p_lid.get(fits, 0.5), f"letters rule out {lang}; {fits} words"
            evidence["rule"] = rule
            evidence.pop("_posteriors", None)
            return lang, round(min(score, 1.0), 4), json.dumps(evidence, ensure_ascii=False)

        def alternative(rule: str) -> tuple[str, float, str]:
            for lang, p in ranked:
                if lang != "kk" and not letters.rules_out(lang):
                    return answer(lang, p, rule)
            fits = self.listed_fit(letters, "und")
            return answer(fits, 0.5, f"{rule}; {fits} words") if fits else answer("und", 0.0, rule)

        def dictionaries(strict: bool = False) -> dict[str, float]:
            evidence["dict"] = hits = self.hits(letters, strict, lid)
            return hits

        if not letters.words or not ranked:  # no words, or nothing lid.176 could rank
            return answer(lid, lid_score, "lid176")
        kazakh_letters = letters.extras & EXTRA_LETTERS["kk"]
        if lid == "kk":
            if not letters.kazakh_possible():
                return alternative("letters not Kazakh")
            if long and not letters.extras & KAZAKH_CORE:
                return alternative("long text without қ ұ і")
            if long and (rival := self.better_known(letters)):
                return answer(rival, p_lid.get(rival, 0.5), f"{rival} knows more of its words than Kazakh explains")
            if not long:
                return self.short_kazakh_label(ranked, text, letters, evidence, answer)
            return answer("kk", lid_score, "lid176")
        if not letters.kazakh_possible():
            return answer(lid, lid_score, "lid176")
        strength = 0.5 + letters.marked_share / 2  # 0.5 .. 1: how Kazakh the letters look
        if kazakh_letters and letters.rules_out(lid):
            # lid.176's label is impossible for these letters; Kazakh is possible.
            hits = dictionaries()
            if long:
                # A Russian text quoting Kazakh names has the letters too, in a few words
                # the Russian dictionary does not know while it knows the rest.
                if (letters.looks_kazakh_long() and hits.get("kk", 1.0) > self.best_rival(hits)
                        and not self.better_known(letters)):
                    return answer("kk", max(p_kk, strength), f"letters rule out {lid}")
            elif (hits.get("kk", 0.0) >= max(self.best_rival(hits), 0.5) and self.explained_share(letters) >= 0.5
                    and not self.spelt_kyrgyz(letters, evidence)):
                return answer("kk", max(p_kk, strength), f"letters rule out {lid}; kk words")
            elif letters.only_kazakh() and hits.get(lid, 0.0) <= 0.5:
                # Names around a Kazakh word ("Атлант мұхиты/Кабо-Верде"): no word list knows
                # them, but only Kazakh writes these letters, and the label's list does not
                # know most words (a Russian sentence quoting a Kazakh name it does).
                return answer("kk", max(p_kk, strength), f"letters rule out {lid}; only Kazakh writes them")
        elif not long and p_kk > 0 and lid in self.words:
            # A short text in letters Kazakh shares with the label ("дат тілі" read as uk):
            # Kazakh's own word forms, none of them guessed from a stem, against the label's,
            # unless the spelling says otherwise ("чечен" is in hunspell-kk, and Bashkir too).
            hits = dictionaries(strict=True)
            if (hits.get("kk", 0.0) >= 0.5 and hits["kk"] > hits[lid]
                    and self.spelling(text, letters, evidence).get("kk", 1.0) >= 0.5
                    and not evidence.get("kyrgyz_spelling")):
                return answer("kk", max(p_kk, 0.5), f"short text; more Kazakh words than {lid}")
        if lid in NEVER_WRITTEN_BY and self.spelt_as_label_never_writes(lid, letters, evidence):
            return answer("kk", max(p_kk, strength), f"spelt as {lid} never writes; Kazakh explains every word")
        explained = self.explained_by_kazakh(ranked, text, letters, evidence)
        if explained:
            return answer("kk", max(p_kk, strength), explained)
        if not long:
            return self.short_other_label(ranked, text, letters, evidence, answer)
        return answer(lid, lid_score, "lid176")

    def explained_by_kazakh(self, ranked, text, letters, evidence) -> str | None:
        """A text whose words Kazakh explains, loans and their Kazakh endings included,
        more of than any other word list does ("Конфигурация табылды": Russian knows the
        first word, Kazakh both): the rule that says so, else None. lid.176's label must be
        a language with a word list, and lid.176 must have seen Kazakh in the text at least
        as much as Kyrgyz, which no word list here covers, unless a word is spelt as Kyrgyz
        never writes ("каннада жазуы") and none the Kyrgyz way."""
        p_lid = dict(ranked)
        if self.kazakh_words is None or ranked[0][0] not in self.words:
            return None
        words = letters.words[:MAX_WORDS]
        if len(words) >= LONG_WORDS and p_lid.get("kk", 0.0) < LID_KK_SEEN_LONG:
            return None
        if (("kk" not in p_lid or p_lid["kk"] < p_lid.get("ky", 0.0))
                and not (self.spelt_as_never_written(words, "ky") and not self.spelt_kyrgyz(letters, evidence))):
            return None
        explained = self.explained_words(letters)
        if len(explained) * 2 < len(words):
            return None
        others = {lang: self.known_positions(lang, words) for lang in self.words if lang != "kk"}
        best = max(others, key=lambda lang: len(others[lang]))
        if len(explained) < len(others[best]):
            return None
        # Won on more words: the words that make the difference must not all be two or three
        # letters long that happen to be Kazakh too ("кеш" beside "Отключить").
        beyond_best = [w for i, w in enumerate(words) if i not in others[best] and self.kazakh_words.explains(w)]
        if len(explained) > len(others[best]) and not any(len(w) >= MIN_WORD_OF_EVIDENCE for w in beyond_best):
            return None
        if len(explained) == len(others[best]) and not self.known_words_read_kazakh(explained, words):
            return None
        if self.spelt_kyrgyz(letters, evidence):
            return None
        evidence["explained"] = {"kk": len(explained), best: len(others[best]), "words": len(words)}
        if len(explained) == len(others[best]):
            return f"Kazakh explains as many of its words as {best}; those read as Kazakh"
        return f"Kazakh explains more of its words than {best}"

    def known_words_read_kazakh(self, explained: list[str], words: list[str]) -> bool:
        """A tie between word lists in a short text with names no list knows ("клингон тілі":
        тілі is Ukrainian too): the names are no evidence, so lid.176 and the n-gram model are
        asked about the known words alone, and both must say Kazakh."""
        if (self.rank is None or self.ngrams is None or len(words) >= LONG_WORDS
                or len(explained) == len(words)):
            return False
        ranked = self.rank(" ".join(explained))
        return (bool(ranked) and ranked[0][0] == "kk"
                and self.ngrams.posteriors(explained).get("kk", 0.0) >= NGRAM_KK_SURE)

    def spelling(self, text: str, letters: Letters, evidence: dict) -> dict[str, float]:
        """The n-gram model's posteriors, and whether the words are spelt the Kyrgyz way."""
        if self.ngrams is None:
            return {}
        if "_posteriors" in evidence:  # already asked by an earlier rule for this text
            return evidence["_posteriors"]
        posteriors = evidence["_posteriors"] = self.ngrams.posteriors(words_of(text))
        evidence["ngrams"] = [[lang, round(p, 3)] for lang, p in list(posteriors.items())[:3]]
        self.spelt_kyrgyz(letters, evidence)
        return posteriors

    def spelt_kyrgyz(self, letters: Letters, evidence: dict) -> bool:
        """Words spelt the Kyrgyz way and no letter Kyrgyz lacks (noted in the evidence). A word
        whose only Kyrgyz trait is ч, often a name ("лепча жазуы"), counts only where it outnumbers
        the words spelt as Kyrgyz never writes."""
        if not letters.extras & KAZAKH_ONLY and not evidence.get("kyrgyz_spelling"):
            with_ch = sum(1 for w in letters.words if "ч" in w and not self.explains(w))
            if (any(KYRGYZ_SPELLING.search(w) or self.kyrgyz_ending(w) for w in letters.words)
                    or with_ch and with_ch > self.spelt_as_never_written(letters.words[:MAX_WORDS], "ky")):
                evidence["kyrgyz_spelling"] = True
        return evidence.get("kyrgyz_spelling", False)

    def spelt_as_never_written(self, words: list[str], lang: str) -> int:
        """How many of the words (of MIN_WORD_OF_EVIDENCE letters, Kazakh explains them, Russian
        does not know them) are spelt as `lang` never writes."""
        russian = self.words.get("ru")
        if self.kazakh_words is None:
            return 0
        return sum(1 for w in words if len(w) >= MIN_WORD_OF_EVIDENCE and NEVER_WRITTEN_BY[lang].search(w)
                   and not (russian and russian.knows(w, stem_prefixes=False)) and self.kazakh_words.explains(w))

    def spelt_as_label_never_writes(self, lid: str, letters: Letters, evidence: dict) -> bool:
        """lid.176's Kyrgyz, Tatar or Bashkir for Kazakh without its own letters ("Баптауларды
        жабу", "Тапсырманы түзету"): every word one Kazakh explains, one of them spelt as the
        label's language never writes, and none spelt the Kyrgyz way."""
        words = letters.words[:MAX_WORDS]
        if not self.spelt_as_never_written(words, lid):
            return False
        return not self.spelt_kyrgyz(letters, evidence) and all(self.kazakh_words.explains(w) for w in words)

    def explains(self, word: str) -> bool:
        """Kazakh explains the word, loans and their endings included (True without the lists)."""
        return self.kazakh_words is None or self.kazakh_words.explains(word)

    def kyrgyz_ending(self, word: str) -> bool:
        return KYRGYZ_ENDINGS.search(word) is not None and not self.explains(word)

    def short_kazakh_label(self, ranked, text, letters, evidence, answer):
        """lid.176 says kk for a short text: a Tatar, Bashkir or Uzbek word may read as
        Kazakh to it; Kyrgyz spelling without a letter Kyrgyz lacks is Kyrgyz."""
        lid_score = ranked[0][1]
        posteriors = self.spelling(text, letters, evidence)
        if not posteriors:
            return answer("kk", lid_score, "lid176")
        p_lid = dict(ranked)
        if evidence.get("kyrgyz_spelling") and not letters.rules_out("ky"):
            return answer("ky", p_lid.get("ky", 0.0) + lid_score / 2, "short text; Kyrgyz spelling")
        rival, p_rival = next((lang, p) for lang, p in posteriors.items() if lang != "kk")
        if (posteriors.get("kk", 0.0) < NGRAM_KK_NONE and p_rival >= NGRAM_RIVAL_SURE and not letters.rules_out(rival)
                and (p_lid.get(rival, 0.0) >= LID_RIVAL_PLAUSIBLE or rival in LID_BLIND)):
            return answer(rival, max(p_lid.get(rival, 0.0), 0.5), f"short text; spelt as {rival}, not kk")
        if posteriors.get("kk", 0.0) < NGRAM_KK_SURE or lid_score < 0.5:
            evidence["confidence"] = "low"
        return answer("kk", lid_score, "lid176")

    def words_are_the_labels(self, lid: str, words: list[str]) -> bool:
        """Every word is a form the label's list knows and none is one Kazakh explains
        ("інше", "гінді" spelt like Kazakh to the n-grams, but Ukrainian words)."""
        known = self.words.get(lid)
        return (known is not None and self.kazakh_words is not None
                and len(self.known_positions(lid, words)) == len(words)
                and not any(self.kazakh_words.explains(w) for w in words))

    def short_other_label(self, ranked, text, letters, evidence, answer):
        """lid.176 says another language for a short text that Kazakh's letters allow:
        Kazakh when the n-gram model is sure of it and lid.176 is not sure of its label."""
        lid, lid_score = ranked[0]
        posteriors = self.spelling(text, letters, evidence)
        if not posteriors:
            return answer(lid, lid_score, "lid176")
        p_kk = posteriors.get("kk", 0.0)
        kazakh_letters = bool(letters.extras & EXTRA_LETTERS["kk"])
        p_lid = dict(ranked)
        # The model knows no Kyrgyz (nor Bulgarian, Serbian ...): it may overrule only a
        # label it can judge, and only where lid.176 found Kyrgyz no likelier than Kazakh
        # or the letters rule Kyrgyz out (қ in "Индекстелген ДҚ").
        if (p_kk >= NGRAM_KK_SURE and not evidence.get("kyrgyz_spelling") and lid in self.ngrams.langs
                and (p_lid.get("ky", 0.0) <= p_lid.get("kk", 0.0) or letters.rules_out("ky"))
                and (lid_score < LID_UNSURE or kazakh_letters and letters.rules_out(lid))
                and not self.words_are_the_labels(lid, letters.words)):
            return answer("kk", max(p_lid.get("kk", 0.0), p_kk / 2 + 0.1), f"short text; spelt as kk, not {lid}")
        if max(posteriors.values()) < NGRAM_KK_SURE or lid_score < 0.5:
            evidence["confidence"] = "low"
        return answer(lid, lid_score, "lid176")
