"""A WARC file read in byte ranges gives each record exactly once, whatever the split."""
import gzip
import io

from hypothesis import given, settings
from hypothesis import strategies as st
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from operators.news.warc import iter_warc_responses
from operators.news.warc_ranges import byte_ranges, iter_warc_range, next_record_start, read_plan, splittable

TEXTS = ["Қазақ тілі — мемлекеттік тіл. Ұлттық кітапхана қорын цифрландыру жалғасуда.",
         "Казахстан — государство в Центральной Азии.",
         "Kazakh is a Turkic language."]


def warc(gzip_members: bool = True, pages: int = 40) -> bytes:
    """Responses (one a 404, some large) each after its request, and a warcinfo record."""
    out = io.BytesIO()
    writer = WARCWriter(out, gzip=gzip_members, warc_version="1.1")
    writer.write_record(writer.create_warcinfo_record("test.warc.gz", {"software": "qazflow-test"}))
    for i in range(pages):
        url = f"http://news.example.kz/{i}.html"
        body = f"<html><p>{TEXTS[i % 3] * (1 + (i * 37) % 200)}</p></html>".encode()
        status = "404 Not Found" if i == 7 else "200 OK"
        http = StatusAndHeaders(status, [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1")
        writer.write_record(writer.create_warc_record(url, "request", payload=io.BytesIO(b""),
                                                      http_headers=StatusAndHeaders("GET / HTTP/1.1", [],
                                                                                    is_http_request=True)))
        writer.write_record(writer.create_warc_record(url, "response", payload=io.BytesIO(body), http_headers=http))
    return out.getvalue()


GZ = warc()
REFERENCE = [(fields["url"], offset, fields["body"]) for fields, offset in iter_warc_responses(io.BytesIO(GZ))]


def read_split(data: bytes, cuts: list[int]) -> list[tuple]:
    bounds = sorted({0, len(data), *(c % len(data) for c in cuts)})
    out = []
    for start, end in zip(bounds, bounds[1:]):
        out += [(f["url"], o, f["body"]) if f else ("error", e) for f, o, e in
                iter_warc_range(io.BytesIO(data), start, end)]
    return out


def test_byte_ranges_cover_the_file():
    assert byte_ranges(10, 3) == [(0, 3), (3, 6), (6, 10)]
    assert byte_ranges(2, 5) == [(0, 1), (1, 2)]
    assert byte_ranges(0, 4) == [(0, 0)]


def test_read_plan_spreads_few_files_over_every_cpu():
    assert read_plan(["a", "b"], None, 8, 100) == [{"warc_file": "a", "start": 0, "end": None},
                                                   {"warc_file": "b", "start": 0, "end": None}]
    unknown = read_plan(["gone", "a"], [None, 1600], 2, 10**6)  # a size that could not be asked: read whole
    assert unknown[0] == {"warc_file": "gone", "start": 0, "end": None} and len(unknown) == 33
    one_big = read_plan(["a"], [1600], 2, 10**6)  # 16 ranges per CPU
    assert [(t["start"], t["end"]) for t in one_big] == byte_ranges(1600, 32)
    capped = read_plan(["a", "b"], [1000, 10], 1, 200, ranges_per_cpu=4)  # at most range_bytes; a small file stays whole
    assert [(t["warc_file"], t["start"], t["end"]) for t in capped] == [
        ("a", 0, 200), ("a", 200, 400), ("a", 400, 600), ("a", 600, 800), ("a", 800, 1000), ("b", 0, 10)]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=10**9), max_size=12))
def test_any_split_reads_every_record_once_in_order(cuts):
    assert read_split(GZ, cuts) == REFERENCE


def test_record_starts_are_found_and_not_guessed():
    offsets = [o for _, o, _ in REFERENCE]
    assert splittable(io.BytesIO(GZ))
    assert next_record_start(io.BytesIO(GZ), offsets[3] + 1) > offsets[3]
    assert next_record_start(io.BytesIO(GZ), offsets[3] + 1, offsets[3] + 2) is None
    assert next_record_start(io.BytesIO(GZ), len(GZ) - 5) is None


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=10**9), max_size=6), st.integers(min_value=0, max_value=39))
def test_a_damaged_record_costs_only_itself(cuts, damaged):
    offsets = [o for _, o, _ in REFERENCE]
    data = bytearray(GZ)
    at = offsets[damaged] + 30  # inside its compressed header: the member cannot be read
    data[at:at + 40] = b"\0" * 40
    rows = read_split(bytes(data), cuts)
    assert [r for r in rows if r[0] != "error"] == REFERENCE[:damaged] + REFERENCE[damaged + 1:]
    (error,) = [r for r in rows if r[0] == "error"]
    assert error[1].startswith("cannot read WARC:")


@settings(max_examples=20, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=10**9), max_size=6))
def test_files_that_cannot_be_entered_midway_are_read_whole_by_the_first_range(cuts):
    plain = warc(gzip_members=False)
    assert not splittable(io.BytesIO(plain))
    assert [r[0] for r in read_split(plain, cuts)] == [url for url, _, _ in REFERENCE]
    one_stream = gzip.compress(plain)  # not a member per record: warcio refuses it, one error row
    rows = read_split(one_stream, cuts)
    assert [r[0] for r in rows] == ["error"] and "non-chunked gzip" in rows[0][1]


def test_junk_is_one_error_row():
    junk = gzip.compress(b"no WARC record here\r\n" * 100)
    assert read_split(junk, [100, 200]) == [("error", read_split(junk, [])[0][1])]
    assert read_split(junk, [])[0][1].startswith("cannot read WARC: ArchiveLoadFailed")


@settings(max_examples=150, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=10**9), max_size=8),
       st.lists(st.tuples(st.integers(min_value=0, max_value=10**9), st.binary(min_size=1, max_size=24)),
                min_size=1, max_size=3))
def test_random_damage_never_breaks_the_reader_nor_loses_an_intact_record(cuts, damage):
    data = bytearray(GZ)
    spots = []
    for at, junk in damage:
        at %= len(data)
        data[at:at + len(junk)] = junk
        spots.append((at, at + len(junk)))
    data = bytes(data[:len(GZ)])
    members = [o for _, o, _ in REFERENCE] + [len(GZ)]
    rows = read_split(data, cuts)  # never raises
    read = [r for r in rows if r[0] != "error"]
    assert len({offset for _, offset, _ in read}) == len(read)  # no record twice
    starts = sorted({0, *members})
    for url, offset, body in REFERENCE:
        end = next(s for s in starts if s > offset)  # this record's member (and any request after it) ends by then
        if not any(lo < end and hi > offset for lo, hi in spots):
            assert (url, offset, body) in read, (url, offset)


def test_a_damaged_header_right_after_the_first_record_costs_only_that_record():
    # The first member is whole, the next one's gzip magic is not: the file is still one
    # member per record (found once, every split since it varied with the WARC's uuids).
    second = GZ.index(b"\x1f\x8b\x08", 1)
    data = GZ[:second + 1] + b"\x00" + GZ[second + 2:]
    for cuts in ([], [len(GZ) // 2]):
        rows = read_split(data, cuts)
        assert [r for r in rows if r[0] != "error"] == REFERENCE
