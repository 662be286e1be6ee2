"""Reading inputs from and writing the corpus to a real S3 endpoint (moto_server process)."""
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import boto3
import pytest

from tests.conftest import run_qazflow

CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def s3_endpoint():
    moto = shutil.which("moto_server", path=str(Path(sys.executable).parent)) or shutil.which("moto_server")
    assert moto, "moto_server is not installed (pip install 'moto[server]')"
    port = free_port()
    server = subprocess.Popen([moto, "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.2)
    else:
        server.kill()
        pytest.fail("moto_server did not start")
    yield f"http://127.0.0.1:{port}"
    server.terminate()
    server.wait(timeout=10)


def test_build_reads_from_and_writes_to_s3(s3_endpoint, samples, tmp_path):
    s3 = boto3.client("s3", endpoint_url=s3_endpoint, **{
        "aws_access_key_id": "testing", "aws_secret_access_key": "testing", "region_name": "us-east-1"})
    s3.create_bucket(Bucket="library")
    s3.create_bucket(Bucket="corpus")
    for name in ("text/kk_news.jsonl", "text/en_articles.jsonl", "text/curated.parquet", "bad/gzipped.txt"):
        s3.upload_file(str(samples / name), "library", f"in/{name}")
    s3.upload_file(str(samples / "books/born_digital_ru.pdf"), "library", "scans/born_digital_ru.pdf")

    endpoint = f"storage.s3.endpoint_url={s3_endpoint}"
    # Credentials from the config this time (moto takes any): they must leave no trace.
    secrets = ("AKIAQAZFLOWFAKE00001", "qazflow/FAKE+secret/key0001")
    result = run_qazflow("build", "output=s3://corpus/run-1", "inputs.text=[s3://library/in/text,s3://library/in/bad]",
                         "inputs.books=[s3://library/scans/born_digital_ru.pdf]", endpoint,
                         f"storage.s3.access_key_id={secrets[0]}", f"storage.s3.secret_access_key={secrets[1]}",
                         "tokenizer.vocab_size=1000", env={"HOME": os.environ.get("HOME", "/tmp")})
    assert result.returncode == 0, result.stderr[-3000:]
    assert not any(secret in result.stdout + result.stderr for secret in secrets)

    keys = {o["Key"] for o in s3.list_objects_v2(Bucket="corpus", Prefix="run-1/")["Contents"]}
    for prefix in ("run-1/documents/", "run-1/rejected/", "run-1/pages/", "run-1/shards/shard-"):
        assert any(k.startswith(prefix) and k.endswith(".parquet") for k in keys), prefix
    assert {"run-1/report.json", "run-1/report.html", "run-1/shards/manifest.json", "run-1/shards/tokenizer.json"} <= keys
    for key in keys:  # report.json, report.html, stage markers, manifests, data: no credential anywhere
        body = s3.get_object(Bucket="corpus", Key=key)["Body"].read()
        assert not any(secret.encode() in body for secret in secrets), key
    report = json.loads(s3.get_object(Bucket="corpus", Key="run-1/report.json")["Body"].read())
    assert report["config"]["storage"]["s3"]["secret_access_key"] == "***"
    assert report["documents"]["balanced"]
    assert report["documents"]["rejected_by_reason"]["TextReader"] == 1  # gzipped.txt
    manifest = json.loads(s3.get_object(Bucket="corpus", Key="run-1/shards/manifest.json")["Body"].read())
    assert manifest["totals"]["n_docs"] == report["documents"]["kept"] > 0
    assert "book" in manifest["totals"]["by_source"]

    verify = run_qazflow("shards", "verify", "s3://corpus/run-1", endpoint, env=CREDENTIALS)
    assert verify.returncode == 0, verify.stdout + verify.stderr
    # a second run over the same S3 output skips every finished stage
    again = run_qazflow("build", "output=s3://corpus/run-1", "inputs.text=[s3://library/in/text,s3://library/in/bad]",
                        "inputs.books=[s3://library/scans/born_digital_ru.pdf]", endpoint,
                        "tokenizer.vocab_size=1000", env=CREDENTIALS)
    assert again.returncode == 0 and "curate: already done" in again.stderr
