"""Kazakh-aware language ID on real kk / uk / ky / tt / ba / ru / uz strings (no Ray)."""
import json

import pytest

from operators.text.kazakh_lid import KazakhDecision, Letters
from operators.text.langid import FastTextLangID

KAZAKH_LONG = ("Қазақстан Республикасының астанасы – Астана қаласы. Елімізде жүзден астам ұлттың өкілдері "
               "тұрады, мемлекеттік тіл – қазақ тілі. Ғалымдар мен жазушылар өз еңбектерін ана тілінде "
               "жариялауды жөн көреді, ал кітапханалар ескі қолжазбаларды цифрлық пішімге көшіруде.")
UKRAINIAN_LONG = ("Київ є столицею України і одним з найстаріших міст Європи. У місті працюють університети, "
                  "бібліотеки та музеї, а її мешканці пишаються своєю історією, мовою та ґрунтовними "
                  "традиціями, які передаються з покоління в покоління.")
KYRGYZ_LONG = ("Кыргызстандын борбору Бишкек шаары. Өлкөнүн эң бийик тоолору түштүктө жайгашкан, ал эми "
               "Ысык-Көл көлү дүйнөдөгү эң чоң тоо көлдөрүнүн бири болуп саналат. Мамлекеттик тил кыргыз "
               "тили, расмий тил орус тили.")
TATAR_LONG = ("Татарстан Республикасының башкаласы – Казан шәһәре. Анда күп кенә югары уку йортлары, "
              "театрлар һәм музейлар эшли. Татар халкы үзенең бай тарихы, җырлары һәм бәйрәмнәре белән "
              "горурлана, ә Сабантуй бәйрәме бөтен дөньяга билгеле.")
BASHKIR_LONG = ("Башҡортостан Республикаһының баш ҡалаһы – Өфө ҡалаһы. Унда күп кенә юғары уҡыу йорттары, "
                "театрҙар һәм музейҙар эшләй. Башҡорт халҡы үҙенең бай тарихы, йырҙары һәм байрамдары "
                "менән ғорурлана.")
# Cyrillic Uzbek shares қ ғ with Kazakh and sprinkles ў ҳ over a few words; lid.176 calls it Russian.
UZBEK_LONG = ("Муаллиф қишлоқ болаларининг ёзги таътили, дарёда чумилиш, боғда мева териш ва катталарга "
              "ёрдам бериш тўғрисида ёзади. Китобни ёш китобхонлар осон тушунади, чунки унинг тили содда ва "
              "равон. Дарслик мактаб кутубхоналарига тарқатилади.")
# Only қ and і of Kazakh's letters, and "тілі" is a Ukrainian word too: lid.176 says uk.
KAZAKH_LANGUAGE_NAMES = ("қытай тілі, корей тілі, жапон тілі, неміс тілі, испан тілі, итальян тілі, поляк тілі, "
                         "чех тілі, венгр тілі, фин тілі, швед тілі, дат тілі, грек тілі, араб тілі, парсы тілі")
RUSSIAN_WITH_KAZAKH_NAMES = ("Вчера в Алматы прошла встреча с писателем Мұхтаром Әуезовым-младшим, на которой "
                             "обсуждали историю города, его архитектуру и планы по восстановлению старых зданий "
                             "в центре, а также новые маршруты общественного транспорта.")


@pytest.fixture(scope="module")
def lid():
    return FastTextLangID()


@pytest.mark.parametrize("text, expected", [
    (KAZAKH_LONG, "kk"), (UKRAINIAN_LONG, "uk"), (KYRGYZ_LONG, "ky"), (RUSSIAN_WITH_KAZAKH_NAMES, "ru"),
    (UZBEK_LONG, "uz"),
])
def test_long_texts_keep_their_language(lid, text, expected):
    lang, score, script, evidence = lid.identify_with_evidence(text)
    assert (lang, script) == (expected, "Cyrl")
    assert json.loads(evidence)["rule"]


@pytest.mark.parametrize("text", [TATAR_LONG, BASHKIR_LONG, UKRAINIAN_LONG, KYRGYZ_LONG])
def test_neighbours_are_never_made_kazakh(lid, text):
    assert lid.identify(text)[0] != "kk"
    # Even where lid.176 itself said kk, the letters take it back.
    decision = lid.kazakh
    lang, _, evidence = decision.decide([("kk", 0.9), ("ky", 0.05), ("tt", 0.03), ("ba", 0.01), ("uk", 0.01)], text)
    assert lang != "kk", evidence


def test_long_kazakh_with_few_of_its_letters_is_kazakh_when_its_words_are():
    decision = KazakhDecision()
    lang, _, evidence = decision.decide([("uk", 0.52), ("kk", 0.44), ("be", 0.02)], KAZAKH_LANGUAGE_NAMES)
    assert lang == "kk", evidence
    assert json.loads(evidence)["rule"] == "Kazakh explains more of its words than uk"


def test_uzbek_is_never_kazakh_for_its_shared_letters(lid):
    decision = lid.kazakh
    # lid.176 even said kk: the Uzbek word list knows more of the words than Kazakh explains.
    lang, _, evidence = decision.decide([("kk", 0.3), ("ru", 0.2), ("ba", 0.1)], UZBEK_LONG)
    assert lang == "uz", evidence
    for short in ("Шарқий Туркистон", "қизил олма"):
        assert lid.identify(short)[0] == "uz", short


def test_russian_headline_with_kazakh_names_stays_russian(lid):
    for text in ("Ақмола облысының әкімдігі сообщил о ремонте дорог в районе Шортанды и Бурабай",
                 "Президент Қасым-Жомарт Тоқаев провёл совещание в Астане с членами правительства"):
        assert lid.identify(text)[0] == "ru", text


def test_letters_overrule_an_impossible_label():
    """lid.176 sometimes says uk or ky for Kazakh: ә қ ұ ғ are in neither alphabet."""
    decision = KazakhDecision()
    for wrong in ("uk", "ky", "ru", "tt", "bg"):
        lang, score, evidence = decision.decide([(wrong, 0.6), ("kk", 0.3)], KAZAKH_LONG)
        assert lang == "kk" and score >= 0.5, evidence
        assert json.loads(evidence)["rule"] == f"letters rule out {wrong}"


@pytest.mark.parametrize("text, wrong", [
    ("іске қосу", "rue"),          # "start": lid.176 says Rusyn
    ("Кеңейту ID-і", "uk"),        # ң is not Ukrainian
    ("Жаңа қалта құру", "ky"),     # қ ұ are not Kyrgyz
    ("Басты бет", "ru"),           # no Kazakh letter, but Kazakh words and no Russian ones
])
def test_short_kazakh_texts(text, wrong):
    decision = KazakhDecision()
    lang, _, evidence = decision.decide([(wrong, 0.6), ("kk", 0.3)], text)
    assert lang == "kk", evidence


@pytest.mark.parametrize("text", ["Пароль", "Сингапур", "Новое сообщение", "Ысык-Көл көлү"])
def test_short_texts_without_evidence_stay_with_lid(text):
    decision = KazakhDecision()
    lid_label = "ky" if "ө" in text else "ru"
    assert decision.decide([(lid_label, 0.7), ("kk", 0.2)], text)[0] == lid_label


def test_letter_profile():
    kk = Letters.of(KAZAKH_LONG)
    assert kk.looks_kazakh_long() and kk.kazakh_possible() and kk.marked_share > 0.3
    assert kk.rules_out("uk") and kk.rules_out("ky") and kk.rules_out("ru") and not kk.rules_out("kk")
    uk = Letters.of(UKRAINIAN_LONG)
    assert not uk.kazakh_possible() and not uk.rules_out("uk")
    # ӛ stands for ө in Kazakh typed with some fonts: not a foreign letter.
    assert Letters.of("кӛлем кӛрсету").extras == frozenset("ө")


def test_without_dictionaries_the_letters_still_decide():
    decision = KazakhDecision(dictionaries={})
    assert decision.decide([("uk", 0.7)], KAZAKH_LONG)[0] == "kk"
    assert decision.decide([("kk", 0.7)], TATAR_LONG)[0] != "kk"


@pytest.mark.parametrize("text, lid_ranking", [
    ("Тегтер", [("ru", 0.52), ("mn", 0.14), ("kk", 0.05)]),      # "tags": Kazakh plural -тер
    ("Алушы", [("be", 0.54), ("kk", 0.45)]),                      # "recipient"
])
def test_short_kazakh_spelling_overrules_an_unsure_label(text, lid_ranking):
    lang, _, evidence = KazakhDecision().decide(lid_ranking, text)
    assert lang == "kk", evidence
    assert json.loads(evidence)["ngrams"][0][0] == "kk"


@pytest.mark.parametrize("text, lid_ranking, expected", [
    ("Көнсығыш Азия", [("kk", 0.56), ("ba", 0.41)], "ba"),          # Bashkir "East Asia"
    ("ябайлаштырылған", [("kk", 0.64), ("ba", 0.31)], "ba"),        # Bashkir "simplified"
    ("түшүнбөйм", [("kk", 0.57), ("ky", 0.32)], "ky"),              # Kyrgyz: ү ө after the first syllable
    ("мейтей-маек (жазуу)", [("ru", 0.75), ("uk", 0.1)], "ru"),     # Kyrgyz -уу: never made kk
    ("Новое сообщение", [("ru", 0.97)], "ru"),
    ("Нове повідомлення", [("uk", 0.95)], "uk"),
])
def test_short_neighbours_stay_out_of_kazakh(text, lid_ranking, expected):
    lang, _, evidence = KazakhDecision().decide(lid_ranking, text)
    assert lang == expected, evidence


def test_short_text_without_evidence_keeps_lid_label_with_low_confidence():
    # "Korea" is spelt alike in Kazakh and Russian: no guess, and the evidence says so.
    lang, _, evidence = KazakhDecision().decide([("ru", 0.45), ("uk", 0.3)], "Корея")
    assert lang == "ru"
    assert json.loads(evidence)["confidence"] == "low"


def test_without_the_ngram_model_short_texts_fall_back_to_lid_and_words():
    decision = KazakhDecision(ngrams=False)
    assert decision.decide([("ru", 0.52), ("mn", 0.14)], "Тегтер")[0] == "ru"
    assert decision.decide([("kk", 0.6), ("ba", 0.3)], "Көнсығыш Азия")[0] == "kk"


def test_ngram_model_ranks_each_language_on_its_own_words():
    from operators.text.char_ngrams import CharNgramModel, words_of

    model = CharNgramModel.bundled()
    assert model is not None and {"kk", "ru", "uk", "tt", "ba"} <= set(model.langs)
    for text, lang in [("Баптауларды жабу", "kk"), ("Новое сообщение", "ru"), ("Нове повідомлення", "uk"),
                       ("бәйрәмнәре белән", "tt"), ("Башҡорт халҡы", "ba")]:
        assert next(iter(model.posteriors(words_of(text)))) == lang, text


@pytest.mark.parametrize("text, lid_ranking, rule", [
    # Loans with Kazakh endings: Russian knows one word, Ukrainian the other, Kazakh both.
    ("Презентация режимі", [("uk", 0.89), ("bg", 0.05), ("kk", 0.01)], "Kazakh explains more of its words than ru"),
    ("Конфигурация табылды", [("ru", 0.88), ("kk", 0.06)], "Kazakh explains more of its words than ru"),
    ("иврит тілі", [("uk", 0.65), ("kk", 0.35)], "short text; more Kazakh words than uk"),
    ("Баптауларды жабу", [("ru", 0.45), ("kk", 0.35), ("ky", 0.15)], "Kazakh explains more of its words than ru"),
    # "тілі" is a Ukrainian word too, but only as a locative, which needs a preposition.
    ("клингон тілі", [("uk", 0.68), ("kk", 0.31)], "Kazakh explains more of its words than ru"),
    ("CSR алгоритмі", [("uk", 0.94), ("be", 0.06), ("kk", 0.01)], "Kazakh explains more of its words than ru"),
    # Ukrainian knows "каннада" as it is: a tie, where the name is no evidence and the known word reads Kazakh.
    ("каннада тілі", [("uk", 0.78), ("kk", 0.19)], "Kazakh explains as many of its words as uk; those read as Kazakh"),
])
def test_kazakh_explains_the_words_of_a_label(lid, text, lid_ranking, rule):
    lang, _, evidence = lid.kazakh.decide(lid_ranking, text)
    assert (lang, json.loads(evidence)["rule"]) == ("kk", rule), evidence


@pytest.mark.parametrize("text, lid_ranking", [
    ("у тілі людини", [("uk", 0.69), ("kk", 0.04)]),     # Ukrainian: every word is Ukrainian
    ("Кодування тексту в алгоритмі", [("uk", 0.98), ("kk", 0.01)]),  # the locative after its preposition
    ("Экземпляр", [("ru", 0.97), ("kk", 0.01)]),          # a loan as is: Russian explains it as well
    ("Отключить HTTP кеш", [("ru", 0.9), ("kk", 0.01)]),  # "кеш" is Kazakh too, but three letters are no evidence
    ("Файли і папки", [("uk", 0.9), ("kk", 0.02)]),
    ("інше", [("uk", 0.79), ("be", 0.15), ("kk", 0.06)]),  # spelt like Kazakh to the n-grams; a Ukrainian word
    ("Бириккен Араб Эмираттары", [("ky", 0.6), ("kk", 0.2)]),  # no word list for Kyrgyz: never overruled
    ("чиркөө славянча", [("ru", 0.3), ("kk", 0.1)]),      # Kyrgyz: өө, and ч where Kazakh writes ш
])
def test_word_lists_do_not_make_neighbours_kazakh(lid, text, lid_ranking):
    assert lid.kazakh.decide(lid_ranking, text)[0] != "kk"


@pytest.mark.parametrize("kyrgyz, kazakh", [
    ("өзбекче", "өзбекше"),                  # ч where Kazakh writes ш
    ("жапондорго", "жапондарға"),            # rounded plural and dative endings
    ("лимонду алды", "лимонды алды"),        # rounded accusative
    ("велосипеддин", "велосипедтің"),        # и in an ending, where Kazakh writes і
    ("Бишкектеги жаңы китептер", "Алматыдағы жаңа кітаптар"),  # -теги, Kazakh -тағы/-тегі
    ("келип кетти", "келіп кетті"),          # the converb -ип, Kazakh -іп
    ("мектебибиз", "мектебіміз"),            # possessive -ибиз, Kazakh -іміз
])
def test_kyrgyz_endings_are_not_kazakh(kyrgyz, kazakh):
    decision = KazakhDecision()
    lang, _, evidence = decision.decide([("kk", 0.6), ("ky", 0.3)], kyrgyz)
    assert lang == "ky" and json.loads(evidence)["kyrgyz_spelling"], evidence
    assert decision.decide([("kk", 0.6), ("ky", 0.3)], kazakh)[0] == "kk"


def test_russian_loans_are_not_read_as_kyrgyz_endings():
    # "коридор", "монитор", "чемпион" have Kyrgyz-looking endings and ч: Kazakh explains them as loans.
    decision = KazakhDecision()
    for text in ("Мониторлар мен коридор", "Чемпионат нәтижелері"):
        assert decision.decide([("kk", 0.6), ("ky", 0.3)], text)[0] == "kk", text


def test_a_stray_foreign_letter_does_not_outvote_kazakh_ones():
    # Tesseract's Kazakh word list, read back: one Bashkir ҡ among words with қ and і.
    assert Letters.of("ҡыл қарсақбаев керсетеді солитері шоқырақ").kazakh_possible()
    assert not Letters.of("Башҡорт халҡы һәм Өфө").kazakh_possible()
    assert not Letters.of("їжак і ґанок").kazakh_possible()


@pytest.mark.parametrize("kazakh, kyrgyz", [
    # Thunderbird's Kazakh and Kyrgyz UI strings; lid.176 calls the Kazakh ones Kyrgyz.
    ("Баптауларды жабу", "Жөндөөлөрдү жабуу"),            # -ау- and the verbal noun in one у
    ("Жаңа контактты жасау", "Жаңы байланыш түзүү"),
    ("Деректер орналасуын көрсету", "Маалыматтарды көрсөтүү"),
    ("Жасыру", "Жашыруу"),
])
def test_kazakh_spelling_kyrgyz_never_has_overrules_a_kyrgyz_label(lid, kazakh, kyrgyz):
    ranking = [("ky", 0.5), ("kk", 0.27), ("ru", 0.18)]
    lang, _, evidence = lid.kazakh.decide(ranking, kazakh)
    assert lang == "kk" and "ky never writes" in json.loads(evidence)["rule"], evidence
    assert lid.kazakh.decide(ranking, kyrgyz)[0] == "ky"
    # A Kyrgyz possessive in -у after a rounded vowel, and words Kazakh does not explain, stay Kyrgyz.
    assert lid.kazakh.decide(ranking, "Жолу ачык")[0] == "ky"
    assert lid.kazakh.decide(ranking, "Бириккен Араб Эмираттары")[0] == "ky"


def test_kazakh_verbal_noun_tatar_never_writes_overrules_a_tatar_label(lid):
    ranking = [("tt", 0.75), ("cs", 0.09), ("ky", 0.05)]
    lang, _, evidence = lid.kazakh.decide(ranking, "Тапсырманы түзету")  # Tatar: "Биремне төзәтү"
    assert lang == "kk" and "tt never writes" in json.loads(evidence)["rule"], evidence
    for tatar in ("Биремне төзәтү", "Зәңгәрсу төс"):  # -ү after a front vowel; "-су" is Tatar too
        assert lid.kazakh.decide(ranking, tatar)[0] == "tt", tatar


def test_a_spelling_kyrgyz_never_has_lifts_the_kyrgyz_guard_on_a_russian_label(lid):
    # lid.176 did not even rank kk: Kazakh explains both words, and "ойнау" cannot be Kyrgyz.
    ranking = [("ru", 0.82), ("ky", 0.05), ("sr", 0.04), ("mhr", 0.03), ("bg", 0.02)]
    assert lid.kazakh.decide(ranking, "Аудио ойнау")[0] == "kk"
    assert lid.kazakh.decide(ranking, "Аудио плеер")[0] == "ru"
    assert lid.kazakh.decide(ranking, "Аргументтер")[0] == "ru"  # Kyrgyz writes it so too


def test_kyrgyz_never_writes_a_vowel_after_u(lid):
    # Kazakh's verbal noun + possessive "жазуы" (Kyrgyz: "жазуусу"): Kyrgyz has no such hiatus.
    assert lid.kazakh.decide([("ru", 0.67), ("ky", 0.18), ("kk", 0.12)], "кхмер жазуы")[0] == "kk"
    # So it lifts lid.176's Kyrgyz guess beside a name no list knows; Kyrgyz's own form does not.
    ranking = [("ru", 0.68), ("ky", 0.134), ("kk", 0.127)]
    assert lid.kazakh.decide(ranking, "каннада жазуы")[0] == "kk"
    assert lid.kazakh.decide(ranking, "каннада жазуусу")[0] != "kk"
    # A name with ч no longer makes it Kyrgyz spelling when a word beside it cannot be Kyrgyz ...
    lang, _, evidence = lid.kazakh.decide([("kk", 0.59), ("ru", 0.32), ("ky", 0.07)], "лепча жазуы")
    assert lang == "kk" and "kyrgyz_spelling" not in json.loads(evidence), evidence
    # ... but more words spelt the Kyrgyz way still do.
    assert lid.kazakh.decide([("kk", 0.6), ("ky", 0.3)], "өзбекче жапондорго жазуы")[0] == "ky"


def test_letters_only_kazakh_writes_decide_names_no_list_knows(lid):
    ranking = [("ru", 0.81), ("bg", 0.06), ("kk", 0.05)]
    lang, _, evidence = lid.kazakh.decide(ranking, "Атлант мұхиты/Кабо-Верде")  # Thunderbird's time zone
    assert lang == "kk" and "only Kazakh writes them" in json.loads(evidence)["rule"], evidence
    # A Russian sentence quoting a Kazakh name: Russian knows most of its words.
    assert lid.kazakh.decide([("ru", 0.9), ("kk", 0.02)], "Компания «Ұлттық» объявила о новом продукте")[0] == "ru"
    # ә is Tatar and Bashkir too: the letters alone do not decide.
    assert lid.kazakh.decide([("tt", 0.6), ("ba", 0.2)], "Сәламәт")[0] != "kk"
    # lid.176's Kyrgyz guess does not guard a text with қ, a letter Kyrgyz lacks.
    ranking = [("ru", 0.35), ("ky", 0.18), ("mk", 0.12)]
    assert lid.kazakh.decide(ranking, "Индекстелген ДҚ")[0] == "kk"
