"""Starting or joining Ray, and how progress is shown."""
from __future__ import annotations

import contextlib
import json
import os
import sys
from datetime import datetime, timezone
from typing import Callable, TypeVar

from omegaconf import DictConfig

T = TypeVar("T")
# Below this many CPUs Ray Data's per-operator CPU reservation idles too much of the cluster.
SMALL_CLUSTER_CPUS = 8


def log(message: str) -> None:
    """A progress line on stderr: `[qazflow] stage: message`, or with QAZFLOW_LOG_FORMAT=json
    (`--log-format=json`) one JSON object per line for log collectors."""
    if os.environ.get("QAZFLOW_LOG_FORMAT") == "json":
        stage, _, rest = message.partition(": ")
        record = {"time": datetime.now(timezone.utc).isoformat(timespec="milliseconds"), "level": "info",
                  **({"stage": stage, "message": rest} if rest and " " not in stage else {"message": message})}
        print(json.dumps(record, ensure_ascii=False), file=sys.stderr, flush=True)
    else:
        print(f"[qazflow] {message}", file=sys.stderr, flush=True)


def use_system_allocator() -> None:
    """Arrow's memory from the C library's allocator in this process and in the local Ray
    workers it starts (they inherit the environment), unless ARROW_DEFAULT_MEMORY_POOL says
    otherwise. Arrow's own allocator keeps freed memory in each process: a dedup exchange
    worker ran many tasks and grew with the data (311 → 502 MB outside the object store for
    4× the documents; with the system allocator 286 → 360 MB, the same output and time,
    tests/benchmarks/scale.py). cluster/runtime_env.yaml sets it for cluster jobs."""
    import pyarrow as pa

    if os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system") == "system":
        pa.set_memory_pool(pa.system_memory_pool())


@contextlib.contextmanager
def ray_session(cfg: DictConfig):
    """Embedded local Ray when `ray.address` is null, else the given cluster.

    A Ray already initialised in this process (a test session, a Ray job's driver) is
    reused and left running.
    """
    import ray
    from ray.data import DataContext

    owned = not ray.is_initialized()
    if owned:
        if cfg.ray.address:
            ray.init(address=cfg.ray.address, log_to_driver=True)
        else:
            # A local Ray only listens on this machine; token auth adds nothing there.
            os.environ.setdefault("RAY_AUTH_MODE", "disabled")
            use_system_allocator()
            ray.init(num_cpus=cfg.ray.num_cpus or os.cpu_count(), object_store_memory=cfg.ray.object_store_memory,
                     include_dashboard=False, configure_logging=True, logging_level="warning")
    context = DataContext.get_current()
    # Ray Data's V2 Parquet reader starts a pool of FooterReader actors per read, each a
    # new worker process: 7 of the 30 processes of a 2,000-document build; with the V1 reader
    # (the same rows) it starts 12 and uses 70 CPU s instead of 90 (tests/benchmarks/scale.py).
    if hasattr(context, "use_datasource_v2"):
        context.use_datasource_v2 = False
    mode = cfg.ray.progress
    context.enable_progress_bars = mode == "bars" or (mode == "auto" and sys.stderr.isatty())
    context.print_on_execution_start = False
    try:
        yield
    finally:
        if owned:
            ray.shutdown()


def cluster_cpus() -> int:
    import ray

    return max(1, int(ray.cluster_resources().get("CPU", 1)))


def full_cpus_on_small_clusters(dataset):
    """`dataset` with Ray Data's per-operator CPU reservation off on clusters under
    SMALL_CLUSTER_CPUS: on 2 CPUs it left a stage's actor pool (or task pool) one CPU while
    the other waited for operators downstream (curation 83 → 55 s, news extraction one task
    at a time: tests/benchmarks/scale.py, news_extract.py). Only for stages whose work is
    plain tasks or one actor pool, which need no reservation to get their turn."""
    if cluster_cpus() < SMALL_CLUSTER_CPUS:
        dataset.context.op_resource_reservation_enabled = False
    return dataset


def actor_pool(cfg: DictConfig, size: int | None = None):
    """An autoscaling pool for a stage that loads a model once per actor: up to `size`,
    else `ray.concurrency`, else one actor per CPU in the cluster."""
    import ray

    most = size or cfg.ray.concurrency or cluster_cpus()
    return ray.data.ActorPoolStrategy(min_size=1, max_size=int(most))


def alive_nodes() -> set[str]:
    import ray

    return {node["NodeID"] for node in ray.nodes() if node["Alive"]} if ray.is_initialized() else set()


def lost_to_the_cluster(error: BaseException) -> bool:
    """Whether `error` is the cluster losing a process or node, not the stage's own fault.

    Ray retries lost tasks itself, but not everything: a task that was waiting on an
    actor of a dead node (Ray Data's Parquet footer readers) fails with the actor's
    death as its own application error, sometimes wrapped so it cannot be unpickled.
    So the types are checked along the whole cause chain."""
    from ray import exceptions as rex

    lost = (rex.NodeDiedError, rex.ActorDiedError, rex.ActorUnavailableError, rex.ObjectLostError,
            rex.WorkerCrashedError, rex.LocalRayletDiedError, rex.RaySystemError)
    seen = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, lost):
            return True
        error = getattr(error, "cause", None) or error.__cause__ or error.__context__
    return False


def surviving_lost_nodes(stage: str, run: Callable[[], T], attempts: int, retries: list[dict]) -> T:
    """Runs a stage, and runs it again (up to `attempts` times in all) when it failed
    because the cluster lost a node or a worker under it. Every stage resumes from what
    it committed, so a rerun redoes only the lost work. Each rerun is appended to
    `retries` for report.json; any other error, or the last one, is raised."""
    for attempt in range(1, attempts + 1):
        before = alive_nodes()
        try:
            return run()
        except Exception as error:  # noqa: BLE001 — classified below, re-raised unless the cluster lost work
            nodes_lost = len(before - alive_nodes())
            if attempt == attempts or not (nodes_lost or lost_to_the_cluster(error)):
                raise
            reason = f"{type(error).__name__}: {str(error).splitlines()[0][:300] if str(error) else ''}"
            retries.append({"stage": stage, "attempt": attempt, "nodes_lost": nodes_lost, "error": reason})
            log(f"{stage}: lost work to the cluster ({nodes_lost} node(s) gone; {reason}); running it again "
                f"({attempt + 1}/{attempts}), resuming from what was committed")
    raise AssertionError("unreachable")
