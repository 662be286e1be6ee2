"""`qazflow status`: what a run produced, for people (rich tables and report.html).

  qazflow status output=DIR [status.collection=NAME] [status.books=true]

Curation stages (from report.json), digitization progress per collection (and per
book with books=true) from the ledger brought up to date with the pages on disk, so it
shows progress while a build is still reading. It also (re)writes OUTPUT/report.html
with the librarians' section.
"""
from __future__ import annotations

import json

from omegaconf import DictConfig, OmegaConf
from rich import box
from rich.console import Console
from rich.table import Table

from flows.ledger import current_ledger, low_confidence
from flows.librarian_html import insert_library_section, render_library_section, standalone_page
from flows.storage import S3Settings, Storage, join
from operators.books.ledger import collection_of, collection_summary

COLLECTION_COLUMNS = [("books", "books"), ("pages_total", "pages\nscanned"), ("pages_textlayer", "text\nlayer"),
                      ("pages_ocr", "OCR'd"), ("pages_failed", "pages\nfailed"), ("mean_confidence", "mean\nconf."),
                      ("in corpus", "in\ncorpus"), ("rejected", "rejected")]
OTHER_STATUSES = ("queued", "in progress", "done", "failed")  # books not (yet) in or out of the corpus
BOOK_COLUMNS = [("book_id", "book"), ("title", "title"), ("pages_total", "pages"), ("pages_textlayer", "text\nlayer"),
                ("pages_ocr", "OCR'd"), ("pages_failed", "failed"), ("mean_confidence", "mean\nconf."),
                ("status", "status"), ("status_detail", "why"), ("file_warning", "file\nwarning"),
                ("language_warning", "language\nwarning")]
WIDE_COLUMNS = ("title", "status_detail", "file_warning", "language_warning")
STATUS_STYLE = {"in corpus": "green", "done": "blue", "in progress": "yellow", "failed": "red", "rejected": "magenta",
                "queued": "dim"}


def _storage(cfg: DictConfig) -> Storage:
    s3 = OmegaConf.select(cfg, "storage.s3", default=None)
    return Storage(S3Settings(**OmegaConf.to_container(s3))) if s3 is not None else Storage()


def _cell(value) -> str:
    if value is None:
        return "–"
    return f"{value:.1f}" if isinstance(value, float) else str(value)


def curation_table(console: Console, report: dict, output: str) -> None:
    table = Table(title=f"qazflow run at {output}")
    for column in ("stage", "in", "rejected", "out"):
        table.add_column(column, justify="left" if column == "stage" else "right")
    for stage in report["stages"]:
        table.add_row(stage["stage"], str(stage["in"]), str(stage["rejected"]), str(stage["out"]))
    console.print(table)
    docs = report["documents"]
    console.print(f"documents: {docs['in']} in = {docs['kept']} kept + {docs['rejected']} rejected")
    if report.get("pages"):
        console.print(f"pages: {report['pages']['pages']} from {report['pages']['books']} books "
                      f"{report['pages']['by_method']}")


def collections_table(summary: list[dict]) -> Table:
    table = Table(title="Digitization per collection", box=box.SIMPLE_HEAVY, padding=(0, 1), collapse_padding=True)
    table.add_column("collection", overflow="fold", min_width=12)
    for _, header in COLLECTION_COLUMNS:
        table.add_column(header, justify="right", no_wrap=True)
    for i, s in enumerate(summary):
        table.add_row(s["collection"], *(_cell(s[k]) for k, _ in COLLECTION_COLUMNS),
                      style="bold" if i == len(summary) - 1 else None, end_section=i == len(summary) - 2)
    return table


def other_books(summary: list[dict]) -> str | None:
    """Books neither in the corpus nor rejected, per collection, in one line."""
    parts = []
    for s in summary[:-1]:
        counts = ", ".join(f"{s[k]} {k}" for k in OTHER_STATUSES if s[k])
        if counts:
            parts.append(f"{s['collection']}: {counts}")
    return "not in the corpus yet: " + "; ".join(parts) if parts else None


def damaged_files(rows: list[dict]) -> str | None:
    """Books whose scan file is damaged (e.g. repaired by MuPDF), whatever their status:
    a book in the corpus may still lack pages the librarian should rescan."""
    damaged = [f"{r['book_id']} ({r['file_warning']})" for r in rows if r.get("file_warning")]
    return "damaged scan files: " + "; ".join(damaged) if damaged else None


def catalog_to_check(rows: list[dict]) -> str | None:
    """Books whose OCR'd pages read as another language than their catalog row says."""
    wrong = [f"{r['book_id']} — {r['language_warning'].split(': ', 1)[-1]}" for r in rows if r.get("language_warning")]
    return "catalog language looks wrong: " + "; ".join(wrong) if wrong else None


def books_table(rows: list[dict], title: str) -> Table:
    table = Table(title=title, box=box.SIMPLE_HEAVY, padding=(0, 1), collapse_padding=True)
    for key, header in BOOK_COLUMNS:
        if key.startswith("pages") or key == "mean_confidence":
            table.add_column(header, justify="right", no_wrap=True)
        elif key in ("book_id", "status"):
            table.add_column(header, no_wrap=True)
        else:
            table.add_column(header, overflow="fold", ratio=2 if key in WIDE_COLUMNS else 1)
    for r in rows:
        table.add_row(*(_cell(r.get(k)) for k, _ in BOOK_COLUMNS), style=STATUS_STYLE.get(r.get("status")))
    return table


def library_tables(console: Console, rows: list[dict], collection: str | None, books: bool) -> bool:
    """Prints the digitization tables; False when the asked-for collection is unknown."""
    if collection is not None:
        chosen = [r for r in rows if collection_of(r) == collection]
        if not chosen:
            known = ", ".join(sorted({collection_of(r) for r in rows}))
            console.print(f"qazflow: no books in collection {collection!r}; collections: {known}")
            return False
        rows = chosen
    summary = collection_summary(rows)
    console.print(collections_table(summary))
    if line := other_books(summary):
        console.print(line)
    for line in (damaged_files(rows), catalog_to_check(rows)):
        if line:
            console.print(line)
    if books:
        for name in sorted({collection_of(r) for r in rows}):
            console.print(books_table([r for r in rows if collection_of(r) == name], f"Books of {name}"))
    return True


def show_status(cfg: DictConfig, console: Console | None = None) -> int:
    if console is None:
        console = Console()
        if not console.is_terminal:  # piped to a file or a pager: nothing to fit, so do not truncate
            console.width = max(console.width, 160)
    storage = _storage(cfg)
    report_uri = join(cfg.output, "report.json")
    report = json.loads(storage.read_text(report_uri)) if storage.exists(report_uri) else None
    low = low_confidence(cfg)
    rows, pages = current_ledger(storage, cfg.output, low)
    if report is None and not rows:
        console.print(f"qazflow: no report at {report_uri} and no ledger: has a build run there?")
        return 1
    if report is not None:
        curation_table(console, report, cfg.output)
    ok = True
    if rows:
        ok = library_tables(console, rows, OmegaConf.select(cfg, "status.collection", default=None),
                            bool(OmegaConf.select(cfg, "status.books", default=False)))
        section = render_library_section(rows, pages, low)
        if report is not None:
            from flows.report import render_html

            page = insert_library_section(render_html(report), section)
        else:
            page = standalone_page(section, cfg.output)
        storage.write_text(join(cfg.output, "report.html"), page)
        console.print(f"report for librarians: {join(cfg.output, 'report.html')}")
    return 0 if ok else 1
