"""Page files: the OCR actors' journals, compacted files and the fold that keeps them few
(operators/books/page_files.py). Real Parquet bytes, no Ray."""
import io

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from operators.books.page_files import (PageFile, PageJournal, compacted_name, done_pages_of, file_groups,
                                        fold_plan, fold_selection, is_journal, journal_name, new_run_id)


SCHEMA = pa.schema([("book_id", pa.string()), ("page", pa.int32()), ("method", pa.string()),
                    ("config_hash", pa.string()), ("error", pa.string()), ("text", pa.string())])


def rows(book="b", pages=(1,), method="tesseract", config="c1", error=None, text="мәтін"):
    return pa.Table.from_pylist([{"book_id": book, "page": p, "method": method, "config_hash": config,
                                  "error": error, "text": text} for p in pages], schema=SCHEMA)


class Files:
    """A dict of written files; the journal's write callable."""

    def __init__(self, fail: int = 0):
        self.files: dict[str, bytes] = {}
        self.fail = fail

    def write(self, name: str, data: bytes) -> None:
        if self.fail:
            self.fail -= 1
            raise OSError("storage unavailable")
        self.files[name] = data

    def pages(self, name: str) -> list[int]:
        return pq.read_table(io.BytesIO(self.files[name]))["page"].to_pylist()


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def journal(files: Files, clock=None, **settings) -> PageJournal:
    return PageJournal(files.write, lambda seq: journal_name("run", "actor", seq), clock=clock or Clock(), **settings)


def test_a_journal_commits_every_n_pages_into_one_rolling_file():
    files = Files()
    j = journal(files, commit_pages=2, commit_seconds=1e9, rolling_pages=100)
    assert [j.add(rows(pages=[p])) for p in range(1, 6)] == [False, True, False, True, False]
    [name] = files.files
    assert files.pages(name) == [1, 2, 3, 4]  # page 5 is the one a crash now would lose
    assert j.commit() and files.pages(name) == [1, 2, 3, 4, 5]
    assert not j.commit()  # nothing new: no rewrite


def test_a_journal_commits_after_t_seconds_even_below_n_pages():
    files, clock = Files(), Clock()
    j = journal(files, clock, commit_pages=64, commit_seconds=30)
    assert not j.add(rows(pages=[1]))
    clock.now = 31
    assert j.add(rows(pages=[2]))
    assert files.pages(journal_name("run", "actor", 0)) == [1, 2]


def test_a_journal_starts_a_new_file_after_rolling_pages_so_memory_stays_bounded():
    files = Files()
    j = journal(files, commit_pages=2, commit_seconds=1e9, rolling_pages=4)
    for p in range(1, 10):
        j.add(rows(pages=[p]))
    j.commit()
    assert [files.pages(journal_name("run", "actor", s)) for s in range(3)] == [[1, 2, 3, 4], [5, 6, 7, 8], [9]]
    assert j.rows == 1


def test_a_failed_commit_keeps_the_pages_and_the_next_commit_writes_them():
    files = Files(fail=1)
    j = journal(files, commit_pages=1, commit_seconds=1e9)
    assert not j.add(rows(pages=[1])) and "storage unavailable" in j.last_error
    assert j.add(rows(pages=[2]))
    assert files.pages(journal_name("run", "actor", 0)) == [1, 2]


def test_file_groups_cut_a_stream_by_bytes_and_keep_every_row():
    tables = [rows(pages=range(i * 10, i * 10 + 10), text="x" * 1000) for i in range(10)]
    limit = 3 * tables[0].nbytes + 1
    groups = [list(g) for g in file_groups(iter(tables), limit)]
    assert [len(g) for g in groups] == [3, 3, 3, 1]
    assert sum(t.num_rows for g in groups for t in g) == 100
    assert [list(g) for g in file_groups(iter([]), limit)] == []
    big = rows(pages=range(100), text="x" * 1000)
    assert [len(list(g)) for g in file_groups(iter([big, tables[0]]), limit)] == [1, 1]


def index(*parts):
    """(file, table) → an index table with file and row columns."""
    out = []
    for name, t in parts:
        t = t.select(["book_id", "page", "method", "config_hash", "error"])
        out.append(t.append_column("file", pa.array([name] * t.num_rows))
                   .append_column("row", pa.array(range(t.num_rows), pa.int64())))
    return pa.concat_tables(out)


def test_done_pages_are_text_layer_pages_and_this_configs_pages_read_each_once():
    idx = index(("a", rows(pages=[1, 2])), ("b", rows(pages=[2, 3])),  # page 2 twice: a crash between files
                ("c", rows(pages=[4], config="old")), ("d", rows(pages=[5], error="timeout")),
                ("e", rows(pages=[6], method="textlayer", config=None)))
    assert done_pages_of(idx, "c1") == {"b": [1, 2, 3, 6]}
    assert done_pages_of(idx, "old") == {"b": [4, 6]}
    assert done_pages_of(None, "c1") == {}


def test_the_fold_takes_journals_of_other_runs_and_small_files_never_this_runs():
    files = [PageFile(journal_name("old", "a", 0), 10 << 20, 5), PageFile(compacted_name("old", "00000"), 100 << 20, 1),
             PageFile(compacted_name("old", "00001"), 10 << 20, 2), PageFile("legacy-block.parquet", 5000, 3),
             PageFile(journal_name("now", "a", 0), 100, 9), PageFile(compacted_name("now", "00000"), 100, 9)]
    fold, keep = fold_plan(files, "now", 128 << 20)
    assert [f.name for f in fold] == [journal_name("old", "a", 0), "legacy-block.parquet", compacted_name("old", "00001")]
    assert [f.name for f in keep] == [compacted_name("old", "00000")]
    assert is_journal(journal_name("now", "a", 0), "now") and not is_journal(journal_name("old", "a", 0), "now")
    assert new_run_id(0).startswith("19700101T000000Z-") and new_run_id() != new_run_id()


def test_the_fold_keeps_one_row_per_page_and_never_a_worse_one():
    kept = rows(pages=[1, 2])  # a compacted file the fold leaves alone
    failed_kept = rows(pages=[3], error="timeout")
    journal_old = rows(pages=[1, 3, 4, 5])  # crashed run: 1 is in `kept` already, 3 read now, 4 and 5 new
    journal_new = rows(pages=[4, 6])  # a newer crashed run read 4 again
    failed_fold = rows(pages=[7, 8], error="timeout")  # this run read 7 again
    idx = index(("kept", pa.concat_tables([kept, failed_kept])), ("new", journal_new), ("old", journal_old),
                ("failed", failed_fold))
    chosen = fold_selection(idx, ["new", "old", "failed"], stream_keys={("b", 7, "c1")})
    assert chosen == {"new": [0, 1], "old": [1, 3], "failed": [1]}
    assert fold_selection(idx, [], set()) == {}


@pytest.mark.parametrize("order", [["ok", "bad"], ["bad", "ok"]])
def test_the_fold_prefers_a_page_read_over_the_same_page_failed(order):
    idx = index(("ok", rows(pages=[1])), ("bad", rows(pages=[1], error="timeout")))
    assert fold_selection(idx, order, set()) == {"ok": [0], "bad": []}
