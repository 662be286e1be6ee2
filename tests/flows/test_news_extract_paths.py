"""WARC extraction reads files whole (one task per file) or in byte ranges spread over every
CPU; both give the same rows, bad records and broken files included."""
import gzip
import io

import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from flows.build import storage_for
from flows.config import load_config
from flows.news import extract_warcs
from operators.news.warc import iter_warc_responses
from tests.news_site import ARTICLES
from tests.unit.test_warc_zstd import warc_zst

SITE = "http://news.example.kz"
MAX_BYTES = 200_000


def response(writer: WARCWriter, url: str, body: bytes, status: str = "200 OK", headers=()) -> None:
    http = StatusAndHeaders(status, [("Content-Type", "text/html; charset=utf-8"), *headers], protocol="HTTP/1.1")
    writer.write_record(writer.create_warc_record(url, "response", payload=io.BytesIO(body), http_headers=http))


def articles_warc(path, broken_tail: bool = False) -> list[str]:
    """The test site's articles, a 404, a body with a broken gzip Content-Encoding and one
    over the size limit; with `broken_tail`, followed by bytes that are no WARC record."""
    with open(path, "wb") as f:
        writer = WARCWriter(f, gzip=True, warc_version="1.1")
        urls = []
        for name, article in ARTICLES.items():
            url = SITE + name
            response(writer, url, article.html(SITE).encode(article.charset, errors="xmlcharrefreplace"),
                     headers=[("Content-Type", f"text/html; charset={article.charset}")])
            urls.append(url)
        response(writer, SITE + "/missing", b"<html>not here</html>", status="404 Not Found")
        response(writer, SITE + "/bad-gzip", b"\x1f\x8b\x08\x00 not gzip at all", headers=[("Content-Encoding", "gzip")])
        response(writer, SITE + "/huge", b"<html><p>" + "Қазақ тілі. ".encode() * 30_000 + b"</p></html>")
        if broken_tail:
            f.write(gzip.compress(b"HTTP/1.1 200 OK\r\n\r\nnot a WARC record\r\n\r\n"))
    return urls


def rows(tmp_path, files: list[str], split: bool) -> list[tuple]:
    cfg = load_config([f"output={tmp_path / ('split' if split else 'whole')}", f"inputs.warc=[{','.join(files)}]",
                       f"news.extract.split_files={'always' if split else 'never'}", f"news.max_bytes={MAX_BYTES}",
                       "news.extract.records_per_block=4", "news.extract.range_bytes=3000"])
    ds = extract_warcs(cfg, storage_for(cfg), files)
    return sorted((r["url"], r["warc_file"], r["warc_offset"], r["reason"], r["detail"], r["text"])
                  for r in ds.select_columns(["url", "warc_file", "warc_offset", "reason", "detail", "text"]).take_all())


@pytest.mark.usefixtures("ray_session")
def test_whole_files_and_split_files_give_the_same_rows(tmp_path):
    good = str(tmp_path / "a.warc.gz")
    cut = str(tmp_path / "broken.warc.gz")
    urls = articles_warc(good)
    articles_warc(cut, broken_tail=True)
    whole, split = rows(tmp_path, [good, cut], split=False), rows(tmp_path, [good, cut], split=True)
    assert whole == split
    by_file = {f: [r for r in whole if r[1] == f] for f in (good, cut)}
    documents = [r for r in by_file[good] if r[3] is None]
    assert sorted(r[0] for r in documents) == sorted(urls)  # the 404 is no document, nor an error
    assert all(r[5] for r in documents)
    errors = {r[0]: r[4] for r in by_file[good] if r[3] is not None}
    assert errors[SITE + "/bad-gzip"] == "unparsable HTML"  # warcio hands the undecodable body over as it is
    assert errors[SITE + "/huge"] == f"body larger than {MAX_BYTES} bytes"
    assert SITE + "/missing" not in errors
    # The broken file: its records are read, then one row names it.
    assert sorted(r[0] for r in by_file[cut] if r[3] is None) == sorted(urls)
    (broken,) = [r for r in by_file[cut] if r[0] == ""]
    assert broken[4].startswith("cannot read WARC: ArchiveLoadFailed")


def test_a_file_that_is_not_gzip_at_all_is_one_error_row(tmp_path, ray_session):
    junk = tmp_path / "junk.warc.gz"
    junk.write_bytes(gzip.compress(b"this is no WARC record\r\n" * 10))
    for split in (False, True):
        (row,) = rows(tmp_path, [str(junk)], split)
        assert row[1] == str(junk) and row[4].startswith("cannot read WARC:"), row


def test_a_damaged_record_costs_only_itself_in_both_paths(tmp_path, ray_session):
    path = tmp_path / "damaged.warc.gz"
    urls = articles_warc(str(path))
    data = bytearray(path.read_bytes())
    with open(path, "rb") as f:  # the second article's record, damaged inside its compressed header
        offset = [o for fields, o in iter_warc_responses(f) if fields["url"] == urls[1]][0]
    data[offset + 30:offset + 70] = b"\0" * 40
    path.write_bytes(bytes(data))
    whole, split = rows(tmp_path, [str(path)], split=False), rows(tmp_path, [str(path)], split=True)
    assert whole == split
    assert sorted(r[0] for r in whole if r[3] is None) == sorted(u for u in urls if u != urls[1])
    (damage,) = [r for r in whole if r[0] == ""]
    assert damage[4].startswith("cannot read WARC:")


def test_an_archiveteam_warc_zst_gives_the_documents_of_its_warc_gz(tmp_path, ray_session):
    gz, zst, cut = tmp_path / "a.warc.gz", tmp_path / "a.warc.zst", tmp_path / "cut.warc.zst"
    articles_warc(str(gz))
    zst.write_bytes(warc_zst("compressed", gz.read_bytes()))
    cut.write_bytes(zst.read_bytes()[:-100])

    def documents(path, split: bool) -> list[tuple]:
        return [(url, reason, detail, text) for url, _, _, reason, detail, text in rows(tmp_path, [str(path)], split)]

    expected = documents(gz, False)
    assert documents(zst, False) == documents(zst, True) == expected
    partial = documents(cut, True)
    [(_, _, stop, _)] = [row for row in partial if row[0] == ""]
    assert "the file is cut or damaged at offset" in stop
    assert set(partial) - {row for row in partial if row[0] == ""} < set(expected)  # the records before the cut
