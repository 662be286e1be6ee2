"""ArchiveTeam's .warc.zst (one zstd frame per record, a dictionary in a skippable frame
first) reads as the same records as the .warc.gz of the same crawl."""
from __future__ import annotations

import io

import pytest
import zstandard
from hypothesis import given, settings
from hypothesis import strategies as st
from warcio.archiveiterator import ArchiveIterator
from warcio.warcwriter import WARCWriter

from operators.news.warc_ranges import iter_warc_range
from operators.news.warc_zstd import DICTIONARY_FRAME, is_warc_zstd, whole_frames_end
from tests.unit.test_warc_ranges import GZ, REFERENCE, read_split, warc


def records(warc_data: bytes) -> list[bytes]:
    """The records of a WARC file, each as its own uncompressed bytes."""
    out = []
    for record in ArchiveIterator(io.BytesIO(warc_data), arc2warc=False):
        buffer = io.BytesIO()
        WARCWriter(buffer, gzip=False, warc_version="1.1").write_record(record)
        out.append(buffer.getvalue())
    return out


def warc_zst(dictionary: str = "compressed", warc_data: bytes | None = None) -> bytes:
    """A WARC file (the test crawl by default) as a .warc.zst: `dictionary` compressed (as
    ArchiveTeam writes it), raw (uncompressed in its frame), or none (plain frames)."""
    parts = records(warc(gzip_members=False) if warc_data is None else warc_data)
    trained = zstandard.train_dictionary(2048, parts * 4) if dictionary != "none" else None
    compressor = zstandard.ZstdCompressor(level=3, dict_data=trained) if trained else zstandard.ZstdCompressor()
    head = b""
    if trained is not None:
        data = trained.as_bytes()
        data = zstandard.ZstdCompressor().compress(data) if dictionary == "compressed" else data
        head = DICTIONARY_FRAME + len(data).to_bytes(4, "little") + data
    return head + b"".join(compressor.compress(part) for part in parts)


def read(data: bytes) -> list[tuple]:
    return [(f["url"], f["body"]) if f else ("error", e) for f, _, e in iter_warc_range(io.BytesIO(data))]


EXPECTED = [(url, body) for url, _, body in REFERENCE]


@pytest.mark.parametrize("dictionary", ["compressed", "raw", "none"])
def test_a_warc_zst_gives_the_records_of_its_warc_gz(dictionary):
    data = warc_zst(dictionary)
    assert is_warc_zstd(io.BytesIO(data)) and not is_warc_zstd(io.BytesIO(GZ))
    assert read(data) == EXPECTED
    assert len(data) < len(GZ)


def test_any_split_reads_it_once_by_the_range_at_zero():
    data = warc_zst()
    assert [(url, body) for url, _, body in read_split(data, [len(data) // 3, len(data) // 2])] == EXPECTED


def test_a_cut_file_keeps_the_records_before_the_cut_and_says_where_it_stopped():
    rows = read(warc_zst()[:-5000])
    assert rows[:-1] == EXPECTED[:len(rows) - 1] and 0 < len(rows) - 1 < len(EXPECTED)
    assert rows[-1][0] == "error" and "zstd" in rows[-1][1]


@pytest.mark.parametrize("head", [DICTIONARY_FRAME + (1 << 31).to_bytes(4, "little"),  # a 2 GiB "dictionary"
                                  DICTIONARY_FRAME + (100).to_bytes(4, "little") + b"short"])
def test_a_bad_dictionary_frame_is_one_error_row(head):
    [(what, detail)] = read(head + b"\0" * 64)
    assert what == "error" and "dictionary frame" in detail


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.binary(max_size=300_000), st.integers(1, 19), st.booleans(), st.booleans()),
                min_size=1, max_size=4), st.floats(0, 1))
def test_frames_are_walked_to_their_ends_without_decompressing(frames, cut):
    """Frames of any size (multi-block, incompressible, empty), with and without checksums and
    content sizes: the walk ends at the file's end, or at the start of the frame a cut falls in."""
    parts = [zstandard.ZstdCompressor(level=level, write_checksum=checksum, write_content_size=size).compress(
        data * 3 if len(data) % 2 else data) for data, level, checksum, size in frames]
    data = b"".join(parts)
    assert whole_frames_end(io.BytesIO(data)) == len(data)
    bounds = [sum(len(p) for p in parts[:i]) for i in range(len(parts) + 1)]
    at = int(cut * len(data))
    expected = max(b for b in bounds if b <= at)
    assert whole_frames_end(io.BytesIO(data[:at])) == expected
