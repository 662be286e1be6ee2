"""Property-based tests of the readers of librarians' files: JSONL, TXT and Parquet
(operators/text/readers.py) and the catalog CSV (operators/books/catalog.py).

For any input: nothing raises; every text that comes out is valid UTF-8 and fits the
document contract; every input line or record is accounted for, kept or as an error row
(a skipped catalog row as a problem). Inputs mix encodings, byte-order marks, NULs,
invalid UTF-8, lines longer than the limit and chunk boundaries inside lines. Kept fast:
a few hundred small examples per property, no deadline (the machine is shared).
"""
from __future__ import annotations

import codecs
import csv
import io
import json
import tracemalloc

import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from operators.base import rows_to_table
from operators.books.catalog import parse_catalog
from operators.text.json_array import JsonArrayError, is_json_array, json_array
from operators.text.readers import OverlongLine, TextReader, _lines, decode_legacy
from schemas import CURATION, validate

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Text as librarians' files hold it: Kazakh and Russian letters, NULs and control
# characters, BOMs, no-break spaces, line separators that are not "\n".
KAZAKH_AND_HOSTILE = st.text(
    alphabet=st.one_of(st.sampled_from(list("әғқңөұүһіӘҒҚҢӨҰҮҺІабвгдеёжзАБВ azAZ09.,;\"'\\{}[]:\t\r\x00\x1f\ufeff"
                                            "\u00a0\u2028\u200b\ufffd")),
                       st.characters(blacklist_categories=("Cs",))),
    max_size=40)


def valid_utf8(value) -> bool:
    """None, or a str every UTF-8 writer can hold (no lone surrogates)."""
    if value is None:
        return True
    try:
        return isinstance(value, str) and bool(value.encode("utf-8") or True)
    except UnicodeEncodeError:
        return False


def assert_documents(rows: list[dict]) -> None:
    """Every row is kept or an error row of the reader, and the batch fits the contract."""
    for row in rows:
        assert row["reason"] in (None, "TextReader")
        assert (row["reason"] is None) == (row["detail"] is None)
        for column in ("text", "title", "source_id", "detail", "uri"):
            assert valid_utf8(row[column]), column
    validate(rows_to_table(rows, CURATION), CURATION)  # raises if any row breaks the schema


# ---------------------------------------------------------------- JSONL

def encoded_line(draw) -> bytes:
    """One JSONL line, made hostile in one of several ways."""
    record = {"id": draw(st.one_of(st.none(), st.integers(), KAZAKH_AND_HOSTILE)),
              "text": draw(st.one_of(KAZAKH_AND_HOSTILE, st.none(), st.integers(), st.lists(st.integers(), max_size=3))),
              "title": draw(st.one_of(st.none(), KAZAKH_AND_HOSTILE))}
    how = draw(st.sampled_from(["utf8", "ascii-escaped", "cp1251", "utf16", "garbage", "blank", "lone-surrogate",
                                "not-an-object", "huge"]))
    text = json.dumps(record, ensure_ascii=how == "ascii-escaped")
    if how == "cp1251":
        return text.encode("cp1251", errors="replace")
    if how == "utf16":
        return text.encode("utf-16")  # a BOM and NUL bytes in the middle of a UTF-8 file
    if how == "garbage":
        return draw(st.binary(max_size=60)).replace(b"\n", b"")
    if how == "blank":
        return draw(st.sampled_from([b"", b" ", b"\t\r", b"\x0b\x0c"]))
    if how == "lone-surrogate":  # JSON escapes can spell what no UTF-8 file can hold
        return b'{"id": "\\udc80", "text": "a\\ud800b", "title": "\\udfff"}'
    if how == "not-an-object":
        return draw(st.sampled_from([b"[1, 2]", b"null", b'"text"', b"[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]"]))
    if how == "huge":
        return json.dumps({"text": "қ" * draw(st.integers(200, 3000))}).encode()
    return text.encode("utf-8")


@st.composite
def jsonl_files(draw) -> bytes:
    lines = [encoded_line(draw) for _ in range(draw(st.integers(0, 8)))]
    data = b"\n".join(lines) + draw(st.sampled_from([b"", b"\n", b"\r\n"]))
    return (codecs.BOM_UTF8 if draw(st.booleans()) else b"") + data


def records_in(data: bytes, max_line_bytes: int) -> int:
    """What the reader must account for: every line that is not blank, and every line
    over the limit (it is rejected unread, blank or not); an empty file is one error row."""
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    n = sum(1 for line in lines if len(line) > max_line_bytes or line.strip())
    return max(n, 1)


@FAST
@given(jsonl_files(), st.sampled_from([64, 1000, 64 << 20]))
def test_jsonl_never_raises_and_accounts_for_every_line(data, max_line_bytes):
    assume(not is_json_array(data[:4096]))  # one JSON array is read element by element (below)
    rows = list(TextReader(max_line_bytes=max_line_bytes)("in.jsonl", io.BytesIO(data)))
    assert len(rows) == records_in(data, max_line_bytes)
    assert_documents(rows)
    assert len({r["doc_id"] for r in rows}) == len(rows)  # one id per line, even with repeated record ids
    for row in rows:
        if row["reason"] is None:
            assert isinstance(row["text"], str) and row["n_chars"] == len(row["text"])


JSON_VALUES = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | KAZAKH_AND_HOSTILE,
                           lambda children: st.lists(children, max_size=3)
                           | st.dictionaries(KAZAKH_AND_HOSTILE, children, max_size=3), max_leaves=12)


@FAST
@given(st.lists(JSON_VALUES, max_size=6), st.sampled_from([None, 0, 2]), st.booleans(), st.integers(1, 64),
       st.floats(0, 1))
@example([0.5, None, None], 0, False, 1, 0.25)  # found in CI: "0." at a cut was read as 0
def test_a_json_array_streams_back_element_by_element_whatever_the_chunks(elements, indent, ascii_only, chunk, cut):
    """Every element comes back equal, read in chunks of any size; a cut file gives the
    elements before the cut, then one error, never an exception."""
    data = json.dumps(elements, indent=indent, ensure_ascii=ascii_only).encode("utf-8")
    assert [e for _, e in json_array(io.BytesIO(data), 1 << 20, chunk)] == elements
    out = list(json_array(io.BytesIO(data[:int(len(data) * cut)]), 1 << 20, chunk))
    values = [e for _, e in out if not isinstance(e, JsonArrayError)]
    assert values == elements[:len(values)]
    assert sum(isinstance(e, JsonArrayError) for _, e in out) <= 1


@FAST
@given(st.lists(st.tuples(KAZAKH_AND_HOSTILE, KAZAKH_AND_HOSTILE), max_size=8), st.sampled_from([",", ";", "\t"]),
       st.sampled_from(["utf-8", "utf-8-sig", "utf-16"]), st.booleans())
def test_csv_gives_back_every_record_it_was_given(records, delimiter, encoding, tsv):
    """Any text in any field (quotes, delimiters, newlines, NULs), written by Python's csv
    module: each record with a non-blank field comes back kept with its text, or as an error
    row (a NUL, or a bare "\r" csv cannot read back); nothing else comes out."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter="\t" if tsv else delimiter, lineterminator="\r\n")
    writer.writerows([["id", "text"], *records])
    rows = list(TextReader()("d.tsv" if tsv else "d.csv", io.BytesIO(out.getvalue().encode(encoding))))
    assert_documents(rows)
    expected = [text for record_id, text in records if (record_id + text).strip()]
    kept = [row["text"] for row in rows if row["reason"] is None]
    assert len(rows) == max(len(expected), 1)
    if len(kept) == len(expected):
        assert kept == expected
    assert len({r["doc_id"] for r in rows}) == len(rows)


@FAST
@given(st.lists(st.one_of(st.binary(max_size=300), st.sampled_from([b"", b"\r", b"\xef\xbb\xbf"])), max_size=12),
       st.integers(1, 400), st.integers(1, 64))
def test_line_splitting_matches_a_plain_split_whatever_the_chunks(pieces, max_line_bytes, chunk_size):
    data = b"\n".join(p.replace(b"\n", b"") for p in pieces)
    expected = data.split(b"\n")
    if expected[-1] == b"":
        expected.pop()
    got = list(_lines(io.BytesIO(data), max_line_bytes, chunk_size))
    assert len(got) == len(expected)
    for line, want in zip(got, expected):
        if len(want) > max_line_bytes:
            assert isinstance(line, OverlongLine) and line.n_bytes == len(want)
        else:
            assert line == want


def test_an_overlong_jsonl_line_is_rejected_without_being_held_in_memory():
    limit, huge = 64 << 10, 5 << 20
    data = (json.dumps({"id": "a", "text": "бірінші"}) + "\n" + '{"text": "' + "қ" * (huge // 2) + '"}\n'
            + json.dumps({"id": "c", "text": "үшінші"}) + "\n").encode()
    stream = io.BytesIO(data)
    tracemalloc.start()
    try:
        rows = list(TextReader(max_line_bytes=limit)("big.jsonl", stream))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert [(r["source_id"], r["reason"]) for r in rows] == [("a", None), ("big.jsonl:2", "TextReader"), ("c", None)]
    assert "longer than max_line_bytes=65,536" in rows[1]["detail"] and f"{huge + 12:,} bytes" in rows[1]["detail"]
    # One read chunk (1 MiB) and the limit at most, never the 5 MB line.
    assert peak < 2.5 * (1 << 20), f"peak {peak:,} bytes while reading a {len(data):,}-byte file"


# ---------------------------------------------------------------- TXT

@st.composite
def txt_files(draw) -> bytes:
    text = draw(KAZAKH_AND_HOSTILE)
    how = draw(st.sampled_from(["utf8", "utf8-bom", "cp1251", "utf16", "bytes", "mixed"]))
    if how == "utf8-bom":
        return codecs.BOM_UTF8 + text.encode()
    if how == "cp1251":
        return text.encode("cp1251", errors="replace")
    if how == "utf16":
        return text.encode("utf-16")
    if how == "bytes":
        return draw(st.binary(max_size=200))
    if how == "mixed":  # half the file saved in one code page, half in another
        return text.encode() + draw(KAZAKH_AND_HOSTILE).encode("cp1251", errors="replace")
    return text.encode()


@FAST
@given(txt_files(), st.sampled_from([16, 64 << 20]))
def test_txt_is_always_exactly_one_row(data, max_file_bytes):
    rows = list(TextReader(max_file_bytes=max_file_bytes)("in.txt", io.BytesIO(data)))
    assert len(rows) == 1
    assert_documents(rows)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = (decode_legacy(data) or ("",))[0]  # a Cyrillic code page, else an error row
    readable = len(data) <= max_file_bytes and bool(data.strip()) and bool(text and text.strip())
    assert (rows[0]["reason"] is None) == readable


@FAST
@given(txt_files(), st.sampled_from(["line", "paragraph"]), st.sampled_from([16, 64 << 20]))
def test_txt_by_line_or_paragraph_accounts_for_every_nonblank_line(data, unit, max_file_bytes):
    # A UTF-16 byte-order mark that decodes makes a UTF-16 file, whose lines are not its byte
    # lines (tests/unit/test_text_readers.py reads one).
    assume(not data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)))
    rows = list(TextReader(max_file_bytes=max_file_bytes, txt_unit=unit)("in.txt", io.BytesIO(data)))
    assert rows
    assert_documents(rows)
    lines = [line for line in data.removeprefix(b"\xef\xbb\xbf").split(b"\n") if line.strip()]
    if unit == "line":  # one row per non-blank line, or the one "empty file" row
        assert len(rows) == max(len(lines), 1)
    assert all(r["reason"] is not None or r["text"].strip() for r in rows)


# ---------------------------------------------------------------- Parquet

@st.composite
def parquet_files(draw) -> tuple[bytes, int]:
    n = draw(st.integers(0, 6))
    kind = draw(st.sampled_from(["string", "large_string", "binary", "int", "missing"]))
    columns = {"id": pa.array(draw(st.lists(st.one_of(st.none(), KAZAKH_AND_HOSTILE), min_size=n, max_size=n)),
                              pa.string())}
    if kind in ("string", "large_string"):
        values = draw(st.lists(st.one_of(st.none(), KAZAKH_AND_HOSTILE), min_size=n, max_size=n))
        columns["text"] = pa.array(values, pa.string() if kind == "string" else pa.large_string())
    elif kind == "binary":  # bytes that are not UTF-8, where a string was expected
        columns["text"] = pa.array(draw(st.lists(st.binary(max_size=20), min_size=n, max_size=n)), pa.binary())
    elif kind == "int":
        columns["text"] = pa.array(draw(st.lists(st.integers(-5, 5), min_size=n, max_size=n)), pa.int64())
    sink = io.BytesIO()
    pq.write_table(pa.table(columns), sink, row_group_size=max(1, draw(st.integers(1, 4))))
    return sink.getvalue(), (1 if kind == "missing" else max(n, 1))


@FAST
@given(parquet_files())
def test_parquet_accounts_for_every_record(file):
    data, expected = file
    rows = list(TextReader()("in.parquet", io.BytesIO(data)))
    assert len(rows) == expected
    assert_documents(rows)


@FAST
@given(st.binary(max_size=300))
def test_any_bytes_named_parquet_or_jsonl_or_txt_never_raise(data):
    for name in ("x.parquet", "x.jsonl", "x.txt", "x.jsonl.gz", "x.txt.gz", "x.jsonl.zst", "x.txt.xz", "x.json.bz2",
                 "kkwiki.xml", "kkwiki.xml.bz2"):
        rows = list(TextReader()(name, io.BytesIO(data)))
        assert rows
        assert_documents(rows)


# ---------------------------------------------------------------- catalog CSV

CELL = st.one_of(KAZAKH_AND_HOSTILE, st.sampled_from(["", " ", "b1", "b1", "kk", "Қазақ", "a;b", 'say "hi"',
                                                      "line\nbreak", "C:\\scans\\b1.pdf"]))


@st.composite
def catalogs(draw) -> tuple[bytes, int]:
    """A catalog as a spreadsheet exports it, and its number of non-blank data rows."""
    delimiter = draw(st.sampled_from([",", ";", "\t"]))
    rows = draw(st.lists(st.lists(CELL, min_size=1, max_size=6), max_size=8))
    sink = io.StringIO(newline="")
    writer = csv.writer(sink, delimiter=delimiter, lineterminator=draw(st.sampled_from(["\n", "\r\n"])))
    writer.writerow(["book_id", "title", "language", "collection"])
    writer.writerows(rows)
    text = sink.getvalue()
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1251"]))
    data = text.encode(encoding, errors="replace") if encoding == "cp1251" else text.encode(encoding)
    # The records are what a CSV reader sees in the saved bytes: "replace" changed some
    # cells, and a lone "\r" that the writer left unquoted ends a record.
    saved = data.decode(encoding)
    rows = list(csv.reader(io.StringIO(saved, newline=""), delimiter=delimiter))[1:]
    return data, sum(1 for cells in rows if any(c.strip() for c in cells))


def skipped(problems: list[str]) -> int:
    return sum(1 for p in problems if p.endswith("row skipped"))


@FAST
@given(catalogs())
def test_catalog_accounts_for_every_row(catalog):
    data, n_records = catalog
    parsed = parse_catalog(data, "cat.csv")
    assert len(parsed.rows) + skipped(parsed.problems) == n_records
    assert len({r.book_id for r in parsed.rows}) == len(parsed.rows)
    for row in parsed.rows:
        assert row.book_id and all(valid_utf8(getattr(row, f)) for f in ("book_id", "title", "language", "file"))
        assert valid_utf8(row.metadata_json())


@FAST
@given(st.one_of(st.binary(max_size=400),
                 st.binary(max_size=200).map(lambda b: codecs.BOM_UTF16_LE + b),
                 st.binary(max_size=200).map(lambda b: b"book_id,title\n" + b)))
def test_catalog_of_any_bytes_never_raises(data):
    parsed = parse_catalog(data, "cat.csv")
    for row in parsed.rows:
        assert row.book_id and all(valid_utf8(getattr(row, f)) for f in ("book_id", "title", "language", "file"))
    assert all(valid_utf8(p) for p in parsed.problems)


@FAST
@given(st.lists(st.tuples(st.floats(0, 1), st.binary(min_size=1, max_size=16)), max_size=4), st.floats(0.02, 1))
def test_a_damaged_excel_catalog_never_raises(damage, keep):
    from tests.unit.test_books_ledger import xlsx

    data = bytearray(xlsx([["book_id", "title", "language"], ["KZ-1", "Абай жолы", "kk"], [2, "Қазақ тілі", None]]))
    for where, junk in damage:
        at = int(where * (len(data) - 1))
        data[at:at + len(junk)] = junk
    parsed = parse_catalog(bytes(data[:max(4, int(len(data) * keep))]), "cat.xlsx")
    for row in parsed.rows:
        assert row.book_id and all(valid_utf8(getattr(row, f)) for f in ("book_id", "title", "language", "file"))
    assert all(valid_utf8(p) for p in parsed.problems)


@FAST
@given(st.binary(max_size=2000), st.integers(0, 4000))
def test_a_damaged_wikipedia_dump_never_raises(noise, cut):
    from tests.unit.test_mediawiki import DUMP

    at = cut % len(DUMP)
    rows = list(TextReader()("kkwiki.xml", io.BytesIO(DUMP[:at] + noise + DUMP[at + len(noise):])))
    assert rows
    assert_documents(rows)
