"""The reader over s3:// shards on a real S3 endpoint (moto_server), with a bounded cache."""
import os

import boto3
import pyarrow.fs as pafs
import pytest

from operators.tokens.reader import PackedReader, ShardError
from tests.system.test_s3 import s3_endpoint  # noqa: F401 - the moto_server fixture
from tests.unit._shards import write_shards


def test_s3_shards_stream_like_local_ones_within_the_cache_limit(s3_endpoint, tmp_path):  # noqa: F811
    local = tmp_path / "shards"
    local.mkdir()
    manifest, _, _ = write_shards(local)
    s3 = boto3.client("s3", endpoint_url=s3_endpoint, aws_access_key_id="testing",
                      aws_secret_access_key="testing", region_name="us-east-1")
    s3.create_bucket(Bucket="corpus")
    for f in local.iterdir():
        s3.upload_file(str(f), "corpus", f"run/shards/{f.name}")
    fs = pafs.S3FileSystem(endpoint_override=s3_endpoint.removeprefix("http://"), scheme="http",
                           access_key="testing", secret_key="testing", region="us-east-1")
    biggest = max(s.n_bytes for s in manifest.shards)
    limit = 2 * biggest
    cache = tmp_path / "cache"

    remote = PackedReader("s3://corpus/run/shards", seq_len=31, seed=9, filesystem=fs, cache_dir=str(cache),
                          cache_limit_bytes=limit)
    expected = [tuple(s["input_ids"]) for s in PackedReader(str(local), seq_len=31, seed=9)]
    got = []
    for s in remote:
        got.append(tuple(s["input_ids"]))
        assert sum(os.path.getsize(cache / f) for f in os.listdir(cache)) <= limit + biggest
    assert got == expected
    assert len(manifest.shards) > 2 and len(os.listdir(cache)) <= 3  # evicted as it went

    # a replaced object is caught by its sha256, a missing one by name
    victim = manifest.shards[0].path
    body = bytearray((local / victim).read_bytes())
    body[100] ^= 0xFF
    s3.put_object(Bucket="corpus", Key=f"run/shards/{victim}", Body=bytes(body))
    fresh = PackedReader("s3://corpus/run/shards", seq_len=31, filesystem=fs, cache_dir=str(tmp_path / "c2"))
    with pytest.raises(ShardError, match=f"s3://corpus/run/shards/{victim}.*sha256"):
        list(fresh)
    s3.delete_object(Bucket="corpus", Key=f"run/shards/{victim}")
    gone = PackedReader("s3://corpus/run/shards", seq_len=31, filesystem=fs, cache_dir=str(tmp_path / "c3"))
    with pytest.raises(ShardError, match=f"{victim}: missing"):
        list(gone)
