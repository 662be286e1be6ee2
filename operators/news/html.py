"""HTML helpers shared by crawling and extraction: decoding bytes, and what a page links to."""
from __future__ import annotations

import codecs
import re
from collections import Counter
from dataclasses import dataclass, field

import lxml.html
from lxml import etree

from operators.news.urls import canonicalize, resolve

HTML_TYPES = ("text/html", "application/xhtml+xml")
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)


def media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def charset_of(content_type: str | None) -> str | None:
    match = re.search(r"charset\s*=\s*[\"']?([A-Za-z0-9_.:-]+)", content_type or "", re.IGNORECASE)
    return match.group(1) if match else None


def _known(encoding: str | None) -> str | None:
    if not encoding:
        return None
    try:
        return codecs.lookup(encoding).name
    except LookupError:
        return None


def decode_html(body: bytes, content_type: str | None = None) -> tuple[str, str]:
    """(text, encoding used): the BOM, then the HTTP charset, then <meta charset>, then
    UTF-8 if it decodes, then a statistical guess (charset_normalizer).

    A cp1251 page served with a proper header must never come out as mojibake.
    """
    for bom, name in ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):
        if body.startswith(bom):
            return body.decode(name, errors="replace").lstrip("\ufeff"), name
    meta = _META_CHARSET.search(body[:4096])
    for candidate in (charset_of(content_type), meta and meta.group(1).decode("ascii", "ignore")):
        if name := _known(candidate):
            return body.decode(name, errors="replace"), name
    try:
        return body.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        from charset_normalizer import from_bytes

        best = from_bytes(body[:200_000]).best()
        if best is not None and (name := _known(best.encoding)):
            return body.decode(name, errors="replace"), name
    except ImportError:  # a trafilatura dependency; without it fall through
        pass
    return body.decode("utf-8", errors="replace"), "utf-8"


_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>", re.IGNORECASE)


def parse_html(html: str):
    """An lxml tree of decoded HTML, or None when there is nothing to parse.

    An XHTML page's `<?xml ... encoding=...?>` declaration is dropped first: lxml refuses
    a declared encoding on text that is already decoded.
    """
    try:
        return lxml.html.document_fromstring(_XML_DECLARATION.sub("", html, count=1))
    except (etree.ParserError, ValueError):
        return None


@dataclass
class PageLinks:
    links: list[str] = field(default_factory=list)  # <a href>, canonical, resolved against the page (or <base>)
    canonical: str | None = None  # <link rel=canonical>
    feeds: list[str] = field(default_factory=list)  # <link rel=alternate type=rss/atom>
    lang: str | None = None  # <html lang>
    bad: Counter = field(default_factory=Counter)  # hrefs that give no fetchable URL, by reason


def page_links(html: str, url: str) -> PageLinks:
    """What a fetched page points to, as canonical URLs; never raises on bad markup or
    bad links (a bad href is counted in `bad` and left out)."""
    out = PageLinks()
    tree = parse_html(html)
    if tree is None:
        return out
    base = tree.find(".//base[@href]")
    # A broken <base href> (e.g. "http://[") is ignored, as browsers do: links resolve against the page.
    base_url = (canonicalize(base.get("href"), url) if base is not None else None) or url

    def add(href: str, into: list | None) -> str | None:
        link, reason = resolve(href, base_url)
        if link is None:
            out.bad[reason] += 1
        elif into is not None:
            into.append(link)
        return link

    for a in tree.iterfind(".//a[@href]"):
        href = a.get("href", "")
        if href.strip() and "nofollow" not in (a.get("rel") or "").lower():
            add(href, out.links)
    for link in tree.iterfind(".//link[@href]"):
        rel = (link.get("rel") or "").lower().split()
        if "canonical" in rel and out.canonical is None:
            out.canonical = add(link.get("href"), None)
        elif "alternate" in rel and (link.get("type") or "").lower() in ("application/rss+xml", "application/atom+xml"):
            add(link.get("href"), out.feeds)
    out.lang = html_lang(tree)
    return out


def html_lang(tree) -> str | None:
    """The page's declared language: <html lang>, else og:locale / content-language meta."""
    lang = tree.get("lang") or tree.get("{http://www.w3.org/XML/1998/namespace}lang")
    if not lang:
        for meta in tree.iterfind(".//meta[@content]"):
            key = (meta.get("property") or meta.get("http-equiv") or meta.get("name") or "").lower()
            if key in ("og:locale", "content-language", "language"):
                lang = meta.get("content")
                break
    if not lang:
        return None
    return re.split(r"[-_,;\s]", lang.strip().lower())[0] or None
