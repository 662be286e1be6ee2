"""Zstandard-compressed WARC files (`.warc.zst`, IIPC's "Zstandard Compression for WARC
Files"), as ArchiveTeam writes its web archives: every record one zstd frame, all of them
compressed with one dictionary, which the file carries first in a skippable frame (magic
0x184D2A5D, itself zstd-compressed or not). warcio reads gzip only, so the file is
decompressed here, frame after frame, and warcio reads the plain records.

Such a file is read whole by one task (operators/news/warc_ranges.py); a record's offset
is its offset in the decompressed stream. The dictionary is bounded (MAX_DICTIONARY_BYTES),
and bodies are read only up to the caller's limit, so a hostile file costs time, not memory.

A zstd stream cut short (an interrupted download) decompresses quietly up to the cut, and
warcio takes a cut record for a whole one. So the frames are first walked by their block
headers (no decompression), and only whole frames are decompressed; where they stop short
of the file's end is reported.
"""
from __future__ import annotations

import io
from typing import BinaryIO

import zstandard

DICTIONARY_FRAME = (0x184D2A5D).to_bytes(4, "little")
ZSTD_FRAME = (0xFD2FB528).to_bytes(4, "little")
MAX_DICTIONARY_BYTES = 64 << 20  # ArchiveTeam's dictionaries are well under 1 MiB


def is_warc_zstd(stream: BinaryIO) -> bool:
    """The file begins as zstd does: a dictionary frame or a zstd frame."""
    stream.seek(0)
    return stream.read(4) in (DICTIONARY_FRAME, ZSTD_FRAME)


def whole_frames_end(stream: BinaryIO) -> int:
    """The offset where the file's run of whole frames (zstd or skippable) ends: its size when
    it is whole, else where a frame is cut or damaged beyond its block headers."""
    stream.seek(0)
    position = 0
    while magic := stream.read(4):
        if len(magic) < 4:
            return position
        number = int.from_bytes(magic, "little")
        if number & 0xFFFFFFF0 == 0x184D2A50:  # skippable: 4 bytes of size, then that many
            size = stream.read(4)
            end = position + 8 + int.from_bytes(size, "little")
            if len(size) < 4 or not _exists(stream, end):
                return position
        elif magic == ZSTD_FRAME:
            end = _frame_end(stream, position)
            if end is None:
                return position
        else:
            return position
        position = end
        stream.seek(position)
    return position


def _exists(stream: BinaryIO, end: int) -> bool:
    """The file has bytes up to `end` (it may end right there)."""
    stream.seek(end - 1)
    return len(stream.read(1)) == 1


def _frame_end(stream: BinaryIO, start: int) -> int | None:
    """Where the zstd frame at `start` ends (RFC 8878, 3.1.1), from its header and block
    headers; None if the file ends inside it or a header is impossible."""
    descriptor = stream.read(1)
    if not descriptor:
        return None
    flags = descriptor[0]
    single_segment, checksum, dictionary_id, content_size = flags >> 5 & 1, flags >> 2 & 1, flags & 3, flags >> 6
    if flags & 0x08:  # the reserved bit
        return None
    header = (1 + (0 if single_segment else 1) + (0, 1, 2, 4)[dictionary_id]
              + ((1 if single_segment else 0), 2, 4, 8)[content_size])
    position = start + 4 + header
    while True:
        stream.seek(position)
        block = stream.read(3)
        if len(block) < 3:
            return None
        value = int.from_bytes(block, "little")
        last, kind, size = value & 1, value >> 1 & 3, value >> 3
        if kind == 3:  # reserved block type
            return None
        position += 3 + (1 if kind == 1 else size)
        if last:
            end = position + 4 * checksum
            return end if _exists(stream, end) else None


def decompressed(stream: BinaryIO, end: int) -> BinaryIO:
    """The file's records up to `end` as plain WARC: a read-only stream that decompresses as it
    is read, with the file's own dictionary if it has one. ValueError for a damaged
    dictionary frame."""
    stream.seek(0)
    dictionary = None
    if stream.read(4) == DICTIONARY_FRAME:
        size = int.from_bytes(stream.read(4), "little")
        if size > MAX_DICTIONARY_BYTES:
            raise ValueError(f"dictionary frame of {size:,} bytes (more than {MAX_DICTIONARY_BYTES:,}): not a WARC dictionary")
        data = stream.read(size)
        if len(data) < size:
            raise ValueError(f"dictionary frame cut short: {len(data):,} of {size:,} bytes")
        if data.startswith(ZSTD_FRAME):  # the spec lets the dictionary itself be compressed
            data = zstandard.ZstdDecompressor().stream_reader(data).read(MAX_DICTIONARY_BYTES)
        dictionary = zstandard.ZstdCompressionDict(data)
    else:
        stream.seek(0)
    decompressor = zstandard.ZstdDecompressor(dict_data=dictionary) if dictionary else zstandard.ZstdDecompressor()
    return decompressor.stream_reader(_Upto(stream, end), read_across_frames=True, closefd=False)


class _Upto(io.RawIOBase):
    """A stream that ends at `end`."""

    def __init__(self, stream: BinaryIO, end: int):
        self.stream, self.end = stream, end

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        left = self.end - self.stream.tell()
        return self.stream.read(left if size is None or size < 0 else min(size, left)) if left > 0 else b""
