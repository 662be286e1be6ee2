"""The mosaicml-streaming side of tokens_reader.py. Runs in .bench/streaming-venv (`make
bench-deps-streaming`): streaming pins numpy<2.2 and an older tokenizers, so it cannot share
qazflow's venv. No qazflow imports; the tokens come through files written by the main venv.

    python _streaming_worker.py write DIR SEQ_LEN EOS
        DIR/tokens.npy (uint32, the documents' tokens back to back, in the order of
        PackedReader's epoch-0 stream) and DIR/doc_offsets.npy (int64, n_docs + 1) →
        DIR/mds_docs: one MDS sample per document, column `tokens` ndarray:uint32;
        DIR/mds_packed: the stream pre-packed at write time, one sample per seq_len+1
        window (what llm-foundry's concat_tokens conversion writes).
    python _streaming_worker.py read DIR KIND SEQ_LEN EOS PASSES MIN_SECONDS MAX_PASSES
        KIND docs: StreamingDataset(local=DIR/mds_docs, shuffle=False) and packing on the
        fly: an eos after every document, the concatenation cut into seq_len+1 windows, the
        short tail dropped, each window cast to int64. That is PackedReader's work (same
        documents in the same order, same eos, same windows), so both yield the same
        samples; the sha256 of the warm-up pass's samples shows it.
        KIND getitem: the same, the documents taken with `ds.get_item(i)` for i in index
        order instead of iterating: streaming's sample access without the iterator's
        threads (a prepare and a ready thread that step through every sample id too).
        KIND packed: StreamingDataset over DIR/mds_packed, each sample cast to int64.

MDS shards are uncompressed (MDSWriter's default): with a local copy only, a compressed
shard is decompressed whole to disk on first access and then read uncompressed anyway.
Timing as the other readers' children: one warm-up pass, then at least PASSES passes and
more until MIN_SECONDS (at most MAX_PASSES); tokens/s of the best. Prints one JSON line.
"""
from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from pathlib import Path


def _vm(field: str) -> int:
    for line in open("/proc/self/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1]) // 1024  # kB → MB
    return -1


def write(root: Path, seq_len: int, eos: int) -> dict:
    import numpy as np
    from streaming import MDSWriter

    tokens = np.load(root / "tokens.npy", mmap_mode="r")
    offsets = np.load(root / "doc_offsets.npy")
    t0 = time.perf_counter()
    with MDSWriter(out=str(root / "mds_docs"), columns={"tokens": "ndarray:uint32"}) as out:
        for a, b in zip(offsets[:-1], offsets[1:]):
            out.write({"tokens": np.asarray(tokens[a:b])})
    docs_s = time.perf_counter() - t0
    # the stream with its eos, then whole windows (as PackedReader: the short tail is dropped)
    ends = offsets[1:]
    stream = np.insert(np.asarray(tokens), ends, np.uint32(eos))
    size = seq_len + 1
    t0 = time.perf_counter()
    with MDSWriter(out=str(root / "mds_packed"), columns={"tokens": f"ndarray:uint32:{size}"}) as out:
        for i in range(len(stream) // size):
            out.write({"tokens": stream[i * size:(i + 1) * size]})
    return {"docs": len(offsets) - 1, "tokens": int(offsets[-1]), "write_seconds": {"docs": round(docs_s, 3),
            "packed": round(time.perf_counter() - t0, 3)},
            "bytes": {k: sum(f.stat().st_size for f in (root / k).iterdir()) for k in ("mds_docs", "mds_packed")}}


def read(root: Path, kind: str, seq_len: int, eos: int, passes: int, min_seconds: float, max_passes: int) -> dict:
    cpu = max(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpu})  # one core, like the qazflow and megatron readers
    import numpy as np
    import streaming
    from streaming import StreamingDataset

    # predownload above the sample count: by default (8 x batch_size) the prepare and ready
    # threads stop 8 samples ahead of the consumer and sleep 7 ms ticks, ~10x slower per
    # sample on one core; with the data local there is nothing to throttle
    ds = StreamingDataset(local=str(root / ("mds_packed" if kind == "packed" else "mds_docs")), shuffle=False,
                          batch_size=1, predownload=1 << 30)
    res = {"kind": f"streaming_{kind}", "cpu": cpu, "loadavg": [round(x, 2) for x in os.getloadavg()],
           "streaming_version": streaming.__version__, "numpy_version": np.__version__,
           "baseline_rss_mb": _vm("VmRSS"), "samples_in_dataset": len(ds)}
    size = seq_len + 1
    eos_arr = np.array([eos], np.uint32)

    def samples():
        if kind == "packed":
            for s in ds:
                yield s["tokens"].astype(np.int64)
            return
        pending, have = [], 0
        for s in (ds.get_item(i) for i in range(len(ds))) if kind == "getitem" else ds:
            doc = s["tokens"]
            pending += (doc, eos_arr)
            have += len(doc) + 1
            if have >= size:
                flat = np.concatenate(pending)
                k = have // size
                for j in range(k):
                    yield flat[j * size:(j + 1) * size].astype(np.int64)  # what an embedding takes
                pending, have = [flat[k * size:]], have - k * size

    def one_pass(digest=None):
        n = 0
        for sample in samples():
            n += len(sample)
            if digest is not None:
                digest.update(sample.tobytes())
        return n

    h = hashlib.sha256()
    t0 = time.perf_counter()
    res["tokens"] = one_pass(h)  # warm-up, with the digest of the samples
    res["warmup_seconds"] = round(time.perf_counter() - t0, 4)
    res["sha256"] = h.hexdigest()
    times = []
    while len(times) < passes or (sum(times) < min_seconds and len(times) < max_passes):
        t0 = time.perf_counter()
        assert one_pass() == res["tokens"]
        times.append(time.perf_counter() - t0)
    res["seconds"] = [round(t, 4) for t in times]
    res["tokens_per_s"] = round(res["tokens"] / min(times))
    res["peak_rss_mb"] = _vm("VmHWM")  # not ru_maxrss: that carries the parent's peak over fork+exec
    return res


def main() -> None:
    mode, root = sys.argv[1], Path(sys.argv[2])
    if mode == "write":
        out = write(root, int(sys.argv[3]), int(sys.argv[4]))
    else:
        out = read(root, sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6]), float(sys.argv[7]),
                   int(sys.argv[8]))
    print(json.dumps(out))


if __name__ == "__main__":
    main()
