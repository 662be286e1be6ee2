"""Curation resumes per input: a crash in dedup redoes dedup only, and a crash while the
text files were being curated redoes only the files that had not been committed."""
import json
import os
import shutil

import pyarrow.parquet as pq
import pytest

import flows.curate
from flows.build import run_build
from flows.config import load_config

FILES = ["text/kk_news.jsonl", "text/ru_articles.jsonl", "text/en_articles.jsonl", "text/mixed_kk_ru.txt",
         "text/curated.parquet", "bad/malformed.jsonl", "bad/gzipped.txt", "bad/empty.txt"]


def config(samples, output):
    files = ",".join(str(samples / f) for f in FILES)
    return load_config([f"output={output}", f"inputs.text=[{files}]", "tokenizer.vocab_size=500"])


def units(output) -> dict[str, float]:
    """Committed text units and when each was written."""
    return {p.name: p.stat().st_mtime_ns for p in (output / "_work" / "curated").glob("*/text-*.parquet")}


def corpus(output) -> tuple[dict, dict]:
    kept = {r["doc_id"]: r["text"] for r in pq.read_table(output / "documents").to_pylist()}
    rejected = {r["doc_id"]: r["reason"] for r in pq.read_table(output / "rejected").to_pylist()}
    return kept, rejected


@pytest.fixture(scope="module")
def reference(ray_session, samples, tmp_path_factory):
    output = tmp_path_factory.mktemp("reference") / "out"
    report = run_build(config(samples, output))
    return output, report


def test_every_text_file_is_one_committed_unit(reference):
    output, report = reference
    assert len(units(output)) == len(FILES)
    assert report["documents"]["balanced"]


def test_a_crash_in_dedup_redoes_dedup_only(ray_session, samples, tmp_path, monkeypatch, reference, capfd):
    output = tmp_path / "out"
    cfg = config(samples, output)

    def crash(*args, **kwargs):
        raise RuntimeError("crash in near-dedup")

    with monkeypatch.context() as patch:
        patch.setattr(flows.curate, "near_dedup", crash)
        with pytest.raises(RuntimeError, match="crash in near-dedup"):
            run_build(cfg)
    committed = units(output)
    assert len(committed) == len(FILES)
    capfd.readouterr()

    report = run_build(cfg)
    assert f"{len(FILES)} of {len(FILES)} text files already curated" in capfd.readouterr().err
    assert units(output) == committed  # not one file read and curated again
    assert corpus(output) == corpus(reference[0])
    assert report["documents"] == reference[1]["documents"]


def test_a_crash_while_curating_redoes_the_files_in_flight_only(ray_session, samples, tmp_path, reference, capfd):
    """The state a driver killed while curating leaves: some units committed, the rest not,
    and no stage marker. The rerun curates the missing units and nothing else."""
    output = tmp_path / "out"
    shutil.copytree(reference[0], output)
    cfg = config(samples, output)
    committed = units(output)
    lost = sorted(committed)[:2]
    for name in lost:
        next((output / "_work" / "curated").glob(f"*/{name}")).unlink()
    os.remove(output / "_stages" / "curate.json")
    capfd.readouterr()

    report = run_build(cfg)
    assert f"{len(FILES) - 2} of {len(FILES)} text files already curated" in capfd.readouterr().err
    again = units(output)
    assert {n for n in again if again[n] != committed.get(n)} == set(lost)
    assert corpus(output) == corpus(reference[0])
    assert json.loads((output / "report.json").read_text())["documents"] == reference[1]["documents"]
    assert report["documents"]["balanced"]
