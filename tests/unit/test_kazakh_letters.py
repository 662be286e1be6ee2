"""Repairing Kazakh letters OCR read as look-alikes, with Debian's hunspell-kk (no Ray)."""
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from operators.books.kazakh_letters import LOOK_ALIKES, KazakhLetterRepair

KK_DIC, RU_DIC = "/usr/share/hunspell/kk_KZ.dic", "/usr/share/hunspell/ru_RU.dic"


@pytest.fixture(scope="module")
def repair() -> KazakhLetterRepair:
    return KazakhLetterRepair.load(KK_DIC, RU_DIC)


@pytest.mark.parametrize("read, right", [
    ("улттық", "ұлттық"), ("Улттық", "Ұлттық"), ("жумыс", "жұмыс"), ("сурақтарына", "сұрақтарына"),
    ("эдебиеті", "әдебиеті"), ("комекші", "көмекші"), ("тусінік", "түсінік"), ("куні", "күні"),
    ("көнілі", "көңілі"), ("Казакстан", "Қазақстан"),
    ("шаhардағы", "шаһардағы"), ("Гауhар", "Гауһар"), ("шаВар", "шаһар"),  # һ by its shape
])
def test_misread_kazakh_letters_are_repaired(repair, read, right):
    assert repair.repair_word(read) == right


@pytest.mark.parametrize("word", [
    "кітап", "университеттерінің", "қабылдау", "мен", "уақыт",  # right Kazakh words stay
    # Accusatives hunspell-kk's rules do not make: not "repaired" into possessives (қуатың).
    "қуатын", "жеңілдіктерін", "бастағанын", "қабатын", "Қуатын", "компаниямен",
    "Москва", "университет", "казак", "Вена", "ВВП", "МВД", "комиссия", "сказал",  # Russian words are never touched
    "hello", "Python",  # Latin words
])
def test_right_words_and_russian_words_are_left_alone(repair, word):
    assert repair.repair_word(word) == word


def test_a_page_is_repaired_word_by_word_and_counted(repair):
    text, n = repair("Әл-Фараби атындағы Қазақ улттық университеті. Москва и Петербург; эдебиеті мен өнері.")
    assert text == "Әл-Фараби атындағы Қазақ ұлттық университеті. Москва и Петербург; әдебиеті мен өнері."
    assert n == 2


def test_on_a_page_that_is_not_kazakh_only_its_kazakh_paragraphs_are_repaired(repair):
    from operators.books.page_language import PageLanguage
    from operators.text.langid import FastTextLangID

    language = PageLanguage(FastTextLangID(kazakh_check=False))
    russian = ("Научная библиотека университета сообщает о начале проекта по оцифровке фонда редких "
               "книг. На время работ читальный зал будет закрыт, а электронные версии книг будут "
               "доступны через каталог; улттык и эдебиет здесь не слова.")
    kazakh = ("Кітапханалардағы кітаптар, ғылыми жумыстар, жаңалықтар жэне тіл мамандары жазған "
              "нұсқаулық-жауап жұптары бір корпусқа жиналып, тазартылады және қайталанатын "
              "мәтіндерден арылтылады. Жоба осы мәселені шешу үшін улттық деректердің көлемін арттырады.")
    page = f"{russian}\n\n{kazakh}\n \n{russian}"

    def is_kazakh(paragraph: str) -> bool:
        return language.detect(paragraph).language == "kk"

    text, n = repair.kazakh_paragraphs(page, is_kazakh)
    fixed = kazakh.replace("жумыстар", "жұмыстар").replace("жэне", "және").replace("улттық", "ұлттық")
    assert text == f"{russian}\n\n{fixed}\n \n{russian}"
    assert n == 3
    assert repair.kazakh_paragraphs(russian, is_kazakh) == (russian, 0)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(alphabet="жэнебулулттыкКазакМосква эдебиетіhВ.,", max_size=40), max_size=6),
       st.lists(st.sampled_from(["\n\n", "\n \n", "\n\t\n", "\n"]), min_size=6, max_size=6))
def test_paragraph_repair_keeps_the_layout_and_repairs_as_the_whole_page_would(paragraphs, breaks):
    repair = KazakhLetterRepair.load(KK_DIC, RU_DIC)
    text = "".join(p + b for p, b in zip(paragraphs, breaks))
    assert repair.kazakh_paragraphs(text, lambda p: False) == (text, 0)
    assert repair.kazakh_paragraphs(text, lambda p: True) == repair(text)


@pytest.mark.parametrize("read, right", [
    # Patronymics no word list has: the suffix, and э inside the name.
    ("Мақсат Нурэдлулы, профессор", "Мақсат Нурәдлұлы, профессор"),
    ("Абай Кунанбайулы", "Абай Кунанбайұлы"),  # the name itself no list knows: not guessed at
    ("Сауле Эльдаркызы", "Сауле Эльдарқызы"),  # a name that begins with Э is a Russian loan: kept
    # ғ. of ғылым in degrees, and of ғасыр after a Roman numeral (Latin or Cyrillic letters).
    ("ф.-м. г. д., профессор", "ф.-м. ғ. д., профессор"),
    ("т.г.к. Әлиева", "т.ғ.к. Әлиева"),
    ("ХІХ г. басында", "ХІХ ғ. басында"),
    ("XX г. ортасы", "XX ғ. ортасы"),
])
def test_patronymics_and_abbreviations_are_repaired_by_their_form(repair, read, right):
    assert repair(read)[0] == right


@pytest.mark.parametrize("text", [
    "Таулы Алтай",          # тау + лы: an adjective, not a patronymic
    "Акулы мен Скулы",      # Russian words
    "1991 г. Алматы",       # Russian's year and city in a Kazakh text stay as written
    "г. Караганда",
    "Қазақ ұлы жазушысы",
])
def test_words_that_only_look_like_patronymics_or_abbreviations_are_kept(repair, text):
    assert repair(text) == (text, 0)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["Нурэдлулы", "Абай", "Кунанбайкызы", "Таулы", "Акулы", "г.", "д.", "к.", "XIX",
                                 "ХІХ", "1991", "жумыс", "Казак", "ф.-м.", "т.г.к.", "Эльдарулы", "улы", "эдебиет",
                                 ",", "—"]), max_size=12),
       st.lists(st.sampled_from([" ", "\n", ", "]), min_size=12, max_size=12))
def test_repair_only_puts_kazakh_letters_for_their_look_alikes_and_is_stable(tokens, gaps):
    repair = KazakhLetterRepair.load(KK_DIC, RU_DIC)
    text = "".join(t + g for t, g in zip(tokens, gaps))
    fixed, n = repair(text)
    assert len(fixed) == len(text)
    changed = [(a, b) for a, b in zip(text, fixed) if a != b]
    assert n == len(changed)
    assert all(b in LOOK_ALIKES.get(a, "") for a, b in changed), changed
    assert repair(fixed) == (fixed, 0)
