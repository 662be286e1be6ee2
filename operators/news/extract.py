"""Main text and metadata of a news page (from a WARC response record) with trafilatura,
or the text a crawler already extracted (a WARC conversion record, Common Crawl's WET).

Boilerplate (navigation, footers, related links) and reader comments are left out; what
cannot be made into a document (not HTML, nothing extracted) becomes an error row
rejected by `NewsExtract`, so the report accounts for every record.
"""
from __future__ import annotations

import logging

import trafilatura
from trafilatura.utils import load_html

from operators.documents import error_document, new_document
from operators.news.html import HTML_TYPES, decode_html, html_lang, media_type
from operators.news.urls import site_of
from operators.text.readers import describe_decode_error

SOURCE = "news"
NAME = "NewsExtract"

# trafilatura logs every page it finds nothing in; that is our error row's job.
logging.getLogger("trafilatura").setLevel(logging.ERROR)
logging.getLogger("htmldate").setLevel(logging.ERROR)


def _looks_like_html(body: bytes) -> bool:
    head = body[:1024].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html", b"<head", b"<body", b"<!--")) or b"<html" in head


def news_columns(url: str, warc_file: str | None, warc_offset: int | None, record_id: str | None) -> dict:
    return {"url": url, "domain": site_of(url) if "://" in (url or "") else None, "published": None,
            "warc_file": warc_file, "warc_offset": warc_offset, "warc_record_id": record_id,
            "author": None, "site_name": None, "lang_hint": None}


def record_document(record: dict, warc_file: str, offset: int, max_bytes: int, **options) -> dict:
    """A WARC record worth extracting (operators.news.warc.is_document_response) → its
    document or error row. A conversion record's text is taken as it is (Common Crawl's
    WET), unless its body is HTML, whatever the record declares; a response's HTML goes to
    trafilatura. `options`: extract_document's."""
    url, record_id = record["url"], record["warc_record_id"]

    def error(detail: str) -> dict:
        return error_document(SOURCE, url, url, NAME, detail, **news_columns(url, warc_file, offset, record_id))

    body = record["body"] or b""
    if len(body) > max_bytes:
        return error(f"body larger than {max_bytes} bytes")
    content_type = record["content_type"]
    if record["record_type"] == "conversion":
        if not _looks_like_html(body):
            return converted_document(url, body, warc_file, offset, record_id, record["language"])
        content_type = None  # its declared type is not this body's: trafilatura sniffs the HTML
    try:
        return extract_document(url, body, warc_file, offset, record_id, content_type, **options)
    except Exception as exc:  # one page's failure is its own error row, not its file's nor the run's
        return error(f"cannot extract: {type(exc).__name__}: {exc}")


def converted_document(url: str, text_bytes: bytes | None, warc_file: str | None, warc_offset: int | None,
                       record_id: str | None, language: str | None = None) -> dict:
    """A conversion record's text (Common Crawl's WET: the page's text, extracted by the
    crawler, UTF-8) as one document row, as extract_document gives one for HTML; the
    record's identified language ("kaz,rus") is kept as the language hint."""
    columns = news_columns(url, warc_file, warc_offset, record_id)
    columns["lang_hint"] = language
    try:
        text = (text_bytes or b"").decode("utf-8").strip()
    except UnicodeDecodeError as exc:
        return error_document(SOURCE, url, url, NAME, f"conversion record: {describe_decode_error(exc)}", **columns)
    if not text:
        return error_document(SOURCE, url, url, NAME, "conversion record: no text", **columns)
    return new_document(SOURCE, url, url, text, **columns)


def extract_document(url: str, html_bytes: bytes | None, warc_file: str | None, warc_offset: int | None,
                     record_id: str | None, content_type: str | None, *, include_tables: bool = True,
                     favor_precision: bool = False) -> dict:
    """One document row (schemas.CURATION plus warc_record_id, author, site_name, lang_hint)."""
    columns = news_columns(url, warc_file, warc_offset, record_id)

    def error(detail: str) -> dict:
        return error_document(SOURCE, url, url, NAME, detail, **columns)

    kind = media_type(content_type)
    if not html_bytes:
        return error("empty body")
    if kind and kind not in HTML_TYPES:
        return error(f"not HTML: content type {kind}")
    if not kind and not _looks_like_html(html_bytes):
        return error("not HTML: no content type and the body does not look like HTML")
    html, _ = decode_html(html_bytes, content_type)
    # trafilatura's own parser settings (comments and processing instructions dropped), on
    # text we decoded ourselves: its charset guess must not override the HTTP header.
    tree = load_html(html)
    if tree is None:
        return error("unparsable HTML")
    columns["lang_hint"] = html_lang(tree)
    try:
        doc = trafilatura.bare_extraction(
            tree, url=url, include_comments=False, include_tables=include_tables, favor_precision=favor_precision,
            with_metadata=True, deduplicate=False,
            # Dates from metadata only: a guess from "© 2026" in a footer is worse than none.
            date_extraction_params={"original_date": True, "extensive_search": False})
    except Exception as exc:  # trafilatura on hostile markup: one error row, not a crashed run
        return error(f"trafilatura failed: {type(exc).__name__}: {exc}")
    text = (doc.text or "").strip() if doc is not None else ""
    if not text:
        return error("trafilatura found no main text")
    columns.update(published=doc.date or None, author=doc.author or None, site_name=doc.sitename or None)
    return new_document(SOURCE, url, url, text, title=doc.title or None, **columns)
