"""The `qazflow` command as a user runs it: a real process with its own embedded Ray."""
import json
import time

import pyarrow.parquet as pq
from tokenizers import Tokenizer

from schemas import DOCUMENT, REJECTED, validate
from tests.conftest import run_qazflow


def test_help_lists_groups_and_documented_keys():
    result = run_qazflow("build", "--help")
    assert result.returncode == 0
    for group in ("ocr", "storage", "ray", "filters", "dedup", "tokenizer"):
        assert group in result.stdout
    assert "min_chars" in result.stdout and "# shorter documents are rejected" in result.stdout


def test_bad_overrides_fail_at_once_with_one_line_naming_the_key(tmp_path):
    cases = {
        ("filters.length.min_chars=abc",): "filters.length.min_chars",
        ("filters.no_such_key=1",): "filters.no_such_key",
        ("ocr=paddle",): "ocr=paddle",
        (f"inputs.text=[{tmp_path}/missing.jsonl]",): "inputs.text",
    }
    for overrides, key in cases.items():
        started = time.monotonic()
        result = run_qazflow("build", f"output={tmp_path}/out", *overrides)
        assert result.returncode == 2, result.stderr
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert len(lines) == 1 and key in lines[0], result.stderr
        assert time.monotonic() - started < 30  # before any Ray starts
    assert not (tmp_path / "out").exists()


def test_build_status_and_verify_end_to_end(tmp_path, samples):
    out = tmp_path / "out"
    result = run_qazflow(
        "build", "--log-format=json", f"output={out}",
        f"inputs.text=[{samples}/text/kk_news.jsonl,{samples}/text/ru_articles.jsonl,{samples}/bad/malformed.jsonl]",
        f"inputs.books=[{samples}/books/born_digital_kk.pdf]", "tokenizer.vocab_size=1000",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "documents:" in result.stdout and str(out) in result.stdout
    # --log-format=json: progress as one JSON object per line, for log collectors
    records = [json.loads(line) for line in result.stderr.splitlines() if line.startswith('{"time"')]
    assert {"pages", "curate", "shards"} <= {r.get("stage") for r in records}
    assert all(r["level"] == "info" and r["message"] for r in records)
    assert not [line for line in result.stderr.splitlines() if line.startswith("[qazflow]")]
    report = json.loads((out / "report.json").read_text())
    docs = report["documents"]
    assert docs["balanced"] and docs["rejected_by_reason"]["TextReader"] >= 2
    kept = validate(pq.read_table(out / "documents"), DOCUMENT)
    validate(pq.read_table(out / "rejected"), REJECTED)
    assert "book" in kept.column("source").to_pylist()
    tokenizer = Tokenizer.from_file(str(out / "shards/tokenizer.json"))
    texts = dict(zip(kept.column("doc_id").to_pylist(), kept.column("text").to_pylist()))
    decoded = {}
    for shard in (out / "shards").glob("shard-*.parquet"):
        for row in pq.read_table(shard).to_pylist():
            decoded[row["doc_id"]] = tokenizer.decode(row["input_ids"])
    assert decoded == texts

    verify = run_qazflow("shards", "verify", str(out))
    assert verify.returncode == 0 and "OK" in verify.stdout
    status = run_qazflow("status", f"output={out}")
    assert status.returncode == 0 and "GopherQuality" in status.stdout and str(docs["kept"]) in status.stdout


def test_submit_refuses_credentials_on_the_job_command_line(tmp_path, samples):
    """A cluster stores and shows every job's entrypoint: a key there is a key leaked."""
    result = run_qazflow("submit", "ray.address=http://127.0.0.1:9", f"output={tmp_path}/out",
                         f"inputs.text=[{samples}/text/kk_news.jsonl]", "storage.s3.secret_access_key=qazflowFAKEsecret")
    assert result.returncode == 2 and "storage.s3.secret_access_key" in result.stderr
    assert "qazflowFAKEsecret" not in result.stdout + result.stderr


def test_qazflow_inputs_says_what_a_build_would_read_and_leave_out(tmp_path, samples):
    """`qazflow inputs`: counts by kind of file for each source, the catalog's matches, the
    files left out and the paths missing; nothing is read, no Ray is started."""
    library, scans = tmp_path / "library", tmp_path / "scans"
    (scans / "vol1").mkdir(parents=True)
    library.mkdir()
    for name in ("a.epub", "b.fb2", "c.csv", "d.jsonl.zst", "notes.xlsx", "cover.psd"):
        (library / name).write_bytes(b"x")
    for name in ("0001.png", "0002.png", "0003.png"):
        (scans / "vol1" / name).write_bytes(b"x")
    (scans / "kitap.pdf").write_bytes(b"x")
    (scans / "catalog.csv").write_text("book_id,title,language,file\nK-1,Кітап,kk,kitap.pdf\nK-2,Жоқ,kk,gone.pdf\n")
    result = run_qazflow("inputs", f"output={tmp_path}/out", f"inputs.text=[{library},{samples}/text/kk_news.jsonl]",
                         f"inputs.books=[{scans},{tmp_path}/not_there]", f"inputs.catalog={scans}/catalog.csv",
                         "inputs.on_missing=reject")
    assert result.returncode == 0, result.stderr[-2000:]
    lines = result.stdout.splitlines()
    assert lines[0] == "text:          5 files (csv 1, epub 1, fb2 1, jsonl 1, jsonl.zst 1)"
    assert lines[1] == "books:         2 (pdf 1, page-image folders 1 (3 pages))"
    assert lines[2].startswith("catalog:       1 books catalogued, 1 not, 1 catalogued without a scan (queued)")
    left_out = lines.index("left out:      2 files of a kind no source reads (psd 1, xlsx 1)")
    assert sorted(lines[left_out + 1:left_out + 3]) == [f"  {library}/cover.psd", f"  {library}/notes.xlsx"]
    assert lines[-2:] == ["missing:       1 paths that do not exist", f"  {tmp_path}/not_there"]
    assert not (tmp_path / "out").exists()
