from operators.news.crawl import item
from operators.news.frontier import Frontier
from operators.news.state import CrawlState
from operators.news.urls import SiteScope


def frontier(state=None, **kw) -> Frontier:
    return Frontier(SiteScope(["https://x.kz/"]), state or CrawlState(), kw.pop("max_pages", 10),
                    kw.pop("max_sitemaps", 2), **kw)


def test_scope_dedup_and_counts():
    f = frontier()
    for url in ("https://x.kz/a?utm_source=tg", "https://www.x.kz/a#top", "https://other.kz/a", "http://[bad",
                "javascript:void(0)", "https://x.kz/photo.JPG", "https://x.kz/b.html"):
        f.add(item(url, "page", 1))
    f.add(item("https://x.kz/a", "sitemap"))  # the same URL as a sitemap is other work
    assert [w["url"] for w in f.take("x.kz", 10)] == ["https://x.kz/a", "https://x.kz/b.html", "https://x.kz/a"]
    assert dict(f.counts) == {"skipped_offsite": 1, "bad_links.malformed": 1, "bad_links.scheme": 1,
                              "skipped_filetype": 1}


def test_limits_and_known_pages():
    state = CrawlState()
    state.record({"url": "https://x.kz/old", "kind": "page", "status": "fetched", "started": 1.0})
    f = frontier(state, max_pages=2, max_sitemaps=1)
    for url in ("https://x.kz/old", "https://x.kz/1", "https://x.kz/2", "https://x.kz/3"):
        f.add(item(url, "page", 1))
    f.add(item("https://x.kz/s1.xml", "sitemap"))
    f.add(item("https://x.kz/rss", "feed"))
    assert [w["url"] for w in f.take("x.kz", 10)] == ["https://x.kz/1", "https://x.kz/2", "https://x.kz/s1.xml"]
    assert dict(f.counts) == {"known": 1, "over_page_limit": 1, "over_sitemap_limit": 1}


def test_files_are_fetched_when_their_type_is_wanted_and_work_is_put_back():
    f = frontier(content_types=("text/html", "application/pdf"))
    f.add(item("https://x.kz/report.pdf", "page", 1))
    batch = f.take("x.kz", 5) + [item("https://x.kz/robots.txt", "robots")]
    f.put_back("x.kz", batch)
    assert [w["url"] for w in f.take("x.kz", 5)] == ["https://x.kz/report.pdf"]
