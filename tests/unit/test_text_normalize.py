import ftfy.bad_codecs  # noqa: F401  (registers "sloppy-windows-1251": how browsers misread bytes)
import pyarrow as pa
import pytest

from operators.text.homoglyphs import repair_homoglyphs
from operators.text.legacy_kz import repair_legacy_kz
from operators.text.mojibake import repair_mojibake
from operators.text.normalize import Normalizer, normalize_whitespace, remove_control_chars
from tests.conftest import SEEDS, needs_seeds

SEED = str(SEEDS / "000_fd5068693b491d45.txt")
# From the seed: the Kazakh abstract of a review of AI in Kazakhstan.
KK = (
    "Аннотация. Жасанды интеллекттің қоғамға әсері ешқашан байқалмады. Жасанды интеллект көбінесе "
    "Интернеттен кейінгі өнеркәсіптік өзгерістердің жаңа толқыны деп аталады, бүкіл әлемдегі экономиканы, "
    "мемлекеттік қызметтерді және күнделікті өмірді өзгертеді. Еуразия қиылысында орналасқан Қазақстан өзінің "
    "алдына жасанды интеллектті (ЖИ) толық цифрлық қоғам құрудың негізгі құралы ретінде пайдалану мақсатын қойды."
)
RU = "Влияние искусственного интеллекта на общество еще никогда не было таким заметным."


def doc(text, **columns):
    return {"doc_id": "d1", "source": "text", "text": text, "lang": "kk", "n_chars": len(text or ""),
            "reason": None, "detail": None, **columns}


def normalize(text, **settings):
    return Normalizer(**settings).process(doc(text))


# --- mojibake -------------------------------------------------------------------------

@pytest.mark.parametrize("codec", ["latin-1", "sloppy-windows-1251"])
def test_utf8_read_as_single_byte_page_is_repaired(codec):
    broken = (KK + "\n" + RU).encode("utf-8").decode(codec)
    text, lines = repair_mojibake(broken)
    assert text == KK + "\n" + RU
    assert lines == 2


def test_classic_examples_are_repaired():
    assert repair_mojibake("Ð¡Ð»Ð¾Ð²Ð¾") == ("Слово", 1)
    assert repair_mojibake('ÒÎÎ "Êàçàõòåëåêîì" õàáàðëàäû') == ('ТОО "Казахтелеком" хабарлады', 1)


def test_kazakh_single_byte_text_read_as_latin1_is_repaired():
    broken = KK.encode("kz1048").decode("latin-1")
    assert "³" in broken and "¼" in broken  # і and ә sit on Latin-1 symbol positions
    assert repair_mojibake(broken) == (KK, 1)


@pytest.mark.parametrize("text", [
    "Il a été à Paris avec Noël, où l'été dure.",
    "Üç kişi geldi; Ø and Å are letters too.",
    "Температура ±5 °C, площадь 12 м², «кавычки».",
    KK,
])
def test_correct_text_is_not_touched(text):
    assert repair_mojibake(text) == (text, 0)


@needs_seeds
def test_seed_document_needs_no_repair():
    with open(SEED, encoding="utf-8") as seed:
        text = seed.read()
    result = normalize(text)
    assert (result["norm_mojibake"], result["norm_legacy_kz"], result["norm_homoglyphs"],
            result["norm_control_chars"]) == (0, 0, 0, 0)
    assert result["text"].split() == text.split()  # only whitespace changed
    assert result["n_chars"] == len(result["text"])


# --- legacy KZ-1048 read as cp1251 ----------------------------------------------------

def test_kz1048_read_as_cp1251_is_repaired():
    broken = KK.encode("kz1048").decode("cp1251")
    assert "ќ" in broken and "ј" in broken
    text, letters = repair_legacy_kz(broken)
    assert text == KK
    assert letters == sum(a != b for a, b in zip(broken, KK))


@pytest.mark.parametrize("text", [
    "Ђорђе је ћутао, а њему је било лако. Ја ћу доћи сутра.",  # Serbian: ј ћ but no і
    "Ќе дојдам утре, ѕвездите сјаат.",  # Macedonian
    "Її мрія здійснилася: є надія, і ґанок відремонтовано.",  # Ukrainian: є ї ґ only
    "Беларуская мова: ў і ё — звычайныя літары, воўк і ўсход.",  # Belarusian: ў alone
    KK + " ќ",  # genuine Kazakh letters: never remapped
])
def test_other_cyrillic_languages_are_not_remapped(text):
    assert repair_legacy_kz(text) == (text, 0)


# --- homoglyphs -----------------------------------------------------------------------

@pytest.mark.parametrize("broken, fixed", [
    ("бiлiм", "білім"),
    ("Қaзақстанның", "Қазақстанның"),
    ("Қазақстанның бoлашағы", "Қазақстанның болашағы"),
    ("ТOO", "ТОО"),
    ("Aлматы", "Алматы"),
    ("əлем", "әлем"),
    ("Һ ретінде h: шаһар → шаhар", "Һ ретінде h: шаһар → шаһар"),
])
def test_latin_lookalikes_in_cyrillic_words_are_replaced(broken, fixed):
    text, count = repair_homoglyphs(broken)
    assert text == fixed
    assert count == sum(a != b for a, b in zip(broken, fixed))


@pytest.mark.parametrize("text", [
    "Python", "iPhone", "GPT-4o", "Coca-Cola", "AIжүйесі", "Microsoftтың", "iPhone-ды", "Ha ha",
])
def test_latin_words_are_untouched(text):
    assert repair_homoglyphs(text) == (text, 0)


# --- control characters and whitespace ------------------------------------------------

def test_control_and_invisible_characters_are_removed_but_tabs_and_newlines_kept():
    text = "бі\u00adлім\u200b\ufeff\x00\x07 жүйесі\tкесте\nжол\u200e"
    assert remove_control_chars(text) == ("білім жүйесі\tкесте\nжол", 6)


def test_whitespace_is_folded():
    text = "  Бірінші\u00a0жол  \t\r\nекінші\u2009жол\n\n\n\n\nүшінші   жол \x0cтөртінші\u2029бесінші  "
    folded, edits = normalize_whitespace(text)
    assert folded == "Бірінші жол\nекінші жол\n\nүшінші жол\nтөртінші\n\nбесінші"
    assert edits > 0


def test_normalizer_composes_and_counts_every_repair():
    text = "Кітап - бi\u00adлiм бұлағы.\u00a0\u00a0Бұл йогурт емес: и\u0306\r\n\n\n\nСоңы. " + "Ð¡Ð»Ð¾Ð²Ð¾"
    result = normalize(text)
    assert result["text"] == "Кітап - білім бұлағы. Бұл йогурт емес: й\n\nСоңы. Слово"
    assert result["norm_mojibake"] == 1
    assert result["norm_homoglyphs"] == 2
    assert result["norm_control_chars"] == 1
    assert result["norm_whitespace"] >= 3
    assert result["norm_legacy_kz"] == 0
    assert result["n_chars"] == len(result["text"])
    assert result["reason"] is None


def test_steps_can_be_switched_off():
    result = normalize("бiлiм Ð¡Ð»Ð¾Ð²Ð¾", homoglyphs=False, mojibake=False)
    assert result["text"] == "бiлiм Ð¡Ð»Ð¾Ð²Ð¾"


@pytest.mark.parametrize("text", ["", "\u200b\u00ad \n\t\u00a0\n", None])
def test_text_empty_after_normalization_is_rejected(text):
    result = normalize(text)
    assert result["reason"] == "Normalizer"
    assert result["detail"] == "empty after normalization"


# --- table level ----------------------------------------------------------------------

def test_table_call_normalizes_kept_rows_and_passes_rejected_rows_untouched():
    rows = [
        doc("бiлiм  берy"),
        {**doc("Ð¡Ð»Ð¾Ð²Ð¾"), "doc_id": "d2", "reason": "LanguageFilter", "detail": "lang=de"},
        {**doc("\u200b"), "doc_id": "d3"},
    ]
    out = Normalizer()(pa.Table.from_pylist(rows)).to_pylist()
    assert out[0]["text"] == "білім беру" and out[0]["norm_homoglyphs"] == 3 and out[0]["n_chars"] == 10
    assert out[1]["text"] == "Ð¡Ð»Ð¾Ð²Ð¾" and out[1]["reason"] == "LanguageFilter"
    assert out[1]["norm_mojibake"] is None
    assert (out[2]["reason"], out[2]["detail"]) == ("Normalizer", "empty after normalization")


def test_signal_columns_are_int32_even_when_every_row_was_rejected():
    rows = [{**doc("x"), "reason": "LengthFilter", "detail": "short"}]
    table = Normalizer()(pa.Table.from_pylist(rows))
    for name in Normalizer.signals:
        assert table.schema.field(name).type == pa.int32()
