"""`qazflow submit` against a real multi-node Ray cluster: a head and two worker nodes,
each its own `ray start` process on 127.0.0.1 (cluster/local_cluster.sh)."""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from tests.conftest import REPO, run_qazflow


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
    started = subprocess.run(["bash", script, "start"], env=env, capture_output=True, text=True, timeout=300)
    try:
        assert started.returncode == 0, started.stdout + started.stderr
        yield f"http://127.0.0.1:{base + 1}"
    finally:
        subprocess.run(["bash", script, "stop"], env=env, capture_output=True, timeout=120)
        shutil.rmtree(temp_dir, ignore_errors=True)


def test_submit_runs_the_build_as_a_job_on_three_nodes(cluster, samples, tmp_path):
    out = tmp_path / "out"
    result = run_qazflow("submit", f"ray.address={cluster}", f"output={out}",
                         f"inputs.text=[{samples}/text/kk_news.jsonl,{samples}/text/ru_articles.jsonl]",
                         f"inputs.books=[{samples}/books/born_digital_kk.pdf]", "tokenizer.vocab_size=1000",
                         timeout=600)
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    assert "SUCCEEDED" in result.stderr
    assert "curate:" in result.stdout  # the job's own log lines, streamed back
    report = json.loads((out / "report.json").read_text())
    assert report["documents"]["balanced"] and report["documents"]["kept"] > 0
    assert pq.read_table(out / "documents").num_rows == report["documents"]["kept"]
    assert (out / "shards" / "manifest.json").exists()


def test_submit_reports_a_failed_job(cluster, tmp_path):
    # Inputs are checked where the job runs (the cluster's paths): this one fails there.
    result = run_qazflow("submit", f"ray.address={cluster}", f"output={tmp_path}/o",
                         "inputs.text=[/nonexistent/qazflow/x.jsonl]", timeout=300)
    assert result.returncode == 1 and "FAILED" in result.stderr
    assert "input path does not exist" in result.stdout
