"""Wikipedia (MediaWiki) XML dumps → one document per article.

`kkwiki-latest-pages-articles.xml.bz2` is where most Kazakh corpora start. The dump is
streamed page by page (memory stays at one page, however large the dump); articles
(namespace 0) become documents; redirects and other namespaces (templates, categories,
talk pages) are passed over: they are no articles. The wikitext is parsed by
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
from mwparserfromhell import nodes

# Tags whose content is not running text.
DROPPED_TAGS = frozenset({"ref", "references", "gallery", "table", "math", "timeline", "graph", "syntaxhighlight",
                          "source", "pre", "code", "score", "templatedata", "imagemap", "mapframe", "chem"})
_NAMESPACED = re.compile(r"^\s*:?\s*[^\[\]|:]{1,40}:")  # "Сурет:x.png", "Category:X", "en:Kazakhstan"
_BLANK_LINES = re.compile(r"\n{3,}")
_SPACES = re.compile(r"[ \t]+")


def article_text(wikitext: str) -> str:
    """Plain text of an article's wikitext (see the module's docstring)."""
    parts: list[str] = []
    _text_of(mwparserfromhell.parse(wikitext), parts)
    lines = (_SPACES.sub(" ", line).strip() for line in "".join(parts).split("\n"))
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def _text_of(code, parts: list[str]) -> None:
    """The running text of parsed wikitext, appended to `parts` in one walk (removing nodes
    from the tree instead costs a search of the tree per node: 4 times the parse itself)."""
    for node in code.nodes:
        if isinstance(node, nodes.Text):
            parts.append(node.value)
        elif isinstance(node, nodes.Wikilink):
            if not _NAMESPACED.match(str(node.title)):
                _text_of(node.text if node.text is not None else node.title, parts)
        elif isinstance(node, nodes.Tag):
            if node.contents is not None and str(node.tag).strip().lower() not in DROPPED_TAGS:
                _text_of(node.contents, parts)  # bold, italics, spans ...; list and table markup has none
        elif isinstance(node, nodes.Heading):
            parts.append("\n")
            _text_of(node.title, parts)
            parts.append("\n")
        elif isinstance(node, nodes.ExternalLink):
            if node.title is not None:
                _text_of(node.title, parts)
        elif isinstance(node, nodes.HTMLEntity):
            parts.append(node.normalize())
        # templates, template arguments and comments are no running text


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
