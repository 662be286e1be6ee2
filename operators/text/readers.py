"""Readers of existing corpora: JSONL (or one JSON array), TXT, CSV/TSV, Parquet and Arrow
files, Wikipedia dumps, saved web pages, RTF, e-books and office documents (EPUB, FB2, DOCX,
ODT: operators/text/ebooks.py) into document rows.

A reader takes the file's URI and an open binary stream, so it can be tested on bytes
and run on local or S3 files alike. Every problem becomes an error row for the smallest
unit it affects (a JSONL line, a file), never an exception.

Librarians' files are hostile by accident: memory stays bounded whatever they hold. A
JSONL line longer than `max_line_bytes` is skipped as it streams past (an error row, never
held whole), and a compressed file (.gz, .zst, .xz, .bz2) that inflates more than
`max_gzip_ratio` times its compressed size is a bomb: reading stops there with an error row.
"""
from __future__ import annotations

import bz2
import codecs
import csv
import gzip
import io
import lzma
import json
import re
import unicodedata
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from typing import BinaryIO

import pyarrow as pa
import pyarrow.parquet as pq

from operators.documents import doc_id_for, error_document, new_document
from operators.text.ebooks import EBOOK_KINDS, ebook_kind, read_ebook
from operators.text.json_array import JsonArrayError, is_json_array, json_array
from operators.text.legacy_kz import looks_like_kz1048
from operators.text.rtf import rtf_text

SOURCE = "text"
DEFAULT_MAX_LINE_BYTES = 64 << 20
# Text compresses 3-10x with gzip; 100x and more is a file made of one repeated byte.
DEFAULT_MAX_GZIP_RATIO = 100
# Below this much output no ratio is judged: tiny files have large gzip headers.
GZIP_RATIO_FLOOR = 1 << 20
_SURROGATE = re.compile("[\ud800-\udfff]")
# JSONL, TXT and Wikipedia dumps may be compressed: gzip (Dolma's .json.gz), zstd (The Pile's and
# SlimPajama's .jsonl.zst), xz (CC-100's .txt.xz), bzip2 (Wikipedia's dumps).
COMPRESSED = {".gz": "gzip", ".zst": "zstd", ".zstd": "zstd", ".xz": "xz", ".bz2": "bzip2"}
# All but Parquet and Arrow also + COMPRESSED.
SUFFIXES = (".jsonl", ".ndjson", ".json", ".txt", ".csv", ".tsv", ".html", ".htm", ".xhtml", ".rtf", ".xml", ".parquet",
            ".arrow")
EBOOK_SUFFIXES = tuple(EBOOK_KINDS)  # one document per file
# Code pages Kazakh and Russian text files were saved in before UTF-8: Windows (cp1251), the
# Kazakh standard KZ-1048, KOI8, DOS (cp866), old Macs, ISO, and Notepad's "Unicode" (UTF-16).
# A TXT file that is not UTF-8 is read in whichever of these charset-normalizer finds least
# garbled, if one reads cleanly; JSONL and Parquet are UTF-8 by definition.
LEGACY_ENCODINGS = ["cp1251", "kz1048", "koi8_r", "koi8_u", "cp866", "mac_cyrillic", "iso8859_5", "utf_16"]
MAX_CHAOS = 0.1  # charset-normalizer's share of "mess" (odd symbols, case and script mixes) it accepts
MIN_WORDLIKE = 0.95  # share of letters, digits, spaces and punctuation in the decoded text
# kkwiki-latest-pages-articles.xml.bz2; large wikis come in parts: ...-pages-articles1.xml-p1p41242.bz2
WIKI_DUMP = re.compile(r"\.xml(?:-p\d+p\d+)?$")
TXT_UNITS = ("file", "paragraph", "line")  # what one document is in a TXT file (inputs.txt_unit)
LEIPZIG_ID = re.compile(r"(\d+)\t")
KZ1048_WORD_SHARE = 0.05  # of Cyrillic words with a letter KZ-1048 puts where cp1251 has another (legacy_kz.py)


def kind_of(uri: str) -> str | None:
    name = uri.lower()
    if name.endswith(".parquet"):
        return "parquet"
    if name.endswith(".arrow"):
        return "arrow"
    if ebook_kind(name):
        return "ebook"
    name = next((name.removesuffix(c) for c in COMPRESSED if name.endswith(c)), name)
    if name.endswith((".jsonl", ".ndjson", ".json")):
        return "jsonl"
    if name.endswith(".txt"):
        return "txt"
    if name.endswith((".csv", ".tsv")):
        return "csv"
    if name.endswith((".html", ".htm", ".xhtml")):
        return "html"
    if name.endswith(".rtf"):
        return "rtf"
    if WIKI_DUMP.search(name):
        return "mediawiki"  # a Wikipedia dump, or a part of one
    return None


def decode_legacy(data: bytes) -> tuple[str, str] | None:
    """(text, encoding) of bytes in one of LEGACY_ENCODINGS, or None when none reads cleanly
    (Big5, Shift-JIS, binary ...). Text is letters, digits, spaces and punctuation: a few bytes
    of Big5 read as cp866 give "дддхдхе╗", whose box-drawing corner a short text cannot hide."""
    from charset_normalizer import from_bytes

    match = from_bytes(data, cp_isolation=LEGACY_ENCODINGS).best()
    if match is None or match.chaos > MAX_CHAOS:
        return None
    text, encoding = str(match), match.encoding
    if encoding == "cp1251" and looks_like_kz1048(text, KZ1048_WORD_SHARE):
        # The two differ only in Kazakh's letters, and a short text may not tell the detector.
        text, encoding = data.decode("kz1048", errors="replace"), "kz1048"
    wordlike = sum(1 for ch in text if ch.isalnum() or ch.isspace() or unicodedata.category(ch)[0] == "P")
    return (text, encoding) if wordlike >= MIN_WORDLIKE * len(text) else None


def describe_decode_error(exc: UnicodeDecodeError) -> str:
    bad = exc.object[exc.start : exc.start + 1].hex()
    return f"not valid UTF-8: byte 0x{bad} at offset {exc.start}"


class TextReader:
    """Turns one text-corpus file into documents.

    JSONL: one document per line, text in `text_field`, the record's `id_field` kept as
    `source_id` (else `file:line`). TXT: the whole file is one document (or a paragraph or
    line: `txt_unit`). Parquet: one document per row. EPUB, FB2, DOCX, ODT: one document per
    file, titled from its metadata.
    """

    name = "TextReader"

    def __init__(self, text_field: str = "text", id_field: str = "id", title_field: str = "title",
                 max_file_bytes: int = 64 << 20, max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
                 max_gzip_ratio: float = DEFAULT_MAX_GZIP_RATIO, txt_unit: str = "file"):
        if txt_unit not in TXT_UNITS:
            raise ValueError(f"inputs.txt_unit: one of {', '.join(TXT_UNITS)}, not {txt_unit!r}")
        self.txt_unit = txt_unit
        self.text_field = text_field
        self.id_field = id_field
        self.title_field = title_field
        self.max_file_bytes = max_file_bytes
        self.max_line_bytes = max_line_bytes
        self.max_gzip_ratio = max_gzip_ratio

    def __call__(self, uri: str, stream: BinaryIO) -> Iterator[dict]:
        kind = kind_of(uri)
        try:
            if kind == "jsonl":
                yield from self._jsonl(uri, self._decompressed(uri, stream))
            elif kind == "txt":
                yield from self._txt(uri, self._decompressed(uri, stream))
            elif kind == "csv":
                yield from _unique_doc_ids(uri, self._csv(uri, self._decompressed(uri, stream)))
            elif kind == "mediawiki":
                yield from _unique_doc_ids(uri, self._mediawiki(uri, self._decompressed(uri, stream)))
            elif kind == "parquet":
                yield from self._parquet(uri, stream)
            elif kind == "arrow":
                yield from self._arrow(uri, stream)
            elif kind == "html":
                yield self._html(uri, self._decompressed(uri, stream))
            elif kind == "rtf":
                yield self._rtf(uri, self._decompressed(uri, stream))
            elif kind == "ebook":
                text, title = read_ebook(uri, stream, self.max_file_bytes, self.max_gzip_ratio)
                yield new_document(SOURCE, uri, uri, text, title)
            else:
                yield self._error(uri, uri, f"unsupported file type (expected one of {', '.join(SUFFIXES)}, "
                                            f"all but .parquet and .arrow also {', '.join(COMPRESSED)}; "
                                            f"or {', '.join(EBOOK_SUFFIXES)})")
        except Exception as exc:  # truncated gzip, a gzip bomb, unreadable Parquet, I/O errors, a bug: one row
            yield self._error(uri, uri, f"{type(exc).__name__}: {exc}")

    def _decompressed(self, uri: str, stream: BinaryIO) -> BinaryIO:
        kind = next((kind for suffix, kind in COMPRESSED.items() if uri.lower().endswith(suffix)), None)
        return BoundedInflate(stream, kind, self.max_gzip_ratio) if kind else stream

    def _error(self, uri: str, source_id: str, detail: str) -> dict:
        return error_document(SOURCE, uri, source_id, self.name, detail)

    def _record(self, uri: str, fallback_id: str, record: dict) -> dict:
        text = record.get(self.text_field)
        record_id = record.get(self.id_field)
        source_id = fallback_id if record_id is None else _valid_utf8(str(record_id))
        if not isinstance(text, str):
            found = "missing" if text is None else f"a {type(text).__name__}, not a string"
            return self._error(uri, source_id, f"field {self.text_field!r} is {found}")
        title = record.get(self.title_field)
        return new_document(SOURCE, uri, source_id, _valid_utf8(text),
                            _valid_utf8(title) if isinstance(title, str) else None)

    def _jsonl(self, uri: str, stream: BinaryIO) -> Iterator[dict]:
        head = stream.read(4096)
        stream = _Prepended(head, stream)
        if is_json_array(head):  # whatever the name says
            yield from _unique_doc_ids(uri, self._json_array(uri, stream))
        else:
            yield from _unique_doc_ids(uri, self._jsonl_lines(uri, stream))

    def _json_array(self, uri: str, stream: BinaryIO) -> Iterator[tuple[int, dict]]:
        """(element number, row) for each element of a file holding one JSON array of records
        (Hugging Face's and Alpaca's .json), streamed; an element that is no record is its
        own error row, and broken JSON ends the file with one."""
        n = 0
        for n, element in json_array(stream, self.max_line_bytes):
            where = f"{uri}:{n}"
            if isinstance(element, JsonArrayError):
                yield n, self._error(uri, where, f"element {n}: {element}")
            elif not isinstance(element, dict):
                yield n, self._error(uri, where, f"element {n}: expected a JSON object, got {type(element).__name__}")
            else:
                try:
                    yield n, self._record(uri, where, element)
                except Exception as exc:  # one record's surprise costs that element only
                    yield n, self._error(uri, where, f"element {n}: {type(exc).__name__}: {exc}")
        if n == 0:
            yield 0, self._error(uri, uri, "empty JSON array: no records")

    def _jsonl_lines(self, uri: str, stream: BinaryIO) -> Iterator[tuple[int, dict]]:
        """(line number, row) for every non-blank line: a document or an error row."""
        n_records = 0
        for line_no, raw in enumerate(_lines(stream, self.max_line_bytes), start=1):
            where = f"{uri}:{line_no}"
            if isinstance(raw, OverlongLine):
                n_records += 1
                yield line_no, self._error(uri, where, f"line {line_no}: longer than max_line_bytes="
                                                       f"{self.max_line_bytes:,} ({raw.n_bytes:,} bytes); skipped unread")
                continue
            if not raw.strip():
                continue
            n_records += 1
            yield line_no, self._line(uri, where, line_no, raw.removeprefix(b"\xef\xbb\xbf") if line_no == 1 else raw)
        if n_records == 0:
            yield 0, self._error(uri, uri, "empty file: no records")

    def _line(self, uri: str, where: str, line_no: int, raw: bytes) -> dict:
        try:
            record = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError as exc:
            return self._error(uri, where, f"line {line_no}: {describe_decode_error(exc)}")
        except json.JSONDecodeError as exc:
            return self._error(uri, where, f"line {line_no}: invalid JSON: {exc.msg} at column {exc.colno}")
        except RecursionError:  # [[[[... nested deeper than Python's stack
            return self._error(uri, where, f"line {line_no}: invalid JSON: nested too deeply")
        if not isinstance(record, dict):
            return self._error(uri, where, f"line {line_no}: expected a JSON object, got {type(record).__name__}")
        try:
            return self._record(uri, where, record)
        except Exception as exc:  # one record's surprise costs that line only
            return self._error(uri, where, f"line {line_no}: {type(exc).__name__}: {exc}")

    def _txt(self, uri: str, stream: BinaryIO) -> Iterator[dict]:
        if self.txt_unit == "file":
            yield from self._txt_file(uri, stream)
        else:
            yield from _unique_doc_ids(uri, self._txt_parts(uri, stream))

    def _csv(self, uri: str, stream: BinaryIO) -> Iterator[tuple[int, dict]]:
        """(row number, row) for each record of a CSV or TSV file with a header: text, id and
        title from the columns of those names. UTF-8, or the code page Excel saved it in
        (cp1251 ...: judged on the first MiB); the delimiter is whichever of , ; tab | makes a
        header with the text column (Excel in Russian and Kazakh locales writes ";"; a .tsv
        may hold commas). Streamed: a line over max_line_bytes is an error row, skipped unread."""
        raw, encoding, sample = _line_stream(stream)
        tsv = uri.lower().removesuffix(_compression_suffix(uri)).endswith(".tsv")
        delimiter = _delimiter(sample, self.text_field, "\t" if tsv else ",")  # the header is checked, not the name
        skipped: dict[int, str] = {}  # line number → why it was not read: too long, or not in the encoding
        lines = _decoded_lines(raw, encoding, self.max_line_bytes, skipped)
        csv.field_size_limit(self.max_line_bytes)  # a quoted field may span lines: bounded all the same
        records = csv.reader(lines, delimiter=delimiter)
        try:
            header = [name.strip() for name in next(records)]
        except (StopIteration, csv.Error) as exc:
            yield 0, self._error(uri, uri, f"no header: {exc}" if isinstance(exc, csv.Error) else "empty file")
            return
        if self.text_field not in header:
            yield 0, self._error(uri, uri, f"no column {self.text_field!r} (columns: {', '.join(header)[:500]}; "
                                           f"delimiter {delimiter!r})")
            return
        row_no = 0
        while True:
            try:
                values = next(records)
                problem = None
            except StopIteration:
                break
            except csv.Error as exc:  # a field over the limit: that record, then on with the next line
                values, problem = None, str(exc)
            if skipped:  # the record holds (or, if empty, stands for) lines that were not read
                problem = "; ".join(f"line {n}: {why}" for n, why in skipped.items())
                skipped.clear()
            if values is not None and problem is None and not any(value.strip() for value in values):
                continue
            row_no += 1
            where = f"{uri}:{row_no}"
            if problem is not None:
                yield row_no, self._error(uri, where, f"record {row_no}: {problem}")
            elif len(values) != len(header):
                yield row_no, self._error(uri, where, f"record {row_no}: {len(values)} fields, the header has "
                                                      f"{len(header)}")
            else:
                try:
                    yield row_no, self._record(uri, where, dict(zip(header, values)))
                except Exception as exc:  # one record's surprise costs that record only
                    yield row_no, self._error(uri, where, f"record {row_no}: {type(exc).__name__}: {exc}")
        if row_no == 0:
            yield 0, self._error(uri, uri, "no records below the header")

    def _html(self, uri: str, stream: BinaryIO) -> dict:
        """A saved web page (a site mirrored with wget, say): its main text and title, as news
        extraction finds them in a WARC record (trafilatura; boilerplate, menus and comments
        left out), the charset from the page's own <meta> or sniffed."""
        from operators.news.extract import extract_document

        data = self._whole(stream)
        if data is None:
            return self._too_large(uri)
        page = extract_document(uri, data, None, None, None, "text/html")
        if page["reason"] is not None:
            return self._error(uri, uri, page["detail"])
        return new_document(SOURCE, uri, uri, page["text"], page["title"])

    def _rtf(self, uri: str, stream: BinaryIO) -> dict:
        """An RTF document (operators/text/rtf.py): one document of its visible text."""
        data = self._whole(stream)
        if data is None:
            return self._too_large(uri)
        text = rtf_text(data)
        return new_document(SOURCE, uri, uri, text) if text else self._error(uri, uri, "no text in the RTF document")

    def _mediawiki(self, uri: str, stream: BinaryIO) -> Iterator[tuple[int, dict]]:
        """(article number, row) for each article of a MediaWiki dump (operators/text/mediawiki.py):
        its plain text, title and page id; redirects and other namespaces are not articles. An
        article whose markup leaves no text, or breaks the parser, is its own error row; a dump
        broken mid-file keeps the articles before the break and ends with an error row."""
        from operators.text.mediawiki import article_text, iter_pages

        articles = 0
        try:
            for page in iter_pages(stream):
                if page["ns"] != "0" or page["redirect"]:
                    continue
                articles += 1
                source_id, title = page["id"] or f"{uri}:{articles}", page["title"]
                try:
                    text = article_text(page["text"])
                except Exception as exc:  # one article's markup costs that article only
                    yield articles, self._error(uri, source_id, f"article {title!r}: {type(exc).__name__}: {exc}")
                    continue
                yield articles, (new_document(SOURCE, uri, source_id, text, title) if text else
                                 self._error(uri, source_id, f"article {title!r}: no text once its markup is removed"))
        except (ET.ParseError, ValueError) as exc:
            yield articles + 1, self._error(uri, uri, f"after {articles} articles: {type(exc).__name__}: {exc}")
            return
        if articles == 0:
            yield 0, self._error(uri, uri, "no articles (namespace 0) in the dump")

    def _txt_parts(self, uri: str, stream: BinaryIO) -> Iterator[tuple[int, dict]]:
        """(first line number, row) for each line ("line": a sentence corpus; a first field of
        digits before a tab, as in the Leipzig Corpora Collection's files, is the id) or each
        run of lines between blank lines ("paragraph": CC-100's documents). UTF-8, UTF-16 or a
        Cyrillic code page, judged on the first MiB: a line or paragraph not in it is its own
        error row. A paragraph over max_file_bytes is an error row; reading goes on after it."""
        stream, encoding, _ = _line_stream(stream)
        block: list[bytes] = []
        start, size, n_rows, too_long = 0, 0, 0, False

        def part(first: int, raw: bytes) -> dict:
            where = f"{uri}:{first}"
            try:
                text = raw.decode(encoding)
            except UnicodeDecodeError as exc:
                return self._error(uri, where, f"line {first}: " + (describe_decode_error(exc)
                                                                     if encoding.startswith("utf") else f"not {encoding}"))
            source_id = where
            if self.txt_unit == "line" and (numbered := LEIPZIG_ID.match(text)):
                source_id, text = numbered.group(1), text[numbered.end():]
            if not text.strip():  # spaces no byte test sees (no-break spaces), or an id alone
                return self._error(uri, source_id, f"line {first}: no text")
            return new_document(SOURCE, uri, source_id, text.strip())

        for line_no, raw in enumerate(_lines(stream, self.max_line_bytes), start=1):
            if isinstance(raw, OverlongLine):
                n_rows += 1
                yield line_no, self._error(uri, f"{uri}:{line_no}", f"line {line_no}: longer than max_line_bytes="
                                                                     f"{self.max_line_bytes:,}; skipped unread")
                continue
            raw = (raw.removeprefix(b"\xef\xbb\xbf") if line_no == 1 and encoding.startswith("utf") else raw).rstrip(b"\r")
            if self.txt_unit == "line":
                if raw.strip():
                    n_rows += 1
                    yield line_no, part(line_no, raw)
            elif raw.strip():
                start, size = (start or line_no), size + len(raw) + 1
                if size <= self.max_file_bytes:
                    block.append(raw)
                elif not too_long:  # reported once, then skipped to the next blank line
                    block, too_long = [], True
                    n_rows += 1
                    yield start, self._error(uri, f"{uri}:{start}", f"paragraph from line {start}: longer than "
                                                                     f"max_file_bytes={self.max_file_bytes:,}")
            else:
                if block:
                    n_rows += 1
                    yield start, part(start, b"\n".join(block))
                block, start, size, too_long = [], 0, 0, False
        if block:
            n_rows += 1
            yield start, part(start, b"\n".join(block))
        if n_rows == 0:
            yield 0, self._error(uri, uri, "empty file")

    def _whole(self, stream: BinaryIO) -> bytes | None:
        """A file that is one document, whole; None when it is over max_file_bytes."""
        data = stream.read(self.max_file_bytes + 1)
        return data if len(data) <= self.max_file_bytes else None

    def _too_large(self, uri: str, hint: str = "") -> dict:
        return self._error(uri, uri, f"file larger than max_file_bytes={self.max_file_bytes}{hint}")

    def _txt_file(self, uri: str, stream: BinaryIO) -> Iterator[dict]:
        data = self._whole(stream)
        if data is None:
            yield self._too_large(uri, " (a corpus of many documents in one file: inputs.txt_unit=paragraph or line)")
        elif not data.strip():
            yield self._error(uri, uri, "empty file")
        else:
            try:
                text = data.decode("utf-8-sig")
            except UnicodeDecodeError as exc:
                legacy = decode_legacy(data)
                if legacy is None:
                    yield self._error(uri, uri, f"{describe_decode_error(exc)}, nor text in a Cyrillic code page "
                                                f"({', '.join(LEGACY_ENCODINGS)})")
                    return
                text = legacy[0]
            # A byte-order mark and nothing else is an empty file too.
            yield new_document(SOURCE, uri, uri, text) if text.strip() else self._error(uri, uri, "empty file")

    def _parquet(self, uri: str, stream: BinaryIO) -> Iterator[dict]:
        parquet = pq.ParquetFile(stream)
        columns = self._columns(parquet.schema_arrow.names)
        yield from self._batches(uri, parquet.iter_batches(batch_size=1024, columns=columns) if columns else None,
                                 parquet.schema_arrow.names)

    def _arrow(self, uri: str, stream: BinaryIO) -> Iterator[dict]:
        """An Arrow IPC file, or stream: what Hugging Face's `save_to_disk` leaves
        (data-00000-of-00001.arrow), read a record batch at a time."""
        try:
            reader = pa.ipc.open_file(stream)
            batches = (reader.get_batch(i) for i in range(reader.num_record_batches))
        except pa.ArrowInvalid:  # not the file format: the stream format
            stream.seek(0)
            reader = pa.ipc.open_stream(stream)
            batches = iter(reader)
        names = reader.schema.names
        columns = self._columns(names)
        yield from self._batches(uri, (batch.select(columns) for batch in batches) if columns else None, names)

    def _columns(self, names: list[str]) -> list[str] | None:
        """The columns a record needs, or None when the text column is not there."""
        if self.text_field not in names:
            return None
        return [c for c in (self.text_field, self.id_field, self.title_field) if c in names]

    def _batches(self, uri: str, batches, names: list[str]) -> Iterator[dict]:
        """One document per row of a columnar file's batches (None: no text column)."""
        if batches is None:
            yield self._error(uri, uri, f"no column {self.text_field!r} (columns: {', '.join(names)})")
            return
        row_no = 0
        for batch in batches:
            for record in batch.to_pylist():
                row_no += 1
                where = f"{uri}:{row_no}"
                try:
                    yield self._record(uri, where, record)
                except Exception as exc:  # one record's surprise costs that row only
                    yield self._error(uri, where, f"row {row_no}: {type(exc).__name__}: {exc}")
        if row_no == 0:
            yield self._error(uri, uri, "empty file: no rows")


SAMPLE_BYTES = 1 << 20  # what the encoding of a file read line by line is judged on
CSV_DELIMITERS = ",;\t|"


def _compression_suffix(uri: str) -> str:
    return next((suffix for suffix in COMPRESSED if uri.lower().endswith(suffix)), "")


def _line_stream(stream: BinaryIO) -> tuple[BinaryIO, str, str]:
    """(stream, encoding, decoded first MiB) for reading a file line by line. UTF-8 where the
    first MiB is in no encoding found (each line not in it is then an error row); UTF-16 is
    recoded to UTF-8 on the fly, since lines are found by their b"\\n"."""
    head = stream.read(SAMPLE_BYTES)
    encoding = _encoding_of(head) or "utf-8"
    sample = head.decode(encoding, errors="ignore").lstrip("\ufeff")
    whole: BinaryIO = _Prepended(head, stream)
    if encoding.startswith("utf_16"):
        return codecs.EncodedFile(whole, "utf-8", encoding), "utf-8", sample
    return whole, encoding, sample


def _encoding_of(head: bytes) -> str | None:
    """utf-8-sig when the first MiB is UTF-8 but for a stray bad byte or two (the lines holding
    them become error rows; a character cut at the sample's end is no fault), UTF-16 with its
    byte-order mark, else the legacy code page decode_legacy finds in it, else None."""
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):  # Excel's "Unicode text", if it decodes
        try:
            codecs.getincrementaldecoder("utf_16")().decode(head, final=False)
            return "utf_16"
        except UnicodeDecodeError:
            pass
    decoded = codecs.getincrementaldecoder("utf-8")(errors="replace").decode(head, final=False)
    bad = decoded.count("\ufffd")
    if bad == 0 or bad * 20 <= sum(1 for ch in decoded if ord(ch) > 127) - bad:
        return "utf-8-sig"
    legacy = decode_legacy(head)
    return legacy[1] if legacy else None


def _delimiter(sample: str, text_field: str, usual: str = ",") -> str:
    """The delimiter whose header holds the text column (of several, the one making the most
    columns, then `usual`: a tab for .tsv); else the one making the most columns, so the
    error names what the header holds. A header is checkable where a sniffer guessing from
    the rows' shapes, or a file's name, is not."""
    def header(delimiter: str) -> list[str]:
        try:
            return [name.strip() for name in next(csv.reader(io.StringIO(sample), delimiter=delimiter), [])]
        except csv.Error:
            return []

    return max(CSV_DELIMITERS, key=lambda d: (text_field in header(d), len(header(d)), d == usual))


class _Prepended(io.RawIOBase):
    """Bytes already read, then the rest of the stream."""

    def __init__(self, head: bytes, rest: BinaryIO):
        self.head, self.rest = head, rest

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if self.head:
            chunk, self.head = (self.head, b"") if size < 0 or size >= len(self.head) else \
                               (self.head[:size], self.head[size:])
            return chunk
        return self.rest.read(size)


def _decoded_lines(stream: BinaryIO, encoding: str, max_line_bytes: int, skipped: dict[int, str]) -> Iterator[str]:
    """Lines as the csv module wants them (with their newline), decoded; a line over the limit
    or not in the encoding is noted in `skipped` and given as an empty line."""
    for line_no, raw in enumerate(_lines(stream, max_line_bytes), start=1):
        if isinstance(raw, OverlongLine):
            skipped[line_no] = f"longer than max_line_bytes={max_line_bytes:,}; skipped unread"
            yield "\n"
            continue
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError as exc:
            skipped[line_no] = describe_decode_error(exc) if encoding.startswith("utf") else f"not {encoding}"
            yield "\n"
            continue
        yield (text.lstrip("\ufeff") if line_no == 1 else text) + "\n"


def _valid_utf8(text: str) -> str:
    """JSON escapes can spell lone surrogates ("\\ud800"), which no UTF-8 file can hold."""
    return _SURROGATE.sub("\ufffd", text)


class OverlongLine:
    """Stands for a line longer than the limit, which was skipped without being kept."""

    def __init__(self, n_bytes: int):
        self.n_bytes = n_bytes


def _lines(stream: BinaryIO, max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
           chunk_size: int = 1 << 20) -> Iterator[bytes | OverlongLine]:
    """Lines of any readable binary stream (object-store streams cannot iterate lines).

    A line over `max_line_bytes` is dropped as soon as it is known to be too long and
    the rest of it is skipped chunk by chunk: memory stays under max_line_bytes + a chunk."""
    pending = bytearray()
    skipped = None  # bytes of the over-long line being skipped, None while reading normally
    while chunk := stream.read(chunk_size):
        start = 0
        while (end := chunk.find(b"\n", start)) != -1:
            if skipped is not None:
                yield OverlongLine(skipped + end - start)
                skipped = None
            elif len(pending) + end - start > max_line_bytes:
                yield OverlongLine(len(pending) + end - start)
                pending.clear()
            else:
                pending += chunk[start:end]
                yield bytes(pending)
                pending.clear()
            start = end + 1
        rest = len(chunk) - start
        if skipped is not None:
            skipped += rest
        elif len(pending) + rest > max_line_bytes:
            skipped = len(pending) + rest
            pending.clear()
        else:
            pending += chunk[start:]
    if skipped is not None:
        yield OverlongLine(skipped)
    elif pending:
        yield bytes(pending)


def _unique_doc_ids(uri: str, rows: Iterator[tuple[int, dict]]) -> Iterator[dict]:
    """The rows of one file, none sharing a doc_id: a record id given twice must not make
    one id of two rows (the line number makes it unique, unless ids were crafted to clash)."""
    seen: set[str] = set()
    for line_no, row in rows:
        key = f"{uri}:{line_no}"
        while row["doc_id"] in seen:
            row["doc_id"] = doc_id_for(SOURCE, uri, key)
            key += "#"
        seen.add(row["doc_id"])
        yield row


class GzipBombError(ValueError):
    pass


class BoundedInflate(io.RawIOBase):
    """A gzip, zstd, xz or bzip2 stream that stops when it inflates beyond `max_ratio` × the compressed
    bytes read so far (judged only after GZIP_RATIO_FLOOR bytes of output)."""

    def __init__(self, raw: BinaryIO, kind: str = "gzip", max_ratio: float = DEFAULT_MAX_GZIP_RATIO):
        self._counted = _CountingReader(raw)
        if kind == "zstd":
            import zstandard

            # Frames one after another (a file appended to, or written in parallel) are one stream.
            self._inflate = zstandard.ZstdDecompressor().stream_reader(self._counted, read_across_frames=True)
        elif kind == "xz":
            self._inflate = lzma.LZMAFile(self._counted)
        elif kind == "bzip2":
            self._inflate = bz2.BZ2File(self._counted)
        else:
            self._inflate = gzip.GzipFile(fileobj=self._counted)
        self.kind, self.max_ratio = kind, max_ratio
        self.inflated = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        size = GZIP_RATIO_FLOOR if size is None or size < 0 else size
        data = self._inflate.read(size)
        self.inflated += len(data)
        if self.inflated > GZIP_RATIO_FLOOR and self.inflated > self.max_ratio * max(self._counted.n_bytes, 1):
            raise GzipBombError(f"{self.kind} bomb: {self._counted.n_bytes:,} compressed bytes inflate to more than "
                                f"{self.inflated:,} (over max_gzip_ratio={self.max_ratio:g}); reading stopped")
        return data


class _CountingReader:
    def __init__(self, raw: BinaryIO):
        self.raw = raw
        self.n_bytes = 0

    def read(self, size: int = -1) -> bytes:
        data = self.raw.read(size)
        self.n_bytes += len(data)
        return data
