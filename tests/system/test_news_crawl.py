"""The news flow end to end against real HTTP servers on 127.0.0.1: discovery, polite
fetching on Ray, WARC capture, extraction, incremental re-crawl, and WARC-only input."""
from __future__ import annotations

import json
import os
from urllib.parse import urlsplit

import pyarrow.parquet as pq
import pytest
from warcio.archiveiterator import ArchiveIterator

from flows.config import load_config
from flows.news import news_dir, news_documents
from flows.storage import Storage
from operators.news.warc import read_warc_response
from tests.news_site import (ARTICLES, BAD_LINKS, BAD_LINKS_GOOD, COMMENT_TEXT, EXPECTED_DOCUMENTS, EXPECTED_ERRORS,
                             FOOTER_TEXT, HUB_PAGES, NAV_TEXT, NEVER_FETCHED, SERVER_LAG, NewsSite, OffSite, gaps,
                             idle_gaps)

CRAWL_DELAY = 0.2  # from the site's robots.txt; longer than news.interval, so it must win
# The pause is measured on one clock (CLOCK_MONOTONIC is system-wide), from the server's
# note of a response's end to its note of the next request; the server may note the end a
# little late on a loaded machine (tests.news_site.SERVER_LAG).
MAX_BYTES = 1 << 20


def crawl_config(output, site, **extra):
    overrides = {
        "output": str(output),
        "inputs.news.seeds": f"[{site.url}/]",
        "news.feeds": f"[{site.url}/rss.xml]",  # also linked from the home page: read once
        "news.interval": 0.05, "news.concurrency": 2,
        "news.connect_timeout": 1.0, "news.read_timeout": 1.0, "news.total_timeout": 2.0,
        "news.max_bytes": MAX_BYTES, "news.retries": 1, "news.backoff": 0.05,
        "news.crawl.max_depth": 2, "news.fetch_actors": 2,
        "news.user_agent": "'qazflow/0.1 (+tests; contact: test@example.org)'",
        **extra,
    }
    return load_config([f"{k}={v}" for k, v in overrides.items()])


def small_crawl_config(output, site, **extra):
    """The seed page and the pages it links to (kk, ru, tech section; one robots skip)."""
    return crawl_config(output, site, **{
        "news.feeds": "[]", "news.robots_sitemaps": "false", "news.feed_autodiscovery": "false",
        "news.crawl.max_depth": 1, "news.interval": 0.01, **extra})


SMALL_CRAWL_KEPT = ["/kk/ai-damuy.html", "/ru/razvitie-ii.html", "/section/tech.html"]


def rows(dataset) -> list[dict]:
    return sorted(dataset.take_all(), key=lambda r: (r["url"] or "", r["doc_id"]))


@pytest.fixture(scope="module")
def servers():
    off = OffSite().start()
    site = NewsSite(off.url, crawl_delay=CRAWL_DELAY, hang_seconds=4.0).start()
    yield site, off
    site.stop()
    off.stop()


@pytest.fixture(scope="module")
def first_run(ray_session, servers, tmp_path_factory):
    site, off = servers
    output = tmp_path_factory.mktemp("news")
    cfg = crawl_config(output, site)
    stats = {}
    docs = rows(news_documents(cfg, Storage(), stats))
    return {"cfg": cfg, "docs": docs, "stats": stats, "requests": list(site.requests), "output": output}


def path_of(url: str) -> str:
    return urlsplit(url).path


def test_no_disallowed_or_offsite_or_too_deep_fetch(first_run, servers):
    site, off = servers
    paths = [r["path"].split("?")[0] for r in first_run["requests"]]
    assert off.requests == [], "an off-site URL was fetched"
    for path in NEVER_FETCHED:
        assert path not in paths
    assert paths.count("/robots.txt") == 1, "robots.txt is cached per host"
    assert paths.count("/rss.xml") == 1 and paths.count("/kk/ai-damuy.html") == 1, "canonical dedup"
    assert paths.count("/en/mit-survey.html") == 1
    assert all(r["user_agent"].startswith("qazflow/0.1") for r in first_run["requests"])


def test_crawl_delay_held_between_requests(first_run):
    """What the server experiences: after each response, a pause of at least Crawl-delay
    before the next request arrives (and so starts are at least that far apart too)."""
    requests = first_run["requests"]
    assert len(requests) >= 15
    pauses = idle_gaps(requests)
    assert len(pauses) >= 12 and min(pauses) >= CRAWL_DELAY - SERVER_LAG, sorted(pauses)[:3]
    assert min(gaps(requests)) >= CRAWL_DELAY - SERVER_LAG


def test_bad_links_are_counted_and_the_crawl_goes_on(ray_session, servers, tmp_path):
    """A page full of hrefs that made urljoin raise on a real site (`http://[ccpa-preferences]`,
    a broken <base>, bad ports, control characters): the crawl completes, fetches the
    good links and counts the bad ones by reason."""
    site, off = servers
    cfg = small_crawl_config(tmp_path, site, **{"inputs.news.seeds": f"[{site.url}/bad-links.html]"})
    stats = {}
    docs = rows(news_documents(cfg, Storage(), stats))
    fetch = stats["fetch"]
    assert fetch["bad_links"] == sum(BAD_LINKS.values()) and fetch["bad_links_by_reason"] == BAD_LINKS
    assert fetch["discovery_failed"] == 0 and fetch["errors"] == {}
    kept = {path_of(d["url"]) for d in docs if d["reason"] is None}
    assert set(BAD_LINKS_GOOD) <= kept
    assert off.requests == []


def test_big_page_not_read_to_the_end(first_run, servers):
    site, _ = servers
    assert site.sent.get("/big.html", 0) < 40 * 1024 * 1024


def test_documents_extracted_without_boilerplate(first_run, servers):
    site, _ = servers
    kept = {path_of(d["url"]): d for d in first_run["docs"] if d["reason"] is None}
    assert sorted(kept) == sorted(EXPECTED_DOCUMENTS + HUB_PAGES)
    for path in EXPECTED_DOCUMENTS:
        doc, article = kept[path], ARTICLES[path]
        assert doc["source"] == "news" and doc["source_id"] == doc["uri"] == doc["url"]
        assert doc["domain"] == f"127.0.0.1:{site.port}"
        assert article.title in doc["title"]
        assert doc["published"] == article.published
        assert doc["lang_hint"] == article.lang
        assert article.author in (doc["author"] or "")
        for paragraph in article.paragraphs:
            assert paragraph[:60] in doc["text"], (path, doc["text"][:300])
        for junk in (NAV_TEXT, FOOTER_TEXT, COMMENT_TEXT):
            assert junk not in doc["text"]
        assert doc["n_chars"] == len(doc["text"])
    assert "почетный академик" in kept["/ru/cp1251.html"]["text"]  # cp1251 decoded by its header


def test_errors_recorded_with_reasons(first_run):
    rejected = {path_of(d["url"]): d for d in first_run["docs"] if d["reason"] is not None}
    assert set(rejected) == set(EXPECTED_ERRORS)
    for path, words in EXPECTED_ERRORS.items():
        assert rejected[path]["reason"] == "NewsFetch"
        assert words in rejected[path]["detail"], (path, rejected[path]["detail"])
    fetch = first_run["stats"]["fetch"]
    assert fetch["fetched"] == len(EXPECTED_DOCUMENTS + HUB_PAGES)
    assert fetch["skipped_robots"] == 1
    assert fetch["errors"] == {"body_too_large": 1, "content_type": 1, "http_404": 1, "http_500": 1,
                               "redirect_loop": 1, "timeout": 1}
    assert fetch["skipped_offsite"] >= 3
    assert fetch["skipped_filetype"] == 1  # /docs/report.pdf, never requested
    assert fetch["bad_links"] == 2 and fetch["bad_links_by_reason"] == {"scheme": 2}  # mailto:, javascript:
    log = pq.read_table(news_dir(first_run["cfg"], "fetch_log")).to_pylist()
    assert {r["status"] for r in log} >= {"fetched", "skipped_robots", "error"}
    saved = json.loads(open(os.path.join(news_dir(first_run["cfg"], "state"), "last_crawl.json")).read())
    assert saved["errors"] == fetch["errors"]


def test_warc_files_valid_and_documents_point_into_them(first_run):
    files = first_run["stats"]["warc_files"]
    assert files and all(os.path.basename(f).endswith(".warc.gz") for f in files)
    types = []
    for path in files:
        with open(path, "rb") as stream:
            for record in ArchiveIterator(stream, check_digests=True):
                assert record.rec_headers.protocol == "WARC/1.1"
                record.content_stream().read()
                types.append(record.rec_type)
    assert types.count("request") == types.count("response") >= 15
    for doc in first_run["docs"]:
        if doc["reason"] is None:
            with open(doc["warc_file"], "rb") as stream:
                record = read_warc_response(stream, doc["warc_offset"])
            assert record["warc_record_id"] == doc["warc_record_id"] and record["url"] == doc["url"]


def test_extraction_from_warc_alone_reproduces_documents(first_run, servers, tmp_path):
    site, _ = servers
    before = len(site.requests)
    cfg = load_config([f"output={tmp_path}", f"inputs.warc=[{news_dir(first_run['cfg'], 'warc')}]"])
    docs = rows(news_documents(cfg, Storage()))
    assert len(site.requests) == before, "reading WARC files fetches nothing"
    columns = ("doc_id", "url", "title", "text", "published", "author", "warc_file", "warc_offset",
               "warc_record_id", "reason")
    crawled = [{k: d[k] for k in columns} for d in first_run["docs"] if d["reason"] != "NewsFetch"]
    assert [{k: d[k] for k in columns} for d in docs] == crawled


def test_second_run_fetches_nothing_new(first_run, servers):
    site, _ = servers
    before = len(site.requests)
    stats = {}
    docs = rows(news_documents(first_run["cfg"], Storage(), stats))
    again = [r["path"].split("?")[0] for r in site.requests[before:]]
    # Only discovery resources are read again (to find new articles); no page twice.
    assert set(again) <= {"/robots.txt", "/", "/sitemap_index.xml", "/sitemaps/news.xml.gz", "/rss.xml"}
    assert stats["fetch"]["fetched"] == 0 and stats["fetch"]["errors"] == {}
    assert stats["fetch"]["known"] >= len(EXPECTED_DOCUMENTS)
    keys = ("doc_id", "text", "reason", "detail", "warc_file", "warc_offset")
    assert [{k: d[k] for k in keys} for d in docs] == [{k: d[k] for k in keys} for d in first_run["docs"]]


def test_a_fetcher_dying_mid_crawl_loses_and_duplicates_nothing(ray_session, tmp_path):
    """Kill the only fetch actor halfway: a new one takes over; every page ends up in the
    output exactly once, as in an uninterrupted run."""
    import threading
    import time

    import ray

    off = OffSite().start()
    site = NewsSite(off.url, crawl_delay=0.3).start()  # 5 requests: time to kill after the 3rd
    killed = []

    def kill_when_busy():
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and len(site.requests) < 3:
            time.sleep(0.01)
        for actor in ray.util.list_named_actors(all_namespaces=True):
            if actor["name"].startswith("qazflow-news-fetcher-"):
                ray.kill(ray.get_actor(actor["name"], namespace=actor["namespace"]), no_restart=True)
                killed.append(actor["name"])

    try:
        killer = threading.Thread(target=kill_when_busy, daemon=True)
        killer.start()
        cfg = small_crawl_config(tmp_path, site, **{"news.fetch_actors": 1})
        stats = {}
        docs = rows(news_documents(cfg, Storage(), stats))
        killer.join()
    finally:
        site.stop()
        off.stop()
    assert killed and stats["fetch"]["fetcher_restarts"] >= 1, "the fetcher was not killed mid-crawl"
    assert sorted(path_of(d["url"]) for d in docs if d["reason"] is None) == SMALL_CRAWL_KEPT
    assert [path_of(d["url"]) for d in docs if d["reason"]] == ["/private/secret.html"]
    assert len({d["doc_id"] for d in docs}) == len(docs)
    responses = []
    for path in stats["warc_files"]:
        with open(path, "rb") as stream:
            responses += [r.rec_headers.get_header("WARC-Target-URI") for r in ArchiveIterator(stream)
                          if r.rec_type == "response" and r.http_headers.get_statuscode() == "200"
                          and r.rec_headers.get_header("Qazflow-Kind") == "page"]
    assert len(responses) == len(set(responses)) == len(SMALL_CRAWL_KEPT), "a page captured twice"


def test_rerun_after_a_crash_before_the_state_was_saved(first_run, servers, tmp_path):
    """Crash after WARC files were published but before the state was written, with a
    half-written WARC left behind: the rerun indexes the finished files instead of
    fetching their pages again, and drops the half-written one."""
    import shutil

    site, _ = servers
    output = tmp_path / "out"
    shutil.copytree(first_run["output"], output)
    shutil.rmtree(output / "news" / "state")
    stale = output / "news" / "warc" / "127.0.0.1_1-00000.warc.gz.open"
    stale.write_bytes(b"half a record")
    cfg = crawl_config(output, site, **{"news.retries": 0})
    before = len(site.requests)
    docs = rows(news_documents(cfg, Storage()))
    refetched = {r["path"].split("?")[0] for r in site.requests[before:]}
    assert not refetched & set(EXPECTED_DOCUMENTS + HUB_PAGES)
    assert not stale.exists()
    kept = sorted((path_of(d["url"]), d["text"]) for d in docs if d["reason"] is None)
    assert kept == sorted((path_of(d["url"]), d["text"]) for d in first_run["docs"] if d["reason"] is None)
