import random

import pyarrow as pa
import pytest

from operators.text.c4 import C4Lines, C4Quality
from operators.text.fineweb import FineWebQuality
from operators.text.gopher import GopherQuality, GopherRepetition, duplicate_ngram_chars, top_ngram_chars
from operators.text.ocr_quality import HUNSPELL_DICTIONARIES, OcrQuality
from operators.text.perlang import PerLanguage
from operators.text.stopwords import stop_words
from tests.conftest import SEEDS, needs_seeds

SEED = str(SEEDS / "000_fd5068693b491d45.txt")
NEWS_SEED = str(SEEDS / "004_9fad09618daabe7f.txt")

# From the seed (a review of AI in Kazakhstan): its Kazakh and Russian abstracts.
KK_ABSTRACT = """Аннотация. Жасанды интеллекттің қоғамға әсері ешқашан байқалмады. Жасанды интеллект көбінесе Интернеттен кейінгі өнеркәсіптік өзгерістердің жаңа толқыны деп аталады, бүкіл әлемдегі экономиканы, мемлекеттік қызметтерді және күнделікті өмірді өзгертеді. Еуразия қиылысында орналасқан Қазақстан өзінің алдына жасанды интеллектті (ЖИ) толық цифрлық қоғам құрудың негізгі құралы ретінде пайдалану мақсатын қойды. Осы тұрғыда бұл құжат Қазақстандағы ЖИ дамуының ағымдағы жай-күйіне жан-жақты, нақты деректерге бағдарланған шолу болып табылады, ол ЖИ мүмкіндіктерін кеңейтудегі жаһандық үрдістерге, енгізу шығындарын төмендетуге, енгізуді ұлғайтуға және басқаруға және жауапты пайдалануға өсіп келе жатқан назарға негізделген. Талдау Қазақстанның жасанды интеллектін дамытудың 2024-2029 жылдарға арналған ұлттық тұжырымдамасымен келісілген, онда деректерді басқару, инфрақұрылымды дамыту, адами капитал, тілдік технологияларды қоса алғанда, зерттеулер мен әзірлемелер және нормативтік-құқықтық база басым болып табылады және бұл басымдықтар нақты деректерді құрылымдау және енгізудің практикалық жолдары мен өлшенетін прогресті айқындау үшін пайдаланылады.

Түйін сөздер: жасанды интеллект, цифрлық қоғам, зерттеу, технология, инфрақұрылым.

Мүдделер қақтығысы: авторлар мүдделер қақтығысының жоқтығын мәлімдейді."""

RU_ABSTRACT = """Аннотация. Влияние искусственного интеллекта на общество еще никогда не было таким заметным. Искусственный интеллект, который часто называют новой волной промышленных преобразований, происходящих вслед за Интернетом, меняет экономику, общественные услуги и повседневную жизнь по всему миру. Расположенный на перекрестке Евразии, Казахстан поставил перед собой амбициозную цель – использовать искусственный интеллект (ИИ) в качестве основного средства создания полностью цифрового общества. В этом контексте данный документ представляет собой всеобъемлющий, ориентированный на фактические данные обзор текущего состояния развития ИИ в Казахстане, основанный на глобальных тенденциях в расширении возможностей ИИ, снижении затрат на внедрение, росте внедрения и растущем внимании к управлению и ответственному использованию.

Анализ согласован с Национальной концепцией развития искусственного интеллекта Казахстана на 2024-2029 годы, в которой приоритетными являются управление данными, развитие инфраструктуры, человеческий капитал, исследования и разработки, включая языковые технологии, и нормативно-правовая база.

Ключевые слова: искусственный интеллект, цифровое общество, исследование, технологии, инфраструктура.

Конфликт интересов: авторы заявляют об отсутствии конфликта интересов."""

# Hand-written Kazakh news item, one paragraph per line as extractors deliver them.
KK_NEWS = """Астана, 12 наурыз. Үкімет отырысында елдің әлеуметтік-экономикалық дамуының қорытындылары қаралды.
Премьер-министрдің айтуынша, биылғы жылдың алғашқы екі айында ішкі жалпы өнім 4,8 пайызға өсті. Өңдеу өнеркәсібі мен құрылыс саласында айтарлықтай өсім байқалды, ауыл шаруашылығы өнімдерін өндіру көлемі де артты.
Үкімет басшысы министрліктерге инвестиция тарту жұмысын жандандыруды және шағын және орта бизнесті қолдау шараларын күшейтуді тапсырды.
Отырыста білім беру мен денсаулық сақтау салаларындағы бағдарламалардың орындалу барысы да талқыланды. Министрлердің баяндамасынан кейін бірқатар нақты тапсырмалар берілді."""

# Book text (Abai, Word One; Tolstoy, Anna Karenina), paragraphs joined as BookAssembly does.
KK_BOOK = """Бұл жасқа келгенше жақсы өткіздік пе, жаман өткіздік пе, әйтеуір бірталай өмірімізді өткіздік: алыстық, жұлыстық, айтыстық, тартыстық — әуре-сарсаңды көп көрдік. Енді біздің жасымыз жетті, қажыдық, жалықтық; қылып жүрген ісіміздің баянсызын, бәрінің қоршылық екенін көрдік. Ал енді қалған өмірімізді қайтіп, не қылып өткіземіз? Соны таба алмай өзім де қайранмын.

Ел бағу? Жоқ, елге бағу қиын. Оны бағатұғын кісі бағар. Мал бағу? Жоқ, бағылмайды. Балаларымыздың өздеріне керегінше бағар. Ғылым бағу? Ғылым бағатұғын да ешкім жоқ, оны кімге айтып, кімнен сұраймыз?

— Сен не істейсің? — деді ол.
— Мен кітап оқимын, — деді бала."""

RU_BOOK = """Все счастливые семьи похожи друг на друга, каждая несчастливая семья несчастлива по-своему.

Все смешалось в доме Облонских. Жена узнала, что муж был в связи с бывшею в их доме француженкою-гувернанткой, и объявила мужу, что не может жить с ним в одном доме. Положение это продолжалось уже третий день и мучительно чувствовалось и самими супругами, и всеми членами семьи, и домочадцами. Все члены семьи и домочадцы чувствовали, что нет смысла в их сожительстве и что на каждом постоялом дворе случайно сошедшиеся люди более связаны между собой, чем они.

— Что это? Ты? — сказала она.
— Долли, — проговорил он, — я пришел просить тебя."""

REAL_TEXTS = {"kk-abstract": (KK_ABSTRACT, "kk"), "ru-abstract": (RU_ABSTRACT, "ru"), "kk-news": (KK_NEWS, "kk"),
              "kk-book": (KK_BOOK, "kk"), "ru-book": (RU_BOOK, "ru")}


def read(path):
    with open(path, encoding="utf-8") as file:
        return file.read().strip()


def doc(text, lang="kk", source="news", **columns):
    return {"doc_id": "d1", "source": source, "text": text, "lang": lang, "n_chars": len(text),
            "reason": None, "detail": None, **columns}


def assert_rejected(verdict, detail_start):
    assert verdict is not True, "expected a rejection"
    keep, detail = verdict
    assert keep is False and detail.startswith(detail_start), detail


@pytest.fixture(scope="module")
def ocr_quality():
    return OcrQuality()  # loads the three hunspell word lists once


# --- real text is kept ----------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(REAL_TEXTS))
@pytest.mark.parametrize("make", [GopherQuality, GopherRepetition, C4Quality, FineWebQuality], ids=lambda c: c.__name__)
def test_real_kazakh_and_russian_text_is_kept(make, name):
    text, lang = REAL_TEXTS[name]
    assert make().filter(doc(text, lang)) is True


@needs_seeds
@pytest.mark.parametrize("path, lang", [(SEED, "en"), (NEWS_SEED, "en")])
@pytest.mark.parametrize("make", [GopherQuality, GopherRepetition, C4Quality, FineWebQuality], ids=lambda c: c.__name__)
def test_real_seed_documents_are_kept(make, path, lang):
    assert make().filter(doc(read(path), lang)) is True


@pytest.mark.parametrize("name", sorted(REAL_TEXTS))
def test_ocr_quality_keeps_real_books(ocr_quality, name):
    text, lang = REAL_TEXTS[name]
    book = doc(text, lang, source="book", ocr_confidence=91.5)
    assert ocr_quality.filter(book) is True
    assert book["ocr_dict_hit_rate"] > 0.8
    assert book["ocr_garbage_ratio"] < 0.01
    assert book["ocr_rules_skipped"] is None


def test_kazakh_words_are_longer_and_their_threshold_with_them():
    kk = doc(KK_ABSTRACT, "kk")
    assert GopherQuality().filter(kk) is True
    assert kk["gopher_mean_word_length"] > 7
    assert GopherQuality(max_mean_word_length=7).filter(doc(KK_ABSTRACT, "kk")) is not True


def test_every_language_has_stop_words_and_unknown_ones_use_all():
    assert {"және", "мен", "үшін", "туралы"} <= stop_words("kk")
    assert {"и", "в", "не", "что"} <= stop_words("ru")
    assert {"the", "and", "of"} <= stop_words("en")
    assert stop_words(None) == stop_words("de") == stop_words("kk") | stop_words("ru") | stop_words("en")


# --- GopherQuality --------------------------------------------------------------------

def test_gopher_quality_stores_signals_on_kept_documents():
    kept = doc(KK_NEWS)
    assert GopherQuality().filter(kept) is True
    assert kept["gopher_words"] > 50
    assert kept["gopher_stop_words"] >= 2
    assert kept["gopher_alpha_words"] > 0.9
    assert kept["gopher_bullet_lines"] == 0.0


@pytest.mark.parametrize("text, detail", [
    ("Қысқа хабар. Бұл жеткіліксіз.", "words=4 < 50"),
    (" ".join(["Қазақстанреспубликасыныңүкіметіжәнепарламенті"] * 60), "mean_word_length="),
    (" ".join(["#жаңалық #саясат #Астана"] * 30) + " және мен", "symbol_word_ratio="),
    ("\n".join(f"• {i}-тармақ: тауар бағасы және жеткізу" for i in range(40)), "bullet_lines="),
    ("\n".join(f"Толығырақ оқу үшін және басқа да жаңалықтар туралы біздің сайттан қараңыз {i}..."
               for i in range(40)), "ellipsis_lines="),
    ("\n".join(f"{i + 1000} {i * 7919} {i * 104729} {i * 3571} {i * 2909} жыл" for i in range(30)), "alpha_words="),
    (" ".join(["Астана Алматы Шымкент Қарағанды Ақтөбе Тараз Павлодар Өскемен Семей Атырау"] * 6), "stop_words[kk]="),
])
def test_gopher_quality_rejects_non_prose(text, detail):
    assert_rejected(GopherQuality().filter(doc(text)), detail)


def test_gopher_thresholds_take_a_language_table_over_the_builtin_one():
    gopher = GopherQuality(max_mean_word_length={"ru": 6})
    assert gopher.max_mean_word_length("ru") == 6
    assert gopher.max_mean_word_length("kk") == 12  # built-in kk row kept
    assert gopher.max_mean_word_length("de") == 10
    assert GopherQuality(min_words=10).min_words("kk") == 10
    assert PerLanguage({"kk": 1}, 5)("en") == 5
    with pytest.raises(ValueError):
        PerLanguage({"kk": 1})


# --- GopherRepetition -----------------------------------------------------------------

def test_ngram_measures():
    tokens = "a b c a b c a b c x".split()
    assert top_ngram_chars(tokens, 2) == 3 * 2  # "a b" three times, 2 chars each
    assert duplicate_ngram_chars(tokens, 3) == 6  # the 2nd and 3rd "a b c"
    assert duplicate_ngram_chars("a b c d e".split(), 2) == 0


@pytest.mark.parametrize("text, detail", [
    ("\n".join(["Жаңалықтарға жазылыңыз және бізді әлеуметтік желілерде оқыңыз."] * 5 + [KK_NEWS]), "dup_lines="),
    ("\n\n".join([KK_BOOK.split("\n\n")[0]] * 3), "dup_paragraphs="),
    (" ".join(["сатып алу"] * 80), "top_2gram_chars="),
    (KK_NEWS + " " + " ".join(KK_NEWS.split()[:40]) * 2, "dup_5gram_chars="),
])
def test_gopher_repetition_rejects_repetitive_text(text, detail):
    assert_rejected(GopherRepetition().filter(doc(text)), detail)


def test_gopher_repetition_declares_a_column_per_configured_n():
    repetition = GopherRepetition(max_top_ngram_chars={"default": {2: 0.2}, "kk": {3: 0.1}})
    assert {"rep_top_2gram_chars", "rep_top_3gram_chars", "rep_dup_10gram_chars"} <= set(repetition.signals)
    kept = doc(KK_NEWS)
    assert repetition.filter(kept) is True
    assert set(repetition.signals) <= set(kept)


# --- C4 -------------------------------------------------------------------------------

WEB_PAGE = "\n".join([
    "Басты бет | Жаңалықтар | Байланыс",
    KK_NEWS,
    "Бұл сайт cookie файлдарын пайдаланады. Cookie файлдары туралы толығырақ.",
    "Мы используем файлы cookie. Политика конфиденциальности.",
    "Please enable JavaScript to view the comments.",
    "© 2024 Барлық құқықтар қорғалған.",
    "Келісемін.",
    "Дерек көзі бойынша зерттеу жүргізілді [1], [өңдеу].",
])


def test_c4_lines_removes_boilerplate_lines_and_keeps_the_article():
    result = C4Lines().process(doc(WEB_PAGE))
    assert result["reason"] is None
    assert result["text"] == KK_NEWS + "\nДерек көзі бойынша зерттеу жүргізілді , ."
    assert result["c4_lines_removed"] == 6
    assert result["c4_citations_removed"] == 2
    assert result["n_chars"] == len(result["text"])


def test_c4_lines_keeps_short_kazakh_sentences_but_not_short_russian_ones():
    assert C4Lines().process(doc("Рахмет сізге!", "kk"))["text"] == "Рахмет сізге!"
    result = C4Lines().process(doc("Спасибо вам!", "ru"))
    assert result["reason"] == "C4Lines"
    assert result["detail"] == "no line left after C4 line rules (removed: 1 few_words)"


def test_c4_quality_keeps_a_kazakh_news_page_before_its_lines_are_cleaned():
    page = doc(WEB_PAGE)
    assert C4Quality().filter(page) is True
    assert page["c4_sentences"] >= 5 and page["c4_lorem_ipsum"] is False


@pytest.mark.parametrize("text, detail", [
    (KK_NEWS + "\nLorem ipsum dolor sit amet, consectetur adipiscing elit.", "lorem ipsum"),
    ("function init() {\n  var x = 1;\n}\nif (x) {\n  run();\n}\n" + KK_NEWS, "curly_bracket_lines="),
    ("Бірінші сөйлем осында жазылған. Екінші сөйлем де бар.", "sentences=2 < 3"),
])
def test_c4_quality_rejects(text, detail):
    assert_rejected(C4Quality().filter(doc(text)), detail)


def test_c4_quality_keeps_three_kazakh_sentences_but_wants_five_russian_ones():
    kk = "Бүгін Астанада жиын өтті. Оған министрлер қатысты. Жиында жаңа заң талқыланды."
    ru = "Сегодня в Астане прошло совещание. В нем участвовали министры. На совещании обсудили новый закон."
    assert C4Quality().filter(doc(kk, "kk")) is True
    assert_rejected(C4Quality().filter(doc(ru, "ru")), "sentences=3 < 5")


# --- FineWeb --------------------------------------------------------------------------

@pytest.mark.parametrize("text, detail", [
    ("\n".join(f"Тауар {i} бағасы {i * 100} теңге жеткізу тегін қоймада бар" for i in range(30)),
     "line_punct_ratio="),
    ("\n".join(["Сұрақ?", "Жауап.", "Иә!", "Жоқ."] * 10 + [KK_NEWS]), "short_line_ratio="),
    (KK_NEWS + "\n" + KK_NEWS.split("\n")[1], "dup_line_chars="),
])
def test_fineweb_rejects(text, detail):
    assert_rejected(FineWebQuality().filter(doc(text)), detail)


def test_fineweb_gives_kazakh_more_lines_per_word():
    listing = "\n".join(f"{i}. Университеттердің жатақханалары." for i in range(40))
    assert FineWebQuality().filter(doc(listing, "kk")) is True
    assert_rejected(FineWebQuality().filter(doc(listing, "ru")), "lines_per_word=0.333 > 0.3")


# --- OCR quality ----------------------------------------------------------------------

def ocr_garbage(seed=7, n_words=120):
    rng = random.Random(seed)
    letters = "абвгдежзийклмнопрстуфхцчшщъыьэюяәғқңөұүһі"
    return " ".join("".join(rng.choice(letters) for _ in range(rng.randint(2, 8))) for _ in range(n_words))


def test_ocr_quality_judges_books_only(ocr_quality):
    news = doc(ocr_garbage(), "kk", source="news")
    assert ocr_quality.filter(news) is True
    assert news["ocr_garbage_ratio"] is None and news["ocr_dict_hit_rate"] is None
    assert news["ocr_rules_skipped"] is None


@pytest.mark.parametrize("text, confidence, detail", [
    (KK_BOOK, 41.0, "ocr_confidence=41 < 60"),
    (KK_BOOK.replace("ы", "|").replace("а", "~^"), 88.0, "garbage_ratio="),
    (ocr_garbage(), 75.0, "dict_hit_rate[kk]="),
])
def test_ocr_quality_rejects_poor_ocr(ocr_quality, text, confidence, detail):
    assert_rejected(ocr_quality.filter(doc(text, "kk", source="book", ocr_confidence=confidence)), detail)


def test_ocr_quality_skips_what_it_cannot_check_and_says_so(ocr_quality, tmp_path):
    no_confidence = doc(KK_BOOK, "kk", source="book", ocr_confidence=None)
    assert ocr_quality.filter(no_confidence) is True
    assert no_confidence["ocr_rules_skipped"] == "confidence: none recorded"

    german = doc("Das ist ein Buch über die Steppe.", "de", source="book", ocr_confidence=90.0)
    assert ocr_quality.filter(german) is True
    assert german["ocr_dict_hit_rate"] is None
    assert german["ocr_rules_skipped"] == "dictionary: none for lang de"

    missing = OcrQuality(dictionaries={"kk": str(tmp_path / "absent.dic")})
    book = doc(ocr_garbage(), "kk", source="book", ocr_confidence=90.0)
    assert missing.filter(book) is True
    assert book["ocr_rules_skipped"].startswith(f"dictionary: {tmp_path / 'absent.dic'}: FileNotFoundError")


def test_default_dictionaries_are_the_debian_hunspell_ones(ocr_quality):
    assert set(ocr_quality.dictionaries) == set(HUNSPELL_DICTIONARIES) == {"kk", "ru", "en"}
    kk = ocr_quality.dictionaries["kk"]
    assert "университеттерінің" in kk and "білім" in kk and "жқфгпт" not in kk
    assert "новой" in ocr_quality.dictionaries["ru"]  # an inflected form, via the .aff suffix rules


# --- table level ----------------------------------------------------------------------

@pytest.mark.parametrize("make", [GopherQuality, GopherRepetition, C4Quality, FineWebQuality, C4Lines],
                         ids=lambda c: c.__name__)
def test_table_call_passes_rejected_rows_untouched_and_rejects_with_the_class_name(make):
    rows = [
        doc(KK_NEWS),
        {**doc("Lorem ipsum."), "doc_id": "d2", "reason": "Normalizer", "detail": "empty after normalization"},
        {**doc("Қысқа\nҚысқа\nҚысқа"), "doc_id": "d3"},
    ]
    out = make()(pa.Table.from_pylist(rows))
    kept, untouched, rejected = out.to_pylist()
    assert kept["reason"] is None
    assert (untouched["reason"], untouched["text"]) == ("Normalizer", "Lorem ipsum.")
    assert all(untouched[name] is None for name in make().signals)
    assert rejected["reason"] == make.__name__ and rejected["detail"]
    for name, type_ in make().signals.items():
        assert out.schema.field(name).type == type_
