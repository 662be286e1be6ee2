#!/usr/bin/env python
"""The whole text build (`qazflow build`) at 1×, 4× and 16× a base corpus: wall time, docs/s,
per-stage seconds, peak memory of the driver and of every Ray worker; and datatrove's MinHash
dedup alone on the same corpus as the yardstick.

    .venv/bin/python tests/benchmarks/scale.py [--quick] [--base 20000] [--sizes 1,4,16]
                                               [--docs-per-file N] [--datatrove-sizes 1,4,16]
                                               [--submit http://HEAD:8265]

What runs: the real CLI, `qazflow build output=... inputs.text=[...] ray.num_cpus=2`, as a
subprocess with its own embedded Ray: JSONL readers → the whole curation chain (normalize,
LID, filters, PII) → exact + near dedup → BPE training → token shards + manifest + report.
Same generated corpus as curation_vs_datatrove.py (_corpus.CorpusMaker: ~2 KB documents, 50%
kk, 25% ru, 25% en, 8% junk, 12% planted near-duplicates), made in chunks of `--base`
documents (chunk i: the maker's next `base` documents, ids prefixed `c<i>-`, duplicates
planted within the chunk), so size k× is the first k chunks: the corpora are nested, and the
generator's memory does not grow with k. Each chunk is split into JSONL files of
`--docs-per-file` lines: curation's unit of parallelism is one text file (flows/curate.py),
so a corpus of one big file would be curated on one core.

Measured per size:
- wall seconds of the subprocess (Ray start and shutdown included) and documents/s;
- stages: from OUTPUT/_stages/{curate,shards}.json (start + seconds) and report.json's
  timings, split further by what the build leaves behind: the last committed curation unit
  (mtime of OUTPUT/_work/curated/*/text-*.parquet) ends per-document curation, the build's
  own log lines (timestamped as they arrive on stderr) mark the end of near-dedup's
  clustering and of tokenizer training;
- memory: psutil over the build's whole process tree every 0.5 s (driver, GCS, raylet,
  Ray workers, ...): per process the peak RSS, USS (pages of its own) and PSS (shared pages
  split between the processes mapping them). Ray's object store is shared memory mapped by
  the raylet and the workers, so a worker's RSS counts every object it touched. Its USS
  counts the objects it wrote into the store too (no other process has touched those pages
  yet), so the peak USS outside the store's mapping (/dev/shm/plasma*, from smaps every 2 s)
  is also kept: what the worker holds itself, the figure that must stay flat as the corpus
  grows, while the store holds (and spills) the data in flight;
- CPU seconds of the tree, in all and per span (last sample per process; one that ends
  between two samples loses up to 0.1 s), against 2 × wall: on a shared machine the gap is
  other people's work, and CPU seconds are the figure to compare across loaded runs; and
  `cpu_seconds_by_title`: CPU per Ray task title (`ray::MapBatches(_sign)`, `ray::IDLE`, ...)
  sampled every 0.1 s, since a worker runs many kinds of task over its life;
- `fingerprint`: documents/ and rejected/ as row sets and every shard's sha256, to check that a
  faster build gives the same output (same `--corpus` folder: doc_ids hash input paths);
- load average before and after each run.
datatrove: `_datatrove_worker.py minhash` (4-stage MinhashDedup, default MinhashConfig,
LocalPipelineExecutor with 2 workers; the corpus split in 2 files beforehand, untimed), the
datatrove venv from `make bench-deps`. Ratio = qazflow whole-build docs/s ÷ datatrove
MinHash-only docs/s; the build's figure includes Ray start-up, datatrove's excludes its
process start. datatrove runs unwatched, and the sampler costs the build it watches a few per
cent (books_scale.py measured 5-9 s of 83), so at the sizes datatrove runs at the build runs
once more, unwatched (`unwatched_seconds`), and the ratio uses that run.

Results: tests/benchmarks/results/scale.json (base 20,000) or scale_base<N>.json.
"""
from __future__ import annotations

import argparse
import glob
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C  # noqa: E402
import curation_vs_datatrove as B  # noqa: E402

NAME = "scale"
CPUS = 2
SAMPLE_SECONDS = 0.5
CPU_SAMPLES_PER_MEMORY_SAMPLE = 5  # CPU and titles every 0.1 s: many Ray tasks are that short
MEMORY_SAMPLES_PER_MAPS_SAMPLE = 4  # a process's mappings (smaps) every 2 s: reading them costs more
MB = 2**20


# ------------------------------------------------------------------ corpus ----
def make_chunks(base: int, chunks: int, docs_per_file: int, root: Path) -> list[dict]:
    """Writes chunk i as root/chunk<i>/part-<j>.jsonl; returns per-chunk facts."""
    import _corpus

    maker = _corpus.CorpusMaker(seed=1234)
    out = []
    for i in range(chunks):
        t = time.perf_counter()
        docs = maker.make(base)
        for d in docs:  # ids unique across chunks; clusters stay inside their chunk
            d["id"] = f"c{i:02d}-{d['id']}"
            if d["cluster"] is not None:
                d["cluster"] = f"c{i:02d}-{d['cluster']}"
        folder = root / f"chunk{i:02d}"
        folder.mkdir(parents=True)
        for j in range(0, len(docs), docs_per_file):
            _corpus.write_jsonl(docs[j:j + docs_per_file], folder / f"part-{j // docs_per_file:04d}.jsonl")
        out.append({"docs": len(docs), "bytes": sum(f.stat().st_size for f in folder.iterdir()),
                    "planted_copies": sum(d["kind"].startswith("dup:") for d in docs),
                    "junk": sum(d["kind"].startswith("junk:") for d in docs), "seconds": time.perf_counter() - t})
        print(f"corpus chunk {i}: {len(docs)} docs, {out[-1]['seconds']:.0f} s", file=sys.stderr, flush=True)
    return out


# ------------------------------------------------------------------ memory ----
# Ray's per-node agents carry `ray::` titles too, but do no data work
AGENTS = ("DashboardAgent", "RuntimeEnvAgent", "dashboard/agent.py", "runtime_env/agent")


def _role(cmd: str, pid: int, driver: int) -> str:
    if pid == driver:
        return "driver"
    if any(a in cmd for a in AGENTS):
        return "ray_system"
    if cmd.startswith("ray::") or "default_worker.py" in cmd:
        return "worker"
    return "ray_system"  # gcs_server, raylet, dashboard agent, log monitor, ...


def _uss_outside_store(process) -> int:
    """A process's own pages less those of Ray's object store: a worker that wrote an object
    into the store (a shuffle's pieces, a stage's output blocks) has those pages to itself
    until another process reads them, so its USS counts the data it handed on as well as the
    memory it holds (the store is mapped from /dev/shm/plasma*)."""
    return sum(m.private_clean + m.private_dirty for m in process.memory_maps(grouped=True)
               if not m.path.startswith("/dev/shm/plasma"))


class TreeSampler:
    """Peak memory of every process in a process tree, sampled every SAMPLE_SECONDS."""

    def __init__(self, root_pid: int):
        import psutil

        self.root = psutil.Process(root_pid)
        self.procs: dict[int, dict] = {}
        self.peak_tree_pss = self.peak_tree_rss = 0
        self.samples = 0
        # (time, CPU seconds of every process seen so far): a span's CPU is the difference at
        # its ends, which other people's load on the machine changes far less than its wall time
        self.cpu_series: list[tuple[float, float]] = []
        # CPU seconds by what a process was doing: a Ray worker's title names its current task
        # (`ray::MapBatches(_sign)`), so each sample's CPU delta goes to the title seen at its
        # end. A worker runs many kinds of task over its life: its own total says little.
        self.cpu_by_title: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        import psutil

        while not self._stop.is_set():
            try:
                procs = [self.root, *self.root.children(recursive=True)]
            except psutil.Error:  # the build has exited
                break
            pss = rss = 0
            with_memory = self.samples % CPU_SAMPLES_PER_MEMORY_SAMPLE == 0
            with_maps = self.samples % (CPU_SAMPLES_PER_MEMORY_SAMPLE * MEMORY_SAMPLES_PER_MAPS_SAMPLE) == 0
            for p in procs:
                try:
                    m = p.memory_full_info() if with_memory else None
                    cpu = p.cpu_times()
                    cmd = " ".join(p.cmdline())[:160]
                except psutil.Error:
                    continue
                info = self.procs.setdefault(p.pid, {"role": _role(cmd, p.pid, self.root.pid), "titles": [],
                                                     "rss": 0, "uss": 0, "pss": 0, "cpu": 0.0,
                                                     "uss_outside_store": 0})
                # A title is set after the process starts (and is briefly empty): an agent stays a
                # system process, anything else seen once as a worker stays a worker.
                info["agent"] = info.get("agent") or any(a in cmd for a in AGENTS)
                if info["agent"]:
                    info["role"] = "ray_system"
                elif _role(cmd, p.pid, self.root.pid) == "worker":
                    info["role"] = "worker"
                title = cmd.split(" ")[0] if cmd.startswith("ray::") else os.path.basename(cmd.split(" ")[0])
                if title not in info["titles"] and len(info["titles"]) < 8:
                    info["titles"].append(title)
                if with_maps:
                    try:
                        info["uss_outside_store"] = max(info["uss_outside_store"], _uss_outside_store(p))
                    except psutil.Error:
                        pass
                if m is not None:
                    info["rss"], info["uss"], info["pss"] = max(info["rss"], m.rss), max(info["uss"], m.uss), \
                        max(info["pss"], m.pss)
                    pss, rss = pss + m.pss, rss + m.rss
                now_cpu = cpu.user + cpu.system
                # A worker seen idle now spent the interval mostly on the task it ran before
                doing = info.get("last") if title == "ray::IDLE" and info.get("last") else title
                label = doing if info["role"] == "worker" else f"[{info['role']}] {doing}"
                self.cpu_by_title[label] = self.cpu_by_title.get(label, 0.0) + now_cpu - info["cpu"]
                info["cpu"], info["last"] = now_cpu, title
            if with_memory:
                self.peak_tree_pss, self.peak_tree_rss = max(self.peak_tree_pss, pss), max(self.peak_tree_rss, rss)
            self.cpu_series.append((time.time(), sum(p["cpu"] for p in self.procs.values())))
            self.samples += 1
            self._stop.wait(SAMPLE_SECONDS / CPU_SAMPLES_PER_MEMORY_SAMPLE)

    def cpu_at(self, t: float) -> float:
        """Tree CPU seconds at time t: the last sample taken at or before it."""
        return max((cpu for when, cpu in self.cpu_series if when <= t), default=0.0)

    def stop(self) -> dict:
        self._stop.set()
        self._thread.join()
        workers = [p for p in self.procs.values() if p["role"] == "worker"]
        system = [p for p in self.procs.values() if p["role"] == "ray_system"]
        driver = next((p for p in self.procs.values() if p["role"] == "driver"),
                      {"rss": 0, "uss": 0, "pss": 0, "uss_outside_store": 0})

        def top(ps, key):
            return max((p[key] for p in ps), default=0) / MB

        return {
            "driver": {k: driver[k] / MB for k in ("rss", "uss", "pss", "uss_outside_store")},
            "workers": {"processes": len(workers), "max_uss_mb": top(workers, "uss"),
                        "max_uss_outside_store_mb": top(workers, "uss_outside_store"),
                        "max_pss_mb": top(workers, "pss"), "max_rss_mb": top(workers, "rss"),
                        "per_worker": sorted(({"uss_mb": round(p["uss"] / MB, 1),
                                               "uss_outside_store_mb": round(p["uss_outside_store"] / MB, 1),
                                               "pss_mb": round(p["pss"] / MB, 1),
                                               "rss_mb": round(p["rss"] / MB, 1), "cpu_s": round(p["cpu"], 1),
                                               "titles": p["titles"]} for p in workers),
                                             key=lambda p: -p["uss_mb"])},
            "ray_system": {"processes": len(system), "max_rss_mb": top(system, "rss"),
                           "max_uss_mb": top(system, "uss"),
                           "per_process": sorted(({"title": p["titles"][0] if p["titles"] else "?",
                                                   "rss_mb": round(p["rss"] / MB, 1), "uss_mb": round(p["uss"] / MB, 1),
                                                   "cpu_s": round(p["cpu"], 1)} for p in system),
                                                 key=lambda p: -p["rss_mb"])},
            "tree_peak_pss_mb": self.peak_tree_pss / MB, "tree_peak_rss_sum_mb": self.peak_tree_rss / MB,
            "tree_cpu_seconds": sum(p["cpu"] for p in self.procs.values()),
            "cpu_seconds_by_role": {role: sum(p["cpu"] for p in self.procs.values() if p["role"] == role)
                                    for role in ("driver", "worker", "ray_system")},
            "cpu_seconds_by_title": dict(sorted(((t, round(c, 1)) for t, c in self.cpu_by_title.items()),
                                                key=lambda kv: -kv[1])),
            "samples": self.samples,
        }


# ------------------------------------------------------------------- build ----
def qazflow_command() -> list[str]:
    script = Path(sys.executable).parent / "qazflow"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "import sys; from flows.cli import main; sys.exit(main())"]


def run_sampled(cmd: list[str], env: dict, timeout: int):
    """Runs a command in the repository with its process tree sampled until it ends:
    (returncode, start, end, [(time, output line)], the sampler, its memory summary)."""
    lines: list[tuple[float, str]] = []
    started = time.time()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, cwd=C.REPO)
    sampler = TreeSampler(proc.pid)

    def read():
        for line in proc.stdout:
            lines.append((time.time(), line.rstrip("\n")))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        rc = proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        rc = proc.wait()
    ended = time.time()
    reader.join(10)
    return rc, started, ended, lines, sampler, sampler.stop()


def build_command(inputs: list[Path], output: Path, extra: list[str], submit: str | None = None) -> tuple[list, dict]:
    where = [f"ray.address={submit}"] if submit else [f"ray.num_cpus={CPUS}"]
    cmd = qazflow_command() + ["submit" if submit else "build", f"output={output}",
                               "inputs.text=[" + ",".join(map(str, inputs)) + "]", *where, "ray.progress=lines", *extra]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
           "RAY_AUTH_MODE": "disabled", "PYTHONHASHSEED": "0",
           # this checkout's flows/operators/schemas, also in Ray's workers, whatever is pip-installed
           "PYTHONPATH": os.pathsep.join(filter(None, [str(C.REPO), os.environ.get("PYTHONPATH")]))}
    return cmd, env


def run_unwatched(cmd: list[str], env: dict, timeout: int) -> tuple[int, float, list[str]]:
    """Runs a command in the repository with nothing sampling it: (returncode, wall seconds,
    its last output lines)."""
    started = time.perf_counter()
    run = subprocess.run(cmd, env=env, cwd=C.REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout)
    return run.returncode, time.perf_counter() - started, run.stdout.decode(errors="replace").splitlines()[-60:]


def run_build(inputs: list[Path], output: Path, timeout: int, extra: list[str], submit: str | None = None) -> dict:
    """One `qazflow build` subprocess, its process tree sampled; stderr lines timestamped.
    With `submit` (a dashboard address): `qazflow submit` to that cluster instead; the tree
    sampled is then only the submitting client, the build's processes run on the nodes."""
    cmd, env = build_command(inputs, output, extra, submit)
    load_before = [round(x, 2) for x in os.getloadavg()]
    rc, started, ended, lines, sampler, memory = run_sampled(cmd, env, timeout)
    result = {"returncode": rc, "wall_seconds": ended - started, "loadavg_before": load_before,
              "loadavg_after": [round(x, 2) for x in os.getloadavg()], "memory": memory,
              "log": [f"{t - started:7.1f}s {line}" for t, line in lines if "[qazflow]" in line or "finished" in line]}
    if rc != 0:
        result["error_tail"] = [line for _, line in lines[-60:]]
        return result
    result["stages"] = stage_seconds(output, started, ended, lines)
    result["stages"]["span_cpu_seconds"] = {name: sampler.cpu_at(end) - sampler.cpu_at(start)
                                            for name, (start, end) in result["stages"].pop("bounds").items()}
    result["fingerprint"] = output_fingerprint(output)
    report = json.loads((output / "report.json").read_text(encoding="utf-8"))
    result["report"] = {k: report[k] for k in ("documents", "stages", "timings")} | {
        "shards": {k: report["shards"].get(k) for k in ("n_shards", "n_docs", "n_tokens", "n_bytes")}}
    return result


def output_fingerprint(output: Path) -> dict:
    """What must not change when the build gets faster: sha256 of documents/ and of
    rejected/ as row sets (rows sorted by doc_id, columns by name, so the split into files
    does not count), and each token shard's and the tokenizer's sha256 from the manifest."""
    import hashlib

    import pyarrow as pa
    import pyarrow.parquet as pq

    def rows_digest(folder: Path) -> str:
        files = sorted(folder.glob("*.parquet"))
        if not files:
            return "empty"
        table = pa.concat_tables([pq.read_table(f) for f in files], promote_options="permissive")
        table = table.select(sorted(table.column_names)).sort_by("doc_id")
        return hashlib.sha256(json.dumps(table.to_pylist(), sort_keys=True, default=str).encode()).hexdigest()

    manifest = json.loads((output / "shards" / "manifest.json").read_text(encoding="utf-8"))
    return {"documents": rows_digest(output / "documents"), "rejected": rows_digest(output / "rejected"),
            "shards": {s["path"]: s["sha256"] for s in manifest["shards"]},
            "tokenizer": manifest["tokenizer"]["sha256"]}


def _line_time(lines, marker: str) -> float | None:
    return next((t for t, line in lines if marker in line), None)


def stage_seconds(output: Path, started: float, ended: float, lines) -> dict:
    """Consecutive spans of the build (seconds), each ending at something the build left."""
    marks = {name: json.loads((output / "_stages" / f"{name}.json").read_text()) for name in ("curate", "shards")}
    curate_start, curate_end = marks["curate"]["started"], marks["curate"]["started"] + marks["curate"]["seconds"]
    shards_start, shards_end = marks["shards"]["started"], marks["shards"]["started"] + marks["shards"]["seconds"]
    units = glob.glob(str(output / "_work" / "curated" / "*" / "text-*.parquet"))
    units_end = max(os.path.getmtime(u) for u in units) if units else None
    clustered = _line_time(lines, "near-dedup:")
    trained = _line_time(lines, "shards: tokenizer trained")
    ends = [("startup (process, Ray, input listing)", curate_start)]
    if units_end:
        ends.append(("curate: read + normalize + LID + filters + PII", units_end))
        if clustered and units_end < clustered < curate_end:
            ends += [("curate: exact dedup + near-dedup clustering", clustered),
                     ("curate: near-dedup verdicts + write documents/rejected", curate_end)]
        else:
            ends.append(("curate: exact + near dedup + write", curate_end))
    else:
        ends.append(("curate", curate_end))
    ends.append(("between curate and shards", shards_start))
    if trained and shards_start < trained < shards_end:
        ends += [("shards: BPE training (sample + train)", trained),
                 ("shards: sort + tokenize + pack + manifest", shards_end)]
    else:
        ends.append(("shards", shards_end))
    ends.append(("report + Ray shutdown + exit", ended))
    bounds = {name: (start, end) for (name, end), start in zip(ends, [started] + [end for _, end in ends])}
    spans = {name: end - start for name, (start, end) in bounds.items()}
    return {"spans": spans, "bounds": bounds, "curate_seconds": marks["curate"]["seconds"],
            "shards_seconds": marks["shards"]["seconds"], "units": len(units)}


# --------------------------------------------------------------- datatrove ----
def run_datatrove(inputs: list[Path], workdir: Path) -> dict:
    """datatrove's MinHash dedup alone on the same documents (one JSONL made of the size's
    files, in the same order), 2 workers."""
    workdir.mkdir()
    corpus = workdir / "corpus.jsonl"
    with open(corpus, "wb") as out:
        for folder in inputs:
            for part in sorted(folder.glob("*.jsonl")):
                with open(part, "rb") as f:
                    shutil.copyfileobj(f, out)
    (workdir / "dt").mkdir()
    load_before = [round(x, 2) for x in os.getloadavg()]
    r = B.subprocess_json([B.DATATROVE_PY, str(B.HERE / "_datatrove_worker.py"), "minhash", str(corpus),
                           str(workdir / "dt"), str(CPUS)], timeout=4 * 3600)
    corpus.unlink()
    return {"total_seconds": r["total_seconds"], "seconds": r["seconds"], "memory": r["memory"],
            "removed": len(r["removed_ids"]), "workers": r["workers"], "config": r["config"],
            "datatrove_version": r.get("datatrove_version"), "process_wall_seconds": r["process_wall_seconds"],
            "loadavg_before": load_before, "loadavg_after": [round(x, 2) for x in os.getloadavg()]}


# -------------------------------------------------------------------- main ----
def summarize(results: dict) -> dict:
    """Linearity and memory flatness against the smallest size."""
    sizes = sorted((int(k), v) for k, v in results["sizes"].items() if v["qazflow"].get("returncode") == 0)
    if not sizes:
        return {}
    k0, first = sizes[0]
    out = {"reference_multiple": k0, "by_size": {}}
    for k, v in sizes:
        q = v["qazflow"]
        factor = k / k0

        def ratio(a, b):  # memory of a submitted build is not sampled (0 MB): no ratio
            return a / b if b else None

        row = {"time_ratio": q["wall_seconds"] / first["qazflow"]["wall_seconds"], "data_ratio": factor,
               "linear_ok (time ratio <= data ratio + 1)": q["wall_seconds"] / first["qazflow"]["wall_seconds"]
               <= factor + 1,
               "worker_max_uss_ratio": ratio(q["memory"]["workers"]["max_uss_mb"],
                                             first["qazflow"]["memory"]["workers"]["max_uss_mb"]),
               "driver_uss_ratio": ratio(q["memory"]["driver"]["uss"], first["qazflow"]["memory"]["driver"]["uss"]),
               "worker_max_uss_outside_store_ratio": ratio(
                   q["memory"]["workers"].get("max_uss_outside_store_mb", 0),
                   first["qazflow"]["memory"]["workers"].get("max_uss_outside_store_mb", 0)),
               # seconds per 1,000 documents, per span: flat = linear, growing = superlinear
               "span_seconds_per_1000_docs": {name: 1000 * s / v["docs"]
                                              for name, s in q["stages"]["spans"].items()},
               "span_cpu_seconds_per_1000_docs": {name: 1000 * s / v["docs"]
                                                  for name, s in q["stages"].get("span_cpu_seconds", {}).items()}}
        if "datatrove" in v and "total_seconds" in v["datatrove"]:
            row["qazflow_vs_datatrove_docs_per_s"] = v["datatrove"]["total_seconds"] / (
                v.get("unwatched_seconds") or q["wall_seconds"])
        out["by_size"][k] = row
    return out


def report(results: dict) -> str:
    rows = []
    for k, v in sorted(results["sizes"].items(), key=lambda kv: int(kv[0])):
        q, d = v["qazflow"], v.get("datatrove", {})
        if q.get("returncode") != 0:
            rows.append([f"{k}×", v["docs"], "failed", "", "", "", "", "", "", "", "", ""])
            continue
        m = q["memory"]
        dt_rate = v["docs"] / d["total_seconds"] if "total_seconds" in d else None
        rate = v["docs"] / q["wall_seconds"]
        unwatched = v["docs"] / v["unwatched_seconds"] if v.get("unwatched_seconds") else None
        rows.append([f"{k}×", v["docs"], round(q["wall_seconds"], 1), round(rate, 1), round(m["tree_cpu_seconds"]),
                     round(m["driver"]["uss"]), round(m["workers"]["max_uss_mb"]),
                     round(m["workers"].get("max_uss_outside_store_mb", 0)), m["workers"]["processes"],
                     round(unwatched, 1) if unwatched else "", round(dt_rate, 1) if dt_rate else "",
                     f"{(unwatched or rate) / dt_rate:.2f}×" if dt_rate else ""])
    out = [C.md_table(["size", "docs", "build wall s", "docs/s", "build CPU s", "driver USS MB", "largest worker USS MB",
                       "… outside the object store", "workers", "docs/s unwatched", "datatrove MinHash docs/s",
                       "build ÷ datatrove"],
                      rows), "",
           "Spans, wall s (CPU s of the build's process tree):", ""]
    names = []
    for v in results["sizes"].values():
        for name in v["qazflow"].get("stages", {}).get("spans", {}):
            if name not in names:
                names.append(name)
    keys = sorted(results["sizes"], key=int)

    def cell(k, name):
        stages = results["sizes"][k]["qazflow"].get("stages", {})
        wall, cpu = stages.get("spans", {}).get(name), stages.get("span_cpu_seconds", {}).get(name)
        return "" if wall is None else f"{wall:.1f}" + ("" if cpu is None else f" ({cpu:.1f})")

    out.append(C.md_table(["span"] + [f"{k}×" for k in keys], [[name] + [cell(k, name) for k in keys] for name in names]))
    return "\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="base 2,000, sizes 1,4")
    ap.add_argument("--base", type=int, help="documents in the 1× corpus (default 20,000; quick 2,000)")
    ap.add_argument("--sizes", help="multiples of the base, comma-separated (default 1,4,16; quick 1,4)")
    ap.add_argument("--docs-per-file", type=int, help="JSONL lines per input file (default 1,000, fewer when a "
                    "chunk would make under 4 files: the 1× corpus too must give every CPU a file to curate)")
    ap.add_argument("--datatrove-sizes", help="multiples to run datatrove on (default: all; 'none' for none)")
    ap.add_argument("--timeout", type=int, default=3 * 3600, help="seconds per build")
    ap.add_argument("--corpus", metavar="DIR", help="make the corpus in DIR and keep it, or reuse the one there: "
                    "doc_ids derive from input paths, so only builds of one corpus folder have comparable "
                    "`fingerprint`s (the same base and docs-per-file are assumed)")
    ap.add_argument("--keep", action="store_true", help="keep the corpus and outputs (their folder is printed)")
    ap.add_argument("--submit", metavar="ADDRESS", help="`qazflow submit ray.address=ADDRESS` (a running cluster's "
                    "dashboard, e.g. cluster/local_cluster.sh's) instead of an embedded Ray; memory then covers "
                    "the submitting client only. Results: scale_cluster_base<N>.json")
    ap.add_argument("overrides", nargs="*", help="extra qazflow overrides for every build (key=value)")
    args = ap.parse_args()
    base = args.base or (2000 if args.quick else 20000)
    docs_per_file = args.docs_per_file or max(1, min(1000, base // 4))
    sizes = [int(s) for s in (args.sizes or ("1,4" if args.quick else "1,4,16")).split(",")]
    dt_sizes = sizes if args.datatrove_sizes is None else \
        [] if args.datatrove_sizes == "none" else [int(s) for s in args.datatrove_sizes.split(",")]
    if importlib.util.find_spec("psutil") is None:  # the memory sampler; fail before making corpora
        raise SystemExit("psutil is needed: pip install psutil")
    if dt_sizes and not Path(B.DATATROVE_PY).exists():
        raise SystemExit(f"no datatrove venv at {B.DATATROVE_PY}: run `make bench-deps` (or --datatrove-sizes none)")

    name = f"{NAME}_cluster_base{base}" if args.submit else NAME if base == 20000 else f"{NAME}_base{base}"
    results: dict = {"benchmark": NAME, "machine": C.machine(), "cpus": CPUS, "base": base, "sizes_run": sizes,
                     "submit": args.submit,
                     "docs_per_file": docs_per_file, "overrides": args.overrides, "sizes": {}}
    started = time.time()
    tmp = Path(tempfile.mkdtemp(prefix="qazflow-scale-"))
    try:
        corpus = Path(args.corpus) if args.corpus else tmp / "corpus"
        made = sorted(corpus.glob("chunk*")) if args.corpus else []
        if len(made) >= max(sizes):  # doc_ids hash the input paths: same folder, comparable outputs
            results["chunks"] = [{"docs": base, "bytes": sum(f.stat().st_size for f in d.iterdir()), "reused": True}
                                 for d in made]
        else:
            shutil.rmtree(corpus, ignore_errors=True)
            results["chunks"] = make_chunks(base, max(sizes), docs_per_file, corpus)
        chunk_dirs = sorted(corpus.glob("chunk*"))
        for k in sizes:
            inputs = chunk_dirs[:k]
            entry = {"docs": base * k, "files": sum(len(list(d.glob("*.jsonl"))) for d in inputs),
                     "bytes": sum(c["bytes"] for c in results["chunks"][:k])}
            results["sizes"][k] = entry
            print(f"{k}×: qazflow build on {entry['docs']} docs ({entry['bytes'] / 1e6:.0f} MB, {entry['files']} files)",
                  file=sys.stderr, flush=True)
            entry["qazflow"] = run_build(inputs, tmp / f"out-{k}", args.timeout, args.overrides, args.submit)
            q = entry["qazflow"]
            print(f"{k}×: qazflow {'ok' if q['returncode'] == 0 else 'FAILED'} in {q['wall_seconds']:.1f} s, "
                  f"largest worker USS {q['memory']['workers']['max_uss_mb']:.0f} MB", file=sys.stderr, flush=True)
            if q["returncode"] != 0:
                print("\n".join(q["error_tail"][-30:]), file=sys.stderr)
            if not args.keep:
                shutil.rmtree(tmp / f"out-{k}", ignore_errors=True)
            if k in dt_sizes:
                if not args.submit:
                    rc, seconds, _ = run_unwatched(*build_command(inputs, tmp / f"out-{k}-unwatched", args.overrides),
                                                   args.timeout)
                    entry["unwatched_seconds"] = seconds if rc == 0 else None
                    shutil.rmtree(tmp / f"out-{k}-unwatched", ignore_errors=True)
                try:
                    entry["datatrove"] = run_datatrove(inputs, tmp / f"dt-{k}")
                    print(f"{k}×: datatrove MinHash {entry['datatrove']['total_seconds']:.1f} s", file=sys.stderr,
                          flush=True)
                except Exception as exc:  # the build's figures still stand without the yardstick
                    entry["datatrove"] = {"error": str(exc)[-2000:]}
                shutil.rmtree(tmp / f"dt-{k}", ignore_errors=True)
            C.write_results(name, results)  # partial results survive
    finally:
        if args.keep:
            print(f"kept: {tmp}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    results["summary"] = summarize(results)
    results["machine"]["loadavg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    results["seconds"] = time.time() - started
    print(report(results))
    path = C.write_results(name, results)
    print(f"\nresults: {path.relative_to(C.REPO)}")


if __name__ == "__main__":
    main()
