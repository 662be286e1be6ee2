"""Starting or joining Ray, and how progress is shown."""
from __future__ import annotations

import contextlib
import json
import os
import sys
from datetime import datetime, timezone

from omegaconf import DictConfig


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
            ray.init(num_cpus=cfg.ray.num_cpus or os.cpu_count(), object_store_memory=cfg.ray.object_store_memory,
                     include_dashboard=False, configure_logging=True, logging_level="warning")
    context = DataContext.get_current()
    mode = cfg.ray.progress
    context.enable_progress_bars = mode == "bars" or (mode == "auto" and sys.stderr.isatty())
    context.print_on_execution_start = False
    try:
        yield
    finally:
        if owned:
            ray.shutdown()


def actor_pool(cfg: DictConfig, size: int | None = None):
    """An autoscaling pool for a stage that loads a model once per actor: up to `size`,
    else `ray.concurrency`, else one actor per CPU in the cluster."""
    import ray

    most = size or cfg.ray.concurrency or max(1, int(ray.cluster_resources().get("CPU", 1)))
    return ray.data.ActorPoolStrategy(min_size=1, max_size=int(most))
