"""An S3 filesystem built one way for the flows and for the trainers' reader, with the exit
hook every process that opens one needs."""
from __future__ import annotations

import atexit
import gc
import os
from urllib.parse import urlparse

import pyarrow.fs as pafs


def _collect_then_finalize_s3() -> None:
    gc.collect()
    pafs.ensure_s3_finalized()


def s3_filesystem(region: str | None = None, access_key: str | None = None, secret_key: str | None = None,
                  endpoint: str | None = None) -> pafs.S3FileSystem:
    """Unset arguments come from the standard AWS variables (AWS_ENDPOINT_URL for an on-prem store).

    Also frees S3 clients held by reference cycles before the AWS SDK shuts down: pyarrow's own
    exit hook finalizes S3 first, and a client freed after it aborts the process ("terminate
    called without an active exception") after the command has succeeded. Exit hooks run
    last-in first-out, so this one, registered after pyarrow's, runs before it."""
    kwargs = {
        "region": region or os.environ.get("AWS_DEFAULT_REGION") or os.environ.get("AWS_REGION") or "us-east-1",
        "access_key": access_key or os.environ.get("AWS_ACCESS_KEY_ID"),
        "secret_key": secret_key or os.environ.get("AWS_SECRET_ACCESS_KEY"),
    }
    endpoint = endpoint or os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
    if endpoint:
        parsed = urlparse(endpoint if "://" in endpoint else f"http://{endpoint}")
        kwargs.update(endpoint_override=parsed.netloc, scheme=parsed.scheme)
    atexit.unregister(_collect_then_finalize_s3)  # registered once however many filesystems
    atexit.register(_collect_then_finalize_s3)
    return pafs.S3FileSystem(**{k: v for k, v in kwargs.items() if v is not None})
