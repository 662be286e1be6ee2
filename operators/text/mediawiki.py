"""Wikipedia (MediaWiki) XML dumps → one document per article.

`kkwiki-latest-pages-articles.xml.bz2` is where most Kazakh corpora start. The dump is
streamed page by page (memory stays at one page, however large the dump); articles
(namespace 0) become documents, redirects and other namespaces (templates, categories,
talk pages) are counted as skipped, not made documents. The wikitext is parsed by
mwparserfromhell: templates, references, tables, galleries and other tags are dropped,
links keep their text, and links into namespaces (files, categories: "Сурет:", "Санат:",
"Category:") and to other languages ("en:Kazakhstan") are dropped whole.
"""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from typing import BinaryIO

import mwparserfromhell

# Tags whose content is not running text.
DROPPED_TAGS = frozenset({"ref", "references", "gallery", "table", "math", "timeline", "graph", "syntaxhighlight",
                          "source", "pre", "code", "score", "templatedata", "imagemap", "mapframe", "chem"})
_NAMESPACED = re.compile(r"^\s*:?\s*[^\[\]|:]{1,40}:")  # "Сурет:x.png", "Category:X", "en:Kazakhstan"
_BLANK_LINES = re.compile(r"\n{3,}")
_SPACES = re.compile(r"[ \t]+")


def article_text(wikitext: str) -> str:
    """Plain text of an article's wikitext (see the module's docstring)."""
    code = mwparserfromhell.parse(wikitext)
    for tag in code.filter_tags(recursive=True):
        if str(tag.tag).strip().lower() in DROPPED_TAGS:
            _remove(code, tag)
    for link in code.filter_wikilinks(recursive=True):
        if _NAMESPACED.match(str(link.title)):
            _remove(code, link)
    for heading in code.filter_headings(recursive=False):
        code.replace(heading, "\n" + heading.title.strip_code().strip() + "\n")
    text = code.strip_code(normalize=True, collapse=True)
    lines = (_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def _remove(code, node) -> None:
    try:
        code.remove(node)
    except ValueError:  # already gone with a node that held it
        pass


def iter_pages(stream: BinaryIO) -> Iterator[dict]:
    """{"id", "title", "ns", "redirect", "text"} for each <page> of a MediaWiki export,
    streamed. A stream that is not a MediaWiki export raises ValueError."""
    depth, root_seen = 0, False
    for event, element in ET.iterparse(stream, events=("start", "end")):
        tag = element.tag.rsplit("}", 1)[-1]
        if event == "start":
            if not root_seen:
                if tag != "mediawiki":
                    raise ValueError(f"not a MediaWiki export (root element <{tag}>)")
                root_seen, root = True, element
            depth += 1
            continue
        depth -= 1
        if tag == "page" and depth == 1:
            yield _page(element)
            root.clear()  # what was read stays bounded to one page


def _page(page) -> dict:
    def child(element, name):
        return next((c for c in element if c.tag.rsplit("}", 1)[-1] == name), None)

    revision = child(page, "revision")
    text = child(revision, "text") if revision is not None else None
    ns, page_id, title = child(page, "ns"), child(page, "id"), child(page, "title")
    return {"id": page_id.text if page_id is not None else None, "title": title.text if title is not None else None,
            "ns": ns.text if ns is not None else "0", "redirect": child(page, "redirect") is not None,
            "text": (text.text or "") if text is not None else ""}
