"""`qazflow submit` against a real multi-node Ray cluster: a head and two worker nodes,
each its own `ray start` process on 127.0.0.1 (cluster/local_cluster.sh)."""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from tests.conftest import REPO, ocr_rows, qazflow_bin, run_qazflow


def free_port_block(size: int) -> int:
    """A base port with `size` free ports above it (checked, not guaranteed)."""
    for base in range(30000, 60000, 1000):
        try:
            for port in (base, base + size // 2, base + size - 1):
                with socket.socket() as s:
                    s.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
    raise RuntimeError("no free port block")


@pytest.fixture(scope="module")
def cluster():
    base = free_port_block(4000)
    temp_dir = tempfile.mkdtemp(prefix="qzc", dir="/tmp")  # Ray's socket paths must stay short
    env = {
        **os.environ,
        "RAY_BIN": str(Path(sys.executable).parent / "ray"),
        "QAZFLOW_GCS_PORT": str(base), "QAZFLOW_DASHBOARD_PORT": str(base + 1),
        "QAZFLOW_CLIENT_PORT": str(base + 2), "QAZFLOW_NODE_PORT_BASE": str(base + 100),
        "QAZFLOW_WORKER_PORT_BASE": str(base + 1000), "QAZFLOW_WORKER_PORTS_PER_NODE": "500",
        "QAZFLOW_RAY_TEMP_DIR": temp_dir, "QAZFLOW_OBJECT_STORE_MEMORY": "200000000",
    }
    script = str(REPO / "cluster" / "local_cluster.sh")

    def control(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(["bash", script, *args], env=env, capture_output=True, text=True, timeout=300)

    started = control("start")
    try:
        assert started.returncode == 0, started.stdout + started.stderr
        yield f"http://127.0.0.1:{base + 1}", control
    finally:
        control("stop")
        shutil.rmtree(temp_dir, ignore_errors=True)


def submit_args(address: str, out: Path, samples: Path, scans: Path) -> list[str]:
    """Text, a born-digital book and 8 scanned pages to OCR on three one-CPU nodes."""
    return ["submit", f"ray.address={address}", f"output={out}",
            f"inputs.text=[{samples}/text/kk_news.jsonl,{samples}/text/ru_articles.jsonl]",
            f"inputs.books=[{samples}/books/born_digital_kk.pdf,{scans}]", "tokenizer.vocab_size=1000",
            "pages.commit_pages=1"]  # each OCR'd page on disk at once: the test sees OCR under way


def outcome(out: Path) -> dict:
    manifest = json.loads((out / "shards" / "manifest.json").read_text())
    return {
        "documents": {r["doc_id"]: r["text"] for r in pq.read_table(out / "documents").to_pylist()},
        "rejected": {r["doc_id"]: r["reason"] for r in pq.read_table(out / "rejected").to_pylist()},
        "shards": sorted((s["path"], s["sha256"]) for s in manifest["shards"]),
        "report": json.loads((out / "report.json").read_text())["documents"],
    }


@pytest.fixture(scope="module")
def undisturbed(cluster, samples, scanned_books, tmp_path_factory):
    out = tmp_path_factory.mktemp("undisturbed") / "out"
    result = run_qazflow(*submit_args(cluster[0], out, samples, scanned_books), timeout=600)
    return out, result


def test_submit_runs_the_build_as_a_job_on_three_nodes(undisturbed):
    out, result = undisturbed
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    assert "SUCCEEDED" in result.stderr
    assert "curate:" in result.stdout  # the job's own log lines, streamed back
    report = json.loads((out / "report.json").read_text())
    assert report["documents"]["balanced"] and report["documents"]["kept"] > 0
    assert pq.read_table(out / "documents").num_rows == report["documents"]["kept"]
    assert (out / "shards" / "manifest.json").exists()


def test_submit_reports_a_failed_job(cluster, tmp_path):
    # Inputs are checked where the job runs (the cluster's paths): this one fails there.
    result = run_qazflow("submit", f"ray.address={cluster[0]}", f"output={tmp_path}/o",
                         "inputs.text=[/nonexistent/qazflow/x.jsonl]", timeout=300)
    assert result.returncode == 1 and "FAILED" in result.stderr
    assert "input path does not exist" in result.stdout


def test_losing_a_worker_node_mid_ocr_changes_nothing(cluster, undisturbed, samples, scanned_books, tmp_path):
    """Last in this module: the cluster has one node less afterwards."""
    address, control = cluster
    out = tmp_path / "out"
    job = subprocess.Popen([qazflow_bin(), *submit_args(address, out, samples, scanned_books)], cwd=REPO,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 400
    while not ocr_rows(out) and time.monotonic() < deadline and job.poll() is None:
        time.sleep(0.2)
    killed = control("kill-node", "2")
    assert killed.returncode == 0, killed.stderr
    log, _ = job.communicate(timeout=600)
    assert job.returncode == 0, log[-4000:]
    assert 1 <= len(ocr_rows(out)), "the node must be lost while pages were being OCR'd"
    assert "1/3" not in control("status").stdout and "2/3" in control("status").stdout  # the node is gone

    pages = Counter((r["book_id"], r["page"]) for r in ocr_rows(out))
    assert len(pages) == 8 and set(pages.values()) == {1}, pages  # no page OCR'd twice, none missing
    assert outcome(out) == outcome(undisturbed[0])
