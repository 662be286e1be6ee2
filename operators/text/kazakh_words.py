"""Which words of a text Kazakh accounts for, loans included.

Kazakh writes Russian and international loans as Russian does and adds its own endings,
with its vowel harmony: "файл" → "файлдары", "алгоритм" → "алгоритмі", "экспорт" →
"экспорттау", "стиль" → "стилдер". hunspell-kk knows few such loans, so a short Kazakh
label ("Презентация режимі", "Конфигурация табылды") looks half Russian, half Ukrainian
to word lists, and lid.176 calls it one or the other. Kazakh explains every word of it.

A word is explained by Kazakh when hunspell-kk knows it (a stem, or a stem with one of its
suffix rules), when it is a Kazakh or Russian stem followed by one to three Kazakh endings
in harmony with the stem's last vowel, or when it is a Russian word in its base form (a
loan as is: Kazakh borrows "файл", not "файлами" or "сообщил").
The endings are hunspell-kk's suffixes plus the nominal and verbal endings below, every
harmony and assimilation variant written out (a grammar's inventory, not learned text).
"""
from __future__ import annotations

import functools

from operators.text.dictionary import HunspellWords, aff_encoding, load_suffix_rules, normalize_word

BACK = frozenset("аоуыұяюё")
FRONT = frozenset("еэиәөүі")
ENDINGS = """
лар лер дар дер тар тер
ның нің дың дің тың тің
ны ні ды ді ты ті ын ін
ға ге қа ке на не
да де та те нда нде
дан ден тан тен нан нен
мен бен пен
ым ім ың ің ымыз іміз мыз міз ыңыз іңіз ңыз ңіз ы і сы сі
ғы гі қы кі дағы дегі тағы тегі
лық лік дық дік тық тік шы ші лы лі сыз сіз
лау леу дау деу тау теу ла ле ған ген қан кен атын етін йтын йтін ып іп
""".split()
MAX_ENDINGS = 3
MIN_STEM = 3
MIN_LOAN_STEM = 4  # a Russian stem under an ending ("файл" → "файлдары")
MIN_LOAN = 3  # a Russian word taken as is: not "и", "на", "в", which Kazakh does not borrow


@functools.cache
def kazakh_endings(aff_path: str) -> frozenset[str]:
    # One letter is no ending to go by: hunspell-kk's (п, т, й ...) are pieces of verb
    # stems, and а е у н after a stem are as often Russian case endings ("файла", "файлу").
    rules = load_suffix_rules(aff_path, aff_encoding(aff_path))
    return frozenset(ENDINGS) | frozenset(ending for ending in rules if len(ending) > 1)


def in_harmony(stem: str, tail: str) -> bool:
    """The tail's vowels are all back or all front as the stem's last vowel (у is also a
    consonant-like glide in Kazakh, so it is neutral)."""
    last = next((ch for ch in reversed(stem) if ch in BACK or ch in FRONT), None)
    vowels = {ch for ch in tail if ch in BACK or ch in FRONT} - {"у"}
    if last is None or not vowels:
        return True
    return vowels <= (BACK if last in BACK else FRONT)


def harmonic_part(tail: str) -> str:
    """The endings that follow the stem's harmony: мен/бен/пен ("with") come last and keep
    their е after any stem ("компаниямен", "балаларымен")."""
    return tail[:-3] if tail.endswith(("мен", "бен", "пен")) else tail


class KazakhWords:
    def __init__(self, kazakh: HunspellWords, russian: HunspellWords, aff_path: str):
        self.kazakh, self.russian = kazakh, russian
        self.endings = kazakh_endings(aff_path)
        # Labels and prose repeat their words: each is judged once per process.
        self.explains = functools.lru_cache(maxsize=1 << 16)(self.explains)
        self.chain_of_endings = functools.lru_cache(maxsize=1 << 14)(self.chain_of_endings)

    def chain_of_endings(self, tail: str) -> bool:
        """The tail is 1..MAX_ENDINGS Kazakh endings (never a doubled vowel: "жабуу" is Kyrgyz)."""
        if any(double in tail for double in ("уу", "үү", "аа", "ыы")):
            return False

        @functools.cache
        def splits(start: int, left: int) -> bool:
            if start == len(tail):
                return True
            return left > 0 and any(tail[start:end] in self.endings and splits(end, left - 1)
                                    for end in range(len(tail), start, -1))

        return splits(0, MAX_ENDINGS)

    def stem_with_endings(self, word: str, min_stem: int = MIN_STEM) -> bool:
        for cut in range(len(word) - 1, min_stem - 1, -1):
            stem, tail = word[:cut], word[cut:]
            # A loan ending in ь drops it before an ending: "стиль" → "стилдер".
            known = stem in self.kazakh.stems or cut >= MIN_LOAN_STEM and (
                stem in self.russian.stems or stem + "ь" in self.russian.stems)
            if known and in_harmony(stem, harmonic_part(tail)) and self.chain_of_endings(tail):
                return True
        return False

    def explains(self, word: str) -> bool:
        word = normalize_word(word)
        return (self.kazakh.knows(word, stem_prefixes=False) or self.stem_with_endings(word)
                or len(word) >= MIN_LOAN and word in self.russian.stems)
