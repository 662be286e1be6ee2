"""E-books and office documents (operators/text/ebooks.py through TextReader): real files
written by pandoc, then the same files damaged, crafted as attacks, or holding what Word
and e-libraries put in them (tracked changes, text boxes, KZ-1048 declared as cp1251)."""
from __future__ import annotations

import io
import re
import zipfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from operators.text.readers import TextReader, kind_of
from tests.ebook_files import CHAPTER_1, CHAPTER_2, FORMATS, TITLE, ebook, replace_member

READER = TextReader(max_file_bytes=4 << 20)
KAZAKH_LETTERS = set("әғқңөұүһі")
BOOKS = {kind: ebook(kind) for kind in FORMATS}


def read(name: str, data: bytes, reader: TextReader = READER) -> list[dict]:
    return list(reader(name, io.BytesIO(data)))


def kept(name: str, data: bytes) -> dict:
    [row] = read(name, data)
    assert row["reason"] is None, row["detail"]
    return row


@pytest.mark.parametrize("kind", FORMATS)
def test_a_kazakh_book_is_one_document_in_reading_order_titled_from_its_metadata(kind):
    row = kept(f"library/abai.{kind}", BOOKS[kind])
    assert kind_of(f"x.{kind}") == "ebook"
    assert row["title"] == TITLE and row["source_id"] == f"library/abai.{kind}"
    lines = row["text"].split("\n")
    paragraphs = [line.lstrip("• ") for line in lines]  # FB2 has no lists: pandoc writes bullets
    for expected in CHAPTER_1 + CHAPTER_2:
        assert expected in paragraphs, (expected, lines)
    assert paragraphs.index(CHAPTER_1[0]) < paragraphs.index(CHAPTER_1[1]) < paragraphs.index(CHAPTER_2[0])
    assert KAZAKH_LETTERS <= set(row["text"].lower())
    assert "әңгіме" in row["text"]  # bold "әң" + plain "гіме": one word, no space inside
    assert not re.search(r"<|>|xmlns|\{|\}", row["text"])  # no markup, no CSS


def test_an_epub_reads_its_chapters_not_its_table_of_contents():
    text = kept("a.epub", BOOKS["epub"])["text"]
    assert text.count(CHAPTER_2[0]) == 1  # nav.xhtml repeats every chapter title


def test_an_fb2_zip_is_read_as_the_fb2_inside():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("abai.fb2", BOOKS["fb2"])
    assert kept("abai.fb2.zip", out.getvalue())["text"] == kept("abai.fb2", BOOKS["fb2"])["text"]


def fb2_in(encoding: str, declared: str | None) -> bytes:
    text = BOOKS["fb2"].decode("utf-8")
    text = re.sub(r"^<\?xml[^>]*\?>", f'<?xml version="1.0" encoding="{declared}"?>' if declared else "", text)
    return text.encode(encoding)


@pytest.mark.parametrize("encoding, declared", [("cp1251", "windows-1251"), ("kz1048", "windows-1251"),
                                                ("kz1048", None), ("utf-16", "UTF-16")])
def test_an_fb2_in_a_legacy_code_page_keeps_its_kazakh_letters(encoding, declared):
    """Old Kazakh FB2 files are KZ-1048, often declared windows-1251 (the two differ only in
    Kazakh's letters); cp1251 cannot hold Kazakh's letters, so its book is Russian."""
    if encoding == "cp1251":
        book = ebook("fb2", "---\ntitle: Война и мир\n---\n\nКнязь Андрей приехал в Москву поздно вечером.\n")
        data = book.decode("utf-8").replace('encoding="UTF-8"', f'encoding="{declared}"').encode("cp1251")
        assert "Князь Андрей приехал в Москву поздно вечером." in kept("x.fb2", data)["text"]
        return
    row = kept("x.fb2", fb2_in(encoding, declared))
    assert row["title"] == TITLE and CHAPTER_1[1] in row["text"]


def test_docx_tracked_deletions_field_codes_and_text_boxes():
    """What Word writes that is not the text: a deleted run (w:delText inside w:del), a field
    code (w:instrText), and a text box stored twice (mc:Choice and its VML mc:Fallback)."""
    w = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    mc = "http://schemas.openxmlformats.org/markup-compatibility/2006"
    body = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:document xmlns:w="{w}" xmlns:mc="{mc}"><w:body>
  <w:p><w:r><w:t>Қазақ</w:t></w:r><w:del><w:r><w:delText> ескі</w:delText></w:r></w:del><w:ins><w:r><w:t xml:space="preserve"> тілі</w:t></w:r></w:ins></w:p>
  <w:p><w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText> PAGE \\* MERGEFORMAT </w:instrText></w:r><w:r><w:t>7</w:t></w:r></w:p>
  <w:p><w:r><mc:AlternateContent><mc:Choice Requires="wps"><w:drawing><w:txbxContent><w:p><w:r><w:t>Қорап ішіндегі мәтін</w:t></w:r></w:p></w:txbxContent></w:drawing></mc:Choice>
  <mc:Fallback><w:pict><w:txbxContent><w:p><w:r><w:t>Қорап ішіндегі мәтін</w:t></w:r></w:p></w:txbxContent></w:pict></mc:Fallback></mc:AlternateContent></w:r></w:p>
  <w:p><w:r><w:t>бір</w:t></w:r><w:r><w:tab/><w:t>екі</w:t><w:br/><w:t>үш</w:t></w:r></w:p>
</w:body></w:document>""".encode()
    text = kept("x.docx", replace_member(BOOKS["docx"], {"word/document.xml": body}))["text"]
    assert text.split("\n") == ["Қазақ тілі", "7", "Қорап ішіндегі мәтін", "бір\tекі", "үш"]


def test_a_docx_whose_main_part_has_another_name_is_found_by_its_relationship():
    docx = BOOKS["docx"]
    with zipfile.ZipFile(io.BytesIO(docx)) as archive:
        body, rels = archive.read("word/document.xml"), archive.read("_rels/.rels")
    renamed = replace_member(docx, {"word/document.xml": None, "word/document2.xml": body,
                                    "_rels/.rels": rels.replace(b"word/document.xml", b"/word/document2.xml")})
    assert kept("x.docx", renamed)["text"] == kept("x.docx", docx)["text"]


def test_odt_spaces_tabs_line_breaks_and_notes():
    text_ns, office = "urn:oasis:names:tc:opendocument:xmlns:text:1.0", "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
    content = f"""<?xml version="1.0" encoding="UTF-8"?>
<office:document-content xmlns:office="{office}" xmlns:text="{text_ns}"><office:body><office:text>
  <text:h>Тарау</text:h>
  <text:p>бір<text:s text:c="3"/>екі<text:tab/>үш<text:line-break/>төрт<text:note><text:note-citation>1</text:note-citation>
  <text:note-body><text:p>Ескерту.</text:p></text:note-body></text:note> бес</text:p>
</office:text></office:body></office:document-content>""".encode()
    text = kept("x.odt", replace_member(BOOKS["odt"], {"content.xml": content}))["text"]
    assert text.split("\n") == ["Тарау", "бір   екі үш", "төрт бес"]


# ------------------------------------------------------------------ attacks and damage

def rejected(name: str, data: bytes, reader: TextReader = READER) -> str:
    [row] = read(name, data, reader)
    assert row["reason"] == "TextReader" and row["text"] == "" and row["uri"] == name
    return row["detail"]


def test_a_zip_bomb_stops_at_the_byte_budget():
    bomb = b"<w:document xmlns:w='x'>" + b" " * (200 << 20) + b"</w:document>"
    data = replace_member(BOOKS["docx"], {"word/document.xml": bomb})
    assert len(data) < 1 << 20
    assert "beyond max_file_bytes" in rejected("bomb.docx", data)
    assert "zip bomb" in rejected("bomb.docx", data, TextReader(max_file_bytes=300 << 20))


def test_entities_are_never_expanded_nor_files_read():
    laughs = ('<?xml version="1.0"?><!DOCTYPE FictionBook [<!ENTITY a "ҚҚҚҚҚҚҚҚҚҚ">'
              + "".join(f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(8))
              + '<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
              '<FictionBook xmlns="http://www.gribuser.ru/xml/fictionbook/2.0"><body><section>'
              '<p>Қазақ тілі &i; &xxe;</p></section></body></FictionBook>')
    row = kept("laughs.fb2", laughs.encode())
    assert row["text"].startswith("Қазақ тілі") and len(row["text"]) < 100 and "root:" not in row["text"]


def test_an_epub_with_encrypted_chapters_says_drm_but_obfuscated_fonts_are_read():
    def encryption(uri: str) -> bytes:
        return (f'<encryption xmlns="urn:oasis:names:tc:opendocument:xmlns:container" '
                f'xmlns:enc="http://www.w3.org/2001/04/xmlenc#"><enc:EncryptedData><enc:CipherData>'
                f'<enc:CipherReference URI="{uri}"/></enc:CipherData></enc:EncryptedData></encryption>').encode()

    drm = replace_member(BOOKS["epub"], {"META-INF/encryption.xml": encryption("EPUB/text/ch001.xhtml")})
    assert "DRM" in rejected("drm.epub", drm)
    fonts = replace_member(BOOKS["epub"], {"META-INF/encryption.xml": encryption("EPUB/fonts/a.otf")})
    assert CHAPTER_2[1] in kept("fonts.epub", fonts)["text"]


def encrypted_flag(archive: bytes) -> bytes:
    """The zip with every member flagged encrypted (general-purpose bit 0), as `zip -e` leaves it."""
    data = bytearray(archive)
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        start = 0
        while (start := data.find(signature, start)) != -1:
            data[start + offset] |= 1
            start += 4
    return bytes(data)


@pytest.mark.parametrize("name, data, says", [
    ("empty.epub", b"", "not a zip archive"),
    ("text.docx", "Қазақ тілі".encode(), "not a zip archive"),
    ("password.docx", encrypted_flag(BOOKS["docx"]), "encrypted"),
    ("no_body.docx", replace_member(BOOKS["docx"], {"word/document.xml": b"<w:document xmlns:w='x'/>"}), "no text"),
    ("not_fb2.fb2", b"<html><body><p>x</p></body></html>", "not an FB2"),
    ("junk.fb2", bytes(range(256)) * 4, "nor text in a Cyrillic code page"),
    ("plain.fb2", "Қазақ тілі, белгісіз".encode(), "not XML"),
    ("two.fb2.zip", None, "holds 2"),
    ("no_container.epub", None, "no META-INF/container.xml"),
])
def test_what_cannot_be_read_is_one_error_row_saying_why(name, data, says):
    if name == "two.fb2.zip":
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as archive:
            archive.writestr("a.fb2", BOOKS["fb2"])
            archive.writestr("b.fb2", BOOKS["fb2"])
        data = out.getvalue()
    if name == "no_container.epub":
        data = replace_member(BOOKS["epub"], {"META-INF/container.xml": None})
    assert says in rejected(name, data)


def test_an_fb2_with_a_stray_ampersand_is_recovered():
    broken = BOOKS["fb2"].replace("Түнде жаңбыр".encode(), "Түнде & жаңбыр".encode())
    assert "ертеңіне ғана ашылды" in kept("x.fb2", broken)["text"]


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(kind=st.sampled_from(FORMATS), cuts=st.lists(st.tuples(st.floats(0, 1), st.binary(max_size=8)), max_size=4),
       truncate=st.floats(0.05, 1.0))
def test_any_damage_gives_one_row_that_says_what_it_is(kind, cuts, truncate):
    data = bytearray(BOOKS[kind])
    for where, junk in cuts:
        at = int(where * (len(data) - 1))
        data[at:at + len(junk)] = junk
    data = bytes(data[:max(1, int(len(data) * truncate))])
    rows = read(f"damaged.{kind}", data)
    assert len(rows) == 1
    [row] = rows
    if row["reason"] is None:
        assert row["text"].strip() and not re.search(r"[\ud800-\udfff]", row["text"])
    else:
        assert row["detail"] and row["text"] == ""
