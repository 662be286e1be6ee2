"""Finding the run's input files and reading them inside Ray tasks."""
from __future__ import annotations

import os
from collections.abc import Iterator

import pyarrow as pa
from omegaconf import DictConfig

from flows.storage import Storage
from operators.base import rows_to_table
from operators.books.pdf import PdfTextLayer, page_row
from operators.documents import error_document
from operators.text.readers import SOURCE as TEXT_SOURCE
from operators.text.readers import TextReader, kind_of
from schemas import CURATION, PAGE, validate

BOOK_SUFFIXES = (".pdf",)
ROWS_PER_BATCH = 2000


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


def find_text_files(cfg: DictConfig, storage: Storage) -> tuple[list[str], list[str]]:
    return _expand(storage, cfg.inputs.text, lambda p: kind_of(p) is not None, cfg.output)


def find_books(cfg: DictConfig, storage: Storage) -> tuple[list[dict], list[str]]:
    files, ignored = _expand(storage, cfg.inputs.books, lambda p: p.lower().endswith(BOOK_SUFFIXES), cfg.output)
    books = [{"uri": uri, "book_id": os.path.splitext(os.path.basename(uri))[0]} for uri in files]
    return books, ignored


class ReadTextFiles:
    """One batch of file URIs → document tables, streamed in chunks (memory bounded)."""

    def __init__(self, storage: Storage, reader: TextReader):
        self.storage = storage
        self.reader = reader

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
                rows.append(error_document(TEXT_SOURCE, uri, uri, self.reader.name, f"cannot open: {exc}"))
            if rows:
                yield validate(rows_to_table(rows, CURATION), CURATION)


class ReadBookPages:
    """One batch of books → page rows (text layer, or marked for OCR)."""

    def __init__(self, storage: Storage, pdf: PdfTextLayer):
        self.storage = storage
        self.pdf = pdf

    def __call__(self, batch: pa.Table) -> Iterator[pa.Table]:
        for book in batch.to_pylist():
            try:
                data = self.storage.read_bytes(book["uri"])
            except OSError as exc:
                rows = [page_row(book["book_id"], 0, book["uri"], "none", error=f"cannot open: {exc}")]
            else:
                rows = list(self.pdf(book["book_id"], book["uri"], data))
            yield validate(pa.Table.from_pylist(rows, schema=PAGE), PAGE)
