"""The whole build on the bundled samples, on the session's shared local Ray."""
import json
import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from tokenizers import Tokenizer

from flows.build import run_build, storage_for
from flows.config import load_config
from flows.verify import verify_shards
from schemas import DOCUMENT, LEDGER, PAGE, REJECTED, SHARD, ShardManifest, validate


def build(samples: Path, output: Path, *extra: str):
    cfg = load_config([f"output={output}", f"inputs.text=[{samples}/text,{samples}/bad]",
                       f"inputs.books=[{samples}/books,{samples}/bad]", f"inputs.catalog={samples}/books/catalog.csv",
                       "tokenizer.vocab_size=2000", *extra])
    return cfg, run_build(cfg)


@pytest.fixture(scope="module")
def run(ray_session, samples, tmp_path_factory):
    output = tmp_path_factory.mktemp("build") / "out"
    cfg, report = build(samples, output)
    return output, cfg, report


def table(path: Path):
    return pq.read_table(path)


def test_output_layout_follows_the_contract(run):
    output, _, _ = run
    for name in ("documents", "rejected", "pages", "shards"):
        assert (output / name).is_dir(), name
    for name in ("report.json", "report.html", "shards/manifest.json", "shards/tokenizer.json"):
        assert (output / name).is_file(), name
    validate(table(output / "documents"), DOCUMENT)
    validate(table(output / "rejected"), REJECTED)
    validate(table(output / "pages"), PAGE)
    for shard in (output / "shards").glob("shard-*.parquet"):
        validate(table(shard), SHARD, allow_extra=False)


def test_report_balances_and_accounts_for_every_stage(run):
    output, _, report = run
    written = json.loads((output / "report.json").read_text())
    assert written["documents"] == report["documents"] and written["stages"] == report["stages"]
    docs = report["documents"]
    assert docs["balanced"] and docs["in"] == docs["kept"] + docs["rejected"]
    assert docs["rejected"] == sum(docs["rejected_by_reason"].values())
    assert docs["kept"] == table(output / "documents").num_rows
    assert docs["rejected"] == table(output / "rejected").num_rows
    stages = report["stages"]
    assert stages[0]["in"] == docs["in"] and stages[-1]["out"] == docs["kept"]
    assert all(a["out"] == b["in"] for a, b in zip(stages, stages[1:]))


def test_bad_inputs_become_rows_with_reasons(run):
    output, _, _ = run
    rejected = table(output / "rejected").to_pylist()
    by_source = {Path(r["uri"]).name + ":" + r["reason"]: r["detail"] for r in rejected}
    assert "invalid JSON" in by_source["malformed.jsonl:TextReader"] or any(
        "invalid JSON" in r["detail"] for r in rejected if r["uri"].endswith("malformed.jsonl"))
    assert "nor text in a Cyrillic code page" in by_source["gzipped.txt:TextReader"]
    assert by_source["empty.txt:TextReader"] == "empty file"
    assert "PDF" in by_source["corrupt.pdf:BookAssembly"]
    assert "cannot open PDF" in by_source["not_a_pdf.pdf:BookAssembly"]


def test_curation_rejects_for_the_right_reasons(run, samples):
    output, _, _ = run
    expected = json.loads((samples / "expected.json").read_text())
    rejected = {r["source_id"]: r for r in table(output / "rejected").to_pylist()}
    assert rejected["en-0011"]["reason"] == "LanguageFilter" and rejected["en-0011"]["lang"] == "de"
    assert rejected["kk-0011"]["reason"] == "LanguageFilter" and rejected["kk-0011"]["lang"] == "tr"
    assert rejected["en-0010"]["reason"] == "C4Quality"  # cookie/terms boilerplate
    kept = {r["source_id"]: r for r in table(output / "documents").to_pylist()}
    pairs = [(p["a"].get("id"), p["b"].get("id")) for p in expected["exact_duplicates"]]
    pairs = [(a, b) for a, b in pairs if a and b]
    assert pairs
    for a, b in pairs:  # exactly one of each planted pair survives
        assert (a in kept) != (b in kept), (a, b)
    duplicates = [r for r in rejected.values() if r["reason"] == "ExactDedup"]
    assert duplicates and all(r["detail"].startswith("exact duplicate of ") for r in duplicates)
    kept_ids = {r["doc_id"] for r in kept.values()}
    assert all(r["detail"].removeprefix("exact duplicate of ") in kept_ids for r in duplicates)


def test_kazakh_homoglyphs_are_repaired_and_signals_kept(run):
    output, _, _ = run
    docs = {r["source_id"]: r for r in table(output / "documents").to_pylist()}
    fixed = docs["kk-0008"]
    assert fixed["norm_homoglyphs"] > 0
    assert "бiлiм" not in fixed["text"] and fixed["lang"] == "kk"
    assert all(d["gopher_words"] is not None for d in docs.values())


def test_books_become_documents_and_pages_are_recorded(run):
    output, _, _ = run
    pages = table(output / "pages").to_pylist()
    # Catalogued books carry the catalog's ids (samples/books/catalog.csv), the rest their file stem.
    mixed = sorted((p["page"], p["method"]) for p in pages if p["book_id"] == "KZ-BK-0004")
    assert mixed == [(1, "textlayer"), (2, "tesseract"), (3, "textlayer")]  # only the scanned page is OCR'd
    scanned = [p for p in pages if p["book_id"] == "KZ-BK-0003"]
    assert [p["method"] for p in scanned] == ["tesseract", "tesseract"]
    assert all(p["confidence"] > 80 and "tesseract" in p["engine"] and p["language"] == "kk" for p in scanned)
    books = {r["book_id"]: r for r in table(output / "documents").to_pylist() if r["source"] == "book"}
    assert {"KZ-BK-0001", "KZ-BK-0002", "KZ-BK-0003", "KZ-BK-0004"} <= set(books)
    assert books["KZ-BK-0001"]["n_pages"] == 5 and "ә" in books["KZ-BK-0001"]["text"]
    assert books["KZ-BK-0001"]["title"] == "Жасанды интеллект және қазақ тілі"
    assert books["KZ-BK-0003"]["ocr_confidence"] > 80 and "Қазақ" in books["KZ-BK-0003"]["text"]


def test_ledger_lists_every_catalogued_and_found_book(run):
    output, _, report = run
    ledger = {r["book_id"]: r for r in validate(table(output / "ledger"), LEDGER).to_pylist()}
    assert ledger["KZ-BK-0001"]["status"] == "in corpus" and ledger["KZ-BK-0001"]["catalogued"]
    assert ledger["KZ-BK-0004"]["pages_textlayer"] == 2 and ledger["KZ-BK-0004"]["pages_ocr"] == 1
    assert ledger["KZ-BK-0005"]["status"] == "queued"  # in the catalog, not scanned yet
    assert ledger["corrupt"]["status"] == "failed" and not ledger["corrupt"]["catalogued"]
    assert report["ledger"]["books"] == len(ledger)
    html = (output / "report.html").read_text()
    assert "<!-- library:end -->" in html and "KZ-BK-0005" in html  # listed among books not yet in the corpus


def test_near_duplicates_are_removed_with_cluster_ids(run, samples):
    output, _, _ = run
    expected = json.loads((samples / "expected.json").read_text())
    kept = {r["source_id"]: r for r in table(output / "documents").to_pylist()}
    rejected = {r["source_id"]: r for r in table(output / "rejected").to_pylist()}
    for pair in expected["near_duplicates"]:
        a, b = pair["a"]["id"], pair["b"]["id"]
        assert (a in kept) != (b in kept), (a, b)
        keeper, removed = (kept[a], rejected[b]) if a in kept else (kept[b], rejected[a])
        assert removed["reason"] == "NearDedup" and keeper["doc_id"] in removed["detail"]
        assert removed["dedup_cluster"] == keeper["dedup_cluster"] is not None


def test_shards_decode_back_to_the_kept_documents(run):
    output, _, report = run
    manifest = ShardManifest.from_json((output / "shards/manifest.json").read_text())
    tokenizer = Tokenizer.from_file(str(output / "shards/tokenizer.json"))
    texts = {r["doc_id"]: r["text"] for r in table(output / "documents").to_pylist()}
    chunks = {}
    for entry in manifest.shards:
        rows = table(output / "shards" / entry.path)
        assert {*rows.column("source").to_pylist()} == {entry.partition["source"]}  # one partition per shard
        assert {*rows.column("lang").to_pylist()} == {entry.partition["lang"]}
        for row in rows.to_pylist():
            chunks.setdefault(row["doc_id"], []).append((row["chunk"], row["input_ids"]))
    seen = {d: tokenizer.decode([t for _, ids in sorted(parts) for t in ids]) for d, parts in chunks.items()}
    assert seen == texts
    assert manifest.totals["n_docs"] == len(texts) == report["shards"]["n_docs"]
    assert manifest.tokenizer["eos_id"] == tokenizer.token_to_id(manifest.tokenizer["eos"])
    assert manifest.tokenizer["vocab_size"] == tokenizer.get_vocab_size()
    assert sum(manifest.tokenizer_sample["by_lang"].values()) == pytest.approx(1.0, abs=1e-5)
    assert set(manifest.totals["by_lang"]) <= {"kk", "ru", "en", "und"}
    assert sum(manifest.totals["by_partition"].values()) == manifest.totals["n_tokens"]
    fertility = report["shards"]["fertility"]
    assert fertility["kk"]["tokens_per_word"] > 1 and fertility["kk"]["chars_per_token"] > 1


def test_verify_detects_a_tampered_shard(run, tmp_path):
    output, cfg, _ = run
    copy = tmp_path / "shards"
    shutil.copytree(output / "shards", copy)
    assert verify_shards(storage_for(cfg), str(copy)) == []
    shard = next(copy.glob("shard-*.parquet"))
    shard.write_bytes(shard.read_bytes()[:-10] + b"0123456789")
    assert any("sha256 mismatch" in p for p in verify_shards(storage_for(cfg), str(copy)))


def test_rerun_skips_finished_stages_and_gives_the_same_corpus(run, samples):
    output, _, report = run
    before = sorted(table(output / "documents").column("doc_id").to_pylist())
    manifest = json.loads((output / "shards/manifest.json").read_text())
    _, again = build(samples, output)
    assert sorted(table(output / "documents").column("doc_id").to_pylist()) == before
    assert json.loads((output / "shards/manifest.json").read_text()) == manifest  # not rewritten
    assert again["documents"] == report["documents"]


def test_a_kazakh_book_catalogued_as_russian_is_ocrd_as_kazakh_and_flagged(ray_session, samples, tmp_path):
    books = tmp_path / "books"
    books.mkdir()
    shutil.copy(samples / "books" / "scanned_kk.pdf", books / "scanned_kk.pdf")
    (books / "catalog.csv").write_text("book_id,title,language,file\nKZ-9,Тілдік модельдер,ru,scanned_kk.pdf\n")
    cfg = load_config([f"output={tmp_path / 'out'}", "inputs.text=[]", f"inputs.books=[{books}]",
                       f"inputs.catalog={books}/catalog.csv", "tokenizer.vocab_size=500"])
    run_build(cfg)
    pages = table(tmp_path / "out" / "pages").to_pylist()
    assert sorted(p["page"] for p in pages) == [1, 2]
    for p in pages:
        assert (p["language"], p["ocr_language"], p["detected_language"]) == ("ru", "kaz+rus", "kk")
        assert p["reocr_reason"] == "text reads as kk, OCR'd for ru (rus+eng)" and set("құі") <= set(p["text"])
        assert [a["languages"] for a in json.loads(p["ocr_attempts"])] == ["rus+eng", "kaz+rus"]
    [book] = table(tmp_path / "out" / "ledger").to_pylist()
    assert book["language_warning"] == "catalog language looks wrong: 2 of 2 OCR'd pages read as kk (catalog: ru)"
    [doc] = table(tmp_path / "out" / "documents").to_pylist()
    assert doc["lang"] == "kk" and "ұлттық" in doc["text"]
