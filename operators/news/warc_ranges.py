"""One WARC file read by several tasks at once, each from its own byte range, with no
index pass.

A .warc.gz file is a series of gzip members, one per record, so a reader can start
anywhere: from the start of its range it looks for the next member that decompresses to
a WARC record header, and reads records while they begin inside its range. Every record
begins in exactly one range, so each is read exactly once, whatever the split. A
damaged record costs only itself: the reader reports it and looks for the next record
after it (a whole-file reader used to lose the rest of the file). The search skips
damaged records, so the range before reads on into one that follows it, to report it.
warcio itself ends quietly at a member whose checksum is broken; the reader then looks
for records after it and reports the stop. A hypothesis test damages random bytes and
checks that every intact record is still read, once.

One case can fool the search: a response whose body is itself a .warc.gz file, stored
as it is (deflate keeps incompressible bytes verbatim), with a range starting inside it.
Its inner records would then be read as records of the file. Crawls of news sites hardly
fetch such files; `news.extract.split_files: never` rules it out.

Files that are not per-record gzip (uncompressed WARC, ARC, zstd: operators/news/
warc_zstd.py) cannot be entered in the middle safely: they are read whole by the range
that starts at 0, and the other ranges of such a file yield nothing.
"""
from __future__ import annotations

import zlib
from collections.abc import Iterator
from typing import BinaryIO

from warcio.archiveiterator import ArchiveIterator

from operators.news.warc import record_body, record_fields
from operators.news.warc_zstd import decompressed, is_warc_zstd, whole_frames_end

GZIP_MAGIC = b"\x1f\x8b"
GZIP_MEMBER = b"\x1f\x8b\x08"  # magic + deflate: how every member starts
WARC_HEADER = (b"WARC/1.0\r\n", b"WARC/1.1\r\n")
SCAN_BYTES = 1 << 20  # read while looking for the next member
PROBE_BYTES = 1 << 16  # enough compressed bytes to decode a record's first line
MAX_DAMAGED_HEAD = 16  # damaged records at a file's head passed over to tell how it is compressed


def byte_ranges(size: int, parts: int) -> list[tuple[int, int]]:
    """[start, end) ranges that cover `size` bytes in `parts` (at least one) nearly equal pieces."""
    parts = max(1, min(parts, size))
    bounds = [size * i // parts for i in range(parts + 1)]
    return [(bounds[i], bounds[i + 1]) for i in range(parts)]


def read_plan(files: list[str], sizes: list[int | None] | None, cpus: int, range_bytes: int,
              ranges_per_cpu: int = 16) -> list[dict]:
    """What each extraction task reads: {warc_file, start, end}. Without sizes, whole files
    (end None). With them, each file in ranges of at most `range_bytes`, smaller where the
    files are few, so that there are `ranges_per_cpu` ranges per CPU at least (evening out
    the tail). A file of unknown size (None) is read whole: nothing is left unread on a
    size that could not be checked."""
    if sizes is None:
        sizes = [None] * len(files)
    known = sum(size for size in sizes if size is not None)
    range_bytes = max(1, min(range_bytes, known // (ranges_per_cpu * cpus)))
    return [{"warc_file": f, "start": start, "end": end} for f, size in zip(files, sizes)
            for start, end in ([(0, None)] if size is None else byte_ranges(size, -(-size // range_bytes)))]


def splittable(stream: BinaryIO) -> bool:
    """The file is gzip with one member per record: its first sound member is a WARC record
    and ends where the next member (or the file) begins. Not ARC nor uncompressed WARC (a
    file compressed as one gzip stream passes, and warcio refuses it with a clear error).
    Damaged records at the head do not make a file unsplittable: the search goes on past
    them (beyond the first SCAN_BYTES only if the file at least begins as gzip)."""
    stream.seek(0)
    limit = None if stream.read(len(GZIP_MAGIC)) == GZIP_MAGIC else SCAN_BYTES
    position = 0
    for _ in range(MAX_DAMAGED_HEAD):
        first = next_record_start(stream, position, limit)
        if first is None:
            return False
        if (end := _member_end(stream, first)) is not None:
            stream.seek(end)
            # The next member follows, or its header is damaged and a record member comes later.
            return (stream.read(len(GZIP_MEMBER)) in (b"", GZIP_MEMBER)
                    or next_record_start(stream, end, end + SCAN_BYTES) is not None)
        position = first + 1
    return False


def _member_end(stream: BinaryIO, position: int) -> int | None:
    """Where the gzip member at `position` ends, or None if it does not inflate whole."""
    stream.seek(position)
    member, read = zlib.decompressobj(wbits=31), position
    try:
        while not member.eof:
            chunk = member.unconsumed_tail or stream.read(SCAN_BYTES)
            if not chunk:
                return None
            read += 0 if member.unconsumed_tail else len(chunk)
            member.decompress(chunk, SCAN_BYTES)  # bounded output: a record may be large
    except zlib.error:
        return None
    return read - len(member.unused_data)


def _warc_member_at(stream: BinaryIO, position: int) -> bool:
    """A gzip member starts at `position` and decompresses to a WARC record header (random
    compressed bytes that look like a member header do not)."""
    stream.seek(position)
    try:
        head = zlib.decompressobj(wbits=31).decompress(stream.read(PROBE_BYTES), len(WARC_HEADER[0]))
    except zlib.error:
        return False
    return head in WARC_HEADER


def _record_begins_at(stream: BinaryIO, position: int) -> bool:
    """_warc_member_at, the stream left where it was (a reader is reading it)."""
    resume = stream.tell()
    try:
        return _warc_member_at(stream, position)
    finally:
        stream.seek(resume)


def next_record_start(stream: BinaryIO, position: int, end: int | None = None) -> int | None:
    """The offset of the first WARC record member at or after `position` and before `end`
    (None: to the end of the file); None if there is none."""
    while end is None or position < end:
        stream.seek(position)
        chunk = stream.read(SCAN_BYTES + len(GZIP_MEMBER) - 1)
        if len(chunk) < len(GZIP_MEMBER):
            return None
        at = chunk.find(GZIP_MEMBER)
        while at != -1 and at < SCAN_BYTES:
            if end is not None and position + at >= end:
                return None
            if _warc_member_at(stream, position + at):
                return position + at
            at = chunk.find(GZIP_MEMBER, at + 1)
        position += SCAN_BYTES
    return None


def iter_warc_range(stream: BinaryIO, start: int = 0, end: int | None = None, with_body: bool = True,
                    max_bytes: int | None = None) -> Iterator[tuple[dict | None, int | None, str | None]]:
    """(fields, offset, None) for every response record that begins in [start, end) of a
    seekable WARC file (fields as operators.news.warc.iter_warc_responses gives them), and
    (None, None, error) for each damaged stretch, after which reading goes on at the next
    record. `end` None: to the end of the file."""
    if is_warc_zstd(stream):
        if start == 0:
            yield from _whole_zstd(stream, with_body, max_bytes)
        return
    gzip_members = splittable(stream)
    if not gzip_members:
        if start > 0:
            return  # the range at 0 reads it whole
        end = None
    position: int | None = start
    if start > 0:
        position = next_record_start(stream, start, end)
    while position is not None and (end is None or position < end):
        stream.seek(position)
        iterator = ArchiveIterator(stream, arc2warc=True)
        seen = position  # the start of the last record read
        try:
            for record in iterator:
                if gzip_members and iterator.reader.decompressor is None:
                    # warcio reads a member it cannot inflate as plain bytes: garbage, not a record
                    raise ValueError(f"damaged gzip member at offset {iterator.offset}")
                fields = None
                if record.rec_type in ("response", "conversion"):  # read before the offset, which reads to the end
                    fields = record_fields(record, None, record_body(record, max_bytes) if with_body else None)
                # Until here iterator.offset is this record's start, where a failure is reported.
                offset = seen = iterator.get_record_offset()
                if fields is not None:
                    fields["warc_offset"] = offset
                    yield fields, offset, None
                if end is not None and iterator.offset >= end and _record_begins_at(stream, iterator.offset):
                    return  # the next record is the next range's (a damaged one, which the next range's
                    # search skips, is read on here, to be reported)
            if not gzip_members:
                return
            # warcio ends quietly at a member whose end it cannot inflate (a broken checksum):
            # records after it are looked for, and the stop is reported.
            position = next_record_start(stream, seen + 1, end)
            if position is not None:
                yield None, None, f"cannot read WARC: damaged gzip member after offset {seen}"
        except Exception as exc:  # a damaged record: reported, then the next one is looked for
            # The damaged record's start; past the last record read, since warcio's own offset
            # can fall back behind it when a member's end is damaged (records read twice).
            failed_at = max(iterator.offset, position, seen)
            yield None, None, f"cannot read WARC: {type(exc).__name__}: {exc}"
            position = next_record_start(stream, failed_at + 1, end) if gzip_members else None


def _whole_zstd(stream: BinaryIO, with_body: bool, max_bytes: int | None):
    """iter_warc_range's rows for a whole .warc.zst file: the records of its whole frames, then
    an error row where damage ends them (a zstd frame cannot be found again as a gzip
    member can) or the file is cut."""
    iterator = None
    try:
        end = whole_frames_end(stream)
        iterator = ArchiveIterator(decompressed(stream, end), arc2warc=True)
        for record in iterator:
            if record.rec_type not in ("response", "conversion"):
                continue
            fields = record_fields(record, None, record_body(record, max_bytes) if with_body else None)
            fields["warc_offset"] = offset = iterator.get_record_offset()
            yield fields, offset, None
    except Exception as exc:
        where = f" after decompressed offset {iterator.offset}" if iterator is not None else ""
        yield None, None, f"cannot read WARC (zstd){where}: {type(exc).__name__}: {exc}"
        return
    stream.seek(0, 2)
    if end < (size := stream.tell()):
        yield None, None, (f"cannot read WARC (zstd): the file is cut or damaged at offset {end:,} of {size:,}: "
                           "the records from there on are lost")
