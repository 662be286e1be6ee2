"""Latin acronyms read in Cyrillic twins by OCR with Cyrillic models (operators/books/latin_acronyms.py)."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from operators.books.latin_acronyms import TWINS, LatinAcronyms

EN, KK = "/usr/share/hunspell/en_US.dic", "/usr/share/hunspell/kk_KZ.dic"


@pytest.fixture(scope="module")
def acronyms() -> LatinAcronyms:
    return LatinAcronyms.load(EN, KK)


@pytest.mark.parametrize("read, meant", [
    # Tesseract with kaz+rus on the ocr_eval pages: every letter a Cyrillic twin
    ("Массачусетс технологиялық институтының (МІТ) зерттеуі", "Массачусетс технологиялық институтының (MIT) зерттеуі"),
    ("Зерттеуді МІТ-тің аймақтық бағдарламасы жүргізді.", "Зерттеуді MIT-тің аймақтық бағдарламасы жүргізді."),
    ("а внешние АРІ не используются", "а внешние API не используются"),
    ("АІ және ІТ салалары", "AI және IT салалары"),
    ("акции ІВМ и ІРО компании", "акции IBM и IPO компании"),
])
def test_latin_acronyms_read_in_cyrillic_go_back_to_latin(acronyms, read, meant):
    text, count = acronyms(read)
    assert text == meant
    assert count == sum(a != b for a, b in zip(read, meant))
    assert "І" not in text


@pytest.mark.parametrize("text", [
    "ВВС России провели учения",          # Russian acronym without І, though English has BBC
    "ІІМ хабарлады",                      # a Kazakh acronym English does not have
    "ХІХ ғасырдың аяғында",               # a Roman numeral in Cyrillic letters
    "І тарау. Кіріспе",                   # one letter
    "ЕКІ МІНЕ КІТАП",                     # Kazakh words in capitals
    "МІТа АМІТ",                          # an acronym's letters inside a longer word
    "ОРІ) кластерлер",                    # no English acronym "OPI"
    "MIT and API stay as written",        # already Latin
])
def test_cyrillic_words_and_other_acronyms_stay(acronyms, text):
    assert acronyms(text) == (text, 0)


def test_english_acronyms_are_its_capitalised_entries(acronyms):
    assert {"MIT", "API", "IBM"} <= acronyms.english
    assert "BBC" in acronyms.english and "ВВС".translate(TWINS) == "BBC"
    assert all(entry.isupper() and len(entry) > 1 for entry in acronyms.english)


PAGE_LETTERS = "АВЕІКМНОРСТХУабвгдеәғқңөұүһіMITAPиа "


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list(PAGE_LETTERS) + ["-", "(", ")", "\n", "1"]), max_size=80))
def test_rewrite_is_letter_for_letter_and_idempotent(text):
    acronyms = LatinAcronyms.load(EN, KK)
    once, count = acronyms(text)
    assert len(once) == len(text)
    assert count == sum(a != b for a, b in zip(text, once))
    assert all(a == b or a.translate(TWINS) == b for a, b in zip(text, once))
    assert acronyms(once) == (once, 0)
