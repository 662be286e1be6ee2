"""Readers of existing corpora: JSONL, TXT and Parquet files into document rows.

A reader takes the file's URI and an open binary stream, so it can be tested on bytes
and run on local or S3 files alike. Every problem becomes an error row for the smallest
unit it affects (a JSONL line, a file), never an exception.
"""
from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from typing import BinaryIO

import pyarrow.parquet as pq

from operators.documents import error_document, new_document

SOURCE = "text"
SUFFIXES = (".jsonl", ".jsonl.gz", ".ndjson", ".json", ".txt", ".txt.gz", ".parquet")


def kind_of(uri: str) -> str | None:
    name = uri.lower()
    if name.endswith((".jsonl", ".jsonl.gz", ".ndjson", ".json")):
        return "jsonl"
    if name.endswith((".txt", ".txt.gz")):
        return "txt"
    if name.endswith(".parquet"):
        return "parquet"
    return None


def describe_decode_error(exc: UnicodeDecodeError) -> str:
    bad = exc.object[exc.start : exc.start + 1].hex()
    return f"not valid UTF-8: byte 0x{bad} at offset {exc.start}"


class TextReader:
    """Turns one text-corpus file into documents.

    JSONL: one document per line, text in `text_field`, the record's `id_field` kept as
    `source_id` (else `file:line`). TXT: the whole file is one document. Parquet: one
    document per row.
    """

    name = "TextReader"

    def __init__(self, text_field: str = "text", id_field: str = "id", title_field: str = "title",
                 max_file_bytes: int = 64 << 20):
        self.text_field = text_field
        self.id_field = id_field
        self.title_field = title_field
        self.max_file_bytes = max_file_bytes

    def __call__(self, uri: str, stream: BinaryIO) -> Iterator[dict]:
        kind = kind_of(uri)
        try:
            if kind == "jsonl":
                yield from self._jsonl(uri, _maybe_gunzip(uri, stream))
            elif kind == "txt":
                yield from self._txt(uri, _maybe_gunzip(uri, stream))
            elif kind == "parquet":
                yield from self._parquet(uri, stream)
            else:
                yield self._error(uri, uri, f"unsupported file type (expected one of {', '.join(SUFFIXES)})")
        except (OSError, EOFError, ValueError) as exc:  # truncated gzip, unreadable Parquet, I/O errors
            yield self._error(uri, uri, f"{type(exc).__name__}: {exc}")

    def _error(self, uri: str, source_id: str, detail: str) -> dict:
        return error_document(SOURCE, uri, source_id, self.name, detail)

    def _record(self, uri: str, fallback_id: str, record: dict) -> dict:
        text = record.get(self.text_field)
        record_id = record.get(self.id_field)
        source_id = fallback_id if record_id is None else str(record_id)
        if not isinstance(text, str):
            found = "missing" if text is None else f"a {type(text).__name__}, not a string"
            return self._error(uri, source_id, f"field {self.text_field!r} is {found}")
        title = record.get(self.title_field)
        return new_document(SOURCE, uri, source_id, text, title if isinstance(title, str) else None)

    def _jsonl(self, uri: str, stream: BinaryIO) -> Iterator[dict]:
        n_records = 0
        for line_no, raw in enumerate(_lines(stream), start=1):
            if not raw.strip():
                continue
            n_records += 1
            where = f"{uri}:{line_no}"
            try:
                record = json.loads(raw.decode("utf-8"))
            except UnicodeDecodeError as exc:
                yield self._error(uri, where, f"line {line_no}: {describe_decode_error(exc)}")
                continue
            except json.JSONDecodeError as exc:
                yield self._error(uri, where, f"line {line_no}: invalid JSON: {exc.msg} at column {exc.colno}")
                continue
            if not isinstance(record, dict):
                yield self._error(uri, where, f"line {line_no}: expected a JSON object, got {type(record).__name__}")
                continue
            yield self._record(uri, where, record)
        if n_records == 0:
            yield self._error(uri, uri, "empty file: no records")

    def _txt(self, uri: str, stream: BinaryIO) -> Iterator[dict]:
        data = stream.read(self.max_file_bytes + 1)
        if len(data) > self.max_file_bytes:
            yield self._error(uri, uri, f"file larger than max_file_bytes={self.max_file_bytes}")
        elif not data.strip():
            yield self._error(uri, uri, "empty file")
        else:
            try:
                text = data.decode("utf-8-sig")
            except UnicodeDecodeError as exc:
                yield self._error(uri, uri, describe_decode_error(exc))
            else:
                yield new_document(SOURCE, uri, uri, text)

    def _parquet(self, uri: str, stream: BinaryIO) -> Iterator[dict]:
        parquet = pq.ParquetFile(stream)
        names = parquet.schema_arrow.names
        if self.text_field not in names:
            yield self._error(uri, uri, f"no column {self.text_field!r} (columns: {', '.join(names)})")
            return
        columns = [c for c in (self.text_field, self.id_field, self.title_field) if c in names]
        row_no = 0
        for batch in parquet.iter_batches(batch_size=1024, columns=columns):
            for record in batch.to_pylist():
                row_no += 1
                yield self._record(uri, f"{uri}:{row_no}", record)
        if row_no == 0:
            yield self._error(uri, uri, "empty file: no rows")


def _lines(stream: BinaryIO, chunk_size: int = 1 << 20) -> Iterator[bytes]:
    """Lines of any readable binary stream (object-store streams cannot iterate lines)."""
    pending = b""
    while chunk := stream.read(chunk_size):
        pending += chunk
        *complete, pending = pending.split(b"\n")
        yield from complete
    if pending:
        yield pending


def _maybe_gunzip(uri: str, stream: BinaryIO) -> BinaryIO:
    return gzip.GzipFile(fileobj=stream) if uri.lower().endswith(".gz") else stream
