"""Feeds (RSS 0.9x/1.0/2.0, Atom, their many dialects) through feedparser, the parser
the Python world has hardened against the web's feeds for two decades: the article links,
their titles, and their dates in one ISO 8601 form so that the newest can be fetched first.

Parsing takes bytes the crawler fetched (never a URL: feedparser would fetch it itself).
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import feedparser

from operators.news.sitemaps import SitemapError, gunzip_bounded


class FeedError(ValueError):
    pass


@dataclass(frozen=True)
class FeedEntry:
    url: str
    published: str | None = None  # ISO 8601, UTC
    title: str | None = None


def _iso(parsed: time.struct_time | None) -> str | None:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", parsed) if parsed else None


def parse_feed(data: bytes) -> list[FeedEntry]:
    """Entries of a feed, in feed order. Raises FeedError when `data` is no feed."""
    try:
        data = gunzip_bounded(data)
    except SitemapError as exc:
        raise FeedError(str(exc)) from None
    feed = feedparser.parse(data, sanitize_html=False, resolve_relative_uris=False)
    if not feed.get("version"):
        why = f": {feed.bozo_exception}" if feed.get("bozo") else ""
        raise FeedError(f"not a feed{why}"[:300])
    entries = []
    for entry in feed.entries:
        url = (entry.get("link") or "").strip()  # an Atom rel=alternate, an RSS link or permalink guid
        if url.startswith(("http://", "https://")):
            entries.append(FeedEntry(url, _iso(entry.get("published_parsed") or entry.get("updated_parsed")),
                                     entry.get("title") or None))
    return entries
