#!/usr/bin/env python
"""qazflow's near-dedup flow on Ray Data vs datatrove's 4-stage MinHash dedup with as many
workers, at two corpus sizes: throughput ratio, F1, and whether memory per worker grows.

    .venv/bin/python tests/benchmarks/near_dedup_scaling.py [--sizes 2000,20000]

Same generated corpus as curation_vs_datatrove.py (planted near-duplicates; its docstring
says how), same measurement code: the flow is `flows.near_dedup.near_dedup` on an embedded
Ray with 2 CPUs, documents handed in as 256-row blocks (what the Curate stage produces),
until its kept rows are written; datatrove runs its default MinhashConfig on
LocalPipelineExecutor with 2 workers. Memory: the largest single process — a Ray
worker's USS (its own memory; the object store is shared) for qazflow, a pool worker's RSS
for datatrove.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C  # noqa: E402
import _corpus  # noqa: E402
import curation_vs_datatrove as B  # noqa: E402

NAME = "near_dedup_scaling"
CPUS = 2


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="2000,20000", help="corpus sizes, comma-separated")
    args = ap.parse_args()
    if not Path(B.DATATROVE_PY).exists():
        raise SystemExit(f"no datatrove venv at {B.DATATROVE_PY}: run `make bench-deps`")
    me = [sys.executable, str(Path(B.__file__).resolve()), "--worker"]
    dt = [B.DATATROVE_PY, str(B.HERE / "_datatrove_worker.py")]
    rows, results = [], {"benchmark": NAME, "machine": C.machine(), "cpus": CPUS, "sizes": {}}
    for n in (int(s) for s in args.sizes.split(",")):
        with tempfile.TemporaryDirectory(prefix="qazflow-nd-scaling-") as tmp:
            tmp = Path(tmp)
            docs = _corpus.CorpusMaker(seed=1234).make(n)
            corpus = tmp / "corpus.jsonl"
            _corpus.write_jsonl(docs, corpus)
            (tmp / "flow").mkdir()
            (tmp / "dt").mkdir()
            flow = B.subprocess_json(me + ["qz-flow", str(corpus), str(tmp / "flow"), str(B.BATCH)], timeout=3600)
            print(f"{n} docs: qazflow flow {flow['total_seconds']:.1f} s", file=sys.stderr, flush=True)
            dtr = B.subprocess_json(dt + ["minhash", str(corpus), str(tmp / "dt"), str(CPUS)], timeout=3600)
            print(f"{n} docs: datatrove {dtr['total_seconds']:.1f} s", file=sys.stderr, flush=True)
            for r in (flow, dtr):
                r["scores"] = B.dedup_scores(docs, r.pop("removed_ids"), r.pop("clusters", None))
            results["sizes"][n] = {"qazflow_flow": flow, "datatrove": dtr}
            rows.append([n, "qazflow near_dedup on Ray", round(flow["total_seconds"], 1),
                         round(n / flow["total_seconds"]), round(flow["memory"]["max_worker_uss_mb"]),
                         round(flow["scores"]["f1"], 3)])
            rows.append([n, f"datatrove MinhashDedup, {CPUS} workers", round(dtr["total_seconds"], 1),
                         round(n / dtr["total_seconds"]), round(dtr["memory"]["max_process_rss_mb"]),
                         round(dtr["scores"]["f1"], 3)])
            rows.append([n, "ratio (datatrove s / qazflow s)", round(dtr["total_seconds"] / flow["total_seconds"], 2),
                         "", "", ""])
    print(C.md_table(["docs", "system", "wall s", "docs/s", "largest process MB (USS / RSS)", "F1"], rows))
    path = C.write_results(NAME, results)
    print(f"\nresults: {path.relative_to(C.REPO)}")


if __name__ == "__main__":
    main()
