"""SIGKILL the driver of `qazflow build` (and the embedded Ray it started) in the later
stages, then rerun the same command: the output equals an undisturbed run's, and what was
committed before the kill is not done again.

- during shards (tokenizer written, shards not yet): curation is not redone (its stage
  marker, its committed units and documents/ keep their files and times); the shards are
  made again, byte for byte the reference's.
- during curation (some text units committed, no curate marker): the committed units are
  kept as they are, only the rest is curated.

One undisturbed reference run serves both cases. tests/system/test_ocr_resume.py kills the
driver during OCR; tests/flows/test_curate_resume.py simulates the curation crash in-process.
"""
import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from tests.conftest import REPO, qazflow_bin, run_qazflow

pytestmark = pytest.mark.system


def build_args(samples: Path, out: Path) -> list[str]:
    # One born-digital book: a books unit curated after the text units (the curation kill
    # finds some units committed and the stage unfinished) and book shards, without OCR.
    return ["build", f"output={out}", f"inputs.text=[{samples}/text,{samples}/bad]",
            f"inputs.books=[{samples}/books/born_digital_kk.pdf]", "tokenizer.vocab_size=500"]


def text_units(out: Path) -> list[Path]:
    return sorted((out / "_work" / "curated").glob("*/text-*.parquet"))


def mtimes(paths) -> dict[str, int]:
    return {str(p): p.stat().st_mtime_ns for p in paths}


def curation_state(out: Path) -> dict[str, int]:
    """Every file curation commits, with its modification time."""
    files = [out / "_stages" / "curate.json", *(out / "_work" / "curated").rglob("*"),
             *(out / "documents").iterdir(), *(out / "rejected").iterdir()]
    return mtimes(p for p in files if p.is_file())


def shards_under_way(out: Path) -> bool:
    return (out / "shards" / "tokenizer.json").exists() and not (out / "shards" / "manifest.json").exists()


def curation_under_way(out: Path) -> bool:
    return bool(text_units(out)) and not (out / "_stages" / "curate.json").exists()


WHEN = {"shards": shards_under_way, "curation": curation_under_way}


def corpus(out: Path) -> dict:
    """What a build delivers: documents, rejected rows, the shards by checksum, the counts."""
    manifest = json.loads((out / "shards" / "manifest.json").read_text())
    return {
        "documents": {r["doc_id"]: r["text"] for r in pq.read_table(out / "documents").to_pylist()},
        "rejected": {r["doc_id"]: (r["reason"], r["detail"]) for r in pq.read_table(out / "rejected").to_pylist()},
        "shards": sorted((s["path"], s["sha256"], s["n_tokens"]) for s in manifest["shards"]),
        "tokenizer": manifest["tokenizer"]["sha256"],
        "report": json.loads((out / "report.json").read_text())["documents"],
    }


@pytest.fixture(scope="module")
def reference(samples, tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("reference") / "out"
    result = run_qazflow(*build_args(samples, out))
    assert result.returncode == 0, result.stderr[-3000:]
    return corpus(out)


def kill_when(samples: Path, out: Path, when) -> None:
    """Starts the build and SIGKILLs it, with every process it started, once `when(out)`."""
    process = subprocess.Popen([qazflow_bin(), *build_args(samples, out)], cwd=REPO, start_new_session=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 600
        while not when(out) and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        os.killpg(process.pid, signal.SIGKILL)  # the driver and the embedded Ray it started
        process.wait()
        subprocess.run(["pkill", "-9", "-s", str(process.pid)])  # Ray processes that left the group
    assert process.returncode == -signal.SIGKILL, "the build ended before the kill"


@pytest.mark.parametrize("stage", ["shards", "curation"])
def test_sigkill_of_the_driver_then_rerun_equals_an_undisturbed_run(stage, samples, tmp_path, reference):
    out = tmp_path / "out"
    kill_when(samples, out, WHEN[stage])
    assert WHEN[stage](out), f"the kill must land during {stage}"
    before = curation_state(out) if stage == "shards" else mtimes(text_units(out))

    rerun = run_qazflow(*build_args(samples, out))
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    if stage == "shards":
        assert "curate: already done" in rerun.stderr
        assert curation_state(out) == before  # not one curation file written again
    else:
        total = len(text_units(out))
        assert f"{len(before)} of {total} text files already curated" in rerun.stderr
        assert {k: v for k, v in mtimes(text_units(out)).items() if k in before} == before
    assert corpus(out) == reference
