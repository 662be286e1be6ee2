"""S3 objects that vanish between the listing and the reading (a librarian moving files,
a lifecycle rule): each becomes an error row naming its URI and the store's answer, the
rest of the run completes, and the report balances; once the objects are back, the next
build reads them, and only them, again.

The build lists its inputs on the driver (find_text_files, find_books) and reads them
later inside Ray tasks. The test wraps the two listing functions the build calls: the real
listing runs, then the objects are deleted from the real S3 server (moto_server) before any
task reads them. Nothing in the reading path is replaced."""
import json

import boto3
import pyarrow.parquet as pq
import pytest

import flows.inputs
from flows.build import run_build
from flows.config import load_config
from tests.system.test_s3 import s3_endpoint  # noqa: F401 - the moto_server fixture

BUCKET = "library"
TEXT = ["kk_news.jsonl", "ru_articles.jsonl", "en_articles.jsonl"]
BOOKS = ["born_digital_kk.pdf", "born_digital_ru.pdf"]
GONE_TEXT, GONE_BOOK = "en_articles.jsonl", "born_digital_kk.pdf"


@pytest.fixture(scope="module")
def vanished(ray_session, s3_endpoint, samples, tmp_path_factory):  # noqa: F811
    s3 = boto3.client("s3", endpoint_url=s3_endpoint, aws_access_key_id="testing", aws_secret_access_key="testing",
                      region_name="us-east-1")
    s3.create_bucket(Bucket=BUCKET)
    for name in TEXT:
        s3.upload_file(str(samples / "text" / name), BUCKET, f"in/text/{name}")
    for name in BOOKS:
        s3.upload_file(str(samples / "books" / name), BUCKET, f"in/scans/{name}")
    output = tmp_path_factory.mktemp("vanishing") / "out"
    # Credentials in the config travel with the pickled Storage to the Ray workers.
    cfg = load_config([f"output={output}", f"inputs.text=[s3://{BUCKET}/in/text]",
                       f"inputs.books=[s3://{BUCKET}/in/scans]", f"storage.s3.endpoint_url={s3_endpoint}",
                       "storage.s3.access_key_id=testing", "storage.s3.secret_access_key=testing",
                       "tokenizer.vocab_size=500"])
    listed = {}

    def then_delete(find, key):
        def listing(*args, **kwargs):
            found = find(*args, **kwargs)
            listed[find.__name__] = found[0]
            s3.delete_object(Bucket=BUCKET, Key=key)
            return found
        return listing

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(flows.inputs, "find_text_files", then_delete(flows.inputs.find_text_files, f"in/text/{GONE_TEXT}"))
        patch.setattr(flows.inputs, "find_books", then_delete(flows.inputs.find_books, f"in/scans/{GONE_BOOK}"))
        report = run_build(cfg)
    return output, report, listed, (cfg, s3)  # the last: for the rerun, the last test of the module


def test_the_vanished_objects_were_listed(vanished):
    _, _, listed, _ = vanished
    assert f"s3://{BUCKET}/in/text/{GONE_TEXT}" in listed["find_text_files"]
    assert f"s3://{BUCKET}/in/scans/{GONE_BOOK}" in [b["uri"] for b in listed["find_books"]]


def test_a_vanished_text_file_is_one_error_row_naming_it(vanished):
    output, report, _, _ = vanished
    uri = f"s3://{BUCKET}/in/text/{GONE_TEXT}"
    rows = [r for r in pq.read_table(output / "rejected").to_pylist() if r["uri"] == uri]
    assert len(rows) == 1, rows
    assert rows[0]["reason"] == "TextReader" and rows[0]["source_id"] == uri
    assert "cannot open" in rows[0]["detail"] and f"in/text/{GONE_TEXT}" in rows[0]["detail"]
    kept = pq.read_table(output / "documents", columns=["uri"]).column("uri").to_pylist()
    assert uri not in kept
    assert report["documents"]["rejected_by_reason"]["TextReader"] == 1  # the other files read cleanly


def test_a_vanished_book_is_failed_in_the_ledger_with_the_reason(vanished):
    output, report, _, _ = vanished
    book_id = GONE_BOOK.removesuffix(".pdf")
    ledger = {r["book_id"]: r for r in pq.read_table(output / "ledger").to_pylist()}
    assert ledger[book_id]["status"] == "failed", ledger[book_id]
    pages = [r for r in pq.read_table(output / "pages").to_pylist() if r["book_id"] == book_id]
    assert len(pages) == 1 and "cannot open" in pages[0]["error"] and GONE_BOOK in pages[0]["error"]
    assert report["pages"]["failed"] == 1
    assert report["ledger"]["by_status"]["failed"] == 1
    # and the corpus accounts for it: the book's document is rejected with the same reason
    rows = [r for r in pq.read_table(output / "rejected").to_pylist() if r["book_id"] == book_id]
    assert len(rows) == 1 and rows[0]["reason"] == "BookAssembly" and "cannot open" in rows[0]["detail"], rows


def test_the_rest_of_the_run_completes_and_balances(vanished, samples):
    output, report, _, _ = vanished
    docs = report["documents"]
    assert docs["balanced"] and docs["in"] == docs["kept"] + sum(docs["rejected_by_reason"].values())
    uris = set(pq.read_table(output / "documents", columns=["uri"]).column("uri").to_pylist())
    for name in set(TEXT) - {GONE_TEXT}:
        assert f"s3://{BUCKET}/in/text/{name}" in uris, name
    other_book = (set(BOOKS) - {GONE_BOOK}).pop().removesuffix(".pdf")
    ledger = {r["book_id"]: r for r in pq.read_table(output / "ledger").to_pylist()}
    assert ledger[other_book]["status"] == "in corpus", ledger[other_book]
    manifest = json.loads((output / "shards" / "manifest.json").read_text())
    assert manifest["totals"]["n_docs"] == docs["kept"] > 0


def test_a_rerun_reads_the_objects_again_once_they_are_back(vanished, samples):
    output, _, _, (cfg, s3) = vanished
    units = {p: p.stat().st_mtime_ns for p in (output / "_work" / "curated").rglob("text-*.parquet")}
    s3.upload_file(str(samples / "text" / GONE_TEXT), BUCKET, f"in/text/{GONE_TEXT}")
    s3.upload_file(str(samples / "books" / GONE_BOOK), BUCKET, f"in/scans/{GONE_BOOK}")

    report = run_build(cfg)
    assert "TextReader" not in report["documents"]["rejected_by_reason"] and report["documents"]["balanced"]
    assert report["pages"]["failed"] == 0 and report["ledger"]["by_status"].get("failed", 0) == 0
    uris = set(pq.read_table(output / "documents", columns=["uri"]).column("uri").to_pylist())
    assert {f"s3://{BUCKET}/in/text/{name}" for name in TEXT} <= uris
    ledger = {r["book_id"]: r for r in pq.read_table(output / "ledger").to_pylist()}
    assert ledger[GONE_BOOK.removesuffix(".pdf")]["status"] == "in corpus"
    manifest = json.loads((output / "shards" / "manifest.json").read_text())
    assert manifest["totals"]["n_docs"] == report["documents"]["kept"]
    reread = [p.name for p, mtime in units.items() if p.stat().st_mtime_ns != mtime]
    assert len(reread) == 1  # the file that was gone; the others stay as committed
