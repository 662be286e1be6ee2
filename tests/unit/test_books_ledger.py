"""Catalog parsing and matching, and the digitization ledger: pure functions, no Ray."""
import json

import pyarrow as pa
import pytest

from operators.books.catalog import BookRef, match_books, missing_book, parse_catalog
from operators.books.ledger import (book_status, collection_summary, count_pages, current_page_rows, ledger_rows,
                                    merge_ledger, refresh_ledger)
from schemas import LEDGER, validate

CATALOG = """book_id,title,author,year,language,collection,file,shelf
KZ-1,Абай жолы,Мұхтар Әуезов,1942,kk,rare_books,abai.pdf,A-12
KZ-2,Война и мир,Толстой,1869,ru,classics,,B-3
KZ-3,Қазақ тілі,Байтұрсынұлы,1914,kaz,rare_books,missing.pdf,
"""


# --- catalog -----------------------------------------------------------------------

def test_catalog_reads_known_columns_and_keeps_the_rest_as_metadata():
    catalog = parse_catalog(CATALOG.encode(), "catalog.csv")
    assert catalog.problems == []
    abai, war, lost = catalog.rows
    assert (abai.book_id, abai.title, abai.language, abai.collection, abai.file) == \
        ("KZ-1", "Абай жолы", "kk", "rare_books", "abai.pdf")
    assert json.loads(abai.metadata_json()) == {"shelf": "A-12"}
    assert war.file is None and lost.language == "kk"  # "kaz" normalized
    assert lost.metadata_json() is None  # empty extra cells are not metadata


def test_catalog_tolerates_bom_semicolons_blank_lines_and_reports_bad_rows():
    text = ("\ufeffBook_ID;Title;Language;Collection;File\r\n\r\n"
            "KZ-1;Абай жолы;KK;rare;scans\\abai.pdf\r\n"
            ";;;;\r\n"
            "KZ-2;\"Title; with semicolon\";ru;classics;war.pdf\r\n"
            "KZ-1;duplicate id;kk;rare;other.pdf\r\n"
            ";no id and no file;kk;rare;\r\n"
            "KZ-4;too;many;fields;x.pdf;extra\r\n"
            ";id from file;kk;rare;sub/dir/kitap.pdf\r\n")
    catalog = parse_catalog(text.encode("utf-8"), "catalog.csv")
    ids = [r.book_id for r in catalog.rows]
    assert ids == ["KZ-1", "KZ-2", "kitap"]
    assert catalog.rows[0].file == "scans/abai.pdf" and catalog.rows[0].language == "kk"
    assert catalog.rows[1].title == "Title; with semicolon"
    assert len(catalog.problems) == 3
    assert any("line 6" in p and "already on line 3" in p for p in catalog.problems)
    assert any("line 7" in p and "neither book_id nor file" in p for p in catalog.problems)
    assert any("line 8" in p and "6 fields" in p for p in catalog.problems)


def test_catalog_in_another_encoding_or_without_id_columns_is_reported_not_fatal():
    cp1251 = "book_id,title,file\nKZ-9,Война и мир,war.pdf\n".encode("cp1251")
    catalog = parse_catalog(cp1251, "old.csv")
    assert catalog.rows[0].title == "Война и мир" and "read as cp1251" in catalog.problems[0]
    # Excel on a Kazakh system saves KZ-1048, whose Kazakh letters cp1251 does not have.
    kz1048 = "book_id;title;language\nKZ-7;Қазақ ұлттық әдебиеті;kk\nKZ-6;Абай жолы;қазақ\n".encode("kz1048")
    catalog = parse_catalog(kz1048, "kz.csv")
    assert [r.title for r in catalog.rows] == ["Қазақ ұлттық әдебиеті", "Абай жолы"]
    assert [r.language for r in catalog.rows] == ["kk", "kk"] and "read as kz1048" in catalog.problems[0]
    utf16 = "book_id\ttitle\nKZ-8\tАбай\n".encode("utf-16")
    assert parse_catalog(utf16).rows[0].title == "Абай"
    # A Russian or Kazakh header names the same columns.
    russian = parse_catalog("Шифр;Название;Автор;Год;Язык;Фонд;Файл\nR-1;Путь Абая;М. Ауэзов;1942;рус.;редкие;abai.pdf\n"
                            .encode(), "ru.csv")
    assert russian.problems == [] and [(r.book_id, r.title, r.year, r.language, r.collection, r.file)
                                       for r in russian.rows] == [("R-1", "Путь Абая", "1942", "ru", "редкие", "abai.pdf")]
    kazakh = parse_catalog("Шифр,Атауы,Авторы,Жылы,Тілі,Қор,Файл\nK-1,Абай жолы,М. Әуезов,1942,қазақ тілі,сирек,a.djvu\n"
                           .encode(), "kk.csv")
    assert [(r.book_id, r.title, r.author, r.language, r.file) for r in kazakh.rows] == [
        ("K-1", "Абай жолы", "М. Әуезов", "kk", "a.djvu")]
    headless = parse_catalog(b"name,author\nx,y\n")
    assert headless.rows == [] and "neither book_id nor file" in headless.problems[0]
    assert parse_catalog(b"").problems == ["catalog: empty catalog"]


def xlsx(rows: list[list]) -> bytes:
    import io

    import openpyxl

    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_an_excel_catalog_reads_as_its_csv_does():
    import datetime

    rows = [["Шифр", "Атауы", "Авторы", "Жылы", "Тілі", "Қор", "Файл", "Алынған күні"],
            ["K-1", "Абай жолы", "М. Әуезов", 1942, "қазақ тілі", "сирек", "abai.pdf", datetime.date(2026, 3, 1)],
            [None, None, None, None, None, None, None, None],
            [1001, "Война и мир", "Толстой", 1869.0, "рус.", "classics", None, None],
            [None, "no id and no file", None, None, "kk", None, None, None]]
    catalog = parse_catalog(xlsx(rows), "catalog.xlsx")
    assert [(r.book_id, r.title, r.year, r.language, r.file) for r in catalog.rows] == [
        ("K-1", "Абай жолы", "1942", "kk", "abai.pdf"), ("1001", "Война и мир", "1869", "ru", None)]
    assert json.loads(catalog.rows[0].metadata_json()) == {"алынған_күні": "2026-03-01"}
    assert catalog.problems == ["catalog.xlsx line 5: neither book_id nor file given; row skipped"]
    broken = parse_catalog(xlsx(rows)[:2000], "cut.xlsx")
    assert broken.rows == [] and "not a readable Excel workbook" in broken.problems[0]
    old = parse_catalog(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(500), "old.xls")
    assert old.rows == [] and "save it as .xlsx or CSV" in old.problems[0]


# --- matching ----------------------------------------------------------------------

def test_scans_match_by_file_then_by_id_and_the_rest_are_uncatalogued(tmp_path):
    root = str(tmp_path / "books")
    found = [f"{root}/abai.pdf", f"{root}/KZ-2", f"{root}/a/notes.pdf", f"{root}/b/notes.pdf", f"{root}/loose.tif",
             f"{root}/vol.1"]
    match = match_books(parse_catalog(CATALOG.encode()).rows, found, [root])
    books = {b.uri.removeprefix(root + "/"): b for b in match.books}
    assert books["abai.pdf"].book_id == "KZ-1" and books["abai.pdf"].catalogued
    assert json.loads(books["abai.pdf"].metadata) == {"shelf": "A-12"}
    assert books["KZ-2"].book_id == "KZ-2" and books["KZ-2"].language == "ru"  # page-image folder named by id
    assert books["loose.tif"].book_id == "loose" and not books["loose.tif"].catalogued
    assert books["vol.1"].book_id == "vol.1"  # a folder's whole name, as find_books names it
    a, b = books["a/notes.pdf"].book_id, books["b/notes.pdf"].book_id
    assert a != b and a.startswith("notes-") and b.startswith("notes-")  # same stem: disambiguated
    assert {x.file: x.book_id for x in match_books([], found, [root]).books}["a/notes.pdf"] == a  # deterministic
    assert [r.book_id for r in match.missing] == ["KZ-3"]  # its file is not there: queued
    assert missing_book(match.missing[0]).uri is None


def test_file_column_matches_nested_paths_case_and_windows_separators(tmp_path):
    root = str(tmp_path)
    rows = parse_catalog("book_id,file\nK1,Rare\\Abai.PDF\nK2,war.pdf\nK3,\n".encode()).rows
    found = [f"{root}/rare/abai.pdf", f"{root}/classics/war.pdf", f"{root}/K3.pdf"]
    match = match_books(rows, found, [root])
    assert {b.file: b.book_id for b in match.books} == {"rare/abai.pdf": "K1", "classics/war.pdf": "K2",
                                                        "K3.pdf": "K3"}
    assert match.missing == [] and match.problems == []


def test_uncatalogued_ids_do_not_collide_with_catalog_ids_and_remembered_ids_stay(tmp_path):
    root = str(tmp_path)
    rows = parse_catalog(b"book_id,file\nnotes,other.pdf\n").rows
    match = match_books(rows, [f"{root}/notes.pdf", f"{root}/other.pdf"], [root])
    loose = next(b for b in match.books if not b.catalogued)
    assert loose.book_id.startswith("notes-")  # "notes" is a catalog id
    again = match_books([], [f"{root}/notes.pdf", f"{root}/x/notes.pdf"], [root], known_ids={"notes.pdf": "notes"})
    assert {b.file: b.book_id for b in again.books}["notes.pdf"] == "notes"


def test_ambiguous_names_are_reported_not_guessed(tmp_path):
    root = str(tmp_path)
    rows = parse_catalog(b"book_id,file\nK1,abai.pdf\n").rows
    match = match_books(rows, [f"{root}/x/abai.pdf", f"{root}/y/abai.pdf"], [root])
    assert [r.book_id for r in match.missing] == ["K1"] and "matches 2 scans" in match.problems[0]
    assert not any(b.catalogued for b in match.books)


# --- ledger ------------------------------------------------------------------------

def page(book_id, n, method, confidence=None, error=None, config_hash=None):
    return {"book_id": book_id, "page": n, "uri": f"{book_id}.pdf", "method": method, "confidence": confidence,
            "error": error, "config_hash": config_hash}


KK, RU = BookRef("KZ-1", "/b/abai.pdf", "abai.pdf", "Абай жолы", language="kk", collection="rare_books",
                 catalogued=True), BookRef("KZ-2", "/b/war.pdf", "war.pdf", "Война и мир", language="ru",
                                           collection="classics", catalogued=True)
PAGES = [
    page("KZ-1", 1, "textlayer"), page("KZ-1", 2, "tesseract", 91.0), page("KZ-1", 3, "tesseract", 45.0),
    page("KZ-1", 4, "tesseract", error="cannot render page: boom"),
    page("KZ-2", 1, "easyocr", 80.0), page("KZ-2", 2, "easyocr", 70.0),
    page("BAD", 0, "none", error="cannot open PDF: broken"),
    page("DEAD", 1, "tesseract", error="tesseract timed out"),
    page("DEAD", 2, "tesseract", error="tesseract timed out"),
]


def test_page_counts_per_book():
    counts = count_pages(PAGES, low_confidence=60)
    kk = counts["KZ-1"]
    assert (kk.total, kk.textlayer, kk.ocr, kk.failed, kk.low_confidence) == (4, 1, 2, 1, 1)
    assert kk.mean_confidence == pytest.approx(68.0) and kk.first_error == "cannot render page: boom"
    assert counts["KZ-2"].mean_confidence == pytest.approx(75.0) and counts["KZ-2"].low_confidence == 0
    assert counts["BAD"].total == 0 and counts["BAD"].book_error.startswith("cannot open PDF")
    assert count_pages(pa.Table.from_pylist(PAGES), 60) == counts  # a table counts like the dicts


def test_a_page_read_in_a_later_run_replaces_its_failure():
    rows = [page("K", 1, "tesseract", error="timeout", config_hash="a"),
            page("K", 1, "tesseract", 88.0, config_hash="b"),
            page("K", 2, "tesseract", 50.0, config_hash="a"), page("K", 2, "tesseract", 90.0, config_hash="b")]
    assert current_page_rows(rows, "b").num_rows == 2
    counts = count_pages(rows, 60, config_hash="b")["K"]
    assert (counts.total, counts.ocr, counts.failed, counts.mean_confidence) == (2, 2, 0, 89.0)


def test_statuses():
    counts = count_pages(PAGES)
    assert book_status(counts["KZ-1"], in_corpus=True) == ("in corpus", "1 page(s) failed: cannot render page: boom")
    assert book_status(counts["KZ-2"], rejection=("LanguageFilter", "lang=tr")) == \
        ("rejected", "LanguageFilter: lang=tr")
    assert book_status(counts["BAD"], rejection=("BookAssembly", "x")) == ("failed", "cannot open PDF: broken")
    assert book_status(counts["DEAD"])[0] == "failed" and "all 2 page(s) failed" in book_status(counts["DEAD"])[1]
    assert book_status(counts["KZ-2"]) == ("done", "all pages read; waiting for curation")
    assert book_status(counts["KZ-2"], pages_complete=False)[0] == "in progress"
    assert book_status(None, found=False) == ("queued", "no scan found yet")
    assert book_status(None) == ("queued", "scan found, not read yet")


def test_ledger_rows_follow_the_contract():
    missing = BookRef("KZ-3", None, "kazak.pdf", "Қазақ тілі", language="kk", collection="rare_books",
                      catalogued=True)
    rows = ledger_rows([KK, RU, missing], count_pages(PAGES), {"KZ-1"}, {"KZ-2": ("LanguageFilter", "lang=tr")},
                       "2024-05-01T09:00:00+00:00")
    validate(pa.Table.from_pylist(rows, schema=LEDGER), LEDGER, allow_extra=False)
    by_id = {r["book_id"]: r for r in rows}
    assert by_id["KZ-1"]["status"] == "in corpus" and by_id["KZ-1"]["pages_ocr"] == 2
    assert by_id["KZ-2"]["status"] == "rejected" and by_id["KZ-3"]["status"] == "queued"
    assert by_id["KZ-3"]["status_detail"] == "no scan found yet" and by_id["KZ-3"]["pages_total"] == 0
    assert all(r["first_run"] == r["last_run"] == "2024-05-01T09:00:00+00:00" for r in rows)


def test_merge_across_two_runs_keeps_earlier_books_and_first_run():
    first = ledger_rows([KK, RU], count_pages(PAGES[:4]), set(), {}, "2024-05-01T09:00:00+00:00")
    loose = BookRef("notes", "/b/notes.pdf", "notes.pdf")
    first = merge_ledger([], first + ledger_rows([loose], {}, set(), {}, "2024-05-01T09:00:00+00:00"))
    # Run 2: only the Kazakh book (now in the corpus), with no catalog given this time.
    bare_kk = BookRef("KZ-1", "/b/abai.pdf", "abai.pdf")
    second = ledger_rows([bare_kk], count_pages(PAGES), {"KZ-1"}, {}, "2024-05-02T10:00:00+00:00")
    merged = {r["book_id"]: r for r in merge_ledger(first, second)}
    assert set(merged) == {"KZ-1", "KZ-2", "notes"}
    kk = merged["KZ-1"]
    assert kk["first_run"] == "2024-05-01T09:00:00+00:00" and kk["last_run"] == "2024-05-02T10:00:00+00:00"
    assert kk["status"] == "in corpus" and kk["title"] == "Абай жолы" and kk["catalogued"]  # catalog kept
    assert merged["KZ-2"] == {r["book_id"]: r for r in first}["KZ-2"]  # untouched
    # Run 3: the loose scan gets a catalog row (new id): the old uncatalogued row goes, its first_run stays.
    catalogued = BookRef("KZ-7", "/b/notes.pdf", "notes.pdf", "Notes", catalogued=True, collection="classics")
    third_run = ledger_rows([catalogued], {}, set(), {}, "2024-05-03T00:00:00+00:00")
    third = {r["book_id"]: r for r in merge_ledger(list(merged.values()), third_run)}
    assert "notes" not in third and third["KZ-7"]["first_run"] == "2024-05-01T09:00:00+00:00"


def test_refresh_shows_books_being_read_and_books_without_a_ledger_row():
    rows = ledger_rows([KK, RU], {}, set(), {}, "2024-05-01T09:00:00+00:00", pages_complete=False)
    assert {r["status"] for r in rows} == {"queued"}
    now = {r["book_id"]: r for r in refresh_ledger(rows, count_pages(PAGES[:4]), set(), {})}
    assert now["KZ-1"]["status"] == "in progress" and now["KZ-1"]["pages_total"] == 4
    assert now["KZ-2"]["status"] == "queued"
    assert "DEAD" not in {r["book_id"] for r in refresh_ledger(rows, count_pages(PAGES), set(), {})}
    extra = {r["book_id"]: r for r in refresh_ledger(rows, count_pages(PAGES), set(), {}, add_unknown=True)}
    assert extra["DEAD"]["status"] == "failed" and extra["DEAD"]["catalogued"] is False


def test_collection_summary_weights_confidence_by_ocr_pages():
    rows = ledger_rows([KK, RU, BookRef("BAD", "/b/bad.pdf", "bad.pdf")], count_pages(PAGES), {"KZ-1"}, {},
                       "2024-05-01T09:00:00+00:00")
    summary = {s["collection"]: s for s in collection_summary(rows)}
    assert list(summary) == ["classics", "rare_books", "(uncatalogued)", "all"]
    assert summary["rare_books"]["in corpus"] == 1 and summary["rare_books"]["pages_total"] == 4
    assert summary["(uncatalogued)"]["failed"] == 1
    assert summary["all"]["books"] == 3 and summary["all"]["pages_ocr"] == 4
    assert summary["all"]["mean_confidence"] == pytest.approx((68 * 2 + 75 * 2) / 4, abs=0.05)


def test_catalog_language_looks_wrong_when_most_ocr_pages_read_as_another():
    checked = [{**page("KZ-2", n, "tesseract", 90.0), "detected_language": lang}
               for n, lang in enumerate(["kk", "kk", "kk", "ru", "und", None], 1)]
    mixed = [{**page("KZ-1", n, "tesseract", 90.0), "detected_language": lang}
             for n, lang in enumerate(["kk", "ru", "kk", "ru"], 1)]
    counts = count_pages(checked + mixed)
    assert counts["KZ-2"].languages == (("kk", 3), ("ru", 1), ("und", 1))
    rows = {r["book_id"]: r for r in ledger_rows([KK, RU], counts, set(), {}, "2024-05-01T09:00:00+00:00")}
    assert rows["KZ-2"]["language_warning"] == "catalog language looks wrong: 3 of 4 OCR'd pages read as kk (catalog: ru)"
    assert rows["KZ-1"]["language_warning"] is None  # a kk/ru book half and half: no majority against its catalog
    # A book without a catalog language, or whose pages were too short to check, gets no warning.
    uncatalogued = BookRef("U-1", "/b/x.pdf", "x.pdf", None, catalogued=False)
    short = [{**page("U-1", 1, "tesseract", 90.0), "detected_language": "kk"}]
    [row] = ledger_rows([uncatalogued], count_pages(short), set(), {}, "2024-05-01T09:00:00+00:00")
    assert row["language_warning"] is None
    assert ledger_rows([RU], count_pages(PAGES), set(), {}, "x")[0]["language_warning"] is None
