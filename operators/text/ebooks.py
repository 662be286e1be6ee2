"""E-books and office documents → plain text: EPUB, FictionBook (FB2), DOCX and ODT.

Kazakh and Russian literature circulates as FB2 and EPUB (the e-libraries' formats), and
laws, textbooks and theses as DOCX and ODT: a corpus builder's folder holds these beside
the TXT and JSONL. Each file is one document: its running text in reading order (EPUB's
spine, the FB2 body, the DOCX and ODT body), one line per paragraph or heading, and the
title from the file's own metadata. Footnotes and comments are not read; nor are images.

The files come from anywhere, so nothing in them is trusted:
- A zip member is inflated only up to the bytes left of `max_bytes` for the whole file,
  and one that inflates more than `max_ratio` times its compressed size is a bomb.
- XML is parsed without DTDs, entities or network access (no "billion laughs", no XXE);
  a file that is not well-formed is parsed again in libxml2's recovery mode, which keeps
  the text up to and around the fault (FB2 files with a stray `&` are common).
- An FB2 declared windows-1251 whose Kazakh letters only read as KZ-1048 is read as KZ-1048;
  one with no declaration that is not UTF-8 is decoded as a TXT file is (readers.decode_legacy).
- An EPUB whose chapters are encrypted (DRM) says so; one whose fonts alone are obfuscated,
  as many publishers do, is read.
"""
from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from posixpath import dirname, normpath
from typing import BinaryIO
from urllib.parse import unquote

from lxml import etree

from operators.text.legacy_kz import looks_like_kz1048

EBOOK_KINDS = {".epub": "epub", ".fb2": "fb2", ".fb2.zip": "fb2", ".docx": "docx", ".odt": "odt"}
KZ1048_WORD_SHARE = 0.05
_XML_DECLARATION = re.compile(rb"^\s*<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._-]+)[\"'][^>]*\?>")
_SPACES = re.compile(r"[ \t\r\n\f\v\u00a0]+")
_MARKUP = re.compile(rb"<[^<>]{0,2000}>")
_KEPT_SPACE = "\ufdd0"  # a noncharacter: ODT's counted spaces, which collapsing whitespace must not touch


class EbookError(ValueError):
    """The file is not a readable e-book or document; the message says why."""


def ebook_kind(name: str) -> str | None:
    name = name.lower()
    return next((kind for suffix, kind in EBOOK_KINDS.items() if name.endswith(suffix)), None)


def read_ebook(name: str, stream: BinaryIO, max_bytes: int, max_ratio: float) -> tuple[str, str | None]:
    """(text, title) of one file; EbookError (or zipfile's, lxml's errors) when it has none."""
    kind = ebook_kind(name)
    if kind == "fb2" and not name.lower().endswith(".zip"):
        data = stream.read(max_bytes + 1)
        if len(data) > max_bytes:
            raise EbookError(f"larger than max_file_bytes={max_bytes:,}")
        return _fb2(data)
    try:
        archive = zipfile.ZipFile(stream)
    except zipfile.BadZipFile as exc:
        raise EbookError(f"not a zip archive, which every {kind.upper()} file is ({exc})") from None
    with archive:
        members = _Members(archive, max_bytes, max_ratio)
        return {"epub": _epub, "fb2": _fb2_zip, "docx": _docx, "odt": _odt}[kind](members)


class _Members:
    """A zip's members, inflated within one byte budget for the whole file."""

    def __init__(self, archive: zipfile.ZipFile, max_bytes: int, max_ratio: float):
        self.archive, self.left, self.max_ratio = archive, max_bytes, max_ratio
        self.max_bytes = max_bytes
        self.names = {info.filename: info for info in archive.infolist()}

    def read(self, name: str) -> bytes:
        info = self.names.get(name)
        if info is None:
            raise EbookError(f"no {name} in the archive")
        with self.archive.open(info) as member:  # an encrypted member raises here: "... is encrypted"
            data = member.read(self.left + 1)
        if len(data) > self.left:
            raise EbookError(f"inflates beyond max_file_bytes={self.max_bytes:,} (at {name})")
        if len(data) > 1 << 20 and len(data) > self.max_ratio * max(info.compress_size, 1):
            raise EbookError(f"{name} inflates {len(data) / max(info.compress_size, 1):.0f} times its "
                             f"compressed size: a zip bomb (max_gzip_ratio={self.max_ratio:g})")
        self.left -= len(data)
        return data


def _parse(data: bytes) -> etree._Element:
    """An XML tree, entities and DTDs left unexpanded; recovered when not well-formed."""
    for recover in (False, True):
        parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, recover=recover,
                                 remove_comments=True, remove_pis=True)
        try:
            root = etree.fromstring(data, parser)
        except etree.XMLSyntaxError as exc:
            error = exc
            continue
        if root is not None:
            return root
    raise EbookError(f"not XML: {error}")


@dataclass(frozen=True)
class _Rules:
    """How one format's markup becomes lines of text (element names without namespaces)."""
    blocks: frozenset[str]  # each starts and ends a line
    skip: frozenset[str] = frozenset()  # not running text, nor anything inside
    breaks: frozenset[str] = frozenset()  # a line break
    tabs: frozenset[str] = frozenset()
    text_in: frozenset[str] | None = None  # where text nodes count (DOCX: w:t only); None: everywhere
    collapse: bool = True  # markup's own line breaks and indentation are no text (XHTML, FB2, ODT)
    spaces: str | None = None  # ODT's <text:s text:c="n"/>: n spaces


def _text(root: etree._Element, rules: _Rules) -> str:
    parts: list[str] = []
    _walk(root, rules, parts)
    lines = "".join(parts).split("\n")
    if rules.collapse:
        lines = (_SPACES.sub(" ", line) for line in lines)
    return "\n".join(line.strip().replace(_KEPT_SPACE, " ") for line in lines if line.strip())


def _walk(element: etree._Element, rules: _Rules, parts: list[str]) -> None:
    name = etree.QName(element).localname if isinstance(element.tag, str) else ""
    if name in rules.skip:
        return
    block = name in rules.blocks
    if block or name in rules.breaks:
        parts.append("\n")
    elif name in rules.tabs:
        parts.append("\t")
    elif name == rules.spaces:
        count = element.get("{urn:oasis:names:tc:opendocument:xmlns:text:1.0}c", "1")
        parts.append(_KEPT_SPACE * min(int(count) if count.isdigit() else 1, 1000))
    if element.text and (rules.text_in is None or name in rules.text_in):
        parts.append(element.text)
    for child in element:
        _walk(child, rules, parts)
        if child.tail and rules.text_in is None:
            parts.append(child.tail)
    if block:
        parts.append("\n")


def _title(root: etree._Element, *paths: str) -> str | None:
    for path in paths:
        for element in root.iter():
            if isinstance(element.tag, str) and etree.QName(element).localname == path:
                title = _SPACES.sub(" ", "".join(element.itertext())).strip()
                if title:
                    return title
    return None


def _require_text(text: str, what: str) -> str:
    if not text.strip():
        raise EbookError(f"no text in {what}")
    return text


# FictionBook 2: <FictionBook><description>…<book-title>; <body> <section> <title> <p> <poem> <v> …
# The first <body> is the book; later ones are its notes and comments.
_FB2 = _Rules(blocks=frozenset({"p", "v", "subtitle", "text-author", "title", "section", "poem", "stanza",
                                "epigraph", "cite", "table", "tr", "date"}),
              skip=frozenset({"binary", "image"}), breaks=frozenset({"empty-line"}), tabs=frozenset({"td", "th"}))


def _fb2(data: bytes) -> tuple[str, str | None]:
    root = _parse(_fb2_as_declared(data))
    bodies = [el for el in root if isinstance(el.tag, str) and etree.QName(el).localname == "body"]
    if etree.QName(root).localname != "FictionBook" or not bodies:
        raise EbookError(f"<{etree.QName(root).localname}> with no FictionBook <body>: not an FB2 file")
    description = next((el for el in root if isinstance(el.tag, str)
                        and etree.QName(el).localname == "description"), None)
    title = _title(description, "book-title") if description is not None else None
    return _require_text(_text(bodies[0], _FB2), "the FictionBook's body"), title


def _fb2_as_declared(data: bytes) -> bytes:
    """The FB2's bytes for the parser: as they are, unless the declared encoding is wrong.
    cp1251 and KZ-1048 differ only in Kazakh's letters, so a Kazakh book saved in KZ-1048 is
    often declared windows-1251; a file with no declaration is UTF-8 to the parser, and an
    old one in cp1251 is not."""
    from operators.text.readers import decode_legacy

    declared = _XML_DECLARATION.match(data)
    encoding = declared.group(1).decode("ascii").lower().replace("_", "-") if declared else "utf-8"
    if encoding in ("windows-1251", "cp1251"):
        text = data.decode("cp1251", errors="replace")
        if looks_like_kz1048(text, KZ1048_WORD_SHARE):
            return _as_utf8(data.decode("kz1048", errors="replace"))
        return data
    if encoding in ("utf-8", "utf8"):
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as exc:
            legacy = decode_legacy(_MARKUP.sub(b" ", data))  # the words tell the code page, not the tags
            if legacy is None:
                raise EbookError(f"declared or taken as UTF-8 but not: byte 0x{data[exc.start]:02x} at offset "
                                 f"{exc.start}, nor text in a Cyrillic code page") from None
            return _as_utf8(data.decode(legacy[1], errors="replace"))
    return data


def _as_utf8(text: str) -> bytes:
    return _XML_DECLARATION.sub(b"", text.lstrip("\ufeff").encode("utf-8"), count=1)


def _fb2_zip(members: _Members) -> tuple[str, str | None]:
    inside = [name for name in members.names if name.lower().endswith(".fb2")]
    if len(inside) != 1:
        raise EbookError(f"an .fb2.zip holds one .fb2 file; this one holds {len(inside)}")
    return _fb2(members.read(inside[0]))


# EPUB: META-INF/container.xml names the package (OPF), whose spine lists the XHTML chapters in order.
_XHTML = _Rules(blocks=frozenset({"p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "li", "dt", "dd", "tr", "blockquote",
                                  "pre", "section", "article", "aside", "header", "footer", "figcaption", "table",
                                  "ul", "ol", "dl", "hr", "address", "center"}),
                skip=frozenset({"head", "script", "style", "nav", "svg", "math", "noscript", "template", "rt", "rp"}),
                breaks=frozenset({"br"}), tabs=frozenset({"td", "th"}))
_ENCRYPTION = "META-INF/encryption.xml"


def _epub(members: _Members) -> tuple[str, str | None]:
    container = _parse(members.read("META-INF/container.xml"))
    rootfile = next((el.get("full-path") for el in container.iter()
                     if isinstance(el.tag, str) and etree.QName(el).localname == "rootfile"), None)
    if not rootfile:
        raise EbookError("META-INF/container.xml names no package file")
    package = _parse(members.read(rootfile))
    base = dirname(rootfile)
    manifest = {el.get("id"): el for el in package.iter()
                if isinstance(el.tag, str) and etree.QName(el).localname == "item"}
    chapters = []
    for itemref in package.iter():
        if not (isinstance(itemref.tag, str) and etree.QName(itemref).localname == "itemref"):
            continue
        item = manifest.get(itemref.get("idref"))
        if item is None or "nav" in (item.get("properties") or "").split() or not item.get("href"):
            continue  # the table of contents repeats the chapter titles
        chapters.append(normpath(f"{base}/{unquote(item.get('href').split('#')[0])}".lstrip("/")))
    if not chapters:
        raise EbookError(f"the package {rootfile} lists no chapters in its spine")
    encrypted = _encrypted(members) & set(chapters)
    if encrypted:
        raise EbookError(f"DRM: {len(encrypted)} of {len(chapters)} chapters are encrypted "
                         f"({_ENCRYPTION}); no text can be read")
    text = "\n".join(_text(_parse(members.read(name)), _XHTML) for name in dict.fromkeys(chapters))
    return _require_text(text, "the EPUB's chapters"), _title(package, "title")


def _encrypted(members: _Members) -> set[str]:
    if _ENCRYPTION not in members.names:
        return set()
    return {normpath(unquote(el.get("URI", ""))) for el in _parse(members.read(_ENCRYPTION)).iter()
            if isinstance(el.tag, str) and etree.QName(el).localname == "CipherReference"}


# DOCX (WordprocessingML): text only in <w:t>; <w:delText> (deleted in tracked changes) and
# <w:instrText> (field codes) are not the document's text; a text box is stored twice, as
# DrawingML (mc:Choice) and as VML (mc:Fallback), and read once.
_DOCX = _Rules(blocks=frozenset({"p"}), skip=frozenset({"Fallback", "del", "instrText", "delText"}),
               breaks=frozenset({"br", "cr"}), tabs=frozenset({"tab"}), text_in=frozenset({"t"}), collapse=False)


def _docx(members: _Members) -> tuple[str, str | None]:
    main = _docx_part(members, "/officeDocument", "word/document.xml")
    core = _docx_part(members, "/core-properties", "docProps/core.xml")
    title = _title(_parse(members.read(core)), "title") if core in members.names else None
    return _require_text(_text(_parse(members.read(main)), _DOCX), main), title


def _docx_part(members: _Members, relationship: str, usual: str) -> str:
    """Where the package's relationships (_rels/.rels) put a part: Word writes the usual name,
    other writers may not (word/document2.xml)."""
    if "_rels/.rels" in members.names:
        for element in _parse(members.read("_rels/.rels")).iter():
            if (element.get("Type") or "").endswith(relationship) and element.get("Target"):
                return normpath(unquote(element.get("Target")).lstrip("/"))
    return usual


# ODT (OpenDocument text): <text:h> and <text:p> in office:body; notes, annotations and
# tracked deletions are not running text.
_ODT = _Rules(blocks=frozenset({"p", "h", "table-row"}),
              skip=frozenset({"note", "annotation", "tracked-changes", "sequence-decls", "variable-decls",
                              "user-field-decls", "forms"}),
              breaks=frozenset({"line-break"}), tabs=frozenset({"tab"}), spaces="s")


def _odt(members: _Members) -> tuple[str, str | None]:
    content = _parse(members.read("content.xml"))
    body = next((el for el in content.iter() if isinstance(el.tag, str) and etree.QName(el).localname == "body"), None)
    if body is None:
        raise EbookError("no office:body in content.xml")
    title = _title(_parse(members.read("meta.xml")), "title") if "meta.xml" in members.names else None
    return _require_text(_text(body, _ODT), "content.xml"), title

