"""RTF documents (operators/text/rtf.py through TextReader): pandoc's RTF of a Kazakh book,
a document as Word writes one (cp1251 bytes, Kazakh letters as \\uN, fields, footnotes,
headers), hostile and damaged files."""
from __future__ import annotations

import io

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from operators.text.readers import TextReader, kind_of
from operators.text.rtf import rtf_text
from tests.ebook_files import CHAPTER_1, CHAPTER_2, ebook

PANDOC_RTF = ebook("rtf")
# As Word and WordPad save it: a code page for \'hh bytes, Kazakh's letters (not in cp1251)
# as \uN with a "?" fallback, a hyperlink field, a footnote, a header, ignorable destinations.
WORD_RTF = (rb"{\rtf1\ansi\ansicpg1251\deff0\deflang1049{\fonttbl{\f0\froman\fcharset204 Times New Roman;}"
            rb"{\f1\fswiss\fcharset204 Arial;}}{\colortbl ;\red0\green0\blue255;}"
            rb"{\*\generator Riched20 10.0.19041}{\info{\title \'c7\'e0\'ea\'ee\'ed}{\author x}}"
            rb"{\header \pard \'ea\'ee\'eb\'ee\'ed\'f2\'e8\'f2\'f3\'eb\par}"
            rb"\viewkind4\uc1\pard\sa200\f0\fs22 \u1178?\'e0\'e7\'e0\u1179?\'f1\'f2\'e0\'ed "
            rb"\u1178?\'e0\'ed\'e4\'e0\'f0\'fb\par"
            rb"{\field{\*\fldinst { HYPERLINK \"https://adilet.zan.kz\" }}{\fldrslt {\f1 \'e0\'e4\'e8\'eb\'e5\'f2}}}"
            rb"\tab\'c7\'e0\'ea\'ee\'ed{\super\chftn{\footnote\pard\chftn \'f1\'ed\'ee\'f1\'ea\'e0\par}}\par"
            rb"\pard\'c1\'e0\'e1 1.\~\'d2\'e0\'f0\'e0\'f3\line\'e5\'ea\'b3\'ed\'f8\'b3 \u1241?\u1171?\u1199?\par}")


def test_pandocs_rtf_of_a_kazakh_book_gives_its_paragraphs_in_order():
    [row] = TextReader()("law.rtf", io.BytesIO(PANDOC_RTF))
    assert kind_of("x.rtf") == "rtf" and row["reason"] is None
    lines = [line.lstrip("•\t ") for line in row["text"].split("\n")]
    for expected in CHAPTER_1 + CHAPTER_2:
        assert expected in lines
    assert lines.index(CHAPTER_1[1]) < lines.index(CHAPTER_2[1])


def test_a_document_as_word_writes_it():
    assert rtf_text(WORD_RTF).split("\n") == [
        "Қазақстан Қандары", "адилет\tЗакон", "Баб 1.\u00a0Тарау", "екінші әғү"]


@pytest.mark.parametrize("data, says", [
    (b"", "not RTF"), ("Қазақ тілі".encode(), "not RTF"), (b"{\\rtf1 " + b"{" * 100_000, "nested deeper"),
    (b"{\\rtf1 {\\fonttbl{\\f0 Arial;}}}", "no text"), (b"{\\rtf1 abc\\bin5 \x00\x01\x02\x03\x04}", "\\bin")])
def test_what_is_not_a_readable_rtf_is_one_error_row(data, says):
    [row] = TextReader()("bad.rtf", io.BytesIO(data))
    assert row["reason"] == "TextReader" and says in row["detail"]


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.floats(0, 1), st.binary(max_size=8)), max_size=6), st.floats(0.01, 1))
def test_any_damage_gives_one_row(damage, keep):
    data = bytearray(PANDOC_RTF)
    for where, junk in damage:
        at = int(where * (len(data) - 1))
        data[at:at + len(junk)] = junk
    rows = list(TextReader()("damaged.rtf", io.BytesIO(bytes(data[:max(1, int(len(data) * keep))]))))
    assert len(rows) == 1 and (rows[0]["reason"] is None) == bool(rows[0]["text"])
