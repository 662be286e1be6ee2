"""Sitemaps (sitemaps.org): plain or gzipped XML, url sets and sitemap indexes, plain-text
sitemaps (and the RSS/Atom files some sites list as sitemaps), parsed by
ultimate-sitemap-parser (usp) from bytes the polite fetcher already got.

usp's documented local parsing (`usp.tree.sitemap_from_str`) never fetches: its web client
raises, so the children of an index come back unfetched, as URLs, and the crawler queues
them to the site's fetch actor like any other sitemap. Its expat parser refuses DOCTYPE and
ENTITY declarations (no entity expansion, no external entities).

What stays ours is what protects the crawler before usp sees anything: the gzip size cap
(`gunzip_bounded`: usp's own cap only applies to what usp fetches) and the decoding (usp
takes text; the protocol says UTF-8, some sites declare windows-1251 in the XML header).
"""
from __future__ import annotations

import codecs
import logging
import re
import zlib
from dataclasses import dataclass
from datetime import datetime, timezone

from usp.objects.sitemap import AbstractIndexSitemap, InvalidSitemap
from usp.tree import sitemap_from_str

MAX_XML_BYTES = 64 << 20  # the protocol caps a sitemap at 50 MB uncompressed
# The protocol's cap on the sitemaps one index lists. Enforced before usp sees the index:
# usp 1.8 dedups an index's children in a list, so its time grows with their square (5,000
# children 0.35 s CPU, 20,000 2.4 s, 50,000 about 15 s), and 64 MB could name a million.
MAX_INDEX_CHILDREN = 50_000
_INDEX_CHILD = re.compile(r"<(?:[A-Za-z_][\w.-]*:)?sitemap[\s/>]")

# usp logs a warning per odd URL or missing namespace and an error per unparsable file; a
# crawl reads thousands of sitemaps from the open web, and a failed one is already a parse
# error row in the fetch log (SitemapError), so only usp's worse news reaches the logs.
logging.getLogger("usp").setLevel(logging.CRITICAL)

_DECLARED_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")


class SitemapError(ValueError):
    pass


@dataclass(frozen=True)
class SitemapEntry:
    loc: str
    lastmod: str | None = None  # ISO 8601, UTC (a date alone is midnight UTC), so they sort newest first


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


def _text(data: bytes) -> str:
    """The sitemap as text: the encoding its XML header declares if Python knows it, else
    UTF-8 (a BOM dropped: usp tells XML from plain text by a leading "<")."""
    encoding = "utf-8-sig"
    if match := _DECLARED_ENCODING.match(data[:200]):
        try:
            encoding = codecs.lookup(match.group(1).decode("ascii")).name
        except LookupError:
            pass
        encoding = "utf-8-sig" if encoding == "utf-8" else encoding
    return data.decode(encoding, errors="replace")


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_sitemap(data: bytes) -> Sitemap:
    """A sitemap or sitemap index from raw (possibly gzipped) bytes.

    Google's news extension (`<news:publication_date>`, with its required `<news:title>`)
    stands in for a missing lastmod. usp keeps no lastmod for the children of an index.
    """
    text = _text(gunzip_bounded(data))
    if not text.strip():
        raise SitemapError("empty sitemap")
    # str.count first: the regex only runs on a document that might be over the cap.
    if text.count("sitemap") > MAX_INDEX_CHILDREN and sum(1 for _ in _INDEX_CHILD.finditer(text)) > MAX_INDEX_CHILDREN:
        raise SitemapError(f"sitemap index lists more than {MAX_INDEX_CHILDREN} sitemaps (the protocol's limit)")
    try:
        sitemap = sitemap_from_str(text)
        if isinstance(sitemap, InvalidSitemap):
            # usp's reason names its placeholder URL only; the cause (an HTML page, a DOCTYPE,
            # no known root element) is what usp logs.
            raise SitemapError("not a sitemap (no usp parser accepts it: HTML, DOCTYPE, unknown root, …)")
        if isinstance(sitemap, AbstractIndexSitemap):
            return Sitemap("sitemapindex", [SitemapEntry(child.url) for child in sitemap.sub_sitemaps])
        entries = []
        for page in sitemap.pages:
            lastmod = page.last_modified or (page.news_story.publish_date if page.news_story else None)
            entries.append(SitemapEntry(page.url, _iso(lastmod)))
        return Sitemap("urlset", entries)
    except SitemapError:
        raise
    except Exception as exc:  # noqa: BLE001 - a bug in usp on odd input is this sitemap's parse error
        raise SitemapError(f"usp failed: {type(exc).__name__}: {exc}"[:300]) from None
