"""The news flow with its output on a real S3 endpoint (moto_server): WARC files are
uploaded when finished, state and fetch log live on S3, extraction reads WARC from S3."""
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import boto3
import pytest

from flows.news import news_documents
from flows.storage import S3Settings, Storage
from tests.news_site import NewsSite, OffSite
from tests.system.test_news_crawl import SMALL_CRAWL_KEPT, path_of, rows, small_crawl_config

KEYS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing", "region_name": "us-east-1"}


@pytest.fixture(scope="module")
def s3_endpoint():
    moto = shutil.which("moto_server", path=str(Path(sys.executable).parent)) or shutil.which("moto_server")
    assert moto, "moto_server is not installed (pip install 'moto[server]')"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
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


def test_crawl_into_s3_and_extract_from_it(ray_session, s3_endpoint):
    s3 = boto3.client("s3", endpoint_url=s3_endpoint, **KEYS)
    s3.create_bucket(Bucket="news")
    storage = Storage(S3Settings(endpoint_url=s3_endpoint, region="us-east-1", access_key_id="testing",
                                 secret_access_key="testing"))
    off = OffSite().start()
    site = NewsSite(off.url, crawl_delay=0.01).start()
    try:
        cfg = small_crawl_config("s3://news/run", site)
        stats = {}
        docs = rows(news_documents(cfg, storage, stats))
        again = {}
        rows(news_documents(cfg, storage, again))
    finally:
        site.stop()
        off.stop()
    kept = sorted(path_of(d["url"]) for d in docs if d["reason"] is None)
    assert kept == SMALL_CRAWL_KEPT
    assert [path_of(d["url"]) for d in docs if d["reason"]] == ["/private/secret.html"]
    assert all(d["warc_file"].startswith("s3://news/run/news/warc/") for d in docs if d["reason"] is None)
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket="news", Prefix="run/")["Contents"]}
    assert {"run/news/state/urls.parquet", "run/news/state/warcs.json", "run/news/state/last_crawl.json"} <= keys
    assert any(k.startswith("run/news/fetch_log/") for k in keys)
    assert not any(k.endswith(".open") for k in keys)
    assert again["fetch"]["fetched"] == 0 and again["fetch"]["known"] == 4  # + the robots-disallowed page
