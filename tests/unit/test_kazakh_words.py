"""Which words Kazakh explains: hunspell-kk, loans, and loans with Kazakh endings (no Ray)."""
import pytest

from operators.text.kazakh_lid import HUNSPELL
from operators.text.kazakh_words import KazakhWords, in_harmony
from operators.text.dictionary import HunspellWords


@pytest.fixture(scope="module")
def kazakh():
    return KazakhWords(HunspellWords.load(HUNSPELL["kk"]), HunspellWords.load(HUNSPELL["ru"]),
                       HUNSPELL["kk"].removesuffix(".dic") + ".aff")


@pytest.mark.parametrize("word", [
    "файлдары", "алгоритмі", "элементі", "экспорттау", "Стилдер", "Аргументтер", "режимі",  # loans + endings
    "табылды", "жазуы", "аралдары", "Баптауларды",                                      # Kazakh words
    "компаниямен", "файлдарымен",                                     # мен keeps its е after any stem
    "Конфигурация", "Презентация",                                                     # loans as is
])
def test_kazakh_explains(kazakh, word):
    assert kazakh.explains(word)


@pytest.mark.parametrize("word", [
    "жабуу", "жашыруу",   # Kyrgyz verbal nouns: a doubled vowel is never a Kazakh ending
    "людини", "вибрати",  # Ukrainian
    "и",                  # a Russian function word is not a loan
    "сообщил", "ремонте",  # Russian inflected forms: Kazakh borrows the word, not its Russian case or tense
])
def test_kazakh_does_not_explain(kazakh, word):
    assert not kazakh.explains(word)


@pytest.mark.parametrize("word", ["файлами", "файлов", "тюбинген"])
def test_russian_endings_are_not_kazakh_ones(kazakh, word):
    # Russian forms are explained as loans as they stand, not as a stem with Kazakh endings.
    assert not kazakh.stem_with_endings(word.lower())


def test_endings_follow_the_stems_last_vowel():
    assert in_harmony("файл", "дары") and in_harmony("алгоритм", "і")
    assert not in_harmony("файл", "дері") and not in_harmony("элемент", "тары")
