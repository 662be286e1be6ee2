"""A real 500 MB JSONL line between two good lines, read as a build reads a text file
(flows.inputs.ReadTextFiles: the storage's input stream, the real TextReader, rows batched
into Arrow) with the default `inputs.max_line_bytes`: the good lines are kept, the huge one
is one error row naming its line, and the reading process's memory stays bounded.

The hostile-input build has a scaled-down overlong line; this one is the size a broken
export really produces. The file is written in chunks and never held in memory, and is
removed afterwards. Memory is measured in a fresh subprocess, so nothing the test runner
holds (or freed) blurs the peak."""
import json
import subprocess
import sys

from flows.config import load_config
from tests.conftest import REPO

HUGE_BYTES = 500 << 20
CHUNK = 8 << 20
# Growth of the reading process's peak RSS allowed over its baseline (after imports and a
# warm-up read). The reader may hold up to max_line_bytes (64 MiB by default) of a line
# before it knows the line is too long; anything near the line's 500 MB is a leak.
MAX_RSS_GROWTH = 100 << 20

GOOD = [{"id": "first", "text": "Қазақ тілі — мемлекеттік тіл."},
        {"id": "last", "text": "Ұлттық кітапхана қолжазбаларды цифрлап, оқырмандарға ұсынады."}]

READ = r"""
import json, resource, sys
from flows.inputs import ReadTextFiles
from flows.storage import Storage
from operators.text.readers import TextReader
import pyarrow as pa

path, warmup, max_line_bytes = sys.argv[1], sys.argv[2], int(sys.argv[3])
read = ReadTextFiles(Storage(), TextReader(max_line_bytes=max_line_bytes))
for _ in read(pa.table({"uri": [warmup]})):  # code paths and allocator arenas warmed up
    pass
baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
rows = [r for t in read(pa.table({"uri": [path]})) for r in t.select(["source_id", "reason", "detail", "n_chars"]).to_pylist()]
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"rows": rows, "baseline": baseline, "peak": peak}))
"""


def write_huge_jsonl(path, n_bytes: int) -> int:
    """good line, one JSON record of about `n_bytes` on one line, good line. Returns the
    byte length of the huge line (without its newline)."""
    head, tail = b'{"id": "huge", "text": "', b'"}'
    filler = ("қазақ " * (CHUNK // 12)).encode()[:CHUNK]  # 2-byte letters and spaces: valid UTF-8 text
    written = 0
    with open(path, "wb") as f:
        f.write(json.dumps(GOOD[0], ensure_ascii=False).encode() + b"\n")
        f.write(head)
        while written + len(filler) <= n_bytes:
            f.write(filler)
            written += len(filler)
        f.write(tail + b"\n")
        f.write(json.dumps(GOOD[1], ensure_ascii=False).encode() + b"\n")
    return len(head) + written + len(tail)


def test_a_500_mb_jsonl_line_is_one_error_row_and_memory_stays_bounded(tmp_path):
    max_line_bytes = load_config([], require_output=False).inputs.max_line_bytes  # the default a build uses
    path, warmup = tmp_path / "export.jsonl", tmp_path / "warmup.jsonl"
    warmup.write_text(json.dumps(GOOD[0], ensure_ascii=False) + "\n", encoding="utf-8")
    try:
        huge = write_huge_jsonl(path, HUGE_BYTES)
        assert huge > HUGE_BYTES - CHUNK and huge > 4 * max_line_bytes
        result = subprocess.run([sys.executable, "-c", READ, str(path), str(warmup), str(max_line_bytes)],
                                capture_output=True, text=True, cwd=REPO, timeout=600)
    finally:
        path.unlink(missing_ok=True)
    assert result.returncode == 0, result.stderr[-3000:]
    out = json.loads(result.stdout)
    rows = out["rows"]
    kept = [r for r in rows if r["reason"] is None]
    errors = [r for r in rows if r["reason"] is not None]
    assert [r["source_id"] for r in kept] == ["first", "last"]
    assert len(errors) == 1, errors
    assert errors[0]["source_id"] == f"{path}:2" and errors[0]["reason"] == "TextReader"
    assert errors[0]["detail"].startswith("line 2: longer than max_line_bytes")
    assert f"({huge:,} bytes)" in errors[0]["detail"]
    growth = out["peak"] - out["baseline"]
    assert growth < MAX_RSS_GROWTH, f"peak RSS grew by {growth / 2**20:.0f} MiB reading a 500 MB line"
