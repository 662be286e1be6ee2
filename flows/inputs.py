"""Finding the run's input files and reading them inside Ray tasks."""
from __future__ import annotations

import errno
import os
from collections import Counter
from collections.abc import Iterator
from typing import NamedTuple

import pyarrow as pa
from omegaconf import DictConfig, OmegaConf

from flows.config import ConfigError, check_inputs
from flows.ledger import known_book_ids
from flows.storage import Storage, is_s3
from operators.base import rows_to_table
from operators.books.catalog import BookMatch, match_books, parse_catalog, unknown_languages
from operators.books.djvu import DJVU_SUFFIXES
from operators.books.images import IMAGE_SUFFIXES, natural_page_order
from operators.documents import error_document
from operators.text.readers import SOURCE as TEXT_SOURCE
from operators.text.readers import TextReader, kind_of
from schemas import CURATION, validate

BOOK_SUFFIXES = (".pdf", *DJVU_SUFFIXES, ".tif", ".tiff")
# .wet: Common Crawl's extracted text; .warc.zst: ArchiveTeam's (zstd with a dictionary)
WARC_SUFFIXES = (".warc", ".warc.gz", ".warc.zst", ".wet", ".wet.gz", ".arc", ".arc.gz")
ROWS_PER_BATCH = 2000
# A write that fails for one of these fails every write after it: say so once and stop.
DISK_ERRORS = {errno.ENOSPC: "no space left on the output's disk", errno.EROFS: "the output is on a read-only file system",
               errno.EACCES: "no permission to write the output", errno.EDQUOT: "disk quota exceeded on the output"}
PROBE_BYTES = 64 << 10  # a probe the size of a small parquet file: a disk with less room fails at once


def check_output_writable(cfg: DictConfig, storage: Storage) -> None:
    """Before Ray starts: the output can be written (not read-only, not full), else one
    line naming the output and the cause."""
    probe = os.path.join(cfg.output, f".qazflow-write-check-{os.getpid()}")
    if str(cfg.output).startswith("s3://"):
        return  # object stores answer on the first write; a probe would cost a request per run
    try:
        storage.write_bytes(probe, b"\0" * PROBE_BYTES)
    except OSError as exc:
        raise ConfigError(f"output: cannot write to {cfg.output}: {disk_failure(exc) or exc}") from None
    finally:
        for leftover in (probe, *(os.path.join(cfg.output, n) for n in _listdir(cfg.output)
                                  if n.startswith(os.path.basename(probe) + ".tmp"))):
            try:
                os.remove(leftover)
            except OSError:
                pass


def _listdir(path: str) -> list[str]:
    try:
        return os.listdir(path)
    except OSError:
        return []


def disk_failure(exc: BaseException | None) -> str | None:
    """"no space left ... (errno)" when `exc`, or what caused it (Ray wraps task errors
    in its own exceptions), is a write refused by the disk; None for anything else."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, OSError) and exc.errno in DISK_ERRORS:
            return f"{DISK_ERRORS[exc.errno]} ({exc.strerror or exc})"
        text = str(exc)
        for code, why in DISK_ERRORS.items():  # Ray and Arrow sometimes keep only the message
            if os.strerror(code) in text:
                return f"{why} ({os.strerror(code)})"
        exc = getattr(exc, "cause", None) or exc.__cause__ or exc.__context__
    return None


def _expand(storage: Storage, uris, accept, output: str) -> tuple[list[str], list[str]]:
    """Files named directly, plus accepted files inside named directories.

    Returns (files, ignored): hidden files and the run's own output are skipped; other
    files of a kind the source does not read are reported, not silently dropped.
    """
    files, ignored = [], []
    own_output = storage.resolve(output)[1].rstrip("/") + "/"
    for uri in map(str, uris):
        if storage.is_dir(uri):
            for path in storage.list_files(uri):
                name = os.path.basename(path)
                if name.startswith(".") or storage.resolve(path)[1].startswith(own_output):
                    continue
                (files if accept(path) else ignored).append(path)
        else:
            files.append(uri)
    return sorted(dict.fromkeys(files)), ignored


class Inputs(NamedTuple):
    """What a build reads, found before any work starts."""
    missing: list[str]  # paths in the config that do not exist (under inputs.on_missing=reject)
    text_files: list[str]
    books: list[dict]  # named and described by the catalog
    warcs: list[str]
    left_out: list[str]  # files in the folders given of a kind no source reads
    catalog: BookMatch


def find_inputs(cfg: DictConfig, storage: Storage) -> Inputs:
    missing = check_inputs(cfg, storage)
    text_files, ignored_text = find_text_files(cfg, storage)
    books, ignored_books = find_books(cfg, storage)
    warcs, ignored_warcs = find_warc_files(cfg, storage)
    left_out = files_left_out([ignored_text, ignored_books, ignored_warcs],
                              [text_files, warcs, *(book["files"] for book in books)])
    books, catalog = catalog_books(cfg, storage, books)
    return Inputs(missing, text_files, books, warcs, left_out, catalog)


def survey(found: Inputs, instructions: list[str], listed: int = 20) -> list[str]:
    """`qazflow inputs`: what a build with this configuration would read, by kind of file,
    and what it would leave out, in lines for a person (`listed` paths of each list)."""
    def kinds(paths) -> str:
        counts = Counter(_file_kind(p) for p in paths)
        return ", ".join(f"{kind} {n}" for kind, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))

    def paths(items: list[str]) -> list[str]:
        return [f"  {p}" for p in items[:listed]] + ([f"  ... and {len(items) - listed} more"] if len(items) > listed else [])

    absent = set(found.missing)
    text = [p for p in found.text_files if p not in absent]
    books = [b for b in found.books if b["uri"] not in absent]
    folders = [b for b in books if b["uri"] != b["files"][0]]
    scans = [b["uri"] for b in books if b["uri"] == b["files"][0]]
    catalogued = sum(1 for ref in found.catalog.books if ref.catalogued and ref.uri not in absent)
    book_kinds = ", ".join(filter(None, [kinds(scans),
                                         f"page-image folders {len(folders)} ({sum(len(b['files']) for b in folders)} "
                                         "pages)" if folders else ""]))
    lines = [f"text:          {len(text)} files" + (f" ({kinds(text)})" if text else ""),
             f"books:         {len(books)}" + (f" ({book_kinds})" if books else ""),
             f"catalog:       {catalogued} books catalogued, {len(books) - catalogued} not, "
             f"{len(found.catalog.missing)} catalogued without a scan (queued), {len(found.catalog.problems)} problems",
             *paths(found.catalog.problems),
             f"warc:          {len(found.warcs)} files" + (f" ({kinds(found.warcs)})" if found.warcs else ""),
             f"instructions:  {len(instructions)} files",
             f"left out:      {len(found.left_out)} files of a kind no source reads"
             + (f" ({kinds(found.left_out)})" if found.left_out else ""),
             *paths(found.left_out),
             f"missing:       {len(found.missing)} paths that do not exist", *paths(found.missing)]
    return lines


def _file_kind(path: str) -> str:
    """The file's kind as its name says it: "epub", "jsonl.zst", "warc.gz"."""
    name = os.path.basename(path.rstrip("/")).lower()
    parts = name.split(".")[1:]
    if len(parts) >= 2 and parts[-1] in ("gz", "zst", "zstd", "xz", "bz2", "zip"):
        return ".".join(parts[-2:])
    return parts[-1] if parts else "(no suffix)"


def files_left_out(ignored: list[list[str]], read: list[list[str]]) -> list[str]:
    """Files some source passed over in a folder that no other source reads (a PDF in a
    folder given to inputs.text and inputs.books is read as a book, not left out)."""
    taken = {path for paths in read for path in paths}
    return [path for path in dict.fromkeys(p for paths in ignored for p in paths) if path not in taken]


def find_text_files(cfg: DictConfig, storage: Storage) -> tuple[list[str], list[str]]:
    return _expand(storage, cfg.inputs.text, lambda p: kind_of(p) is not None, cfg.output)


def find_warc_files(cfg: DictConfig, storage: Storage) -> tuple[list[str], list[str]]:
    """`inputs.warc`: the files named, and the WARC files in the folders named (absolute
    paths: rows name the file they came from); other files there are reported as ignored."""
    files, ignored = _expand(storage, cfg.inputs.warc, lambda p: p.lower().endswith(WARC_SUFFIXES), cfg.output)
    return [f if is_s3(f) else os.path.abspath(f) for f in files], ignored


def find_books(cfg: DictConfig, storage: Storage) -> tuple[list[dict], list[str]]:
    """Books: PDFs, DjVu files, multi-page TIFFs, and folders of page images (one book per
    folder, pages in natural file-name order).

    A folder of page images is one book whatever the number of images in it: one PNG
    is a one-page book named after its folder, never an uncatalogued book named after
    the page ("0001"). A TIFF alone in its folder is a book of its own (a multi-page
    TIFF), and so is an image file named directly as an input.
    """
    files, ignored = _expand(storage, cfg.inputs.books, lambda p: p.lower().endswith(BOOK_SUFFIXES + IMAGE_SUFFIXES),
                             cfg.output)
    named = {str(u) for u in cfg.inputs.books}
    images_in: dict[str, list[str]] = {}
    for uri in files:
        if uri.lower().endswith(IMAGE_SUFFIXES) and uri not in named:
            images_in.setdefault(os.path.dirname(uri), []).append(uri)
    books, folders = [], {}
    for uri in files:
        pages = images_in.get(os.path.dirname(uri), [])
        lone_tiff = len(pages) == 1 and uri.lower().endswith((".tif", ".tiff"))
        if uri in pages and not lone_tiff:
            folders.setdefault(os.path.dirname(uri), pages)
        else:
            books.append({"uri": uri, "book_id": os.path.splitext(os.path.basename(uri))[0], "files": [uri]})
    for folder, pages in folders.items():
        books.append({"uri": folder, "book_id": os.path.basename(folder), "files": natural_page_order(pages)})
    if cfg.inputs.catalog:  # the catalog often lies next to the scans: it is read, not ignored
        catalog = storage.resolve(cfg.inputs.catalog)[1]
        ignored = [p for p in ignored if storage.resolve(p)[1] != catalog]
    return [{**b, "language": None} for b in sorted(books, key=lambda b: b["uri"])], ignored


def catalog_books(cfg: DictConfig, storage: Storage, books: list[dict]) -> tuple[list[dict], BookMatch]:
    """Books found on disk, named and described by the librarian's catalog (`inputs.catalog`).

    A catalogued book takes the catalog's book_id, title and language (or its collection's
    language from `ocr.collection_languages`); an uncatalogued one keeps the id an earlier
    run's ledger gave it, so its finished pages are found again.
    """
    catalog = parse_catalog(storage.read_bytes(cfg.inputs.catalog), os.path.basename(cfg.inputs.catalog)) \
        if cfg.inputs.catalog else None
    match = match_books(catalog.rows if catalog else [], [b["uri"] for b in books], list(map(str, cfg.inputs.books)),
                        known_book_ids(storage, cfg.output))
    if catalog:
        models = OmegaConf.select(cfg, "ocr.tesseract.languages", default=None) or {}
        match.problems[:0] = catalog.problems + unknown_languages(match.books, dict(models))
    collection_languages = cfg.ocr.collection_languages or {}
    refs = {ref.uri: ref for ref in match.books}
    named = []
    for book in books:
        ref = refs[book["uri"]]
        language = ref.language or collection_languages.get(ref.collection or "")
        named.append({**book, "book_id": ref.book_id, "title": ref.title, "language": language})
    return named, match


class ReadTextFiles:
    """One batch of file URIs → document tables, streamed in chunks (memory bounded)."""

    def __init__(self, storage: Storage, reader: TextReader):
        self.storage = storage
        self.reader = reader
        # Files storage failed to give (missing, vanished, a network error): worth another
        # try in the next run, unlike a file that was read and is bad.
        self.unreadable: set[str] = set()

    def __call__(self, batch: pa.Table) -> Iterator[pa.Table]:
        for uri in batch.column("uri").to_pylist():
            rows = []
            try:
                with self.storage.open_input(uri) as stream:
                    for row in self.reader(uri, stream):
                        rows.append(row)
                        if len(rows) >= ROWS_PER_BATCH:
                            yield validate(rows_to_table(rows, CURATION), CURATION)
                            rows = []
            except OSError as exc:  # missing or unreadable file
                self.unreadable.add(uri)
                rows.append(error_document(TEXT_SOURCE, uri, uri, self.reader.name, f"cannot open: {exc}"))
            except Exception as exc:  # whatever else goes wrong with one file costs that file only
                rows.append(error_document(TEXT_SOURCE, uri, uri, self.reader.name, f"{type(exc).__name__}: {exc}"))
            if rows:
                try:
                    table = validate(rows_to_table(rows, CURATION), CURATION)
                except Exception as exc:  # a row no table can hold: the file's last rows become one error row
                    table = validate(rows_to_table([error_document(
                        TEXT_SOURCE, uri, uri, self.reader.name, f"{type(exc).__name__}: {exc}")], CURATION), CURATION)
                yield table
