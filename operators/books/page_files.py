"""Page records in a bounded number of files (OUTPUT/pages/*.parquet, PAGE rows).

A library of a million pages must not become a million small files: every rerun lists
and reads them to learn which pages are done, and S3 charges per request. So:

  ocr-<run>-<actor>-<n>.parquet  an OCR actor's journal: it rewrites its current file
                                 (one atomic write) every `commit_pages` pages or
                                 `commit_seconds`, and starts a new one after
                                 `rolling_pages`; a crash loses only uncommitted pages
  pages-<run>-<part>.parquet     compacted files of at most `file_bytes` (uncompressed;
                                 zstd makes them 3-5 times smaller on disk),
                                 written at the end of the pages stage from the rows
                                 the stage produced and the small files it folds in
  anything else                  files of older versions (one per Ray block): folded in

A crash between writing compacted files and deleting what they replace leaves rows
twice; readers keep one row per (book_id, page) anyway (ledger.current_page_rows,
ledger.current_page_rows), and the next compaction drops the copies.

Pure: no Ray, no storage; the flow hands in a `write(name, bytes)` callable.
"""
from __future__ import annotations

import io
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

JOURNAL_PREFIX = "ocr-"
COMPACTED_PREFIX = "pages-"
TEMP_MARK = ".tmp-"  # Storage.write_bytes' temporary name of a file being written locally
# Columns of a page file that say whether a page is done, read by column projection (the
# text, by far the largest column, never is).
INDEX_COLUMNS = ["book_id", "page", "method", "config_hash", "error"]


def new_run_id(now: float | None = None) -> str:
    """Sorts by time (UTC), unique across concurrent processes."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(time.time() if now is None else now))
    return f"{stamp}-{uuid.uuid4().hex[:6]}"


def journal_name(run: str, actor: str, seq: int) -> str:
    return f"{JOURNAL_PREFIX}{run}-{actor}-{seq:05d}.parquet"


def compacted_name(run: str, part: str) -> str:
    return f"{COMPACTED_PREFIX}{run}-{part}.parquet"


def is_temp(name: str) -> bool:
    return TEMP_MARK in name


def is_page_file(name: str) -> bool:
    return name.endswith(".parquet") and not name.startswith((".", "_"))


def is_journal(name: str, run: str | None = None) -> bool:
    return name.startswith(JOURNAL_PREFIX + (f"{run}-" if run else ""))


def parquet_bytes(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="zstd")
    return sink.getvalue()


class PageJournal:
    """An OCR actor's rolling page file, committed every `commit_pages` pages or after
    `commit_seconds` (checked as pages arrive: an idle actor holds at most
    `commit_pages - 1` uncommitted pages, which the stage's compaction writes anyway).

    Each commit rewrites the whole current file in one write (temp + rename locally, one
    PUT on S3): object stores cannot append, and readers must see a file whole or not at
    all. Rewriting costs `rolling_pages / commit_pages / 2` times the text written, small
    next to OCR; after `rolling_pages` the file is left as it is and a new one starts, so
    memory holds at most `rolling_pages` rows.
    """

    def __init__(self, write: Callable[[str, bytes], None], name: Callable[[int], str], *, commit_pages: int = 64,
                 commit_seconds: float = 30.0, rolling_pages: int = 2048,
                 clock: Callable[[], float] = time.monotonic):
        self.write = write
        self.name = name
        self.commit_pages = max(1, commit_pages)
        self.commit_seconds = commit_seconds
        self.rolling_pages = max(self.commit_pages, rolling_pages)
        self.clock = clock
        self.seq = 0
        self.tables: list[pa.Table] = []  # rows of the current file, committed or not
        self.rows = 0
        self.uncommitted = 0
        self.last_commit = clock()
        self.commits = 0
        self.last_error: str | None = None

    def add(self, table: pa.Table) -> bool:
        """Adds page rows; commits when due. True when this call committed."""
        if table.num_rows:
            self.tables.append(table)
            self.rows += table.num_rows
            self.uncommitted += table.num_rows
        due = self.uncommitted and (self.uncommitted >= self.commit_pages
                                    or self.clock() - self.last_commit >= self.commit_seconds
                                    or self.rows >= self.rolling_pages)
        return self.commit() if due else False

    def commit(self) -> bool:
        if not self.uncommitted:
            return False
        try:
            self.write(self.name(self.seq), parquet_bytes(pa.concat_tables(self.tables, promote_options="permissive")))
        except Exception as exc:  # the journal is resume state only: the rows still go on to the stage's
            # compacted files, so a storage hiccup costs at most a redo after a crash, never the run
            self.last_error = f"{type(exc).__name__}: {exc}"
            return False
        self.commits += 1
        self.uncommitted = 0
        self.last_commit = self.clock()
        if self.rows >= self.rolling_pages:
            self.seq, self.tables, self.rows = self.seq + 1, [], 0
        return True


def file_groups(tables: Iterable[pa.Table], max_bytes: int) -> Iterator[Iterator[pa.Table]]:
    """Splits a stream of tables into consecutive groups of at most `max_bytes` (Arrow
    bytes, more than the compressed file; a single larger table is a group of its own).
    Each group must be consumed before the next is asked for: it streams, never holding a
    group in memory."""
    it = iter(tables)
    carry: list[pa.Table] = []

    def group() -> Iterator[pa.Table]:
        size = 0
        while True:
            table = carry.pop() if carry else next(it, None)
            if table is None:
                return
            if size and size + table.nbytes > max_bytes:
                carry.append(table)
                return
            size += table.nbytes
            yield table

    while True:
        first = carry.pop() if carry else next(it, None)
        if first is None:
            return
        carry.append(first)
        yield group()


def done_pages_of(index: pa.Table, config_hash: str) -> dict[str, list[int]]:
    """Pages already read, per book: text-layer pages, and pages OCR'd under this OCR
    configuration, read without error (each page once, however many files list it)."""
    if index is None or index.num_rows == 0:
        return {}
    ok = pc.and_kleene(pc.is_null(index["error"]), pc.or_kleene(pc.equal(index["method"], "textlayer"),
                                                                 pc.equal(index["config_hash"], config_hash)))
    done = index.filter(pc.fill_null(ok, False)).select(["book_id", "page"])
    grouped = done.group_by("book_id", use_threads=False).aggregate([("page", "distinct")])
    return {r["book_id"]: sorted(r["page_distinct"]) for r in grouped.to_pylist()}


@dataclass(frozen=True)
class PageFile:
    name: str
    size: int  # bytes: on disk when listed; uncompressed (footer) when planning a fold
    mtime: float = 0.0


def fold_plan(files: list[PageFile], run: str, file_bytes: int) -> tuple[list[PageFile], list[PageFile]]:
    """(files to fold into this run's compacted files, files to keep as they are).

    Folded: journals of earlier runs, files of older versions, and compacted files under
    half of `file_bytes` (the tail of an earlier run), so the count stays near
    total size / file_bytes. This run's own files are never in the plan."""
    fold, keep = [], []
    for f in files:
        if f.name.startswith(COMPACTED_PREFIX + run) or is_journal(f.name, run):
            continue
        (fold if is_journal(f.name) or f.size < file_bytes // 2 else keep).append(f)
    fold.sort(key=lambda f: (-f.mtime, f.name))  # newest first: among equal rows the newest wins
    return fold, keep


Key = tuple  # (book_id, page, config_hash)


def keys_of(table: pa.Table) -> Iterator[Key]:
    return zip(table["book_id"].to_pylist(), table["page"].to_pylist(), table["config_hash"].to_pylist())


def fold_selection(index: pa.Table, fold: list[str], stream_keys: set[Key]) -> dict[str, list[int]]:
    """Which rows of each folded file go into the compacted files, by position.

    `index` holds the INDEX_COLUMNS of every file at the stage's start plus `file` and
    `row` (position in its file); `fold` the folded files, newest first; `stream_keys` the
    (book_id, page, config_hash) this run wrote for the books of the folded files. A
    folded row is dropped when this run read its page again (newest wins), when a kept
    file has the page read (or failed, and the folded row failed too), or when another
    folded row is better: read beats failed, then the newest file, then the later row."""
    if not fold or index is None or index.num_rows == 0:
        return {name: [] for name in fold}
    rank = {name: i for i, name in enumerate(fold)}
    books = index.filter(pc.is_in(index["file"], pa.array(fold)))["book_id"].unique()
    rows = index.filter(pc.is_in(index["book_id"], books))
    kept_ok, kept_any, best = set(), set(), {}
    for key, failed, name, pos in zip(keys_of(rows), pc.is_valid(rows["error"]).to_pylist(),
                                      rows["file"].to_pylist(), rows["row"].to_pylist()):
        if name not in rank:
            kept_any.add(key)
            if not failed:
                kept_ok.add(key)
            continue
        order = (failed, rank[name], -pos)
        if key not in best or order < best[key][0]:
            best[key] = (order, name, pos)
    chosen: dict[str, list[int]] = {name: [] for name in fold}
    for key, ((failed, _, _), name, pos) in best.items():
        if key in stream_keys or key in kept_ok or (failed and key in kept_any):
            continue
        chosen[name].append(pos)
    return {name: sorted(positions) for name, positions in chosen.items()}
