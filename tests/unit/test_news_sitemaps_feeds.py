import gzip

import pytest

from operators.news.feeds import FeedError, parse_feed
from operators.news.sitemaps import SitemapError, gunzip_bounded, parse_sitemap

URLSET = b"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
        xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
  <url><loc> https://x.kz/kk/1.html </loc><lastmod>2026-01-20T10:00:00+05:00</lastmod></url>
  <url><loc>https://x.kz/ru/2.html</loc>
    <news:news><news:title>Zhanalyq</news:title><news:publication_date>2026-01-21</news:publication_date></news:news></url>
  <url><loc>https://x.kz/en/3.html</loc></url>
  <url><lastmod>2026-01-01</lastmod></url>
</urlset>"""

INDEX = b"""<?xml version="1.0"?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <sitemap><loc>https://x.kz/sitemap-news.xml.gz</loc><lastmod>2026-01-27</lastmod></sitemap>
  <sitemap><loc>https://x.kz/sitemap-2025.xml</loc></sitemap>
</sitemapindex>"""


def test_urlset_with_lastmod_and_news_dates():
    sitemap = parse_sitemap(URLSET)
    assert not sitemap.is_index
    assert [(e.loc, e.lastmod) for e in sitemap.entries] == [
        ("https://x.kz/kk/1.html", "2026-01-20T05:00:00Z"), ("https://x.kz/ru/2.html", "2026-01-21T00:00:00Z"),
        ("https://x.kz/en/3.html", None)]  # dates in one form (UTC), so that sorting puts the newest first


def test_gzip_and_index():
    assert parse_sitemap(gzip.compress(URLSET)).entries[0].loc == "https://x.kz/kk/1.html"
    index = parse_sitemap(gzip.compress(INDEX))
    assert index.is_index and [e.loc for e in index.entries] == ["https://x.kz/sitemap-news.xml.gz",
                                                                "https://x.kz/sitemap-2025.xml"]


def test_text_sitemap_and_bad_input():
    assert [e.loc for e in parse_sitemap(b"https://x.kz/a\n\nnot a url\nhttp://x.kz/b\n").entries] == [
        "https://x.kz/a", "http://x.kz/b"]
    with pytest.raises(SitemapError):
        parse_sitemap(b"<html><body>Not found</body></html>")
    with pytest.raises(SitemapError):
        parse_sitemap(b"\x1f\x8b not really gzip")


def test_index_over_the_protocol_limit_is_refused():
    children = "".join(f"<sm:sitemap><sm:loc>https://x.kz/s{i}.xml</sm:loc></sm:sitemap>" for i in range(50_001))
    with pytest.raises(SitemapError, match="more than 50000"):
        parse_sitemap(gzip.compress(f'<sm:sitemapindex xmlns:sm="x">{children}</sm:sitemapindex>'.encode()))


def test_gzip_bomb_is_refused():
    bomb = gzip.compress(b"\0" * (5 << 20))
    with pytest.raises(SitemapError, match="larger than"):
        gunzip_bounded(bomb, limit=1 << 20)


def test_entities_are_not_expanded():
    evil = b"""<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]>
<urlset><url><loc>https://x.kz/&b;</loc></url></urlset>"""
    with pytest.raises(SitemapError):  # usp refuses any DOCTYPE: no entity is ever expanded
        parse_sitemap(evil)



def test_hosts_courlan_would_refuse_and_declared_encodings():
    # Local test servers and two-letter domains stay (trafilatura's courlan filter drops both).
    local = b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>http://127.0.0.1:8000/kk/1.html</loc>' \
            b'</url><url><loc>https://x.kz/a</loc></url></urlset>'
    assert [e.loc for e in parse_sitemap(local).entries] == ["http://127.0.0.1:8000/kk/1.html", "https://x.kz/a"]
    cp1251 = '<?xml version="1.0" encoding="windows-1251"?><urlset><url><loc>https://x.kz/новости</loc></url></urlset>'
    assert parse_sitemap(cp1251.encode("cp1251")).entries[0].loc == "https://x.kz/новости"
    assert parse_sitemap(b"\xef\xbb\xbf" + URLSET).entries[0].loc == "https://x.kz/kk/1.html"  # BOM before "<"


def test_empty_and_truncated_sitemaps():
    for empty in (b"", b"  \n", gzip.compress(b"")):
        with pytest.raises(SitemapError, match="empty"):
            parse_sitemap(empty)
    # A server that timed out half way: the entries before the break are kept.
    cut = URLSET[:URLSET.index(b"<url><loc>https://x.kz/en/3.html")] + b"<url><loc>https://x.kz/en/3"
    assert [e.loc for e in parse_sitemap(cut).entries] == ["https://x.kz/kk/1.html", "https://x.kz/ru/2.html"]

RSS = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>Жаңалықтар</title>
  <item><title>Бірінші</title><link>https://x.kz/kk/1.html</link><pubDate>Tue, 20 Jan 2026 10:00:00 +0500</pubDate></item>
  <item><title>Guid only</title><guid isPermaLink="true">https://x.kz/kk/2.html</guid></item>
  <item><title>No link</title><guid isPermaLink="false">abc-123</guid></item>
</channel></rss>""".encode()

ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>News</title>
  <entry><title>One</title><link rel="alternate" href="https://x.kz/en/1.html"/>
    <link rel="enclosure" href="https://x.kz/1.mp3"/><published>2026-01-20T10:00:00Z</published></entry>
  <entry><title>Two</title><link href="https://x.kz/en/2.html"/><updated>2026-01-21T10:00:00Z</updated></entry>
</feed>"""

RDF = """<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"
         xmlns:dc="http://purl.org/dc/elements/1.1/">
  <channel rdf:about="https://x.kz/"><title>News</title></channel>
  <item rdf:about="https://x.kz/ru/1.html"><title>Один</title><link>https://x.kz/ru/1.html</link>
    <dc:date>2026-01-20</dc:date></item>
</rdf:RDF>""".encode()


def test_rss():
    entries = parse_feed(RSS)
    assert [(e.url, e.published) for e in entries] == [
        ("https://x.kz/kk/1.html", "2026-01-20T05:00:00Z"), ("https://x.kz/kk/2.html", None)]  # dates in UTC
    assert entries[0].title == "Бірінші"


def test_atom_and_rdf():
    assert [(e.url, e.published) for e in parse_feed(ATOM)] == [
        ("https://x.kz/en/1.html", "2026-01-20T10:00:00Z"), ("https://x.kz/en/2.html", "2026-01-21T10:00:00Z")]
    assert [(e.url, e.published) for e in parse_feed(RDF)] == [("https://x.kz/ru/1.html", "2026-01-20T00:00:00Z")]


def test_not_a_feed():
    with pytest.raises(FeedError):
        parse_feed(URLSET)
    with pytest.raises(FeedError):
        parse_feed(b"")
