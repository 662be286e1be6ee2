"""PoliteFetcher and SiteCrawler against the real local news site, without Ray."""
from __future__ import annotations

import time

import pytest
from warcio.archiveiterator import ArchiveIterator

from operators.news.crawl import CrawlOptions, SiteCrawler, item
from operators.news.fetch import FetchSettings, PoliteFetcher
from operators.news.warc import RotatingWarcWriter
from tests.news_site import BAD_LINKS, BAD_LINKS_GOOD, SERVER_LAG, NewsSite, OffSite, gaps, idle_gaps

UA = "qazflow/0.1 (+tests)"


@pytest.fixture(scope="module")
def site():
    off = OffSite().start()
    news = NewsSite(off.url, crawl_delay=0.1, hang_seconds=3.0).start()
    yield news
    news.stop()
    off.stop()


def settings(**kw) -> FetchSettings:
    base = dict(user_agent=UA, interval=0.02, concurrency=2, connect_timeout=1.0, read_timeout=1.0,
                total_timeout=1.5, max_bytes=1 << 20, retries=1, backoff=0.05, backoff_max=2.0)
    return FetchSettings(**{**base, **kw})


def test_total_deadline_cuts_a_trickling_server(site):
    fetcher = PoliteFetcher(settings(retries=0))
    started = time.monotonic()
    result = fetcher.fetch(f"{site.url}/trickle.html")
    assert result.status == "error" and result.error == "timeout"
    assert "deadline" in result.detail
    assert time.monotonic() - started < 30.0  # the trickle lasts 200 s; generous for a loaded machine


def test_hanging_server_times_out_and_is_retried(site):
    fetcher = PoliteFetcher(settings(retries=1))
    result = fetcher.fetch(f"{site.url}/slow.html")
    assert (result.status, result.error, result.attempts) == ("error", "timeout", 2)


def test_429_retry_after_is_honoured(site):
    fetcher = PoliteFetcher(settings(retries=2, backoff=0.01))
    before = len(site.requests)
    result = fetcher.fetch(f"{site.url}/busy.html")
    assert result.status == "fetched" and result.attempts == 2
    busy = [r["t"] for r in site.requests[before:] if r["path"] == "/busy.html"]
    assert busy[1] - busy[0] >= 0.95  # Retry-After: 1, longer than the backoff


def test_gzip_content_encoding_is_decoded(site):
    result = PoliteFetcher(settings()).fetch(f"{site.url}/gzipped.html")
    assert result.status == "fetched" and "Қазақстан".encode() in result.body


def test_redirects(site):
    fetcher = PoliteFetcher(settings(max_redirects=3))
    moved = fetcher.fetch(f"{site.url}/moved.html")
    assert moved.status == "fetched" and moved.final_url == f"{site.url}/en/mit-survey.html"
    away = fetcher.fetch(f"{site.url}/moved-away.html")
    assert away.status == "redirected" and away.redirect_to.endswith("/elsewhere.html")
    chain = fetcher.fetch(f"{site.url}/chain/0")
    assert chain.error == "too_many_redirects"
    loop = fetcher.fetch(f"{site.url}/loop/a.html")
    assert loop.error == "redirect_loop" and "->" in loop.detail


def test_robots_and_crawl_delay(site):
    fetcher = PoliteFetcher(settings(interval=0.01))
    assert fetcher.fetch(f"{site.url}/private/secret.html").status == "skipped_robots"
    assert fetcher.fetch(f"{site.url}/private/open.html").status == "fetched"
    assert fetcher.interval_for(fetcher.robots_for(site.url + "/")) == pytest.approx(0.1)
    too_slow = PoliteFetcher(settings(max_crawl_delay=0.05)).fetch(f"{site.url}/en/mit-survey.html")
    assert too_slow.status == "skipped_robots" and "Crawl-delay" in too_slow.detail


def test_site_crawler_discovers_and_captures(site, tmp_path):
    writer = RotatingWarcWriter("site", str(tmp_path / "staging"), str(tmp_path), max_bytes=20_000)
    crawler = SiteCrawler("site", settings(interval=0.05), writer, CrawlOptions(max_depth=1))
    before = len(site.requests)
    results = crawler.crawl([item(f"{site.url}/", "seed"), item(f"{site.url}/sitemap_index.xml", "sitemap"),
                             item(f"{site.url}/en/mit-survey.html", "page", 1)])
    files = crawler.close()
    logs = {r["log"]["kind"]: r for r in results}
    assert set(logs) == {"seed", "sitemap", "page", "robots"}
    assert any(f["kind"] == "feed" and f["url"].endswith("/rss.xml") for f in logs["seed"]["found"])
    assert any(f["url"].endswith("/stolen.html") for f in logs["seed"]["found"])  # scope is the driver's job
    assert logs["sitemap"]["found"][0]["kind"] == "sitemap"  # an index → its sitemaps
    assert logs["robots"]["found"] == [item(f"{site.url}/sitemap_index.xml", "sitemap")]
    assert logs["page"]["found"] == []  # depth 1 = max_depth: links not followed
    assert logs["page"]["log"]["canonical_link"] == f"{site.url}/en/mit-survey.html"
    # Crawl-delay 0.1 from the end of each response to the next arrival, as the server sees it.
    assert min(idle_gaps(site.requests[before:])) >= 0.1 - SERVER_LAG
    assert min(gaps(site.requests[before:])) >= 0.1 - SERVER_LAG
    records = 0
    for path in files:
        with open(path, "rb") as stream:
            records += sum(r.rec_type == "response" for r in ArchiveIterator(stream, check_digests=True))
    assert records == 4 and len(files) >= 1


def test_site_crawler_counts_bad_links(site, tmp_path):
    writer = RotatingWarcWriter("site", str(tmp_path / "staging"), str(tmp_path))
    crawler = SiteCrawler("site", settings(), writer, CrawlOptions(max_depth=1))
    results = crawler.crawl([item(f"{site.url}/bad-links.html", "seed")])
    crawler.close()
    seed = next(r for r in results if r["log"]["kind"] == "seed")
    assert seed["log"]["status"] == "fetched" and seed["log"]["bad_links"] == sum(BAD_LINKS.values())
    assert seed["counts"] == {f"bad_links.{reason}": n for reason, n in BAD_LINKS.items()}
    assert [f["url"] for f in seed["found"]] == [site.url + path for path in BAD_LINKS_GOOD]


def test_a_slow_response_does_not_shorten_the_pause(site):
    """Crawl-delay counts from the end of a response: a page that takes 0.4 s to trickle
    in is still followed by the full pause (spacing request starts would give none)."""
    fetcher = PoliteFetcher(settings(interval=0.3, total_timeout=5.0, read_timeout=2.0))
    before = len(site.requests)
    for path in ("/kk/ai-damuy.html", "/trickle-short.html", "/ru/razvitie-ii.html"):
        fetcher.fetch(site.url + path)
    requests = site.requests[before:]
    assert len(requests) == 4  # robots.txt and the three pages
    assert min(idle_gaps(requests)) >= 0.3 - SERVER_LAG
