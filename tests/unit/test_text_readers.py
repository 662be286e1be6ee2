import gzip
import io
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from operators.text.readers import TextReader

RU = "Казахстан - государство в Центральной Азии. Наука и образование развиваются, в регионах большие перемены."
KK = "Қазақстан Республикасы — Орталық Азиядағы мемлекет. Ғылым мен білім дамуда, өңірлерде үлкен өзгерістер жүріп жатыр."


def read(name: str, data: bytes, **kwargs) -> list[dict]:
    return list(TextReader(**kwargs)(name, io.BytesIO(data)))


def jsonl(*records) -> bytes:
    return "\n".join(r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in records).encode()


def test_jsonl_keeps_ids_and_falls_back_to_file_and_line():
    rows = read("kk.jsonl", jsonl({"id": 7, "text": KK, "title": "Тақырып"}, {"text": KK + " Екінші."}))
    assert [r["source_id"] for r in rows] == ["7", "kk.jsonl:2"]
    assert rows[0]["title"] == "Тақырып" and rows[0]["text"] == KK and rows[0]["n_chars"] == len(KK)
    assert all(r["reason"] is None and r["source"] == "text" for r in rows)
    assert rows[0]["doc_id"] != rows[1]["doc_id"]


def test_doc_id_is_stable_across_reads():
    data = jsonl({"id": "a", "text": KK})
    assert read("x.jsonl", data)[0]["doc_id"] == read("x.jsonl", data)[0]["doc_id"]


def test_each_bad_jsonl_line_becomes_an_error_row_and_reading_goes_on():
    data = jsonl({"id": 1, "text": KK}, '{"id": 2, "text": "тоқта', "[1, 2]", {"id": 4, "body": KK},
                 {"id": 5, "text": 5}, {"id": 6, "text": KK}) + b"\n\xff\xfe{}\n"
    rows = read("bad.jsonl", data)
    assert len(rows) == 7
    ok = [r for r in rows if r["reason"] is None]
    assert [r["source_id"] for r in ok] == ["1", "6"]
    errors = {r["source_id"]: r["detail"] for r in rows if r["reason"] == "TextReader"}
    assert "invalid JSON" in errors["bad.jsonl:2"]
    assert "expected a JSON object" in errors["bad.jsonl:3"]
    assert "'text' is missing" in errors["4"]
    assert "not a string" in errors["5"]
    assert "not valid UTF-8" in errors["bad.jsonl:7"]


def test_txt_whole_file_is_one_document_and_bad_files_are_rows():
    [doc] = read("a.txt", ("\ufeff" + KK).encode())
    assert doc["text"] == KK and doc["source_id"] == "a.txt"
    [bad] = read("zh.txt", "中文文本".encode("big5"))
    assert bad["reason"] == "TextReader" and bad["detail"].startswith("not valid UTF-8: byte 0xa4 at offset 0, nor ")
    [empty] = read("e.txt", b"")
    assert empty["detail"] == "empty file"
    [big] = read("big.txt", b"x" * 100, max_file_bytes=10)
    assert "max_file_bytes" in big["detail"]


@pytest.mark.parametrize("encoding, text", [
    ("cp1251", RU), ("koi8_r", RU), ("cp866", RU), ("kz1048", KK), ("utf-16", KK), ("mac_cyrillic", RU),
    ("kz1048", "Қазақ ұлттық әдебиеті.")])  # short: the detector alone would say cp1251 ("Ќазаќ ўлттыќ")
def test_txt_in_a_legacy_cyrillic_code_page_is_read(encoding, text):
    # Kazakh and Russian files saved before UTF-8: Windows, KZ-1048, KOI8, DOS, Notepad's "Unicode", old Macs
    [doc] = read("old.txt", text.encode(encoding))
    assert doc["reason"] is None and doc["text"] == text


def test_binary_named_txt_is_still_an_error_row():
    [bad] = read("x.txt", bytes(range(256)) * 8)
    assert bad["reason"] == "TextReader" and "nor text in a Cyrillic code page" in bad["detail"]


@pytest.mark.parametrize("name", ["dolma.json.gz", "pile.jsonl.zst", "slim.jsonl.zstd", "notes.txt.zst",
                                  "cc100.txt.xz", "dump.jsonl.bz2"])
def test_corpora_compressed_as_their_publishers_ship_them(name):
    import bz2
    import lzma

    import zstandard

    raw = KK.encode() if name.startswith(("notes", "cc100")) else jsonl({"id": "z", "text": KK}, {"id": "y", "text": RU})
    if name.endswith(".gz"):
        data = gzip.compress(raw)
    elif name.endswith(".xz"):
        data = lzma.compress(raw)
    elif name.endswith(".bz2"):
        data = bz2.compress(raw)
    else:  # two frames, as a file written in parallel or appended to is
        half = len(raw) // 2
        data = zstandard.ZstdCompressor().compress(raw[:half]) + zstandard.ZstdCompressor().compress(raw[half:])
    rows = read(name, data)
    assert [r["text"] for r in rows] == ([KK] if name.startswith(("notes", "cc100")) else [KK, RU])
    [bad] = read(name, data[: len(data) // 3])
    assert bad["reason"] == "TextReader" and bad["detail"]


def test_a_zstd_bomb_is_stopped():
    import zstandard

    [bad] = read("bomb.jsonl.zst", zstandard.ZstdCompressor().compress(b" " * 20_000_000))
    assert "zstd bomb" in bad["detail"]


def test_gzip_jsonl_and_truncated_gzip():
    data = gzip.compress(jsonl({"id": "g", "text": KK}))
    assert read("a.jsonl.gz", data)[0]["text"] == KK
    [bad] = read("b.jsonl.gz", data[: len(data) // 2])
    assert bad["reason"] == "TextReader" and "EOFError" in bad["detail"]


def test_parquet_rows_and_missing_column():
    buf = io.BytesIO()
    pq.write_table(pa.table({"id": ["p1", None], "text": [KK, "Сөз"], "title": ["T", None]}), buf)
    rows = read("c.parquet", buf.getvalue())
    assert [r["source_id"] for r in rows] == ["p1", "c.parquet:2"]
    buf = io.BytesIO()
    pq.write_table(pa.table({"body": [KK]}), buf)
    [bad] = read("d.parquet", buf.getvalue())
    assert "no column 'text'" in bad["detail"]
    [corrupt] = read("e.parquet", b"PAR1 not really")
    assert corrupt["reason"] == "TextReader"


def test_unsupported_file_type_is_a_row():
    [row] = read("notes.xlsx", b"PK..")
    assert "unsupported file type" in row["detail"]


def test_txt_by_line_reads_a_leipzig_sentences_file():
    # The Leipzig Corpora Collection's kaz_news_*-sentences.txt: "id<TAB>sentence" per line.
    data = f"1\t{KK}\n2\t{RU}\n\n\t\nБіздің ауыл.\n".encode() + "Ескі жол.".encode("cp1251") + b"\n"
    rows = read("kaz_news_2020_10K-sentences.txt", data, txt_unit="line")
    assert [(r["source_id"], r["text"], r["reason"]) for r in rows[:3]] == [
        ("1", KK, None), ("2", RU, None), ("kaz_news_2020_10K-sentences.txt:5", "Біздің ауыл.", None)]
    assert rows[3]["reason"] == "TextReader" and rows[3]["detail"].startswith("line 6: not valid UTF-8")
    assert len({r["doc_id"] for r in rows}) == 4


def test_txt_by_paragraph_reads_cc100_documents_and_skips_an_overlong_one():
    # CC-100: one document per run of lines, a blank line between documents.
    long = "Ұзын сөйлем. " * 40
    data = f"{KK}\n{RU}\n\n\n{long}\n{long}\n\nСоңғы құжат.".encode()
    rows = read("kk.txt.zst", __import__("zstandard").ZstdCompressor().compress(data), txt_unit="paragraph",
                max_file_bytes=len(long.encode()) + 10)
    assert [(r["source_id"].rsplit(":", 1)[1], r["reason"]) for r in rows] == [("1", None), ("5", "TextReader"),
                                                                               ("8", None)]
    assert rows[0]["text"] == f"{KK}\n{RU}" and rows[2]["text"] == "Соңғы құжат."
    assert "paragraph from line 5: longer than max_file_bytes" in rows[1]["detail"]


@pytest.mark.parametrize("unit", ["line", "paragraph"])
def test_an_empty_txt_is_one_error_row_by_any_unit(unit):
    [row] = read("e.txt", b"\n \n\r\n", txt_unit=unit)
    assert row["detail"] == "empty file"


def test_an_unknown_txt_unit_is_refused():
    with pytest.raises(ValueError, match="inputs.txt_unit"):
        TextReader(txt_unit="sentence")


def csv_bytes(rows: list[list[str]], delimiter: str = ",", encoding: str = "utf-8") -> bytes:
    import csv

    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return out.getvalue().encode(encoding)


MULTILINE_KK = KK + "\n\nЕкінші абзац: «тырнақша», үтір, және \"қос тырнақша\"."


@pytest.mark.parametrize("name, delimiter, encoding", [
    ("dataset.csv", ",", "utf-8-sig"),  # Excel's "CSV UTF-8"
    ("excel_ru.csv", ";", "cp1251"),  # Excel in a Russian locale: semicolons, Windows code page
    ("excel_unicode.tsv", "\t", "utf-16"),  # Excel's "Unicode text": the one way it saves Kazakh letters besides UTF-8
    ("hf.tsv.gz", "\t", "utf-8"),
])
def test_csv_and_tsv_datasets_one_document_per_record(name, delimiter, encoding):
    text, title = (RU, "Заголовок") if encoding == "cp1251" else (MULTILINE_KK, "Тақырып")  # cp1251 has no ә ғ қ ...
    data = csv_bytes([["id", "title", "text", "label"], ["7", title, text, "1"], ["8", "", RU, "0"],
                      ["", "", "", ""]], delimiter, encoding)
    rows = read(name, gzip.compress(data) if name.endswith(".gz") else data)
    assert [(r["source_id"], r["title"], r["text"], r["reason"]) for r in rows] == \
        [("7", title, text, None), ("8", "", RU, None)]


def test_a_tsv_that_holds_commas_is_read_by_its_header_not_its_name():
    rows = read("misnamed.tsv", csv_bytes([["id", "text"], ["1", KK]], ","))
    assert [(r["source_id"], r["text"]) for r in rows] == [("1", KK)]


def test_csv_problems_are_rows_and_reading_goes_on():
    good = ["1", KK]
    data = (csv_bytes([["id", "text"], good]) + b'2,"' + b"x" * 5000 + b'"\r\n' + csv_bytes([["3", RU, "extra"]])
            + b"4,\xff\xfe broken\r\n" + csv_bytes([["5", KK]]))
    rows = read("d.csv", data, max_line_bytes=1000)
    assert [(r["source_id"], r["reason"]) for r in rows] == [("1", None), ("d.csv:2", "TextReader"),
                                                           ("d.csv:3", "TextReader"), ("d.csv:4", "TextReader"),
                                                           ("5", None)]
    details = [r["detail"] for r in rows]
    assert "longer than max_line_bytes" in details[1] and "3 fields, the header has 2" in details[2]
    assert "not valid UTF-8" in details[3]


@pytest.mark.parametrize("data, says", [(b"", "empty file"), (b"id,body\r\n1,x\r\n", "no column 'text'"),
                                        (b"text\r\n", "no records"), (bytes(range(256)) * 8, "")])
def test_a_csv_without_documents_is_one_error_row(data, says):
    [row] = read("d.csv", data)
    assert row["reason"] == "TextReader" and says in row["detail"]


@pytest.mark.parametrize("encoding", ["cp1251", "kz1048", "utf-16"])
@pytest.mark.parametrize("unit", ["line", "paragraph"])
def test_a_sentence_or_paragraph_corpus_in_a_legacy_code_page_is_read(encoding, unit):
    text = RU if encoding == "cp1251" else KK
    sentences = [f"{i}\t{s.strip()}." for i, s in enumerate(text.split("."), start=1) if s.strip()]
    rows = read("corpus.txt", "\n\n".join(sentences).encode(encoding) + b"\n", txt_unit=unit)
    assert all(r["reason"] is None for r in rows)
    got = [r["text"] for r in rows]
    assert got == ([s.split("\t", 1)[1] for s in sentences] if unit == "line" else sentences)


@pytest.mark.parametrize("name", ["hf.json", "alpaca.json.gz", "misnamed.jsonl"])
def test_a_json_array_of_records_is_read_as_records_not_lines(name):
    records = [{"id": "a", "text": KK}, {"text": RU, "title": "Атауы"}, {"id": "c", "text": 7}, ["not", "a record"]]
    data = ("\ufeff" + json.dumps(records, ensure_ascii=False, indent=2)).encode()
    rows = read(name, gzip.compress(data) if name.endswith(".gz") else data)
    assert [(r["source_id"], r["text"], r["title"], r["reason"]) for r in rows[:2]] == \
        [("a", KK, None, None), (f"{name}:2", RU, "Атауы", None)]
    assert "field 'text' is a int" in rows[2]["detail"] and "expected a JSON object, got list" in rows[3]["detail"]
    assert len(rows) == 4


def test_a_broken_json_array_keeps_the_elements_before_the_break():
    data = json.dumps([{"text": KK}, {"text": RU}], ensure_ascii=False).encode()[:-12]
    rows = read("cut.json", data)
    assert [r["reason"] for r in rows] == [None, "TextReader"] and "element 2: invalid JSON" in rows[1]["detail"]


@pytest.mark.parametrize("path", ["/kk/ai-damuy.html", "/ru/cp1251.html"])
def test_a_saved_web_page_gives_its_main_text_without_menus_or_comments(path):
    """A page as `wget --mirror` leaves it: no HTTP header to name the charset (the cp1251
    page has no <meta charset> either)."""
    from tests.news_site import ARTICLES, COMMENT_TEXT, FOOTER_TEXT, NAV_TEXT, SIDEBAR_TEXT

    article = ARTICLES[path]
    [row] = read("mirror/news.example.kz" + path, article.html("http://news.example.kz").encode(
        article.charset, errors="xmlcharrefreplace"))
    assert row["reason"] is None and row["title"].startswith(article.title)
    assert all(p in row["text"] for p in article.paragraphs)
    assert not any(junk in row["text"] for junk in (NAV_TEXT, SIDEBAR_TEXT, COMMENT_TEXT, FOOTER_TEXT))
    [empty] = read("blank.html", b"<html><head><title>x</title></head><body></body></html>")
    assert empty["reason"] == "TextReader" and "no main text" in empty["detail"]


@pytest.mark.parametrize("form", ["stream", "file"])
def test_an_arrow_file_as_hugging_face_saves_a_dataset(form):
    """`Dataset.save_to_disk` writes Arrow's stream format (data-00000-of-00001.arrow); the
    file format is read too."""
    table = pa.table({"id": ["a", "b"], "text": [KK, RU], "label": [1, 0]})
    sink = io.BytesIO()
    with (pa.ipc.new_stream if form == "stream" else pa.ipc.new_file)(sink, table.schema) as writer:
        writer.write_table(table, max_chunksize=1)
    rows = read("data-00000-of-00001.arrow", sink.getvalue())
    assert [(r["source_id"], r["text"], r["reason"]) for r in rows] == [("a", KK, None), ("b", RU, None)]
    [bad] = read("x.arrow", b"not arrow at all")
    assert bad["reason"] == "TextReader"
    [no_text] = read("y.arrow", _arrow_without_text())
    assert "no column 'text'" in no_text["detail"]


def _arrow_without_text() -> bytes:
    sink = io.BytesIO()
    with pa.ipc.new_stream(sink, pa.schema([("body", pa.string())])) as writer:
        writer.write_table(pa.table({"body": ["x"]}))
    return sink.getvalue()
