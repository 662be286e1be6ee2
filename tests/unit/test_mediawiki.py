"""Wikipedia dumps (operators/text/mediawiki.py through TextReader): one document per
article with its markup removed; redirects and other namespaces are no articles; a dump
broken midway keeps the articles before the break."""
import bz2
import io

from operators.text.mediawiki import article_text
from operators.text.readers import TextReader, kind_of

ARTICLE = """{{Infobox country|name=Қазақстан|capital=Астана}}
'''Қазақстан Республикасы''' — [[Орталық Азия|Орталық Азиядағы]] мемлекет.<ref>{{cite web|url=http://x}}</ref> \
Астанасы — [[Астана]].

== Тарихы ==
Ежелгі заманда мұнда [[сақтар]] өмір сүрген. [[Сурет:Flag of Kazakhstan.svg|thumb|Ту]]
{| class="wikitable"
| халқы || 20 млн
|}
* Ұлттық кітапхана қолжазбаларды цифрлайды.
<gallery>
File:Astana.jpg|Астана
</gallery>

== Дереккөздер ==
<references />
[[Санат:Азия мемлекеттері]]
[[en:Kazakhstan]]"""


def export(pages: list[tuple[int, str, int, str, bool]]) -> bytes:
    """A MediaWiki export (the dump's schema): (id, title, namespace, wikitext, redirect)."""
    out = ['<mediawiki xmlns="http://www.mediawiki.org/xml/export-0.11/" version="0.11" xml:lang="kk">',
           "<siteinfo><sitename>Уикипедия</sitename><dbname>kkwiki</dbname></siteinfo>"]
    for page_id, title, ns, text, redirect in pages:
        text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        out.append(f"<page><title>{title}</title><ns>{ns}</ns><id>{page_id}</id>"
                   + (f'<redirect title="{title}" />' if redirect else "")
                   + f'<revision><id>{page_id}0</id><text bytes="{len(text)}" xml:space="preserve">{text}</text>'
                   "</revision></page>")
    return ("\n".join(out) + "\n</mediawiki>\n").encode()


DUMP = export([(1, "Қазақстан", 0, ARTICLE, False), (2, "Казахстан", 0, "#REDIRECT [[Қазақстан]]", True),
               (3, "Үлгі:Infobox", 10, "{{{name}}}", False), (4, "Бос", 0, "{{Disambig}}", False),
               (5, "Абай", 0, "'''Абай Құнанбайұлы''' — ақын, ағартушы.", False)])


def read(name: str, data: bytes) -> list[dict]:
    return list(TextReader()(name, io.BytesIO(data)))


def test_article_text_keeps_the_prose_and_drops_the_markup():
    text = article_text(ARTICLE)
    assert text.startswith("Қазақстан Республикасы — Орталық Азиядағы мемлекет. Астанасы — Астана.")
    assert "Тарихы\n" in text and "Ежелгі заманда мұнда сақтар өмір сүрген." in text
    assert "Ұлттық кітапхана қолжазбаларды цифрлайды." in text
    for markup in ("{{", "[[", "<ref", "cite web", "Сурет", "thumb", "Санат", "Kazakhstan", "wikitable", "20 млн",
                   "Astana.jpg", "Infobox"):
        assert markup not in text, markup


def test_a_bz2_dump_gives_one_document_per_article():
    assert kind_of("kkwiki-latest-pages-articles.xml.bz2") == "mediawiki"
    assert kind_of("ruwiki-20261201-pages-articles1.xml-p1p224167.bz2") == "mediawiki"  # one part of a large wiki
    rows = read("kkwiki-latest-pages-articles.xml.bz2", bz2.compress(DUMP))
    assert [(r["source_id"], r["title"], r["reason"]) for r in rows] == [
        ("1", "Қазақстан", None), ("4", None, "TextReader"), ("5", "Абай", None)]  # no redirect, no template page
    assert rows[0]["text"] == article_text(ARTICLE)
    assert rows[1]["detail"] == "article 'Бос': no text once its markup is removed"
    assert rows[2]["text"] == "Абай Құнанбайұлы — ақын, ағартушы."


def test_a_dump_broken_midway_keeps_the_articles_before_the_break():
    cut = DUMP[: DUMP.index(b"<title>\xd0\x90\xd0\xb1\xd0\xb0\xd0\xb9") + 20]  # inside Абай's page
    rows = read("kkwiki.xml", cut)
    assert [r["source_id"] for r in rows[:2]] == ["1", "4"]
    assert rows[-1]["reason"] == "TextReader" and rows[-1]["detail"].startswith("after 2 articles: ParseError")


def test_xml_that_is_no_mediawiki_export_is_one_error_row():
    [row] = read("catalog.xml", b"<?xml version='1.0'?><catalog><book id='1'/></catalog>")
    assert "not a MediaWiki export (root element <catalog>)" in row["detail"]
    [row] = read("empty.xml", export([]))
    assert row["detail"] == "no articles (namespace 0) in the dump"
