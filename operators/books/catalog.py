"""The librarians' catalog: CSV rows or an Excel sheet's → catalog entries, and scans →
catalogued books.

Catalogs come from spreadsheets: saved as .xlsx, or as CSV with a byte-order mark, `;` as
the delimiter (Excel in a Russian or Kazakh locale), blank lines, stray columns. A bad row
is reported with its line number and skipped; it never stops a run. Columns beyond the
known ones are kept as metadata (JSON), so nothing a librarian wrote is lost.

Matching a scan to its row: by the `file` column (a path relative to the books root),
else by `book_id` equal to the file's stem or the folder's name. A scan without a row
still becomes a book, with an id made from its path and `catalogued=False`; a row
whose scan is not there yet is returned as missing (the ledger shows it "queued").
"""
from __future__ import annotations

import csv
import datetime
import hashlib
import io
import json
import os
import posixpath
import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field

from operators.books.djvu import DJVU_SUFFIXES
from operators.books.images import IMAGE_SUFFIXES
from operators.text.readers import decode_legacy

COLUMNS = ("book_id", "title", "author", "year", "language", "collection", "file")
# Headers librarians actually write for the known columns.
ALIASES = {
    "id": "book_id", "bookid": "book_id", "book": "book_id",
    "name": "title", "lang": "language", "path": "file", "filename": "file", "file_name": "file",
    "scan": "file", "fond": "collection",
    # Russian and Kazakh catalogs (after lower-casing, spaces as "_")
    "шифр": "book_id", "инв._номер": "book_id", "инвентарный_номер": "book_id", "идентификатор": "book_id",
    "название": "title", "заглавие": "title", "атауы": "title", "кітап_атауы": "title",
    "автор": "author", "авторы": "author",
    "год": "year", "год_издания": "year", "жылы": "year", "басылым_жылы": "year",
    "язык": "language", "тілі": "language", "тіл": "language",
    "коллекция": "collection", "фонд": "collection", "қор": "collection", "жинақ": "collection",
    "файл": "file", "путь": "file", "скан": "file", "файл_атауы": "file",
}
# Language names and codes seen in catalogs → the codes the pipeline routes on.
LANGUAGES = {
    "kk": "kk", "kaz": "kk", "kz": "kk", "kazakh": "kk", "қазақ": "kk", "қаз": "kk", "казахский": "kk",
    "ru": "ru", "rus": "ru", "russian": "ru", "орыс": "ru", "русский": "ru", "рус": "ru",
    "en": "en", "eng": "en", "english": "en", "ағылшын": "en", "английский": "en",
    "каз": "kk", "ағыл": "en", "англ": "en",  # librarians' abbreviations ("каз.", "англ.")
}
LANGUAGE_WORD = re.compile(r" (?:тілі|язык|language)$")  # "қазақ тілі", "русский язык"
DELIMITERS = (",", ";", "\t")
SCAN_SUFFIXES = (".pdf", *DJVU_SUFFIXES, *IMAGE_SUFFIXES)


@dataclass(frozen=True)
class CatalogRow:
    line: int  # line in the CSV where the row starts, for messages to the librarian
    book_id: str
    title: str | None = None
    author: str | None = None
    year: str | None = None
    language: str | None = None
    collection: str | None = None
    file: str | None = None
    metadata: dict = field(default_factory=dict)  # the other columns, non-empty values only

    def metadata_json(self) -> str | None:
        return json.dumps(self.metadata, ensure_ascii=False, sort_keys=True) if self.metadata else None


@dataclass
class Catalog:
    rows: list[CatalogRow]
    problems: list[str]  # "catalog.csv line 7: ..." — shown in the report, never fatal


@dataclass(frozen=True)
class BookRef:
    """One book of a run: where its scan is and what the catalog says about it."""

    book_id: str
    uri: str | None  # the PDF/TIFF file or page-image folder; None when the scan is missing
    file: str | None  # path relative to its books root (or the catalog's `file` when missing)
    title: str | None = None
    author: str | None = None
    year: str | None = None
    language: str | None = None
    collection: str | None = None
    catalogued: bool = False
    metadata: str | None = None  # JSON of the catalog's other columns

    def ledger_fields(self) -> dict:
        return {k: getattr(self, k) for k in ("book_id", "title", "author", "year", "language", "collection",
                                              "file", "catalogued", "metadata")}


@dataclass
class BookMatch:
    books: list[BookRef]  # every scan found, catalogued or not, sorted by uri
    missing: list[CatalogRow]  # catalog rows without a scan (yet)
    problems: list[str]


def _decode(data: bytes, name: str) -> tuple[str, list[str]]:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):  # Excel's "Unicode text"
        try:
            return data.decode("utf-16"), []
        except UnicodeDecodeError as exc:  # cut off mid-character, or a lone surrogate
            return data.decode("utf-16", errors="replace"), [
                f"{name}: damaged UTF-16 (byte {exc.start}); unreadable characters replaced by \ufffd"]
    try:
        return data.decode("utf-8-sig"), []
    except UnicodeDecodeError as exc:
        # Excel saves "CSV" in the Windows code page: cp1251, or KZ-1048 on Kazakh systems (cp1251
        # has no ә ғ қ ң ө ұ ү һ). The guess is said, since Kazakh letters depend on it.
        text, encoding = decode_legacy(data) or (data.decode("cp1251", errors="replace"), "cp1251")
        return text, [f"{name}: not UTF-8 (byte {exc.start}); read as {encoding}: if titles look wrong, "
                      "save the catalog as 'CSV UTF-8'"]


def _delimiter(text: str) -> str:
    header = next((line for line in text.splitlines() if line.strip()), "")
    counts = {d: header.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def _header_name(raw: str) -> str:
    name = raw.strip().lstrip("\ufeff").strip().lower().replace(" ", "_").replace("-", "_")
    return ALIASES.get(name, name)


def normalize_language(value: str | None) -> str | None:
    """"kk", "Қазақ тілі", "каз.", "Русский язык" → the code; anything else as written."""
    if value is None or not value.strip():
        return None
    key = " ".join(value.lower().split()).rstrip(".")
    key = LANGUAGE_WORD.sub("", key)
    return LANGUAGES.get(key, key)


def normalize_file(value: str | None) -> str | None:
    """A catalog path as written on Windows or Unix → a clean '/'-separated relative path."""
    if value is None or not value.strip():
        return None
    value = value.strip().strip('"').replace("\\", "/")
    if value.startswith("s3://"):
        return value.rstrip("/")
    value = posixpath.normpath(value)
    return value.removeprefix("./")


def _stem(path: str) -> str:
    """A book's name: a scan file's stem, a page-image folder's whole name ("vol.1")."""
    name = posixpath.basename(path.rstrip("/"))
    stem, ext = os.path.splitext(name)
    return stem if ext.lower() in SCAN_SUFFIXES else name


def parse_catalog(data: bytes, name: str = "catalog") -> Catalog:
    """Catalog bytes (CSV, or an Excel workbook: .xlsx) → rows and problems (bad rows are
    skipped and reported)."""
    if data.startswith(b"PK\x03\x04"):  # a zip: the workbook Excel saves, whatever the name says
        return _rows_to_catalog(*_xlsx_rows(data, name), name)
    if data.startswith(b"\xd0\xcf\x11\xe0"):  # the OLE container of Excel 97-2003
        return Catalog([], [f"{name}: an Excel 97-2003 workbook (.xls), which is not read: save it as .xlsx or CSV"])
    text, problems = _decode(data, name)
    return _rows_to_catalog(_csv_rows(text, name, problems), problems, name)


def _csv_rows(text: str, name: str, problems: list[str]) -> Iterator[tuple[int, list[str]]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:  # e.g. a NUL byte or an unterminated quote at the end
            problems.append(f"{name} line {reader.line_num}: unreadable CSV ({exc}); row skipped")
            continue
        yield reader.line_num, cells


def _xlsx_rows(data: bytes, name: str) -> tuple[Iterator[tuple[int, list[str]]], list[str]]:
    """The first worksheet's rows as text cells ("line" = the sheet's row number): numbers as
    written (1965, not 1965.0), dates as ISO dates. A workbook openpyxl cannot open, or a
    sheet damaged part-way, is a problem, with the rows before the damage kept."""
    import openpyxl

    problems: list[str] = []
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        sheet = book.worksheets[0]
    except Exception as exc:  # not a workbook, damaged, encrypted: the catalog is unreadable
        return iter(()), [f"{name}: not a readable Excel workbook ({type(exc).__name__}: {exc})"]

    def rows() -> Iterator[tuple[int, list[str]]]:
        number = 0
        try:
            for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
                yield number, [_cell_text(value) for value in values]
        except Exception as exc:
            problems.append(f"{name} line {number + 1}: unreadable worksheet ({type(exc).__name__}: {exc}); "
                            "the rows from there on are skipped")
        finally:
            book.close()

    return rows(), problems


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime.datetime):
        return value.date().isoformat() if value.time() == datetime.time() else value.isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)


def _rows_to_catalog(lines: Iterator[tuple[int, list[str]]], problems: list[str], name: str) -> Catalog:
    header: list[str] | None = None
    rows: list[CatalogRow] = []
    seen_ids: dict[str, int] = {}
    seen_files: dict[str, int] = {}
    for line, cells in lines:
        if not any(c.strip() for c in cells):
            continue  # blank line, or a row of empty cells
        if header is not None:
            try:
                row = _catalog_row(cells, header, line, name, seen_ids, seen_files, problems)
            except Exception as exc:  # one row's surprise costs that row only
                problems.append(f"{name} line {line}: {type(exc).__name__}: {exc}; row skipped")
                continue
            if row is not None:
                rows.append(row)
            continue
        header = [_header_name(c) for c in cells]
        if "book_id" not in header and "file" not in header:
            problems.append(f"{name} line {line}: the header names neither book_id nor file "
                            f"(found: {', '.join(header)}); no row can be read")
            return Catalog([], problems)
        duplicates = sorted({h for h in header if h and header.count(h) > 1})
        if duplicates:
            problems.append(f"{name} line {line}: repeated column(s) {', '.join(duplicates)}; the first is used")
    if header is None:
        problems.append(f"{name}: empty catalog")
    return Catalog(rows, problems)


def _catalog_row(cells: list[str], header: list[str], line: int, name: str, seen_ids: dict[str, int],
                 seen_files: dict[str, int], problems: list[str]) -> CatalogRow | None:
    """One data row → its catalog entry, or None (and a problem) when it is skipped."""
    if len(cells) > len(header) and any(c.strip() for c in cells[len(header):]):
        problems.append(f"{name} line {line}: {len(cells)} fields but the header has {len(header)} "
                        "(an unquoted delimiter inside a value?); row skipped")
        return None
    values: dict[str, str] = {}
    for column, cell in zip(header, cells):
        if column and column not in values:
            values[column] = cell.strip()
    known = {c: (values.get(c) or None) for c in COLUMNS}
    known["file"] = normalize_file(known["file"])
    known["language"] = normalize_language(known["language"])
    if not known["book_id"]:
        if not known["file"]:
            problems.append(f"{name} line {line}: neither book_id nor file given; row skipped")
            return None
        known["book_id"] = _stem(known["file"])
    if known["book_id"] in seen_ids:
        problems.append(f"{name} line {line}: book_id {known['book_id']!r} already on line "
                        f"{seen_ids[known['book_id']]}; row skipped")
        return None
    if known["file"] and known["file"] in seen_files:
        problems.append(f"{name} line {line}: file {known['file']!r} already on line "
                        f"{seen_files[known['file']]}; row skipped")
        return None
    seen_ids[known["book_id"]] = line
    if known["file"]:
        seen_files[known["file"]] = line
    extra = {k: v for k, v in values.items() if k not in COLUMNS and v}
    return CatalogRow(line=line, metadata=extra, **known)


def _local(uri: str) -> str:
    return uri.rstrip("/") if uri.startswith("s3://") else os.path.normpath(os.path.abspath(uri))


def relative_path(uri: str, books_roots: list[str]) -> str:
    """The book's path relative to the deepest books root holding it (its name when
    the book was named directly)."""
    target = _local(uri)
    for root in sorted((_local(str(r)) for r in books_roots), key=len, reverse=True):
        if target == root:
            return posixpath.basename(target.replace(os.sep, "/"))
        prefix = root if root.endswith(("/", os.sep)) else root + ("/" if root.startswith("s3://") else os.sep)
        if target.startswith(prefix):
            return target[len(prefix):].replace(os.sep, "/")
    return posixpath.basename(target.replace(os.sep, "/"))


def _short_hash(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:8]


def _unique(candidates: list[str], claimed: set[str]) -> tuple[str | None, int]:
    free = [c for c in dict.fromkeys(candidates) if c not in claimed]
    return (free[0] if len(free) == 1 else None), len(free)


def match_books(catalog_rows: list[CatalogRow], found: list[str], books_roots: list[str],
                known_ids: dict[str, str] | None = None) -> BookMatch:
    """Scans found (PDF/TIFF files and page-image folders, as URIs) + catalog rows →
    books, catalog rows still missing a scan, and problems.

    Rows naming a `file` are matched first (exact relative path, then ignoring case,
    then by file name when the row gives no folder); a row whose file is not found is
    missing, never guessed. Rows without a file are matched by book_id = stem or folder
    name. A scan without a row gets its stem as id, or, when that is taken, stem + a
    hash of its path; `known_ids` (relative path → id, from an
    earlier ledger) keeps an uncatalogued book's id stable across runs.
    """
    uris = sorted(dict.fromkeys(map(str, found)))
    rel = {u: relative_path(u, books_roots) for u in uris}
    by_path, by_path_ci, by_name, by_stem, by_stem_ci = (defaultdict(list) for _ in range(5))
    for u in uris:
        by_path[rel[u]].append(u)
        by_path[_local(u)].append(u)
        by_path_ci[rel[u].casefold()].append(u)
        by_name[posixpath.basename(rel[u]).casefold()].append(u)
        by_stem[_stem(rel[u])].append(u)
        by_stem_ci[_stem(rel[u]).casefold()].append(u)

    problems: list[str] = []
    claimed: dict[str, CatalogRow] = {}
    unmatched: list[CatalogRow] = []
    missing: list[CatalogRow] = []
    for row in catalog_rows:  # pass 1: explicit files
        if not row.file:
            unmatched.append(row)
            continue
        path = _local(row.file) if row.file.startswith("s3://") or os.path.isabs(row.file) else row.file
        choice = None
        for index, key in ((by_path, path), (by_path_ci, path.casefold()),
                           (by_name, path.casefold() if "/" not in path else None)):
            if key is None or not index.get(key):
                continue
            choice, n = _unique(index[key], set(claimed))
            if n > 1:
                problems.append(f"catalog line {row.line}: file {row.file!r} matches {n} scans; none chosen")
            if choice or n > 1:
                break
        if choice:
            claimed[choice] = row
        else:
            missing.append(row)  # the named file is not there (yet): never guessed by name

    for row in unmatched:  # pass 2: book_id = stem or folder name
        choice = None
        for index, key in ((by_stem, row.book_id), (by_stem_ci, row.book_id.casefold())):
            if index.get(key):
                choice, n = _unique(index[key], set(claimed))
                if n > 1:
                    problems.append(f"catalog line {row.line}: book_id {row.book_id!r} matches {n} scans by name; "
                                    "give the file column")
                if choice or n > 1:
                    break
        if choice:
            claimed[choice] = row
        else:
            missing.append(row)

    taken = {r.book_id for r in catalog_rows}
    loose = [u for u in uris if u not in claimed]
    ids: dict[str, str] = {}
    for u in loose:  # ids remembered from earlier runs first, so they do not move
        remembered = (known_ids or {}).get(rel[u])
        if remembered and remembered not in taken:
            ids[u] = remembered
            taken.add(remembered)
    stems = defaultdict(list)
    for u in loose:
        if u not in ids:
            stems[_stem(rel[u])].append(u)
    for stem, group in stems.items():
        for u in group:
            book_id = stem if len(group) == 1 and stem not in taken else f"{stem}-{_short_hash(rel[u])}"
            if book_id in taken:  # the same relative path under two roots
                book_id = f"{stem}-{_short_hash(u)}"
            ids[u] = book_id
            taken.add(book_id)

    books = []
    for u in uris:
        if u in claimed:
            row = claimed[u]
            books.append(BookRef(book_id=row.book_id, uri=u, file=rel[u], title=row.title, author=row.author,
                                 year=row.year, language=row.language, collection=row.collection, catalogued=True,
                                 metadata=row.metadata_json()))
        else:
            books.append(BookRef(book_id=ids[u], uri=u, file=rel[u]))
    return BookMatch(books, sorted(missing, key=lambda r: r.line), problems)


def missing_book(row: CatalogRow) -> BookRef:
    """A catalog row without a scan, as a book the ledger lists as queued."""
    return BookRef(book_id=row.book_id, uri=None, file=row.file, title=row.title, author=row.author, year=row.year,
                   language=row.language, collection=row.collection, catalogued=True, metadata=row.metadata_json())


def unknown_languages(books: list[BookRef], models: dict[str, str]) -> list[str]:
    """One problem per catalog language no OCR models are configured for (`models`: language →
    Tesseract languages, with a "default"), e.g. "kz/ru" or a typo: such books are read as
    uncatalogued ones are, which the librarian should know."""
    unknown: dict[str, list[str]] = {}
    for book in books:
        if models and book.catalogued and book.language and book.language not in models:
            unknown.setdefault(book.language, []).append(book.book_id)
    return [f"catalog language {language!r} ({len(ids)} book(s), e.g. {ids[0]}) is none of "
            f"{', '.join(k for k in models if k != 'default')}: read as uncatalogued "
            f"({models.get('default')} first, then by each page's own language)"
            for language, ids in sorted(unknown.items())]
