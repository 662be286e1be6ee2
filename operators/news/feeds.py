"""RSS 2.0, RSS 1.0 (RDF) and Atom feeds: the article links and their dates."""
from __future__ import annotations

from dataclasses import dataclass

from operators.news.sitemaps import SitemapError, gunzip_bounded, local, parse_xml


class FeedError(ValueError):
    pass


@dataclass(frozen=True)
class FeedEntry:
    url: str
    published: str | None = None
    title: str | None = None


def _text(element, *names: str) -> str | None:
    for name in names:
        for child in element:
            if local(child.tag) == name and child.text and child.text.strip():
                return child.text.strip()
    return None


def _atom_link(entry) -> str | None:
    links = [c for c in entry if local(c.tag) == "link" and c.get("href")]
    for link in links:  # rel="alternate" (the default) is the article itself
        if link.get("rel", "alternate") == "alternate":
            return link.get("href").strip()
    return links[0].get("href").strip() if links else None


def parse_feed(data: bytes) -> list[FeedEntry]:
    """Entries of a feed, in feed order. Raises FeedError when `data` is no feed."""
    try:
        root = parse_xml(gunzip_bounded(data))
    except SitemapError as exc:
        raise FeedError(str(exc)) from None
    kind = local(root.tag)
    entries = []
    if kind == "feed":  # Atom
        for entry in root:
            if local(entry.tag) == "entry" and (url := _atom_link(entry)):
                entries.append(FeedEntry(url, _text(entry, "published", "updated"), _text(entry, "title")))
    elif kind in ("rss", "rdf"):
        items = root.iter() if kind == "rdf" else (i for ch in root if local(ch.tag) == "channel" for i in ch)
        for item in items:
            if local(item.tag) != "item":
                continue
            url = _text(item, "link") or (item.get("{http://www.w3.org/1999/02/22-rdf-syntax-ns#}about") or None)
            if url is None:  # <guid isPermaLink="true"> may be the only link
                guid = next((c for c in item if local(c.tag) == "guid"), None)
                if guid is not None and guid.get("isPermaLink", "true") == "true" and (guid.text or "").startswith("http"):
                    url = guid.text.strip()
            if url:
                entries.append(FeedEntry(url, _text(item, "pubdate", "date", "published"), _text(item, "title")))
    else:
        raise FeedError(f"not a feed: root element <{kind}>")
    return entries
