"""WARC/1.1 capture (rotating gzip files) and reading response records back.

Every HTTP exchange becomes a request record and a response record, each its own gzip
member, so any record can be read on its own from its offset. The body is stored as
received after content decoding (gzip/deflate/chunked removed, as Common Crawl does):
`Content-Length` then states the stored length and the original encoding is kept in
`X-Crawler-Content-Encoding`.
"""
from __future__ import annotations

import io
import os
import re
import threading
from collections.abc import Callable, Iterator
from typing import BinaryIO

from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from operators.news.fetch import Exchange

# Our own WARC header: why the crawler fetched a record (robots, sitemap, feed, seed,
# page). Extraction skips discovery records; files from elsewhere lack it.
KIND_HEADER = "Qazflow-Kind"
DISCOVERY_KINDS = frozenset({"robots", "sitemap", "feed", "seed"})
_HOP_BY_HOP = {"content-encoding", "transfer-encoding", "content-length", "connection", "keep-alive"}


def warc_name(site: str, sequence: int) -> str:
    """Deterministic per site and sequence: `127.0.0.1_8080-00003.warc.gz`."""
    return f"{re.sub(r'[^A-Za-z0-9.-]+', '_', site)}-{sequence:05d}.warc.gz"


def warc_sequence(name: str) -> tuple[str, int] | None:
    match = re.fullmatch(r"(.+)-(\d{5,})\.warc\.gz", os.path.basename(name))
    return (match.group(1), int(match.group(2))) if match else None


def warc_prefix(site: str) -> str:
    """The part of a site's WARC file names before the sequence."""
    return warc_name(site, 0).rsplit("-", 1)[0]


def next_sequence(files, site: str, at_least: int = 0) -> int:
    """The sequence a new writer for `site` starts at: after every one of `files` of that site."""
    prefix = warc_prefix(site)
    taken = [parsed[1] for name in files if (parsed := warc_sequence(name)) and parsed[0] == prefix]
    return max([at_least, *(seq + 1 for seq in taken)])


def _warc_date(exchange: Exchange) -> str:
    return exchange.date.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class RotatingWarcWriter:
    """Writes exchanges to `<site>-<seq>.warc.gz` files, starting a new file past `max_bytes`.

    Files are written in `staging_dir` as `NAME.open`; a finished file is handed to
    `publish(local_path, name)` (which moves or uploads it), so a crash never leaves a
    half-written file under its final name. Thread-safe.
    """

    def __init__(self, site: str, staging_dir: str, target_dir: str, first_sequence: int = 0,
                 max_bytes: int = 1 << 30, publish: Callable[[str, str], None] | None = None,
                 software: str = "qazflow"):
        self.site, self.staging_dir, self.target_dir = site, staging_dir, target_dir
        self.sequence = first_sequence
        self.max_bytes = max_bytes
        self.publish = publish or (lambda path, name: os.replace(path, os.path.join(target_dir, name)))
        self.software = software
        self.finished: list[str] = []  # URIs of published files
        self._lock = threading.Lock()
        self._file: BinaryIO | None = None
        self._writer: WARCWriter | None = None
        self._name: str | None = None

    def _open(self) -> None:
        os.makedirs(self.staging_dir, exist_ok=True)
        self._name = warc_name(self.site, self.sequence)
        self._file = open(os.path.join(self.staging_dir, self._name + ".open"), "wb")
        self._writer = WARCWriter(self._file, gzip=True, warc_version="1.1")
        info = {"software": self.software, "format": "WARC File Format 1.1",
                "conformsTo": "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/"}
        self._writer.write_record(self._writer.create_warcinfo_record(self._name, info))

    def uri(self, name: str) -> str:
        return f"{self.target_dir.rstrip('/')}/{name}" if "://" in self.target_dir else os.path.join(self.target_dir, name)

    def write(self, exchange: Exchange, kind: str) -> dict:
        """Appends the exchange; returns where its response record lies."""
        with self._lock:
            if self._file is None:
                self._open()
            writer = self._writer
            headers = [(k, v) for k, v in exchange.headers if k.lower() not in _HOP_BY_HOP]
            for k, v in exchange.headers:
                if k.lower() in ("content-encoding", "transfer-encoding", "content-length"):
                    headers.append((f"X-Crawler-{k}", v))
            headers.append(("Content-Length", str(len(exchange.body))))
            http = StatusAndHeaders(f"{exchange.status} {exchange.reason}".strip(), headers,
                                    protocol=exchange.http_version)
            common = {"WARC-Date": _warc_date(exchange), KIND_HEADER: kind}
            response = writer.create_warc_record(exchange.url, "response", payload=io.BytesIO(exchange.body),
                                                 http_headers=http, warc_headers_dict=dict(common))
            target = re.sub(r"^[a-z]+://[^/]+", "", exchange.url) or "/"
            request = writer.create_warc_record(
                exchange.url, "request", payload=io.BytesIO(b""),
                http_headers=StatusAndHeaders(f"GET {target} {exchange.http_version}", list(exchange.request_headers),
                                              is_http_request=True),
                warc_headers_dict={**common, "WARC-Concurrent-To": response.rec_headers.get_header("WARC-Record-ID")})
            writer.write_record(request)
            offset = self._file.tell()
            writer.write_record(response)
            ref = {"warc_file": self.uri(self._name), "warc_offset": offset,
                   "warc_record_id": response.rec_headers.get_header("WARC-Record-ID")}
            if self._file.tell() >= self.max_bytes:
                self._finish()
            return ref

    def _finish(self) -> None:
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        self.publish(os.path.join(self.staging_dir, self._name + ".open"), self._name)
        self.finished.append(self.uri(self._name))
        self._file = self._writer = self._name = None
        self.sequence += 1

    def close(self) -> list[str]:
        """Finishes the open file; returns every file this writer published."""
        with self._lock:
            if self._file is not None:
                self._finish()
            return list(self.finished)


def record_body(record, max_bytes: int | None) -> bytes:
    """The record's payload, content-decoded; at most `max_bytes + 1` bytes, so a caller can
    tell an oversized one."""
    content = record.content_stream()
    return content.read() if max_bytes is None else content.read(max_bytes + 1)


def record_fields(record, offset: int, body: bytes | None) -> dict:
    http = record.http_headers
    return {
        "url": record.rec_headers.get_header("WARC-Target-URI"),
        "warc_record_id": record.rec_headers.get_header("WARC-Record-ID"),
        "warc_date": record.rec_headers.get_header("WARC-Date"),
        "warc_offset": offset,
        "kind": record.rec_headers.get_header(KIND_HEADER),
        "record_type": record.rec_type,
        "http_status": int(http.get_statuscode()) if http and (http.get_statuscode() or "").isdigit() else None,
        # A conversion record (Common Crawl's WET text) has no HTTP headers, only the record's.
        "content_type": http.get_header("Content-Type") if http else record.rec_headers.get_header("Content-Type"),
        "language": record.rec_headers.get_header("WARC-Identified-Content-Language"),
        "body": body,
    }


def is_document_response(fields: dict) -> bool:
    """A response worth extracting: not our own discovery records (robots.txt, sitemaps,
    feeds, seed pages), and a 200 with a URL (redirects and errors are no documents); or a
    conversion record (text a crawler already extracted: Common Crawl's WET files)."""
    return (fields["kind"] not in DISCOVERY_KINDS and bool(fields["url"])
            and (fields["http_status"] == 200 or fields["record_type"] == "conversion"))


def iter_warc_responses(stream: BinaryIO, with_body: bool = True,
                        max_bytes: int | None = None) -> Iterator[tuple[dict, int]]:
    """(fields, offset) for every response record of a WARC stream (gzip or not).

    fields: url, warc_record_id, warc_date, warc_offset, kind, http_status, content_type,
    body (the HTTP payload, content-decoded; None unless `with_body`; at most
    `max_bytes + 1` bytes so a caller can tell an oversized one).
    """
    iterator = ArchiveIterator(stream, arc2warc=True)
    for record in iterator:
        if record.rec_type != "response":
            continue
        # the body before get_record_offset(), which reads the record to its end
        body = record_body(record, max_bytes) if with_body else None
        offset = iterator.get_record_offset()
        yield record_fields(record, offset, body), offset


def read_warc_response(stream: BinaryIO, offset: int, max_bytes: int | None = None) -> dict:
    """The response record at `offset` of a seekable WARC stream, with its body."""
    stream.seek(offset)
    record = next(iter(ArchiveIterator(stream, arc2warc=True)), None)
    if record is None or record.rec_type != "response":
        raise ValueError(f"no response record at offset {offset}")
    return record_fields(record, offset, record_body(record, max_bytes))
