"""`qazflow submit`: the same build as a Ray job on a cluster, logs streamed back."""
from __future__ import annotations

import asyncio
import os
import shlex
import sys
from pathlib import Path

import yaml

from flows.storage import SECRET_KEYS

REPO = Path(__file__).resolve().parent.parent
RUNTIME_ENV = REPO / "cluster" / "runtime_env.yaml"
TERMINAL = ("SUCCEEDED", "FAILED", "STOPPED")


def dashboard_url(address: str) -> str:
    """The Jobs API lives on the dashboard: http://HOST:8265 (ray://HOST:10001 → HOST:8265)."""
    if address.startswith(("http://", "https://")):
        return address
    host = address.removeprefix("ray://").split(":")[0]
    return f"http://{host}:8265"


def runtime_env() -> dict:
    env = yaml.safe_load(RUNTIME_ENV.read_text()) if RUNTIME_ENV.exists() else {}
    env = env or {}
    env["working_dir"] = str(REPO)
    return env


PATH_KEYS = ("output", "inputs.text", "inputs.books", "inputs.warc", "inputs.catalog", "inputs.instructions",
             "tokenizer.path")


def absolute_paths(override: str) -> str:
    """The job runs in an unpacked copy of the repo: relative local paths must not move there."""
    key, _, value = override.partition("=")
    if key not in PATH_KEYS or not value or value == "null":
        return override
    listed = value.startswith("[") and value.endswith("]")
    items = value[1:-1].split(",") if listed else [value]
    items = [i if not i or "://" in i else os.path.abspath(i.strip()) for i in items]
    return f"{key}=" + ("[" + ",".join(items) + "]" if listed else items[0])


def submit(address: str, overrides: list[str]) -> int:
    from ray.job_submission import JobStatus, JobSubmissionClient

    # Job entrypoints are stored and shown by the cluster (dashboard, `ray job list`): a key
    # given here would be readable by everyone who can see the cluster's jobs.
    if secrets := [o.split("=", 1)[0] for o in overrides if o.split("=", 1)[0].lstrip("+").removeprefix(
            "storage.s3.") in SECRET_KEYS]:
        print(f"qazflow: error: {', '.join(secrets)}: not on the command line of a job (the cluster stores and shows "
              "it); give the nodes AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (a Kubernetes Secret, an instance "
              "profile, or the runtime env's env_vars)", file=sys.stderr)
        return 2
    # The job's driver runs on the cluster and joins it; every other override travels as given.
    build_args = [absolute_paths(o) for o in overrides if not o.startswith("ray.address=")] + ["ray.address=auto"]
    log_format = [f"--log-format={os.environ['QAZFLOW_LOG_FORMAT']}"] if os.environ.get("QAZFLOW_LOG_FORMAT") else []
    entrypoint = "python -m flows.cli build " + " ".join(shlex.quote(a) for a in build_args + log_format)
    client = JobSubmissionClient(dashboard_url(address))
    job_id = client.submit_job(entrypoint=entrypoint, runtime_env=runtime_env())
    print(f"[qazflow] submitted job {job_id} to {dashboard_url(address)}", file=sys.stderr, flush=True)

    async def stream() -> None:
        async for lines in client.tail_job_logs(job_id):
            sys.stdout.write(lines)
            sys.stdout.flush()

    try:
        asyncio.run(stream())
    except KeyboardInterrupt:
        client.stop_job(job_id)
        print(f"[qazflow] stopped job {job_id}", file=sys.stderr)
        return 130
    status = client.get_job_status(job_id)
    print(f"[qazflow] job {job_id}: {status}", file=sys.stderr)
    return 0 if status == JobStatus.SUCCEEDED else 1
