"""Which discovered URLs a crawl run fetches, per site: canonical, in scope, not seen in
this run or settled in an earlier one, not obviously a file that is no page, and within
the per-site limits. Every URL turned away is counted by why, none silently dropped.

The flow's driver keeps one `Frontier` and hands each site's fetcher a batch at a time.
"""
from __future__ import annotations

from collections import Counter, defaultdict, deque
from urllib.parse import urlsplit

from courlan.filters import extension_filter

from operators.news.html import HTML_TYPES
from operators.news.state import CrawlState
from operators.news.urls import SiteScope, resolve, site_of, url_key

DISCOVERY = ("sitemap", "feed", "robots")


class Frontier:
    def __init__(self, scope: SiteScope, state: CrawlState, max_pages: int, max_sitemaps: int,
                 content_types: tuple[str, ...] = HTML_TYPES):
        self.scope, self.state = scope, state
        self.max_pages, self.max_sitemaps = max_pages, max_sitemaps
        # A link to photo.jpg or report.pdf would cost a request only to be refused for its
        # content type; courlan's extension list decides, unless non-HTML types are wanted.
        self.skip_files = set(content_types) <= set(HTML_TYPES)
        self.queues: dict[str, deque] = defaultdict(deque)
        self.seen: set[str] = set()
        self.pages: Counter = Counter()
        self.documents: Counter = Counter()  # sitemaps and feeds per site
        self.counts: Counter = Counter()

    def add(self, work: dict) -> None:
        url, reason = resolve(work["url"])
        if url is None:  # a sitemap or feed entry, or a redirect, that is no fetchable URL
            self.counts[f"bad_links.{reason}"] += 1
            return
        if not self.scope.allows(url):
            self.counts["skipped_offsite"] += 1
            return
        kind = work["kind"]
        key = f"{kind if kind in DISCOVERY else 'page'} {url_key(url)}"
        if key in self.seen:
            return
        self.seen.add(key)
        site = site_of(url)
        if kind == "page":
            if self.state.known(url):
                self.counts["known"] += 1
                return
            if self.skip_files and not extension_filter(urlsplit(url).path.lower()):
                self.counts["skipped_filetype"] += 1
                return
            if self.pages[site] >= self.max_pages:
                self.counts["over_page_limit"] += 1
                return
            self.pages[site] += 1
        elif kind in ("sitemap", "feed"):
            if self.documents[site] >= self.max_sitemaps:
                self.counts["over_sitemap_limit"] += 1
                return
            self.documents[site] += 1
        self.queues[site].append({**work, "url": url})

    def take(self, site: str, n: int) -> list[dict]:
        queue = self.queues[site]
        return [queue.popleft() for _ in range(min(n, len(queue)))]

    def put_back(self, site: str, items: list[dict]) -> None:
        """Work a dead fetcher did not finish goes first in line again (robots.txt is read
        again by the new fetcher on its own)."""
        self.queues[site].extendleft(reversed([w for w in items if w["kind"] != "robots"]))
