"""The digitization ledger: one row per book, for librarians.

From the page rows of every run, the catalog, and what curation made of each book
(kept in documents/, or rejected with a reason), each book gets its page counts, OCR
confidence and a status:

  queued       no page read yet (no scan, or the scan is waiting)
  in progress  pages are being read in a run that has not finished its pages stage
  done         every page read (or failed); curation has not decided yet
  failed       not one page could be read (the first error says why)
  in corpus    the book is a document of the corpus
  rejected     curation rejected it (status_detail: operator: why)

Counting is vectorized (pyarrow.compute): a library of thousands of books has millions
of page rows, and only a few of their columns are needed.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

import pyarrow as pa
import pyarrow.compute as pc

from operators.books.catalog import BookRef

STATUSES = ("queued", "in progress", "done", "failed", "in corpus", "rejected")
PAGE_COLUMNS = ("book_id", "page", "method", "confidence", "error", "config_hash", "route_reason",
                "detected_language", "ocr_pass")
CATALOG_FIELDS = ("title", "author", "year", "language", "collection", "file", "catalogued", "metadata")
COUNT_FIELDS = ("pages_total", "pages_textlayer", "pages_ocr", "pages_failed", "mean_confidence",
                "low_confidence_pages")
UNCATALOGUED = "(uncatalogued)"
NO_COLLECTION = "(no collection)"


@dataclass(frozen=True)
class PageCounts:
    total: int = 0  # pages of the book seen (page > 0)
    textlayer: int = 0
    ocr: int = 0
    failed: int = 0
    pending: int = 0  # routed to OCR, not OCR'd yet
    mean_confidence: float | None = None  # over OCR'd pages
    low_confidence: int = 0  # OCR'd pages under the threshold
    book_error: str | None = None  # the whole file could not be read (page 0 rows)
    first_error: str | None = None  # one page's error, to say why pages failed
    file_warning: str | None = None  # the file was read but is damaged (page-0 route_reason, see books.pdf)
    languages: tuple[tuple[str, int], ...] = ()  # (language, OCR'd pages whose text reads as it), most first


def language_warning(catalog_language: str | None, counts: PageCounts | None) -> str | None:
    """"catalog language looks wrong: ..." when most of a book's checked pages read as
    another language than its catalog row says (the OCR language check, books.page_language)."""
    checked = dict(counts.languages) if counts else {}
    checked.pop("und", None)
    if not catalog_language or not checked:
        return None
    language, n = max(checked.items(), key=lambda kv: (kv[1], kv[0] == catalog_language))
    total = sum(checked.values())
    if language == catalog_language or 2 * n <= total:
        return None
    return f"catalog language looks wrong: {n} of {total} OCR'd pages read as {language} (catalog: {catalog_language})"


def _as_table(pages) -> pa.Table:
    if isinstance(pages, pa.Table):
        return pages
    rows = list(pages or [])
    return pa.Table.from_pylist([{c: r.get(c) for c in PAGE_COLUMNS} for r in rows],
                                schema=pa.schema([("book_id", pa.string()), ("page", pa.int32()),
                                                  ("method", pa.string()), ("confidence", pa.float32()),
                                                  ("error", pa.string()), ("config_hash", pa.string()),
                                                  ("route_reason", pa.string()),
                                                  ("detected_language", pa.string()),
                                                  ("ocr_pass", pa.int8())]))


def current_page_rows(pages, config_hash: str | None = None) -> pa.Table:
    """One row per (book, page) when several runs read a page: a page read beats a page
    that failed, the text layer beats OCR, this OCR configuration beats another one, the
    book-level pass beats the first, and among equals the row listed last (the newest
    file) wins."""
    table = _as_table(pages)
    if table.num_rows == 0:
        return table
    failed = pc.cast(pc.is_valid(table["error"]), pa.int8())
    not_text = pc.cast(pc.fill_null(pc.not_equal(table["method"], "textlayer"), True), pa.int8())
    if config_hash is not None and "config_hash" in table.column_names:
        other = pc.cast(pc.fill_null(pc.not_equal(table["config_hash"], config_hash), True), pa.int8())
    else:
        other = pa.array([0] * table.num_rows, pa.int8())
    rank = pc.add(pc.add(pc.multiply(failed, 8), pc.multiply(not_text, 4)), pc.multiply(other, 2))
    if "ocr_pass" in table.column_names:  # a page the book-level language check read again
        first_pass = pc.cast(pc.invert(pc.fill_null(pc.greater(table["ocr_pass"], 1), False)), pa.int8())
        rank = pc.add(rank, first_pass)
    order = pa.array(range(table.num_rows, 0, -1), pa.int64())  # later rows first among equals
    table = table.append_column("_rank", rank).append_column("_order", order)
    table = table.sort_by([("book_id", "ascending"), ("page", "ascending"), ("_rank", "ascending"),
                           ("_order", "ascending")])
    book, page = table["book_id"].combine_chunks(), table["page"].combine_chunks()
    if table.num_rows > 1:
        changed = pc.or_(pc.not_equal(book[1:], book[:-1]), pc.not_equal(page[1:], page[:-1]))
        keep = pa.concat_arrays([pa.array([True]), pc.fill_null(changed, True)])
    else:
        keep = pa.array([True])
    return table.filter(keep).drop_columns(["_rank", "_order"])


def is_ocr(method: pa.ChunkedArray) -> pa.ChunkedArray:
    return pc.invert(pc.fill_null(pc.is_in(method, pa.array(["textlayer", "none"])), True))


def count_pages(pages, low_confidence: float = 60.0, config_hash: str | None = None) -> dict[str, PageCounts]:
    """Page rows (PAGE schema; table or dicts, any runs) → counts per book_id."""
    t = current_page_rows(pages, config_hash)
    if t.num_rows == 0:
        return {}
    real = pc.greater(t["page"], 0)
    read = pc.is_null(t["error"])
    ocr = pc.and_(pc.and_(real, read), is_ocr(t["method"]))
    low = pc.fill_null(pc.and_(ocr, pc.less(t["confidence"], low_confidence)), False)

    def as_int(mask):
        return pc.cast(pc.fill_null(mask, False), pa.int64())

    work = pa.table({
        "book_id": t["book_id"],
        "total": as_int(real),
        "textlayer": as_int(pc.and_(pc.and_(real, read), pc.equal(t["method"], "textlayer"))),
        "ocr": as_int(ocr),
        "failed": as_int(pc.and_(real, pc.invert(read))),
        "pending": as_int(pc.and_(pc.and_(real, read), pc.equal(t["method"], "none"))),
        "confidence": pc.if_else(ocr, pc.cast(t["confidence"], pa.float64()), None),
        "low": as_int(low),
        "book_error": pc.if_else(pc.invert(real), t["error"], None),
        "page_error": pc.if_else(real, t["error"], None),
        "file_warning": pc.if_else(pc.invert(real), t["route_reason"], None) if "route_reason" in t.column_names
        else pa.nulls(t.num_rows, pa.string()),
    })
    grouped = work.group_by("book_id", use_threads=False).aggregate(
        [(c, "sum") for c in ("total", "textlayer", "ocr", "failed", "pending", "low")]
        + [("confidence", "mean"), ("book_error", "min"), ("page_error", "min"),
           ("file_warning", "min")])
    languages = defaultdict(list)
    if "detected_language" in t.column_names:
        checked = pa.table({"book_id": t["book_id"], "language": t["detected_language"]}).filter(
            pc.and_(pc.fill_null(ocr, False), pc.is_valid(t["detected_language"])))
        for r in checked.group_by(["book_id", "language"], use_threads=False).aggregate([("language", "count")]) \
                .to_pylist():
            languages[r["book_id"]].append((r["language"], r["language_count"]))
    counts = {}
    for r in grouped.to_pylist():
        mean = r["confidence_mean"]
        counts[r["book_id"]] = PageCounts(
            total=r["total_sum"], textlayer=r["textlayer_sum"], ocr=r["ocr_sum"], failed=r["failed_sum"],
            pending=r["pending_sum"], mean_confidence=None if mean is None else round(mean, 2),
            low_confidence=r["low_sum"], book_error=r["book_error_min"], first_error=r["page_error_min"],
            file_warning=r["file_warning_min"],
            languages=tuple(sorted(languages[r["book_id"]], key=lambda kv: (-kv[1], kv[0]))))
    return counts


def book_status(counts: PageCounts | None, *, found: bool = True, in_corpus: bool = False,
                rejection: tuple[str, str | None] | None = None, pages_complete: bool = True) -> tuple[str, str | None]:
    """(status, detail) of one book. A book no page of which could be read is "failed"
    (more telling to a librarian than the assembly's rejection that follows from it)."""
    counts = counts or PageCounts()
    if in_corpus:
        return "in corpus", (f"{counts.failed} page(s) failed: {counts.first_error}" if counts.failed else None)
    if counts.book_error and counts.total == 0:
        return "failed", counts.book_error
    if counts.total and counts.failed == counts.total:
        return "failed", f"all {counts.total} page(s) failed: {counts.first_error}"
    if rejection:
        reason, detail = rejection
        return "rejected", f"{reason}: {detail}" if detail else reason
    if counts.total == 0:
        return "queued", "scan found, not read yet" if found else "no scan found yet"
    if counts.pending or not pages_complete:
        read = counts.textlayer + counts.ocr + counts.failed
        return "in progress", f"{read} of {counts.total} page(s) read so far"
    return "done", (f"{counts.failed} page(s) failed: {counts.first_error}" if counts.failed
                    else "all pages read; waiting for curation")


def _count_fields(counts: PageCounts | None, catalog_language: str | None) -> dict:
    counts = counts or PageCounts()
    return {"pages_total": counts.total, "pages_textlayer": counts.textlayer, "pages_ocr": counts.ocr,
            "pages_failed": counts.failed, "mean_confidence": counts.mean_confidence,
            "low_confidence_pages": counts.low_confidence, "file_warning": counts.file_warning,
            "language_warning": language_warning(catalog_language, counts)}


def _catalog_fields(book) -> dict:
    fields = book.ledger_fields() if isinstance(book, BookRef) else dict(book)
    return {"book_id": fields["book_id"], **{k: fields.get(k) for k in CATALOG_FIELDS}}


def ledger_rows(books, counts: dict[str, PageCounts], in_corpus: set[str],
                rejected: dict[str, tuple[str, str | None]], run_iso: str, *,
                pages_complete: bool = True) -> list[dict]:
    """This run's books (BookRef or dicts with the catalog fields; a book whose scan is
    missing has uri None) → ledger rows stamped with this run."""
    rows = []
    for book in books:
        fields = _catalog_fields(book)
        book_id = fields["book_id"]
        found = (book.uri if isinstance(book, BookRef) else book.get("uri", True)) is not None
        status, detail = book_status(counts.get(book_id), found=found, in_corpus=book_id in in_corpus,
                                     rejection=rejected.get(book_id), pages_complete=pages_complete)
        rows.append({**fields, "catalogued": bool(fields.get("catalogued")),
                     **_count_fields(counts.get(book_id), fields.get("language")),
                     "status": status, "status_detail": detail, "first_run": run_iso, "last_run": run_iso})
    return rows


def _earliest(*stamps: str | None) -> str | None:
    def key(stamp: str):
        try:
            return datetime.fromisoformat(stamp).timestamp(), stamp
        except ValueError:
            return float("inf"), stamp

    present = [s for s in stamps if s]
    return min(present, key=key) if present else None


def merge_ledger(previous: list[dict], new: list[dict], missing: list[dict] = ()) -> list[dict]:
    """Earlier ledger + this run's rows. Books this run did not touch stay as they were;
    touched books take this run's counts and status but keep their first_run, and the
    catalog fields of an earlier run when this run had no catalog row for them. A row
    for a book once uncatalogued and now catalogued under another id (same file)
    replaces the old one, which hands over its first_run.

    `missing` are the rows of catalog entries whose scan this run did not find: new
    ones are added (queued); a book the ledger already has only takes their catalog
    fields (a librarian's corrections), since its scan was not part of this run."""
    merged = {r["book_id"]: dict(r) for r in previous}
    for row in missing:
        if row["book_id"] in merged:
            merged[row["book_id"]].update({k: row.get(k) for k in CATALOG_FIELDS})
    new = list(new) + [r for r in missing if r["book_id"] not in merged]
    new_ids = {r["book_id"] for r in new}
    uncatalogued_by_file = defaultdict(list)
    for r in previous:
        if not r.get("catalogued") and r.get("file") and r["book_id"] not in new_ids:
            uncatalogued_by_file[r["file"]].append(r["book_id"])
    for row in new:
        row = dict(row)
        old = merged.get(row["book_id"])
        if row.get("catalogued") and row.get("file"):
            for stale_id in uncatalogued_by_file.pop(row["file"], []):
                stale = merged.pop(stale_id, None) or {}
                row["first_run"] = _earliest(row.get("first_run"), stale.get("first_run"))
        if old:
            row["first_run"] = _earliest(old.get("first_run"), row.get("first_run"))
            if not row.get("catalogued") and old.get("catalogued"):
                row.update({k: old.get(k) for k in CATALOG_FIELDS if k != "file"} | {"file": row.get("file")
                                                                                       or old.get("file")})
        merged[row["book_id"]] = row
    return [merged[k] for k in sorted(merged)]


def refresh_ledger(rows: list[dict], counts: dict[str, PageCounts], in_corpus: set[str],
                   rejected: dict[str, tuple[str, str | None]], add_unknown: bool = False) -> list[dict]:
    """The ledger brought up to date with what is on disk now (what `qazflow status`
    shows while a build runs, and what becomes of books a run did not touch: curation
    assembles every book in pages/): counts from the pages; a book the ledger had queued
    or in progress that now has pages is in progress. With `add_unknown`, books with
    pages but no ledger row are listed uncatalogued. Timestamps are left as they were."""
    out = []
    for row in rows:
        book_id = row["book_id"]
        if book_id not in counts and book_id not in in_corpus and book_id not in rejected:
            out.append(dict(row))  # nothing on disk says more than the ledger
            continue
        reading = row.get("status") in ("queued", "in progress")
        status, detail = book_status(counts.get(book_id), in_corpus=book_id in in_corpus,
                                     rejection=rejected.get(book_id), pages_complete=not reading)
        out.append({**row, **_count_fields(counts.get(book_id), row.get("language")), "status": status,
                    "status_detail": detail})
    known = {r["book_id"] for r in rows}
    for book_id in sorted(set(counts) - known if add_unknown else ()):
        status, detail = book_status(counts[book_id], in_corpus=book_id in in_corpus,
                                     rejection=rejected.get(book_id), pages_complete=False)
        out.append({"book_id": book_id, **{k: None for k in CATALOG_FIELDS}, "catalogued": False,
                    **_count_fields(counts[book_id], None), "status": status, "status_detail": detail,
                    "first_run": None, "last_run": None})
    return sorted(out, key=lambda r: r["book_id"])


def collection_of(row: dict) -> str:
    if row.get("collection"):
        return row["collection"]
    return NO_COLLECTION if row.get("catalogued") else UNCATALOGUED


def collection_summary(rows: list[dict]) -> list[dict]:
    """Per collection (sorted; uncatalogued books last): books by status and page counts,
    mean confidence weighted by OCR'd pages. The last entry is the total ("all")."""
    groups: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        groups[collection_of(row)].append(row)

    def summarize(name: str, members: list[dict]) -> dict:
        s = {"collection": name, "books": len(members)}
        for status in STATUSES:
            s[status] = sum(1 for r in members if r.get("status") == status)
        for f in ("pages_total", "pages_textlayer", "pages_ocr", "pages_failed", "low_confidence_pages"):
            s[f] = sum(r.get(f) or 0 for r in members)
        weighted = [(r["mean_confidence"], r.get("pages_ocr") or 0) for r in members
                    if r.get("mean_confidence") is not None and r.get("pages_ocr")]
        pages = sum(n for _, n in weighted)
        s["mean_confidence"] = round(sum(c * n for c, n in weighted) / pages, 1) if pages else None
        return s

    names = sorted(groups, key=lambda n: (n in (UNCATALOGUED, NO_COLLECTION), n == UNCATALOGUED, n))
    return [summarize(n, groups[n]) for n in names] + [summarize("all", list(rows))]
