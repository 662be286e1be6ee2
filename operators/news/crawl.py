"""One site's crawl work: fetch a batch of URLs politely, capture them in WARC, and say
what they lead to (sitemap entries, feed items, links).

A `SiteCrawler` holds everything per site that must not be shared (robots cache, rate
limiter, WARC writer). The flow keeps exactly one per site in the cluster and decides
which discovered URLs to fetch next (scope, dedup, limits); this class only fetches.
"""
from __future__ import annotations

import hashlib
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from operators.news.feeds import FeedError, parse_feed
from operators.news.fetch import Exchange, FetchResult, FetchSettings, PoliteFetcher
from operators.news.html import HTML_TYPES, decode_html, media_type, page_links
from operators.news.sitemaps import SitemapError, parse_sitemap
from operators.news.urls import site_of
from operators.news.warc import RotatingWarcWriter

# What a URL is fetched as: discovery resources are re-read every run; pages once.
KINDS = ("robots", "sitemap", "feed", "seed", "page")


@dataclass(frozen=True)
class CrawlOptions:
    follow_links: bool = True  # bounded same-site crawl from seed pages
    max_depth: int = 2  # link hops from a seed
    robots_sitemaps: bool = True  # read sitemaps named in robots.txt
    feed_autodiscovery: bool = True  # read feeds linked from seed pages


def item(url: str, kind: str, depth: int = 0, hint: str | None = None) -> dict:
    """A unit of crawl work: a URL, why it is fetched, how deep, and a date hint if known."""
    return {"url": url, "kind": kind, "depth": depth, "hint": hint}


def log_row(work: dict, site: str, result: FetchResult) -> dict:
    return {
        "url": work["url"], "site": site, "kind": work["kind"], "depth": work["depth"], "hint": work.get("hint"),
        "status": result.status, "error": result.error, "detail": result.detail, "http_status": result.http_status,
        "final_url": result.final_url, "redirect_to": result.redirect_to, "content_type": result.content_type,
        "n_bytes": len(result.body) if result.body is not None else None, "attempts": result.attempts,
        "started": result.started, "seconds": result.seconds,
        "warc_file": result.warc.get("warc_file"), "warc_offset": result.warc.get("warc_offset"),
        "warc_record_id": result.warc.get("warc_record_id"),
        "content_hash": hashlib.sha1(result.body).hexdigest() if result.body is not None else None,
        "canonical_link": None, "bad_links": 0,
    }


class SiteCrawler:
    def __init__(self, site: str, settings: FetchSettings, writer: RotatingWarcWriter,
                 options: CrawlOptions = CrawlOptions()):
        self.site = site
        self.settings = settings
        self.options = options
        self.writer = writer
        self.fetcher = PoliteFetcher(settings, on_exchange=self._capture)

    def _capture(self, exchange: Exchange, kind: str) -> dict:
        return self.writer.write(exchange, kind)

    def crawl(self, items: list[dict]) -> list[dict]:
        """Fetches `items` (at most `concurrency` at a time); one result per item, plus one
        per robots.txt read on the way: {"log": fetch-log row, "found": [items], "counts":
        {bad_links.REASON: n, discovery_failed: n}}."""
        with ThreadPoolExecutor(max_workers=max(1, self.settings.concurrency)) as pool:
            results = list(pool.map(self._one, items))
        robots, self.fetcher.robots_results[:] = list(self.fetcher.robots_results), []
        for result in robots:
            found = []
            if self.options.robots_sitemaps:
                rules = self.fetcher.robots_for(result.url)
                found = [item(u, "sitemap") for u in rules.sitemaps]
            results.append({"log": log_row(item(result.url, "robots"), self.site, result), "found": found,
                            "counts": {}})
        return results

    def close(self) -> list[str]:
        return self.writer.close()

    def _one(self, work: dict) -> dict:
        kind, url = work["kind"], work["url"]
        accept = () if kind in ("page", "seed") else None
        try:
            result = self.fetcher.fetch(url, kind=kind, accept=accept)
        except Exception as exc:  # a bug or an odd server must cost one URL, not the crawl
            result = FetchResult(url, "error", error="internal", detail=f"{type(exc).__name__}: {exc}")
        row = log_row(work, self.site, result)
        found, counts = [], Counter()
        if result.status == "redirected" and result.redirect_to:
            found.append({**work, "url": result.redirect_to})
        elif result.status == "fetched":
            try:
                found = self._discover(work, result, row, counts)
            except (SitemapError, FeedError) as exc:
                row.update(status="error", error="parse", detail=str(exc))
            except Exception as exc:  # noqa: BLE001 - one page's links must never stop the crawl
                # The page itself was fetched and is in the WARC (extraction still reads it);
                # only what it links to is lost, and that is counted.
                counts["discovery_failed"] += 1
                row["detail"] = f"link discovery failed: {type(exc).__name__}: {exc}"[:500]
        result.body = None
        return {"log": row, "found": found, "counts": dict(counts)}

    def _discover(self, work: dict, result: FetchResult, row: dict, counts: Counter) -> list[dict]:
        kind, depth = work["kind"], work["depth"]
        if kind == "sitemap":
            sitemap = parse_sitemap(result.body)
            if sitemap.is_index:
                return [item(e.loc, "sitemap", depth, e.lastmod) for e in sitemap.entries]
            # Newest first, so a page limit keeps the latest articles.
            entries = sorted(sitemap.entries, key=lambda e: e.lastmod or "", reverse=True)
            return [item(e.loc, "page", 1, e.lastmod) for e in entries]
        if kind == "feed":
            return [item(e.url, "page", 1, e.published) for e in parse_feed(result.body)]
        if kind in ("seed", "page") and media_type(result.content_type) in HTML_TYPES:
            html, _ = decode_html(result.body, result.content_type)
            base = result.final_url or work["url"]
            links = page_links(html, base)
            row["bad_links"] = sum(links.bad.values())
            counts.update({f"bad_links.{reason}": n for reason, n in links.bad.items()})
            if links.canonical and site_of(links.canonical) == site_of(base):
                row["canonical_link"] = links.canonical
            found = []
            if self.options.follow_links and depth < self.options.max_depth:
                found += [item(link, "page", depth + 1) for link in links.links]
            if kind == "seed" and self.options.feed_autodiscovery:
                found += [item(feed, "feed", depth) for feed in links.feeds]
            return found
        return []
