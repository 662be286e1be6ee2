"""The committed demo inputs in samples/ are what samples/README.md says they are.

No Ray; reads the committed files. The last test regenerates the samples with
scripts/make_samples.py (needs ../shared/seeds and the DejaVu fonts; skipped
without them) and checks the script is deterministic and the commit up to date.
"""
from __future__ import annotations

import csv
import gzip
import hashlib
import importlib.util
import json
import re
from pathlib import Path

import pyarrow.parquet as pq
import pymupdf
import pytest

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "samples"
SCRIPT = ROOT / "scripts" / "make_samples.py"
KK_LETTERS = set("әғқңөұүһіӘҒҚҢӨҰҮҺІ")
CYRILLIC = re.compile(r"[\u0400-\u04FF]")
LATIN = re.compile(r"[A-Za-z]")

EXPECTED_FILES = [
    "README.md", "expected.json", "ground_truth/ocr_pages.jsonl",
    "text/kk_news.jsonl", "text/ru_articles.jsonl", "text/en_articles.jsonl",
    "text/mixed_kk_ru.txt", "text/curated.parquet",
    "books/born_digital_kk.pdf", "books/born_digital_ru.pdf", "books/scanned_kk.pdf",
    "books/mixed_scan.pdf", "books/catalog.csv",
    "bad/malformed.jsonl", "bad/gzipped.txt", "bad/empty.txt", "bad/corrupt.pdf", "bad/not_a_pdf.pdf",
]


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def by_id(records: list[dict]) -> dict[str, dict]:
    return {r["id"]: r for r in records if "id" in r}


def resolve(ref: dict) -> str:
    """Text of a record named as {"file", "id"} or {"file", "line"} (1-based)."""
    path = SAMPLES / ref["file"]
    if path.suffix == ".parquet":
        rows = pq.read_table(path).to_pylist()
    else:
        rows = read_jsonl(path)
    if "line" in ref:
        return rows[ref["line"] - 1]["text"]
    (row,) = [r for r in rows if r.get("id") == ref["id"]]
    return row["text"]


def shingles(text: str, n: int = 5) -> set[tuple[str, ...]]:
    words = re.findall(r"\w+", text.lower())
    return {tuple(words[i:i + n]) for i in range(max(1, len(words) - n + 1))}


@pytest.fixture(scope="module")
def expected() -> dict:
    return json.loads((SAMPLES / "expected.json").read_text(encoding="utf-8"))


def test_all_files_present_and_small():
    for rel in EXPECTED_FILES:
        assert (SAMPLES / rel).is_file(), rel
    total = sum(p.stat().st_size for p in SAMPLES.rglob("*") if p.is_file())
    assert total < 2 * 1024 * 1024, total


@pytest.mark.parametrize("name", ["kk_news.jsonl", "ru_articles.jsonl", "en_articles.jsonl"])
def test_text_jsonl_parses(name):
    records = read_jsonl(SAMPLES / "text" / name)
    assert len(records) >= 6
    for r in records:
        assert isinstance(r, dict)
        assert isinstance(r["text"], str) and r["text"].strip()
        assert isinstance(r["title"], str)
    ids = [r["id"] for r in records if "id" in r]
    assert len(ids) == len(set(ids))


def test_records_without_id(expected):
    for ref in expected["records_without_id"]:
        rec = read_jsonl(SAMPLES / ref["file"])[ref["line"] - 1]
        assert "id" not in rec and rec["text"]


def test_kazakh_documents_have_kazakh_letters():
    records = read_jsonl(SAMPLES / "text" / "kk_news.jsonl")
    kazakh = [r for r in records if r.get("id") not in {"kk-0010", "kk-0011"}]
    assert len(kazakh) >= 8
    for r in kazakh:
        assert sum(c in KK_LETTERS for c in r["text"]) >= 10, r.get("id")
        assert 400 <= len(r["text"]) <= 3000
    # Distinct Kazakh-specific letters, not just one repeated.
    assert KK_LETTERS & set("әғқңөұүһі") <= set("".join(r["text"] for r in kazakh))


def test_mixed_txt_has_kazakh_and_russian_paragraphs():
    paras = [p for p in (SAMPLES / "text" / "mixed_kk_ru.txt").read_text(encoding="utf-8").split("\n\n") if p.strip()]
    kk = [p for p in paras if any(c in KK_LETTERS for c in p)]
    ru = [p for p in paras if CYRILLIC.search(p) and not any(c in KK_LETTERS for c in p)]
    assert len(kk) >= 2 and len(ru) >= 2


def test_curated_parquet():
    table = pq.read_table(SAMPLES / "text" / "curated.parquet")
    assert table.column_names == ["id", "text", "title"]
    assert all(str(t) == "string" for t in table.schema.types)
    rows = table.to_pylist()
    assert len(rows) >= 6
    starts = {r["text"].split(":", 1)[0] for r in rows}
    assert {"Сұрақ", "Вопрос", "Question"} <= starts


@pytest.mark.parametrize("name,pages", [("born_digital_kk.pdf", (3, 5)), ("born_digital_ru.pdf", (2, 3))])
def test_born_digital_pdfs(name, pages, expected):
    with pymupdf.open(SAMPLES / "books" / name) as doc:
        assert pages[0] <= doc.page_count <= pages[1]
        assert doc.page_count == expected["books"][f"books/{name}"]["pages"]
        assert not doc.metadata["creationDate"] and not doc.metadata["modDate"]
        texts = [page.get_text() for page in doc]
    assert all(t.strip() for t in texts)
    body = [t.strip().splitlines() for t in texts[1:]]
    # Running header: the same first line on every body page; page number as the last line.
    assert len({lines[0] for lines in body}) == 1
    assert [lines[-1] for lines in body] == [str(i) for i in range(2, len(texts) + 1)]


def test_kazakh_book_has_hyphenated_line_breaks():
    with pymupdf.open(SAMPLES / "books" / "born_digital_kk.pdf") as doc:
        lines = [ln for page in doc for ln in page.get_text().splitlines()]
    assert any(re.search(r"\w-$", ln) for ln in lines)
    assert any(c in KK_LETTERS for c in "".join(lines))


def test_scanned_pdf_is_images_only():
    with pymupdf.open(SAMPLES / "books" / "scanned_kk.pdf") as doc:
        assert doc.page_count == 2
        for page in doc:
            assert page.get_text().strip() == ""
            assert len(page.get_images()) == 1
            xref = page.get_images()[0][0]
            assert doc.extract_image(xref)["colorspace"] == 1  # grayscale


def test_mixed_scan_pages():
    with pymupdf.open(SAMPLES / "books" / "mixed_scan.pdf") as doc:
        assert doc.page_count == 3
        has_text = [bool(page.get_text().strip()) for page in doc]
        images = [len(page.get_images()) for page in doc]
    assert has_text == [True, False, True]
    assert images[1] == 1


def test_ocr_ground_truth_names_image_only_pages():
    truth = read_jsonl(SAMPLES / "ground_truth" / "ocr_pages.jsonl")
    assert {(t["file"], t["page"]) for t in truth} == {
        ("books/scanned_kk.pdf", 1), ("books/scanned_kk.pdf", 2), ("books/mixed_scan.pdf", 2)}
    assert all(sum(c in KK_LETTERS for c in t["text"]) >= 10 for t in truth)


def test_catalog_references_files():
    with (SAMPLES / "books" / "catalog.csv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["book_id", "title", "author", "year", "language", "collection", "file"]
    missing = [r["book_id"] for r in rows if not (SAMPLES / "books" / r["file"]).is_file()]
    assert missing == ["KZ-BK-0005"]
    pdfs = {p.name for p in (SAMPLES / "books").glob("*.pdf")}
    assert pdfs == {r["file"] for r in rows} - {"abai_zholy_1.pdf"}


def test_bad_malformed_jsonl():
    lines = (SAMPLES / "bad" / "malformed.jsonl").read_text(encoding="utf-8").splitlines()
    outcomes = []
    for line in lines:
        try:
            value = json.loads(line)
        except json.JSONDecodeError:
            outcomes.append("broken")
            continue
        if not isinstance(value, dict):
            outcomes.append("not_object")
        elif "text" not in value:
            outcomes.append("no_text")
        else:
            outcomes.append("good")
    assert outcomes == ["good", "good", "broken", "not_object", "no_text", "good"]


def test_bad_encoding_and_empty():
    raw = (SAMPLES / "bad" / "gzipped.txt").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    assert CYRILLIC.search(gzip.decompress(raw).decode("cp1251"))
    assert (SAMPLES / "bad" / "empty.txt").stat().st_size == 0


def _readable_pages(path: Path) -> int:
    """Pages whose text could be read; raises if the file does not open at all."""
    with pymupdf.open(path) as doc:
        n = 0
        for i in range(doc.page_count):
            try:
                doc[i].get_text()
                n += 1
            except Exception:
                pass
        return n


def test_bad_pdfs():
    try:
        readable = _readable_pages(SAMPLES / "bad" / "corrupt.pdf")
    except Exception:
        readable = 0
    assert readable < 3  # the PDF it was cut from has 3 pages
    with pytest.raises(Exception):
        _readable_pages(SAMPLES / "bad" / "not_a_pdf.pdf")


def test_exact_duplicates(expected):
    assert len(expected["exact_duplicates"]) >= 2
    for pair in expected["exact_duplicates"]:
        assert resolve(pair["a"]) == resolve(pair["b"]), pair


def test_near_duplicates(expected):
    assert len(expected["near_duplicates"]) >= 3
    langs = set()
    for pair in expected["near_duplicates"]:
        a, b = resolve(pair["a"]), resolve(pair["b"])
        assert a != b
        sa, sb = shingles(a), shingles(b)
        assert 0.7 <= len(sa & sb) / len(sa | sb) < 1.0, pair
        langs.add(pair["a"]["id"][:2])
    assert langs == {"kk", "ru", "en"}


def test_planted_rejections(expected):
    why = {r["why"]: r for r in expected["expected_rejections"]}
    assert len(resolve(why["too_short"])) < 50
    lines = resolve(why["boilerplate"]).splitlines()
    assert len(set(lines)) <= len(lines) / 2  # mostly repeated lines
    homo = resolve(why["homoglyphs"])
    mixed = [w for w in homo.split() if CYRILLIC.search(w) and LATIN.search(w)]
    assert len(mixed) >= 5
    langs = [r for r in expected["expected_rejections"] if r["why"] == "language"]
    assert {r["actual_lang"] for r in langs} >= {"de", "tr"}
    for r in langs:
        assert not CYRILLIC.search(resolve(r))


def _load_script():
    spec = importlib.util.spec_from_file_location("make_samples", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _digests(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_script_is_deterministic_and_samples_up_to_date(tmp_path):
    script = _load_script()
    if not any(script.DEFAULT_SEEDS.glob("000_*.txt")) or not script.FONT_REGULAR.exists():
        pytest.skip("seeds or DejaVu fonts not available")
    script.build(script.DEFAULT_SEEDS, tmp_path / "a")
    script.build(script.DEFAULT_SEEDS, tmp_path / "b")
    a, b = _digests(tmp_path / "a"), _digests(tmp_path / "b")
    assert a == b
    committed = _digests(SAMPLES)
    assert set(a) <= set(committed)
    # Text files must match the commit byte for byte; binary files (PDF, Parquet) may
    # differ across PyMuPDF/pyarrow versions, so compare what they contain.
    for rel in a:
        if rel.endswith((".pdf", ".parquet")):
            continue
        assert a[rel] == committed[rel], f"samples/{rel} is stale: rerun scripts/make_samples.py"
    for rel in (r for r in a if r.endswith(".pdf") and not r.startswith("bad/")):
        with pymupdf.open(tmp_path / "a" / rel) as new, pymupdf.open(SAMPLES / rel) as old:
            assert [p.get_text() for p in new] == [p.get_text() for p in old], rel
    assert pq.read_table(tmp_path / "a" / "text/curated.parquet").equals(
        pq.read_table(SAMPLES / "text/curated.parquet"))
