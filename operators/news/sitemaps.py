"""Sitemaps (sitemaps.org): plain or gzipped XML, url sets and sitemap indexes.

Parsing takes bytes, so it is tested without a server; fetching is the crawler's job.
"""
from __future__ import annotations

import zlib
from dataclasses import dataclass

from lxml import etree

MAX_XML_BYTES = 64 << 20  # the protocol caps a sitemap at 50 MB uncompressed


class SitemapError(ValueError):
    pass


@dataclass(frozen=True)
class SitemapEntry:
    loc: str
    lastmod: str | None = None


@dataclass
class Sitemap:
    kind: str  # "urlset" | "sitemapindex"
    entries: list[SitemapEntry]

    @property
    def is_index(self) -> bool:
        return self.kind == "sitemapindex"


def gunzip_bounded(data: bytes, limit: int = MAX_XML_BYTES) -> bytes:
    """Gunzip `data` if it is gzip, refusing to inflate past `limit` (a gzip bomb)."""
    if data[:2] != b"\x1f\x8b":
        return data
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(data, limit + 1)
    except zlib.error as exc:
        raise SitemapError(f"bad gzip data: {exc}") from None
    if len(out) > limit:
        raise SitemapError(f"gzip content larger than {limit} bytes")
    return out


def parse_xml(data: bytes) -> etree._Element:
    """A forgiving, safe XML parse: no entities resolved, no network, broken markup recovered."""
    parser = etree.XMLParser(recover=True, resolve_entities=False, no_network=True, huge_tree=False)
    try:
        root = etree.fromstring(data.strip() or b"<empty/>", parser=parser)
    except etree.XMLSyntaxError as exc:
        raise SitemapError(f"not XML: {exc}") from None
    if root is None:
        raise SitemapError("not XML")
    return root


def local(tag) -> str:
    return etree.QName(tag).localname.lower() if isinstance(tag, str) else ""


def _child_text(element, name: str) -> str | None:
    for child in element:
        if local(child.tag) == name and child.text and child.text.strip():
            return child.text.strip()
    return None


def parse_sitemap(data: bytes) -> Sitemap:
    """A sitemap or sitemap index from raw (possibly gzipped) bytes.

    Google's news extension (`<news:publication_date>`) stands in for a missing lastmod.
    A plain-text sitemap (one URL per line, also allowed by the protocol) is read too.
    """
    data = gunzip_bounded(data)
    head = data.lstrip()[:1]
    if head and head != b"<":
        urls = [line.strip() for line in data.decode("utf-8", errors="replace").splitlines()]
        return Sitemap("urlset", [SitemapEntry(u) for u in urls if u.startswith(("http://", "https://"))])
    root = parse_xml(data)
    kind = local(root.tag)
    if kind not in ("urlset", "sitemapindex"):
        raise SitemapError(f"not a sitemap: root element <{kind}>")
    item = "url" if kind == "urlset" else "sitemap"
    entries = []
    for element in root:
        if local(element.tag) != item:
            continue
        loc = _child_text(element, "loc")
        if not loc:
            continue
        lastmod = _child_text(element, "lastmod")
        if lastmod is None:
            for child in element:
                if local(child.tag) == "news":
                    lastmod = _child_text(child, "publication_date")
        entries.append(SitemapEntry(loc, lastmod))
    return Sitemap(kind, entries)
