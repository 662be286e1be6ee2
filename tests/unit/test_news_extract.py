import io
from datetime import datetime, timezone

from operators.news.extract import extract_document
from operators.news.fetch import Exchange
from operators.news.html import decode_html, page_links
from operators.news.warc import RotatingWarcWriter, iter_warc_responses, read_warc_response, warc_name, warc_sequence
from tests.news_site import (ARTICLES, BAD_LINKS, BAD_LINKS_GOOD, BAD_LINKS_PAGE, COMMENT_TEXT, FOOTER_TEXT, NAV_TEXT,
                             SIDEBAR_TEXT)

SITE = "http://news.example.kz"


def page(path: str) -> tuple[bytes, str]:
    article = ARTICLES[path]
    return (article.html(SITE).encode(article.charset, errors="xmlcharrefreplace"),
            f"text/html; charset={article.charset}")


def extract(path: str, body=None, content_type=None) -> dict:
    html, ctype = page(path)
    return extract_document(SITE + path, html if body is None else body, "f.warc.gz", 123, "<urn:uuid:1>",
                            ctype if content_type is None else content_type)


def test_articles_in_three_languages():
    for path in ("/kk/ai-damuy.html", "/ru/razvitie-ii.html", "/en/mit-survey.html"):
        article, doc = ARTICLES[path], extract(path)
        assert doc["reason"] is None, doc["detail"]
        assert (doc["source"], doc["source_id"], doc["uri"], doc["url"]) == ("news", SITE + path, SITE + path,
                                                                             SITE + path)
        assert doc["domain"] == "news.example.kz"
        assert doc["title"].startswith(article.title)
        assert doc["published"] == article.published
        assert doc["author"] == article.author
        assert doc["site_name"] == "Qazaq Daily News"
        assert doc["lang_hint"] == article.lang
        assert (doc["warc_file"], doc["warc_offset"], doc["warc_record_id"]) == ("f.warc.gz", 123, "<urn:uuid:1>")
        for paragraph in article.paragraphs:
            assert paragraph in doc["text"]
        for junk in (NAV_TEXT, FOOTER_TEXT, COMMENT_TEXT, SIDEBAR_TEXT):
            assert junk not in doc["text"]
        assert doc["n_chars"] == len(doc["text"])


def test_doc_id_is_stable():
    assert extract("/en/mit-survey.html")["doc_id"] == extract("/en/mit-survey.html")["doc_id"]


def test_cp1251_page_decoded_from_the_http_header():
    doc = extract("/ru/cp1251.html")
    assert doc["reason"] is None and "почетный академик" in doc["text"]
    # Without the header and without a <meta charset>, the statistical guess still gets Cyrillic.
    guessed = extract("/ru/cp1251.html", content_type="text/html")
    assert "искусственного интеллекта" in guessed["text"]


def test_not_html_and_empty_are_error_rows():
    pdf = extract("/en/mit-survey.html", body=b"%PDF-1.4 ...", content_type="application/pdf")
    assert (pdf["reason"], pdf["detail"], pdf["text"]) == ("NewsExtract", "not HTML: content type application/pdf", "")
    assert pdf["url"] == SITE + "/en/mit-survey.html" and pdf["warc_offset"] == 123
    assert extract("/en/mit-survey.html", body=b"")["detail"] == "empty body"
    empty = extract("/en/mit-survey.html", body=b"<html><head><script>var a = 1;</script></head><body><div></div></body></html>")
    assert empty["reason"] == "NewsExtract" and "no main text" in empty["detail"]
    binary = extract("/en/mit-survey.html", body=b"\x89PNG\r\n\x1a\n\x00\x00", content_type="")
    assert binary["reason"] == "NewsExtract" and binary["detail"].startswith("not HTML")


def test_hostile_html_is_an_error_row_or_a_document_never_an_exception():
    for body in (b"<html>" * 5000, b"<" * 100_000, "<p>\x00\ud800</p>".encode("utf-8", "surrogatepass"),
                 b"<html><body>" + b"<div>" * 3000 + b"deep text " * 50 + b"</body></html>"):
        doc = extract("/en/mit-survey.html", body=body, content_type="text/html")
        assert doc["reason"] in (None, "NewsExtract")


def test_decode_html():
    text = "Қазақстан Республикасы"
    assert decode_html(text.encode(), "text/html; charset=utf-8") == (text, "utf-8")
    assert decode_html(b"\xef\xbb\xbf" + text.encode(), "text/html; charset=cp1251")[0] == text  # the BOM wins
    meta = '<meta charset="windows-1251"><p>Развитие</p>'.encode("cp1251")
    assert "Развитие" in decode_html(meta, "text/html")[0]
    assert decode_html("Развитие".encode("cp1251"), "text/html; charset=bogus-charset")[0] != ""


def test_page_links():
    links = page_links(ARTICLES["/en/deep-article.html"].html(SITE), SITE + "/en/deep-article.html")
    assert SITE + "/en/too-deep.html" in links.links and SITE + "/" in links.links
    assert links.canonical == SITE + "/en/deep-article.html" and links.lang == "en"
    base = page_links('<html><head><base href="https://x.kz/news/"></head><body><a href="a.html">a</a>'
                      '<a rel="nofollow" href="b.html">b</a><link rel="alternate" type="application/rss+xml" '
                      'href="/rss"></body></html>', "https://x.kz/")
    assert base.links == ["https://x.kz/news/a.html"] and base.feeds == ["https://x.kz/rss"]
    assert page_links("", "https://x.kz/").links == []


def test_page_links_drop_and_count_bad_hrefs():
    """Hrefs from real pages that make urljoin raise (`http://[ccpa-preferences]`), bad
    ports, other schemes, control characters, a broken <base>: counted, never raised."""
    links = page_links(BAD_LINKS_PAGE, SITE + "/bad-links.html")
    assert links.links == [SITE + path for path in BAD_LINKS_GOOD]  # the broken <base> is ignored
    assert dict(links.bad) == BAD_LINKS and links.canonical is None


def exchange(url: str, body: bytes, status=200, ctype="text/html; charset=utf-8") -> Exchange:
    return Exchange(url, [("Host", "x"), ("User-Agent", "qazflow")], status, "OK",
                    [("Content-Type", ctype), ("Content-Encoding", "gzip"), ("Content-Length", "10")], body,
                    datetime(2026, 1, 20, 10, 0, tzinfo=timezone.utc))


def test_warc_round_trip_rotation_and_extraction(tmp_path):
    writer = RotatingWarcWriter("news.example.kz:8080", str(tmp_path / "stage"), str(tmp_path), max_bytes=4000)
    refs = []
    for path in ("/kk/ai-damuy.html", "/ru/cp1251.html", "/en/mit-survey.html"):
        body, ctype = page(path)
        refs.append((path, writer.write(exchange(SITE + path, body, ctype=ctype), "page")))
    writer.write(exchange(SITE + "/robots.txt", b"User-agent: *\n", ctype="text/plain"), "robots")
    files = writer.close()
    assert [f.rsplit("/", 1)[1] for f in files][:2] == [warc_name("news.example.kz:8080", 0),
                                                         warc_name("news.example.kz:8080", 1)]
    assert warc_sequence(files[1]) == ("news.example.kz_8080", 1)
    assert not list((tmp_path / "stage").glob("*.open"))
    seen = []
    for f in files:
        with open(f, "rb") as stream:
            for fields, offset in iter_warc_responses(stream):
                seen.append((fields["url"], fields["kind"], offset, fields["http_status"]))
                assert fields["warc_record_id"].startswith("<urn:uuid:")
    assert [s[1] for s in seen] == ["page", "page", "page", "robots"]
    for path, ref in refs:
        with open(ref["warc_file"], "rb") as stream:
            record = read_warc_response(stream, ref["warc_offset"])
        assert record["warc_record_id"] == ref["warc_record_id"]
        doc = extract_document(record["url"], record["body"], ref["warc_file"], ref["warc_offset"],
                               record["warc_record_id"], record["content_type"])
        assert doc == extract(path) | {k: doc[k] for k in ("warc_file", "warc_offset", "warc_record_id")}


def test_iter_warc_responses_reads_any_stream():
    buffer = io.BytesIO()
    from warcio.warcwriter import WARCWriter
    from warcio.statusandheaders import StatusAndHeaders

    writer = WARCWriter(buffer, gzip=False)
    http = StatusAndHeaders("200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.0")
    writer.write_record(writer.create_warc_record("https://x.kz/a", "response", payload=io.BytesIO(b"<p>hi</p>"),
                                                  http_headers=http))
    buffer.seek(0)
    [(fields, offset)] = list(iter_warc_responses(buffer))
    assert (fields["url"], fields["body"], fields["kind"], offset) == ("https://x.kz/a", b"<p>hi</p>", None, 0)


def test_xhtml_with_an_xml_declaration():
    html = ARTICLES["/en/mit-survey.html"].html(SITE).replace("<!DOCTYPE html>\n", "")
    body = ('<?xml version="1.0" encoding="utf-8"?>\n' + html).encode()
    doc = extract("/en/mit-survey.html", body=body, content_type="application/xhtml+xml")
    assert doc["reason"] is None and EN_PARAGRAPH in doc["text"]
    assert SITE + "/section/tech.html" in page_links(body.decode(), SITE + "/x").links


EN_PARAGRAPH = ARTICLES["/en/mit-survey.html"].paragraphs[0]


def wet_file(records: list[tuple[str, bytes, str | None]]) -> bytes:
    """A Common Crawl WET file: warcinfo, then one conversion record (the page's text) per page."""
    from warcio.warcwriter import WARCWriter

    out = io.BytesIO()
    writer = WARCWriter(out, gzip=True, warc_version="1.0")
    writer.write_record(writer.create_warcinfo_record("CC-MAIN-test.warc.wet.gz", {"software": "test"}))
    for url, text, language in records:
        headers = {"WARC-Refers-To": "<urn:uuid:0>", **({"WARC-Identified-Content-Language": language} if language else {})}
        writer.write_record(writer.create_warc_record(url, "conversion", payload=io.BytesIO(text),
                                                      warc_content_type="text/plain", warc_headers_dict=headers))
    return out.getvalue()


def test_a_wet_file_gives_its_conversion_records_as_documents():
    from operators.news.extract import record_document
    from operators.news.warc import is_document_response
    from operators.news.warc_ranges import iter_warc_range

    kk = "Қазақ тілі — мемлекеттік тіл. Ұлттық кітапхана қорын цифрландыру жалғасуда.\nЕкінші жол."
    html, _ = page("/kk/ai-damuy.html")
    wet = wet_file([(SITE + "/kk/1", kk.encode(), "kaz,rus"), (SITE + "/empty", b"  \n", None),
                    (SITE + "/cp1251", "Привет".encode("cp1251"), "rus"), (SITE + "/kk/ai-damuy.html", html, "kaz")])
    rows = [record_document(fields, "CC.warc.wet.gz", offset, 1 << 20)
            for fields, offset, error in iter_warc_range(io.BytesIO(wet)) if is_document_response(fields)]
    assert [r["url"] for r in rows] == [SITE + "/kk/1", SITE + "/empty", SITE + "/cp1251",
                                        SITE + "/kk/ai-damuy.html"]  # nothing skipped
    doc, empty, bad, html_doc = rows
    assert doc["reason"] is None and doc["text"] == kk and doc["source"] == "news" and doc["lang_hint"] == "kaz,rus"
    assert doc["warc_file"] == "CC.warc.wet.gz" and doc["warc_offset"] > 0 and doc["domain"] == "news.example.kz"
    assert empty["reason"] == "NewsExtract" and empty["detail"] == "conversion record: no text"
    assert bad["reason"] == "NewsExtract" and "not valid UTF-8" in bad["detail"]
    # A "conversion" whose body is HTML after all is extracted as a page, not kept with its markup.
    assert html_doc["reason"] is None and "<" not in html_doc["text"]
    assert ARTICLES["/kk/ai-damuy.html"].paragraphs[0] in html_doc["text"]


def test_a_folder_of_warc_files_lists_wet_files_too_and_reports_the_rest(tmp_path):
    from flows.config import load_config
    from flows.inputs import find_warc_files
    from flows.news import warc_files
    from flows.storage import Storage

    for name in ("crawl-00001.warc.gz", "CC-MAIN-00000.warc.wet.gz", "old.arc.gz", "crawl-00002.warc.zst", ".hidden.warc",
                 "crawl-00003.cdx.gz"):
        (tmp_path / name).write_bytes(b"")
    cfg = load_config([f"output={tmp_path / 'out'}", f"inputs.warc=[{tmp_path}]"])
    assert [p.rsplit("/", 1)[1] for p in warc_files(cfg, Storage())] == [
        "CC-MAIN-00000.warc.wet.gz", "crawl-00001.warc.gz", "crawl-00002.warc.zst", "old.arc.gz"]
    assert [p.rsplit("/", 1)[1] for p in find_warc_files(cfg, Storage())[1]] == ["crawl-00003.cdx.gz"]  # an index
