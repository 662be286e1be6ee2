import pyarrow as pa

from operators.text.basic import LengthFilter, add_exact_keys, exact_key, mark_exact_duplicates
from operators.text.langid import FastTextLangID, LanguageFilter

KK = "Қазақстан Республикасы Орталық Азиядағы мемлекет. Елде ғылым мен білім қарқынды дамып келеді, жасанды интеллект жобалары көбейді."
RU = "Казахстан — государство в Центральной Азии. В стране активно развиваются наука и образование, растёт число проектов."
EN = "Kazakhstan is a country in Central Asia. Science and education are developing quickly, and AI projects are growing."
DE = "Kasachstan ist ein Staat in Zentralasien. Wissenschaft und Bildung entwickeln sich schnell in diesem großen Land."


def table(texts, **extra):
    rows = [{"doc_id": f"d{i}", "source": "text", "text": t, "n_chars": len(t), "reason": None, "detail": None, **extra}
            for i, t in enumerate(texts)]
    return pa.Table.from_pylist(rows)


def test_fasttext_lid176_labels_kk_ru_en_and_the_gate_keeps_them():
    out = FastTextLangID()(table([KK, RU, EN, DE]))
    assert out.column("lang").to_pylist() == ["kk", "ru", "en", "de"]
    assert all(s > 0.5 for s in out.column("lang_score").to_pylist())
    gated = LanguageFilter(["kk", "ru", "en"])(out)
    assert gated.column("reason").to_pylist() == [None, None, None, "LanguageFilter"]
    assert "lang=de not in keep-list" in gated.column("detail").to_pylist()[3]


def test_language_thresholds_are_per_language():
    out = FastTextLangID()(table([KK]))
    gated = LanguageFilter(["kk"], min_score={"kk": 1.01})(out)
    assert gated.column("reason").to_pylist() == ["LanguageFilter"]


def test_already_rejected_rows_pass_untouched():
    t = table([KK, "x"]).set_column(4, "reason", pa.array([None, "TextReader"]))
    out = LengthFilter(min_chars=50)(FastTextLangID()(t))
    assert out.column("reason").to_pylist() == [None, "TextReader"]
    assert out.column("lang").to_pylist()[1] is None  # rejected before LID: no signal added


def test_length_bounds():
    out = LengthFilter(min_chars=20, max_chars=200)(table(["қысқа", KK, KK * 3]))
    assert out.column("reason").to_pylist() == ["LengthFilter", None, "LengthFilter"]


def test_exact_dedup_keeps_smallest_id_and_ignores_case_and_spacing():
    assert exact_key("Сәлем   Әлем") == exact_key("сәлем әлем")
    group = add_exact_keys(table([KK, KK.upper()]))
    assert group.column("dedup_key").to_pylist()[0] == group.column("dedup_key").to_pylist()[1]
    out = mark_exact_duplicates(group)
    assert "dedup_key" not in out.column_names
    assert out.column("reason").to_pylist() == [None, "ExactDedup"]
    assert out.column("detail").to_pylist()[1] == "exact duplicate of d0"


def test_exact_dedup_takes_many_keys_at_once():
    """One call per shuffle shard: every key's smallest id kept, whatever the row order."""
    texts = [KK, "Басқа мәтін, мүлде басқа.", KK.upper(), "Басқа  мәтін, мүлде басқа.", KK, "Жалғыз мәтін."]
    rows = add_exact_keys(table(texts)).take([5, 3, 0, 4, 1, 2])
    out = {r["doc_id"]: (r["reason"], r["detail"]) for r in mark_exact_duplicates(rows).to_pylist()}
    assert out == {"d0": (None, None), "d1": (None, None), "d5": (None, None),
                   "d2": ("ExactDedup", "exact duplicate of d0"), "d4": ("ExactDedup", "exact duplicate of d0"),
                   "d3": ("ExactDedup", "exact duplicate of d1")}


def test_rejected_rows_never_join_a_duplicate_group():
    t = table([KK, KK]).set_column(4, "reason", pa.array(["LengthFilter", None]))
    keys = add_exact_keys(t).column("dedup_key").to_pylist()
    assert keys[0] != keys[1]


LATIN_KK = ("Qazaq tili resursy az tilder qataryna jatady: internettegi mätinderdiñ ülesi öte az. "
            "Sondyqtan ärbir kitap, gazet pen jurnal tsifrlandyrylyp, til modelderin oqytuğa paidalanylady.")
LATIN_KK_2017 = ("Qazaq tili resursy az tilder qataryna jatady. Sondyqtan a'rbir kitap, gazet pen jurnal "
                 "tsifrlandyrylyp, til modelderin oqytyg'a paidalanylady, bul o'te mn'yzdy is.")
TURKISH = ("Türkiye Cumhuriyeti'nin başkenti Ankara'dır. Bu şehir, ülkenin en büyük ikinci şehridir ve "
           "birçok üniversiteye ev sahipliği yapar.")
UZBEK = ("O'zbekiston Respublikasining poytaxti Toshkent shahridir. Bu shahar mamlakatning eng katta "
         "shahri hisoblanadi va ko'plab universitetlarga ega.")


def test_kazakh_in_latin_script_is_kazakh_and_its_neighbours_are_not():
    out = FastTextLangID()(table([LATIN_KK, LATIN_KK_2017, TURKISH, UZBEK, KK]))
    langs = list(zip(out.column("lang").to_pylist(), out.column("script").to_pylist()))
    assert langs[0] == ("kk", "Latn") and langs[1] == ("kk", "Latn")
    assert langs[2] == ("tr", "Latn") and langs[3][0] != "kk" and langs[4] == ("kk", "Cyrl")


def test_mixed_documents_get_per_language_shares():
    import json

    mixed = KK + "\n\n" + RU + "\n\n" + KK
    out = FastTextLangID()(table([mixed, EN]))
    shares = [json.loads(s) for s in out.column("lang_shares").to_pylist()]
    assert set(shares[0]) == {"kk", "ru"} and shares[0]["kk"] > shares[0]["ru"] > 0.2
    assert shares[1] == {"en": 1.0}


def test_a_kazakh_paragraph_lid176_reads_as_russian_counts_as_kazakh_in_a_russian_document():
    import json

    menu = "Басты бет | Экономика | Кіру | Біз туралы | Байланыс"  # lid.176: ru
    lid = FastTextLangID()
    assert lid.ranked(menu)[0][0] == "ru"
    assert lid.paragraph_language(menu, "ru") == "kk"
    assert lid.paragraph_language(RU, "ru") == "ru"
    shares = json.loads(lid(table([RU + "\n" + menu])).column("lang_shares")[0].as_py())
    assert set(shares) == {"ru", "kk"}
