"""Error isolation, one test per operator family: an exception on one input (a JSONL
line, a Parquet record, a file, a page image, an OCR page, a book in assembly, a catalog
row, a document in curation, exact dedup, MinHash signing or tokenization) becomes that
input's error row, with its identity and the exception's type and message, and every
other input is processed. The exception is injected into the real operator on one
specific input (a monkeypatched inner function or a subclass); no Ray.
"""
from __future__ import annotations

import io
import json

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from PIL import Image

import flows.pages
import operators.books.assemble
import operators.books.catalog
import operators.dedup.minhash
import operators.text.basic
from flows.inputs import ReadTextFiles
from flows.pages import PAGES, OcrPages, ReadBookPages
from flows.storage import Storage
from operators.base import DocumentFilter
from operators.books.assemble import BookAssembly
from operators.books.catalog import parse_catalog
from operators.books.pdf import PdfTextLayer
from operators.dedup.minhash import MinHashSignature
from operators.dedup.near import signed_documents
from operators.documents import new_document
from operators.text.basic import add_exact_keys, mark_exact_duplicates
from operators.text.readers import TextReader
from operators.tokens.bpe import Tokenize, tokenization_failures, train_bpe
from schemas import CURATION, validate

KK = "Қазақ тілі түркі тілдерінің бірі, оның әліпбиінде ә ғ қ ң ө ұ ү һ і әріптері бар."
RU = "Русский язык широко используется в Казахстане, особенно в городах и в науке."
EN = "English is the third language of the corpus and of the library's collections."


class Boom(RuntimeError):
    """The injected failure: its type and message must reach the error row."""


def boom(what: str):
    raise Boom(f"injected failure on {what}")


def curation(texts: list[str]) -> pa.Table:
    rows = [new_document("text", "t.jsonl", f"t.jsonl:{i}", text) for i, text in enumerate(texts)]
    return validate(pa.Table.from_pylist(rows), CURATION)


def by_source_id(table: pa.Table) -> dict[str, dict]:
    return {r["source_id"]: r for r in table.to_pylist()}


# ---------------------------------------------------------------- text inputs

def test_a_jsonl_line_that_raises_is_its_own_error_row(monkeypatch):
    real = TextReader._record

    def record(self, uri, fallback_id, record):
        return boom(f"record {record['id']}") if record.get("id") == "bad" else real(self, uri, fallback_id, record)

    monkeypatch.setattr(TextReader, "_record", record)
    data = "\n".join(json.dumps({"id": i, "text": t}) for i, t in [("a", KK), ("bad", RU), ("c", EN)]).encode()
    rows = list(TextReader()("in.jsonl", io.BytesIO(data)))
    assert [(r["source_id"], r["reason"]) for r in rows] == [("a", None), ("in.jsonl:2", "TextReader"),
                                                             ("c", None)]
    assert rows[1]["detail"] == "line 2: Boom: injected failure on record bad"


def test_a_parquet_record_that_raises_is_its_own_error_row(monkeypatch):
    real = TextReader._record

    def record(self, uri, fallback_id, record):
        return boom(f"record {record['id']}") if record.get("id") == "bad" else real(self, uri, fallback_id, record)

    monkeypatch.setattr(TextReader, "_record", record)
    sink = io.BytesIO()
    pq.write_table(pa.table({"id": ["a", "bad", "c"], "text": [KK, RU, EN]}), sink)
    rows = list(TextReader()("in.parquet", io.BytesIO(sink.getvalue())))
    assert [r["reason"] for r in rows] == [None, "TextReader", None]
    assert rows[1]["source_id"] == "in.parquet:2" and "Boom: injected failure on record bad" in rows[1]["detail"]


def test_a_file_whose_reader_raises_midway_keeps_its_rows_and_the_next_file_is_read(tmp_path):
    class BreaksOnB(TextReader):
        def __call__(self, uri, stream):
            for row in super().__call__(uri, stream):
                yield row
                if uri.endswith("b.jsonl"):
                    boom(uri)

    for name in ("a.jsonl", "b.jsonl", "c.jsonl"):
        (tmp_path / name).write_text(f'{{"text": "{KK}"}}\n{{"text": "{RU}"}}\n', encoding="utf-8")
    uris = [str(tmp_path / n) for n in ("a.jsonl", "b.jsonl", "c.jsonl")]
    tables = list(ReadTextFiles(Storage(), BreaksOnB())(pa.table({"uri": uris})))
    rows = pa.concat_tables(tables).to_pylist()
    per_file = {u: [(r["reason"], r["detail"]) for r in rows if r["uri"] == u] for u in uris}
    assert per_file[uris[0]] == per_file[uris[2]] == [(None, None), (None, None)]
    assert per_file[uris[1]] == [(None, None), ("TextReader", f"Boom: injected failure on {uris[1]}")]


# ---------------------------------------------------------------- books

def png(size=(60, 40), shade=255) -> bytes:
    sink = io.BytesIO()
    Image.new("L", size, shade).save(sink, format="PNG")
    return sink.getvalue()


def test_a_page_image_that_raises_is_that_pages_error_row(tmp_path, monkeypatch):
    folder = tmp_path / "book"
    folder.mkdir()
    for n in (1, 2, 3):
        (folder / f"{n:04d}.png").write_bytes(png())
    real, calls = flows.pages.image_pages, []

    def _second_fails(data):  # the pages are identical bytes: fail the second file read
        calls.append(1)
        return boom("page 2") if len(calls) == 2 else real(data)

    monkeypatch.setattr(flows.pages, "image_pages", _second_fails)
    book = {"book_id": "book", "uri": str(folder), "files": [str(folder / f"{n:04d}.png") for n in (1, 2, 3)],
            "language": None, "done": []}
    [table] = ReadBookPages(Storage(), PdfTextLayer())(pa.Table.from_pylist([book]))
    rows = table.to_pylist()
    assert [(r["page"], r["error"] is None) for r in rows] == [(1, True), (2, False), (3, True)]
    assert rows[1]["uri"].endswith("0002.png") and "Boom: injected failure on page 2" in rows[1]["error"]


def ocr_settings() -> dict:
    return {"engine": "tesseract", "dpi": 300, "max_pixels": 80_000_000,
            "language_check": {"enabled": False}, "letter_repair": {"enabled": False},
            "tesseract": {"languages": {"default": "eng", "en": "eng"}, "psm": 6, "timeout_s": 60, "backend": "auto",
                         "latin_words": None, "latin_below": 90}}


def test_an_ocr_page_that_raises_is_that_pages_error_row_and_the_others_are_read(tmp_path, monkeypatch):
    image = tmp_path / "scan.png"
    image.write_bytes(png((120, 60)))
    real = OcrPages._engine

    def engine(self, language):
        return boom(f"language {language}") if language == "xx" else real(self, language)

    monkeypatch.setattr(OcrPages, "_engine", engine)
    rows = [{"book_id": "b", "page": p, "uri": str(image), "method": "none", "frame": 0, "language": lang}
            for p, lang in ((1, "en"), (2, "xx"), (3, "en"))]
    out = OcrPages(Storage(), ocr_settings(), "cfg")(validate(pa.Table.from_pylist(rows, schema=PAGES), PAGES))
    got = out.to_pylist()
    assert [r["error"] is None for r in got] == [True, False, True]
    assert [r["method"] for r in got] == ["tesseract"] * 3 and {r["config_hash"] for r in got} == {"cfg"}
    assert got[1]["error"] == "cannot OCR page: Boom: injected failure on language xx"


def test_a_book_whose_assembly_raises_is_its_own_error_document(monkeypatch):
    real = operators.books.assemble.assemble_text

    def assemble_text(texts):
        return boom("book b2") if texts and texts[0] == "poison" else real(texts)

    monkeypatch.setattr(operators.books.assemble, "assemble_text", assemble_text)
    page = {"page": 1, "text": KK, "confidence": None, "error": None, "route_reason": None}
    docs = {b: BookAssembly()(b, f"{b}.pdf", [{**page, "text": t}], title=f"title {b}")
            for b, t in (("b1", KK), ("b2", "poison"), ("b3", RU))}
    assert docs["b1"]["reason"] is None and docs["b3"]["reason"] is None and KK in docs["b1"]["text"]
    assert docs["b2"]["reason"] == "BookAssembly" and docs["b2"]["book_id"] == "b2"
    assert docs["b2"]["detail"] == "cannot assemble: Boom: injected failure on book b2"
    assert docs["b2"]["title"] == "title b2" and docs["b2"]["source_id"] == "b2"


def test_a_catalog_row_that_raises_is_a_problem_and_the_other_rows_are_read(monkeypatch):
    real = operators.books.catalog.normalize_language

    def normalize_language(value):
        return boom(f"language {value}") if value == "poison" else real(value)

    monkeypatch.setattr(operators.books.catalog, "normalize_language", normalize_language)
    catalog = parse_catalog("book_id,title,language\nb1,Бір,kk\nb2,Екі,poison\nb3,Үш,ru\n".encode(), "cat.csv")
    assert [(r.book_id, r.language) for r in catalog.rows] == [("b1", "kk"), ("b3", "ru")]
    assert catalog.problems == ["cat.csv line 3: Boom: injected failure on language poison; row skipped"]


# ---------------------------------------------------------------- curation

def test_a_document_an_operator_raises_on_is_rejected_by_that_operator():
    class Picky(DocumentFilter):
        def filter(self, doc):
            return boom(doc["source_id"]) if doc["text"] == RU else True

    out = by_source_id(Picky()(curation([KK, RU, EN])))
    assert [out[k]["reason"] for k in ("t.jsonl:0", "t.jsonl:2")] == [None, None]
    assert (out["t.jsonl:1"]["reason"], out["t.jsonl:1"]["detail"]) == ("Picky", "Boom: injected failure on t.jsonl:1")


def test_a_document_whose_exact_key_raises_is_rejected_and_the_others_are_deduplicated(monkeypatch):
    real = operators.text.basic.exact_key
    monkeypatch.setattr(operators.text.basic, "exact_key", lambda text: boom("text") if text == RU else real(text))
    keyed = add_exact_keys(curation([KK, RU, KK, EN]))
    groups = [mark_exact_duplicates(keyed.filter(pc.equal(keyed["dedup_key"], key)))
              for key in dict.fromkeys(keyed["dedup_key"].to_pylist())]
    out = by_source_id(pa.concat_tables(groups))
    assert len(out) == 4  # nothing dropped
    assert out["t.jsonl:1"]["reason"] == "ExactDedup"
    assert out["t.jsonl:1"]["detail"] == "cannot compute the exact-duplicate key: Boom: injected failure on text"
    assert sorted(r["reason"] or "" for k, r in out.items() if k != "t.jsonl:1") == ["", "", "ExactDedup"]


def test_a_document_minhash_cannot_sign_is_rejected_and_the_others_are_signed(monkeypatch):
    real = operators.dedup.minhash._shingle_set

    def shingle_set(normalized, k, unit):
        return boom("one text") if normalized.startswith("русский") else real(normalized, k, unit)

    monkeypatch.setattr(operators.dedup.minhash, "_shingle_set", shingle_set)
    signer = MinHashSignature(num_perm=16)
    signed = signer(curation([KK, RU, EN]))
    assert signed["minhash"].is_valid().to_pylist() == [True, False, True]
    out = by_source_id(signed)
    assert out["t.jsonl:1"]["reason"] == "NearDedup"
    assert out["t.jsonl:1"]["detail"] == "MinHashSignature failed: Boom: injected failure on one text"
    assert out["t.jsonl:0"]["reason"] is None and out["t.jsonl:2"]["reason"] is None
    # the flow's signed rows (from a table signed in place) hold the two that could be signed
    assert len(signed_documents(signed, signer)) == 2


def test_a_document_the_tokenizer_fails_on_is_a_failure_and_the_others_are_tokenized():
    tokenizer = train_bpe([KK, RU, EN] * 10, vocab_size=300)

    class Fails:  # HF tokenizers raise from Rust for one input of a batch: the whole call fails
        def encode_batch_fast(self, texts, add_special_tokens):
            return boom("batch") if RU in texts else tokenizer.encode_batch_fast(texts, add_special_tokens=add_special_tokens)

        def encode(self, text, add_special_tokens):
            return boom("one document") if text == RU else tokenizer.encode(text, add_special_tokens=add_special_tokens)

    op = Tokenize(tokenizer.to_str())
    op.tokenizer = Fails()
    docs = pa.table({"doc_id": ["d0", "d1", "d2"], "source": ["text"] * 3, "lang": ["kk", "ru", "en"],
                     "text": [KK, RU, EN]})
    rows, failed = tokenization_failures(op(docs))
    assert failed == [{"doc_id": "d1", "error": "Boom: injected failure on one document"}]
    assert rows["doc_id"].to_pylist() == ["d0", "d2"]
    assert [tokenizer.decode(ids) for ids in rows["input_ids"].to_pylist()] == [KK, EN]
    assert np.all(np.array(rows["n_tokens"].to_pylist()) > 0)


def test_a_book_whose_page_rows_cannot_be_read_is_its_own_error_document():
    """The adapter around BookAssembly: page rows of the wrong shape (no config_hash here)
    cost that book only, as an error row naming it."""
    from flows.curate import book_assembler

    assemble = book_assembler([{"book_id": "b1", "uri": "b1.pdf", "title": "Кітап"}], "cfg")
    [row] = assemble(pa.table({"book_id": ["b1"], "uri": ["b1.pdf"], "page": [1]})).to_pylist()
    assert row["reason"] == "BookAssembly" and row["detail"].startswith("cannot assemble: ")
    assert row["source_id"] == "b1" and row["uri"] == "b1.pdf" and row["book_id"] == "b1" and row["title"] == "Кітап"
