"""OUTPUT/ledger/ledger.parquet: digitization progress, one row per book, across runs.

Small tables (one row per book; only a few columns of the page rows), so plain pyarrow
on the driver: no Ray. Unreadable files (a half-written one from a killed run) are
skipped here, never deleted: the stages that own them clean up.
"""
from __future__ import annotations

import io
from collections import Counter

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from omegaconf import DictConfig, OmegaConf

from flows.storage import Storage, join
from operators.books.catalog import BookRef, CatalogRow, missing_book
from operators.books.ledger import (PAGE_COLUMNS, STATUSES, collection_summary, count_pages, ledger_rows,
                                    merge_ledger, refresh_ledger)
from schemas import LEDGER, validate

LEDGER_FILE = "ledger.parquet"
# Columns of pages/ the librarian view uses; `read_at` (when a page was read), if the
# pages stage records it, gives the pages-per-day plot its exact days.
PAGE_VIEW_COLUMNS = (*PAGE_COLUMNS, "read_at")


def low_confidence(cfg: DictConfig) -> float:
    return float(OmegaConf.select(cfg, "ledger.low_confidence", default=60.0))


def read_parquet_dir(storage: Storage, uri: str, columns=None) -> pa.Table | None:
    """Every readable *.parquet under `uri`, only the wanted columns each file has."""
    if not storage.exists(uri):
        return None
    tables = []
    for path in storage.list_files(uri):
        name = path.rsplit("/", 1)[-1]
        if not name.endswith(".parquet") or name.startswith((".", "_")):
            continue
        try:
            with storage.open_input(path) as f:  # random access: only the wanted column chunks are read
                parquet = pq.ParquetFile(f)
                wanted = [c for c in columns if c in parquet.schema_arrow.names] if columns else None
                tables.append(parquet.read(columns=wanted))
        except (OSError, pa.ArrowInvalid):
            continue
    tables = [t for t in tables if t.num_columns]
    if not tables:
        return None
    return pa.concat_tables(tables, promote_options="permissive")


def read_pages(storage: Storage, output: str) -> pa.Table | None:
    return read_parquet_dir(storage, join(output, "pages"), PAGE_VIEW_COLUMNS)


def corpus_books(storage: Storage, output: str) -> set[str]:
    """book_ids of the books that are documents of the corpus (documents/)."""
    table = read_parquet_dir(storage, join(output, "documents"), ["source", "book_id", "source_id"])
    if table is None or "source" not in table.column_names:
        return set()
    books = table.filter(pc.equal(table["source"], "book"))
    ids = books["book_id"] if "book_id" in books.column_names else books["source_id"]
    return {i for i in ids.to_pylist() if i}


def rejected_books(storage: Storage, output: str) -> dict[str, tuple[str, str | None]]:
    """book_id → (reason, detail) of the books curation rejected (rejected/, source=book)."""
    table = read_parquet_dir(storage, join(output, "rejected"), ["source", "book_id", "source_id", "reason", "detail"])
    if table is None or "source" not in table.column_names:
        return {}
    found = {}
    for row in table.filter(pc.equal(table["source"], "book")).to_pylist():
        book_id = row.get("book_id") or row.get("source_id")
        if book_id and book_id not in found:
            found[book_id] = (row.get("reason") or "rejected", row.get("detail"))
    return found


def read_ledger(storage: Storage, output: str) -> list[dict]:
    """The ledger as last written ([] before the first write); several files merge."""
    table = read_parquet_dir(storage, join(output, "ledger"))
    if table is None:
        return []
    rows = {r["book_id"]: r for r in validate(table, LEDGER).select(LEDGER.names).to_pylist()}
    return [rows[k] for k in sorted(rows)]


def known_book_ids(storage: Storage, output: str) -> dict[str, str]:
    """Relative path → book_id of the uncatalogued books already in the ledger, for
    `match_books(known_ids=...)`: an id, once given, stays (pages/ resume by it)."""
    return {r["file"]: r["book_id"] for r in read_ledger(storage, output) if r.get("file") and not r["catalogued"]}


def _write(storage: Storage, output: str, rows: list[dict]) -> None:
    table = validate(pa.Table.from_pylist(rows, schema=LEDGER), LEDGER, allow_extra=False)
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="zstd")
    storage.write_bytes(join(output, "ledger", LEDGER_FILE), sink.getvalue())


def ledger_summary(rows: list[dict], catalog_problems: list[str] = ()) -> dict:
    """Counts for report.json."""
    statuses = Counter(r["status"] for r in rows)
    total = collection_summary(rows)[-1] if rows else {}
    return {
        "books": len(rows),
        "catalogued": sum(1 for r in rows if r.get("catalogued")),
        "by_status": {s: statuses.get(s, 0) for s in STATUSES},
        "pages": {k: total.get(f"pages_{k}", 0) for k in ("total", "textlayer", "ocr", "failed")}
        | {"low_confidence": total.get("low_confidence_pages", 0), "mean_confidence": total.get("mean_confidence")},
        "collections": {c["collection"]: {k: c[k] for k in ("books", "pages_total", "in corpus")}
                        for c in collection_summary(rows)[:-1]},
        "catalog_problems": list(catalog_problems),
    }


def write_ledger(cfg: DictConfig, storage: Storage, run_started_iso: str, books: list[BookRef],
                 missing_catalog_rows: list[CatalogRow] = (), *, pages_complete: bool = True,
                 catalog_problems: list[str] = ()) -> dict:
    """Merges this run's books into OUTPUT/ledger/ledger.parquet and returns its summary.

    Call it after curation (statuses then say in corpus / rejected). Called with
    `pages_complete=False` before the pages stage, it registers the run's books at once,
    so `qazflow status` lists them while OCR runs.
    """
    pages = read_pages(storage, cfg.output)
    counts = count_pages(pages, low_confidence(cfg)) if pages is not None else {}
    corpus, rejected = corpus_books(storage, cfg.output), rejected_books(storage, cfg.output)
    new = ledger_rows(books, counts, corpus, rejected, run_started_iso, pages_complete=pages_complete)
    missing = ledger_rows([missing_book(r) for r in missing_catalog_rows], counts, corpus, rejected, run_started_iso)
    rows = merge_ledger(read_ledger(storage, cfg.output), new, missing)
    rows = refresh_ledger(rows, counts, corpus, rejected)  # books of earlier runs: what curation made of them now
    _write(storage, cfg.output, rows)
    return ledger_summary(rows, catalog_problems)


def current_ledger(storage: Storage, output: str, low: float = 60.0) -> tuple[list[dict], pa.Table | None]:
    """(ledger rows as of now, page rows) for the librarian views: the written ledger
    brought up to date with the pages, documents and rejections on disk."""
    pages = read_pages(storage, output)
    counts = count_pages(pages, low) if pages is not None else {}
    written = read_ledger(storage, output)
    rows = refresh_ledger(written, counts, corpus_books(storage, output), rejected_books(storage, output),
                          add_unknown=not written)  # no ledger yet: a build from before it, list what was read
    return rows, pages


def library_section(cfg: DictConfig, storage: Storage) -> str:
    """The librarians' part of report.html ("" when the run has no books)."""
    from flows.librarian_html import render_library_section

    rows, pages = current_ledger(storage, cfg.output, low_confidence(cfg))
    return render_library_section(rows, pages, low_confidence(cfg)) if rows else ""
