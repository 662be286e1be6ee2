#!/usr/bin/env python
"""Exact dedup on Ray Data, the way the build does it (`flows.curate.exact_dedup`: a stable
hash shard of the text key, sort shuffle, one vectorized call per shard) vs grouping by the
bare key with Ray's default hash shuffle (what the build did before), same documents, same
Ray, repetitions alternated; the verdicts must be identical.

    .venv/bin/python tests/benchmarks/exact_dedup.py [--docs 8000] [--repeats 3]
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C  # noqa: E402
import _corpus  # noqa: E402

NAME = "exact_dedup"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--docs", type=int, default=8000)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()

    import pyarrow as pa
    import ray

    from flows.curate import exact_dedup
    from operators.text.basic import add_exact_keys, mark_exact_duplicates

    ray.init(num_cpus=2, include_dashboard=False, logging_level="error")
    docs = _corpus.CorpusMaker(seed=3).make(args.docs)
    table = pa.Table.from_pylist([{"doc_id": d.get("id", str(i)), "text": d["text"], "reason": None, "detail": None}
                                  for i, d in enumerate(docs)])
    ds = ray.data.from_arrow([table.slice(i, 500) for i in range(0, len(table), 500)]).materialize()

    def by_key():
        return ds.map_batches(add_exact_keys, batch_format="pyarrow").groupby("dedup_key").map_groups(
            mark_exact_duplicates, batch_format="pyarrow").materialize()

    def sharded():
        return exact_dedup(ds).dataset().materialize()

    seconds = {"hash_shuffle_by_key": [], "sharded_sort_shuffle": []}
    verdicts = {}
    for rep in range(args.repeats):
        for name, run in list(zip(seconds, (by_key, sharded)))[:: 1 if rep % 2 == 0 else -1]:
            started = time.perf_counter()
            out = run()
            seconds[name].append(round(time.perf_counter() - started, 2))
            verdicts[name] = sorted((r["doc_id"], r["reason"]) for r in out.take_all())
    same = verdicts["hash_shuffle_by_key"] == verdicts["sharded_sort_shuffle"]
    best = {k: min(v) for k, v in seconds.items()}
    duplicates = sum(reason == "ExactDedup" for _, reason in verdicts["sharded_sort_shuffle"])
    print(f"{args.docs} documents ({duplicates} exact duplicates): by key {best['hash_shuffle_by_key']:.1f} s, "
          f"sharded {best['sharded_sort_shuffle']:.1f} s, "
          f"{best['hash_shuffle_by_key'] / best['sharded_sort_shuffle']:.2f}x; same verdicts: {same}")
    path = C.write_results(NAME, {"benchmark": NAME, "machine": C.machine(), "docs": args.docs,
                                  "duplicates": duplicates, "seconds": seconds, "best": best, "same_verdicts": same,
                                  "speedup": best["hash_shuffle_by_key"] / best["sharded_sort_shuffle"]})
    print(f"results: {path.relative_to(C.REPO)}")
    assert same, "the two ways disagree"


if __name__ == "__main__":
    main()
