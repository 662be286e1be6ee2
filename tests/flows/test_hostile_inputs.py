"""Every kind of input with every defect, in ONE build next to good input: each bad input
ends as a rejected row (or a failed page) naming it and why, the good input is all there,
and the report balances. Then the output's disk: read-only, and full mid-run."""
import gzip
import io
import json
import os
import random
import subprocess
import zlib
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pymupdf
import pytest

from flows.build import run_build
from flows.config import load_config
from tests.conftest import run_qazflow
from tests.ebook_files import MARKDOWN, TITLE, ebook, replace_member

KK = "Қазақ тілі — мемлекеттік тіл. Ұлттық кітапхана қолжазбаларды цифрлап, оқырмандарға ұсынады."
LINE_LIMIT = 200_000  # inputs.max_line_bytes for this build


def png_claiming(width: int, height: int) -> bytes:
    """A valid PNG header that claims width × height pixels (a decompression bomb)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return len(data).to_bytes(4, "big") + kind + data + zlib.crc32(kind + data).to_bytes(4, "big")

    header = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([8, 0, 0, 0, 0])
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def pdf_bytes(pages: int = 3, **save) -> bytes:
    doc = pymupdf.open()
    for i in range(pages):
        doc.new_page().insert_text((72, 72), f"{KK} {i}", fontname="helv")
    return doc.tobytes(**save)


# name → bytes (text inputs); each must come out as at least one rejected row whose uri names it
TEXT = {
    "empty.jsonl": b"",
    "empty.txt": b"",
    "random.jsonl": random.Random(1).randbytes(5000),
    "random.parquet": random.Random(2).randbytes(5000),
    "not_gzip.jsonl.gz": random.Random(3).randbytes(5000),
    "truncated.jsonl.gz": gzip.compress((json.dumps({"id": "t", "text": KK}) + "\n").encode() * 200)[:300],
    "bomb.jsonl.gz": gzip.compress(b" " * 20_000_000),
    "nul_bytes.txt": b"\0" * 3000,
    "overlong_line.jsonl": b'{"id": "long", "text": "' + b"a" * (3 * LINE_LIMIT) + b'"}\n',
    "cp1251_in_utf8.jsonl": json.dumps({"id": "ok", "text": KK}, ensure_ascii=False).encode() + b"\n"
                            + '{"id": "cp", "text": "Привет мир"}'.encode("cp1251") + b"\n",
    "wrong_field.parquet": None,  # made below: a Parquet file without the text column
    "broken.warc.gz": gzip.compress(b"WARC/1.0\r\nWARC-Type: response\r\nContent-Length: 99999\r\n\r\n<html>")[:-10],
    "random.epub": random.Random(6).randbytes(5000),
    "zip_bomb.docx": replace_member(ebook("docx"), {"word/document.xml": b"<w:document>" + b" " * (80 << 20)}),
    "truncated.odt": ebook("odt")[:3000],
}
def blank_pages_pdf(pages: int) -> bytes:
    doc = pymupdf.open()
    for _ in range(pages):
        doc.new_page(width=200, height=200)
    return doc.tobytes(garbage=1)


# A page tree with no page: MuPDF itself refuses to save one.
ZERO_PAGE_PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
                 b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")

# name → bytes; the ledger or a page error must say what went wrong
BOOKS = {
    "zero.pdf": b"",
    "random.pdf": random.Random(4).randbytes(4096),
    "junk.djvu": random.Random(5).randbytes(4096),
    "encrypted.pdf": pdf_bytes(encryption=pymupdf.PDF_ENCRYPT_AES_256, owner_pw="o", user_pw="u"),
    "truncated.pdf": pdf_bytes(12)[:-900],
    "bomb_folder/0001.png": png_claiming(50_000, 50_000),
    "ten_thousand_pages.pdf": blank_pages_pdf(10_000),  # over ocr.max_pages: refused whole, never routed
    "zero_pages.pdf": ZERO_PAGE_PDF,
}


@pytest.fixture(scope="module")
def hostile(ray_session, samples, tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile")
    text, books, warc = root / "text", root / "books", root / "warc"
    for folder in (text, books, warc):
        folder.mkdir()
    for name, data in TEXT.items():
        target = (warc if ".warc" in name else text) / name
        if data is None:
            buffer = io.BytesIO()
            pq.write_table(pa.table({"id": ["x"], "body": [KK]}), buffer)
            data = buffer.getvalue()
        target.write_bytes(data)
    for name, data in BOOKS.items():
        (books / name).parent.mkdir(parents=True, exist_ok=True)
        (books / name).write_bytes(data)
    (books / IGNORED).write_bytes(b"PK\x03\x04" + bytes(100))  # a kind no source reads: left out, and said so
    good = samples / "text" / "kk_news.jsonl"
    (root / "library").mkdir()
    paragraphs = (samples / "text" / "mixed_kk_ru.txt").read_text(encoding="utf-8").split("\n\n")
    chapter_3 = "\n\n".join(p for p in paragraphs if set(p) & set("әғқңөұүі"))  # enough words to keep
    (root / "library" / "abai.epub").write_bytes(ebook("epub", f"{MARKDOWN}\n# Үшінші тарау\n\n{chapter_3}\n"))
    output = root / "out"
    cfg = load_config([f"output={output}", f"inputs.text=[{text},{good},{root}/{MISSING},{root}/library]",
                       f"inputs.books=[{books}]",
                       f"inputs.warc=[{warc}/broken.warc.gz]", f"inputs.max_line_bytes={LINE_LIMIT}",
                       "inputs.on_missing=reject", "tokenizer.vocab_size=300", "ocr.dpi=72"])
    return output, run_build(cfg), good


MISSING = "not_there.jsonl"  # a path in the config that does not exist, under inputs.on_missing=reject
IGNORED = "scan_notes.xlsx"


def rejected(output: Path) -> list[dict]:
    return pq.read_table(output / "rejected", columns=["uri", "source_id", "reason", "detail"]).to_pylist()


def test_the_build_finishes_and_balances(hostile):
    _, report, _ = hostile
    docs = report["documents"]
    assert docs["balanced"] and docs["in"] == docs["kept"] + sum(docs["rejected_by_reason"].values())


def test_a_missing_input_path_is_named_in_the_report_and_is_a_rejected_row(hostile):
    output, report, _ = hostile
    [missing] = report["inputs"]["missing_paths"]
    assert missing.endswith(MISSING)
    [row] = [r for r in rejected(output) if r["uri"] == missing]
    assert row["reason"] == "TextReader" and "cannot open" in row["detail"]


def test_report_html_lists_what_needs_attention(hostile):
    output, report, _ = hostile
    attention = (output / "report.html").read_text().split('id="attention"')[1].split("<h2")[0]
    assert "input paths that do not exist</td><td>1</td>" in attention and MISSING in attention
    assert "a kind no source reads (left out)</td><td>1</td>" in attention and IGNORED in attention
    assert f"book pages that could not be read</td><td>{report['pages']['failed']}</td>" in attention
    assert report["pages"]["failed"] > 0


@pytest.mark.parametrize("name", sorted(TEXT))
def test_each_bad_text_or_warc_input_is_a_rejected_row_naming_it(hostile, name):
    output, _, _ = hostile
    rows = [r for r in rejected(output) if (r["uri"] or "").endswith(name)]
    assert rows, f"{name}: no error row"
    assert all(r["reason"] and r["detail"] for r in rows)  # e.g. TextReader, or Normalizer for NULs only


@pytest.mark.parametrize("name", sorted(BOOKS))
def test_each_bad_book_is_a_failed_page_or_flag_naming_it(hostile, name):
    output, _, _ = hostile
    book_id = Path(name).parent.name if "/" in name else Path(name).stem
    pages = [r for r in pq.read_table(output / "pages").to_pylist() if r["book_id"] == book_id]
    ledger = {r["book_id"]: r for r in pq.read_table(output / "ledger").to_pylist()}[book_id]
    said = " ".join(str(v) for v in (ledger["status_detail"], ledger["file_warning"],
                                     *[p["error"] for p in pages]) if v)
    if name == "truncated.pdf":  # repaired by MuPDF: in the corpus, flagged for a rescan
        assert "repaired" in said
    else:
        assert ledger["status"] == "failed" and said, ledger


def test_the_good_input_is_all_accounted_for(hostile):
    output, _, good = hostile
    lines = sum(1 for line in good.read_text(encoding="utf-8").splitlines() if line.strip())
    kept = [u for u in pq.read_table(output / "documents", columns=["uri"]).column("uri").to_pylist() if u == str(good)]
    others = [r for r in rejected(output) if r["uri"] == str(good)]
    assert len(kept) + len(others) == lines and kept
    assert not [r for r in others if r["reason"] == "TextReader"]  # none of it was unreadable


def test_a_kazakh_epub_beside_them_is_a_kazakh_document(hostile):
    output, _, _ = hostile
    [book] = [r for r in pq.read_table(output / "documents", columns=["uri", "title", "lang", "text"]).to_pylist()
              if r["uri"].endswith("abai.epub")]
    assert book["title"] == TITLE and book["lang"] == "kk" and "Құнанбай" in book["text"]


def mount_tmpfs(path: Path, options: str) -> bool:
    path.mkdir(parents=True, exist_ok=True)
    return subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)],
                          capture_output=True).returncode == 0


@pytest.fixture
def small_disk(tmp_path):
    mounted = []

    def make(name: str, options: str) -> Path:
        path = tmp_path / name
        if os.geteuid() != 0 or not mount_tmpfs(path, options):
            pytest.skip("needs root and mount(8) to make a small or read-only file system")
        mounted.append(path)
        return path

    yield make
    for path in mounted:
        subprocess.run(["umount", "-l", str(path)], capture_output=True)


def test_a_read_only_output_fails_at_once_with_one_line(small_disk, samples):
    disk = small_disk("ro", "ro,size=1m")
    result = run_qazflow("build", f"output={disk}/out", f"inputs.text=[{samples}/text/kk_news.jsonl]")
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode == 2 and len(lines) == 1, result.stderr[-2000:]
    assert "read-only file system" in lines[0] and str(disk) in lines[0]


def test_an_output_disk_that_fills_up_mid_run_ends_with_one_clear_line(small_disk, samples):
    disk = small_disk("full", "size=400k")  # room for the start-up check, not for the run
    result = run_qazflow("build", f"output={disk}/out", f"inputs.text=[{samples}/text]",
                         f"inputs.books=[{samples}/books]", "tokenizer.vocab_size=300")
    assert result.returncode == 2, result.stderr[-3000:]
    last = [line for line in result.stderr.splitlines() if line.strip()][-1]
    assert last.startswith("qazflow: error: output: cannot write to") and "no space left" in last, last
