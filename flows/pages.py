"""The pages stage: every page of every book read from its text layer or OCR'd.

Pages are the unit of resume: a page already in `pages/` for the same OCR configuration
(book, page, config hash) is never read again, so a rerun after a crash OCRs only what
was in flight or in an OCR actor's uncommitted journal (`pages.commit_pages` pages or
`pages.commit_seconds`). Images are rendered inside the OCR actors, where they are used:
only page numbers travel between tasks, never page images.

Files stay few (operators/books/page_files.py): each OCR actor journals its pages into a
rolling file; the driver writes the rows the stage produces into compacted files of at
most `pages.file_bytes`, folds in the small files of earlier runs, then deletes the
journals and folded files. Whether a page is done is read from a few columns only.
"""
from __future__ import annotations

import json
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator
from itertools import chain, count

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.fs as pafs
import pyarrow.parquet as pq
from omegaconf import DictConfig, OmegaConf

from flows.runtime import log
from flows.stages import stage_key
from flows.storage import Storage, join
from operators.books.djvu import DJVU_SUFFIXES, DjvuBook, DjvuTextLayer
from operators.books.images import image_pages, load_image_page
from operators.books.kazakh_letters import KazakhLetterRepair
from operators.books.latin_acronyms import LatinAcronyms
from operators.books.ledger import current_page_rows
from operators.books.ocr import OcrPage, engine_versions
from operators.books.page_files import (INDEX_COLUMNS, PageFile, PageJournal, compacted_name, done_pages_of,
                                        file_groups, fold_plan, fold_selection, is_journal, is_page_file, is_temp,
                                        journal_name, keys_of, new_run_id)
from operators.books.page_language import (BOOK_PASS, PLAN_COLUMNS, PageLanguage, attempt, book_pass_plan,
                                           keep_better, kept_attempt, languages_read)
from operators.books.pdf import PdfTextLayer, failure, page_row
from operators.books.render import PdfPageRenderer
from schemas import PAGE, validate

# Extra page columns: which frame of the file holds the page, the book's language.
PAGES = PAGE.append(pa.field("frame", pa.int32())).append(pa.field("language", pa.string()))


# Rows per Parquet row group of a compacted page file (pages arrive one per block).
ROW_GROUP_ROWS = 1024
# route_reason of a page or book storage could not give (missing, vanished, a network
# error): the stage runs again in the next build for it, unlike for a file that was read
# and is bad.
UNREADABLE = "storage could not give the file"


def needs_ocr(row: dict) -> bool:
    return row["method"] == "none" and row["error"] is None and row["page"] > 0


def _pages_to_ocr(table: pa.Table, wanted: bool) -> pa.Table:
    """The page rows that need OCR (wanted=True) or the others (read or failed already)."""
    mask = pc.and_(pc.and_(pc.equal(table["method"], "none"), pc.is_null(table["error"])),
                   pc.greater(table["page"], 0))
    return table.filter(mask if wanted else pc.invert(mask))


class ReadBookPages:
    """One book → its page rows: text layer where legible, else marked for OCR.

    Pages listed in the book's `done` are skipped (already in pages/ from an earlier run).
    """

    def __init__(self, storage: Storage, pdf: PdfTextLayer):
        self.storage = storage
        self.pdf = pdf
        self.djvu = DjvuTextLayer(pdf.max_pages, **pdf.legibility)  # routed alike

    def _pages(self, book: dict) -> Iterator[dict]:
        ids = dict(book_id=book["book_id"], uri=book["uri"])
        if (uri := book["uri"].lower()).endswith((".pdf", *DJVU_SUFFIXES)):
            data = self.storage.read_bytes(book["uri"])
            for row in (self.pdf if uri.endswith(".pdf") else self.djvu)(book["book_id"], book["uri"], data):
                yield {**row, "frame": row["page"] - 1}
            return
        # Image books: a multi-page TIFF, or a folder with one image per page.
        page = 0
        for uri in book["files"]:
            try:
                frames = image_pages(self.storage.read_bytes(uri))
            except Exception as exc:  # any failure on one image file is that page's error, never the run's
                page += 1
                yield page_row(page=page, method="none", frame=0, error=f"unreadable image {uri}: {failure(exc)}",
                               route_reason=UNREADABLE if isinstance(exc, OSError) else None, **ids) \
                    | {"uri": uri}
                continue
            if frames > self.pdf.max_pages:
                yield page_row(page=0, method="none", frame=0, error=f"{frames} pages > max_pages", **ids)
                return
            for frame in range(frames):
                page += 1
                yield page_row(page=page, method="none", route_reason="image scan: no text layer", frame=frame,
                               **ids) | {"uri": uri}

    def __call__(self, batch: pa.Table) -> Iterator[pa.Table]:
        for book in batch.to_pylist():
            done = set(book["done"] or [])
            rows = []
            try:
                for row in self._pages(book):
                    if row["page"] not in done:
                        rows.append(row)
                if book.get("file_failed_before") and not any(r["page"] == 0 for r in rows):
                    # Read through this time: a clean file row supersedes the earlier error.
                    rows.append(page_row(book["book_id"], 0, book["uri"], "none", frame=0))
            except Exception as exc:  # unreadable file, or a surprise while routing: the book's error row,
                # after the pages read before it
                rows.append(page_row(book["book_id"], 0, book["uri"], "none", frame=0,
                                     route_reason=UNREADABLE if isinstance(exc, OSError) else None,
                                     error=f"cannot open: {failure(exc)}" if not rows else
                                     f"reading stopped after page {rows[-1]['page']}: {failure(exc)}"))
            rows = [{**r, "language": book["language"]} for r in rows]
            if rows:
                yield validate(pa.Table.from_pylist(rows, schema=PAGES), PAGES)


class OcrPages:
    """OCR actor: renders each page that needs it from its source file and OCRs it.

    The engine is created once per actor; Kazakh books go to Tesseract whatever the
    configured engine, since EasyOCR has no Kazakh model. With `ocr.language_check`, the
    text of each page says which language it is in, whatever the catalog claims; a page
    whose language had no model in its reading is OCR'd again with that language's
    models, and the better reading kept (operators/books/page_language.py).

    With `journal` (directory, run, and the `pages` commit settings), the actor also
    commits its pages to its own rolling file in pages/, so a crash does not lose them.
    """

    def __init__(self, storage: Storage, ocr: dict, config_hash: str, journal: dict | None = None):
        self.storage = storage
        self.ocr = ocr
        self.config_hash = config_hash
        self.journal = None
        if journal:
            directory, run, actor = journal["directory"], journal["run"], uuid.uuid4().hex[:8]
            self.journal = PageJournal(lambda name, data: storage.write_bytes(join(directory, name), data),
                                       lambda seq: journal_name(run, actor, seq),
                                       commit_pages=journal["commit_pages"], commit_seconds=journal["commit_seconds"],
                                       rolling_pages=journal["rolling_pages"])
        self.engines: dict[tuple, OcrPage] = {}
        self.source: tuple[str, object] | None = None  # the file being read, kept across its pages
        check = ocr["language_check"]
        self.language = None
        if check["enabled"]:
            from operators.text.langid import FastTextLangID

            self.language = PageLanguage(FastTextLangID(check["model_path"], kazakh_check=False),
                                         tuple(check["candidates"]), check["min_letters"], check["dictionaries"])
        repair = ocr["letter_repair"]
        self.letters = self.acronyms = None
        if repair["enabled"]:
            self.letters = KazakhLetterRepair.load(repair["kazakh"], repair["russian"], repair["max_changes"])
            if repair["english"]:
                self.acronyms = LatinAcronyms.load(repair["english"], repair["kazakh"])

    def _engine(self, language: str | None) -> OcrPage:
        engine = "tesseract" if language == "kk" else self.ocr["engine"]
        if engine == "tesseract":
            t = self.ocr["tesseract"]
            settings = dict(languages=t["languages"].get(language or "default", t["languages"]["default"]),
                            psm=t["psm"], timeout_s=t["timeout_s"], dpi=self.ocr["dpi"], backend=t["backend"],
                            latin_words=t["latin_words"], latin_below=t["latin_below"],
                            known_word=self.letters.knows if self.letters else None)
        else:
            e = self.ocr["easyocr"]
            settings = dict(languages=tuple(e["languages"]), gpu=e["gpu"], model_dir=e["model_dir"],
                            batch_size=e["batch_size"], dpi=self.ocr["dpi"])
        key = (engine, tuple(sorted(settings.items())))
        if key not in self.engines:
            self.engines[key] = OcrPage(engine, **settings)
        return self.engines[key]

    def _image(self, row: dict):
        uri = row["uri"]
        if self.source is None or self.source[0] != uri:
            if self.source is not None and hasattr(self.source[1], "close"):
                self.source[1].close()  # a DjVu book's temporary copy goes with it
            self.source = None  # a file that fails to open is not mistaken for the closed one
            data = self.storage.read_bytes(uri)
            kind = uri.lower()
            reader = (PdfPageRenderer(data, self.ocr["max_pixels"]) if kind.endswith(".pdf") else
                      DjvuBook(data, self.ocr["max_pixels"]) if kind.endswith(DJVU_SUFFIXES) else data)
            self.source = (uri, reader)
        reader = self.source[1]
        if isinstance(reader, (PdfPageRenderer, DjvuBook)):
            return reader.render(row["page"], self.ocr["dpi"])
        return load_image_page(reader, row["frame"], self.ocr["max_pixels"])

    def __call__(self, batch: pa.Table) -> pa.Table:
        rows = []
        for row in batch.to_pylist():
            if needs_ocr(row):
                try:
                    row = self._read(row)
                except Exception as exc:  # anything else on one page (an engine that will not start): its error
                    row = {**row, "method": self.ocr["engine"], "error": f"cannot OCR page: {failure(exc)}"}
                row["config_hash"] = self.config_hash
            rows.append(row)
        return self._committed(rows)

    def _committed(self, rows: list[dict]) -> pa.Table:
        table = validate(pa.Table.from_pylist(rows, schema=PAGES), PAGES)
        if self.journal is not None:
            self.journal.add(table)
            if self.journal.last_error:
                log(f"pages: cannot commit OCR journal (pages stay in the stage's output): {self.journal.last_error}")
                self.journal.last_error = None
        return table

    def _read(self, row: dict) -> dict:
        engine = self._engine(row["language"])
        try:
            image = self._image(row)
        except Exception as exc:  # a pixel bomb, a damaged page: this page fails, the book goes on
            return {**row, "method": engine.engine.name, "error": f"cannot render page: {failure(exc)}"}
        read = engine(row, image)
        try:
            return self._repaired(self._checked(row, read, engine, image))
        except Exception as exc:  # a surprise in the checks costs this page its checks, not its text
            return {**read, "ocr_language": reading_languages(engine),
                    "reocr_reason": f"language check failed: {failure(exc)}"}

    def _checked(self, page: dict, read: dict, engine: OcrPage, image) -> dict:
        """The page as read, with its language checked and, where it needs it, read again."""
        languages = reading_languages(engine)
        if self.language is None or read["error"] is not None:
            return {**read, "ocr_language": languages}
        verdict = self.language.detect(read["text"])
        first = attempt(read, languages, verdict, self.language.quality(read["confidence"], verdict))
        read_for = languages_read(languages)
        second_reading = self.language.second_reading(verdict, read_for)
        short = second_reading is None and verdict.language is None
        if short:
            second_reading = self.language.short_page_reading(read["text"], read_for)
        if second_reading is None:
            return {**read, "ocr_language": languages, "detected_language": verdict.language,
                    "ocr_attempts": json.dumps([first], ensure_ascii=False)}
        target, why = second_reading
        again = self._engine(target)
        second_read = again(page, image)
        second_verdict = self.language.detect(second_read["text"])
        second = attempt(second_read, reading_languages(again), second_verdict,
                         self.language.quality(second_read["confidence"], second_verdict))
        reason = f"{why}, OCR'd for {page['language'] or 'no catalog language'} ({languages})"
        if not short:
            return keep_better(read, second_read, [first, second], reason)
        # Too short for language ID: measured by the words either reading's languages know.
        return self.language.keep_better_by_words(read, second_read, [first, second],
                                                  read_for | languages_read(reading_languages(again)), reason)

    def _repaired(self, row: dict) -> dict:
        """Misread letters repaired: Kazakh look-alikes on Kazakh pages (by their text, else by
        the catalog) and in the Kazakh paragraphs of other pages; Latin acronyms read in
        Cyrillic on every page."""
        if row["error"] is not None or not row["text"]:
            return row
        text, repaired = row["text"], None
        detected = row.get("detected_language")
        if self.letters is not None:
            if detected == "kk" or (detected is None and row["language"] == "kk"):
                text, repaired = self.letters(text)
            elif detected is not None and self.language is not None:
                text, repaired = self.letters.kazakh_paragraphs(
                    text, lambda paragraph: self.language.detect(paragraph).language == "kk")
        if self.acronyms is not None:
            text, rewritten = self.acronyms(text)
            repaired = (repaired or 0) + rewritten
        return row if repaired is None else {**row, "text": text, "letters_repaired": repaired}


class ReadAgain(OcrPages):
    """OCR actor of the book pass: each row, a page as the first pass kept it plus `again`
    (the book's language) and `why`, is read again with that language's models and the
    better reading kept (page_language.book_pass_plan says which pages)."""

    def __call__(self, batch: pa.Table) -> pa.Table:
        rows = []
        for row in batch.to_pylist():
            language, why = row.pop("again"), row.pop("why")
            try:
                row = self._read_again(row, language, why)
            except Exception as exc:  # the page keeps its first reading, and says why it has no second
                row = {**row, "reocr_reason": f"{why}; cannot read it again: {failure(exc)}"}
            # A failed second reading is not retried forever.
            rows.append({**row, "ocr_pass": BOOK_PASS, "config_hash": self.config_hash})
        return self._committed(rows)

    def _read_again(self, row: dict, language: str, why: str) -> dict:
        engine = self._engine(language)
        read = engine({**row, "letters_repaired": None}, self._image(row))
        verdict = self.language.detect(read["text"])
        attempts = json.loads(row["ocr_attempts"] or "[]") or [self._first_attempt(row)]
        attempts.append(attempt(read, reading_languages(engine), verdict,
                                self.language.quality(read["confidence"], verdict)))
        # Both readings measured alike: words any of the book's and the readings' languages knows.
        languages = frozenset({language, kept_attempt(attempts).get("detected"), verdict.language})
        kept = self.language.keep_better_by_words(row, read, attempts, languages & set(self.language.candidates), why)
        return self._repaired(kept) if attempts[-1]["kept"] else kept

    def _first_attempt(self, row: dict) -> dict:
        """The record of a first reading made without the language check."""
        verdict = self.language.detect(row["text"])
        return attempt(row, row["ocr_language"] or "", verdict, self.language.quality(row["confidence"], verdict))


def book_pass_rows(storage: Storage, out: str, config_hash: str, candidates: tuple[str, ...]) -> list[dict]:
    """The page rows the book pass reads again, each with `again` and `why`: only pages
    of this OCR configuration, read from their files by position."""
    index = page_index(storage, out, columns=list(dict.fromkeys(INDEX_COLUMNS + PLAN_COLUMNS)))
    if index is None:
        return []
    current = current_page_rows(index, config_hash)
    current = current.filter(pc.fill_null(pc.equal(current["config_hash"], config_hash), False))
    by_file: dict[str, list[tuple[int, str, str]]] = {}
    for row, language, why in book_pass_plan(current, candidates):
        by_file.setdefault(row["file"], []).append((row["row"], language, why))
    rows = []
    for name, wanted in sorted(by_file.items()):
        try:
            with storage.open_input(join(out, name)) as f:
                table = pq.read_table(f).take(pa.array([position for position, _, _ in wanted], pa.int64()))
        except (OSError, pa.ArrowInvalid) as exc:  # storage trouble: these pages wait for the next run's plan
            log(f"pages: cannot read {name} for the book pass, its pages skipped this time: {exc}")
            continue
        for page, (_, language, why) in zip(validate(table, PAGES).select(PAGES.names).to_pylist(), wanted):
            rows.append({**page, "again": language, "why": why})
    return rows


def reading_languages(engine: OcrPage) -> str:
    """The engine's languages as one string: Tesseract's "kaz+rus", EasyOCR's ["ru", "en"] → "ru+en"."""
    languages = engine.engine.settings()["languages"]
    return languages if isinstance(languages, str) else "+".join(languages)


def ocr_config_hash(ocr: DictConfig) -> str:
    """What an OCR'd page depends on: the OCR settings and the engines' versions."""
    return stage_key("ocr", OmegaConf.to_container(ocr), engine_versions())


def page_files(storage: Storage, pages_dir: str, clean: bool = False) -> list[PageFile]:
    """The page files in `pages_dir` with size and time. With `clean`, temporary files a
    killed write left behind are removed (only the pages stage, at its start, may)."""
    fs, path = storage.resolve(pages_dir)
    files = []
    for info in fs.get_file_info(pafs.FileSelector(path, allow_not_found=True)):
        if info.type != pafs.FileType.File:
            continue
        if is_temp(info.base_name):
            if clean:
                storage.delete(join(pages_dir, info.base_name))
            continue
        if is_page_file(info.base_name):
            files.append(PageFile(info.base_name, info.size or 0, info.mtime.timestamp() if info.mtime else 0.0))
    return sorted(files, key=lambda f: f.name)


def page_index(storage: Storage, pages_dir: str, files: list[PageFile] | None = None,
               clean: bool = False, data_bytes: dict[str, int] | None = None,
               columns: list[str] = INDEX_COLUMNS) -> pa.Table | None:
    """`columns` of every page file, read by column projection (never the text), plus
    `file` and `row` (position in it). With `clean`, a file of an older version that a
    killed run left half-written is removed; our own files are written whole, so one that
    cannot be read now (storage trouble) is skipped, never removed. `data_bytes` receives
    each file's uncompressed size from its footer (what `pages.file_bytes` bounds)."""
    if not storage.exists(pages_dir):
        return None
    tables = []
    for f in page_files(storage, pages_dir, clean) if files is None else files:
        uri = join(pages_dir, f.name)
        try:
            with storage.open_input(uri) as stream:
                parquet = pq.ParquetFile(stream)
                t = parquet.read(columns=columns)
                meta = parquet.metadata
            if data_bytes is not None:
                data_bytes[f.name] = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
        except (OSError, pa.ArrowInvalid) as exc:
            if clean and not f.name.startswith(("pages-", "ocr-")):
                storage.delete(uri)
            else:
                log(f"pages: cannot read {uri}, skipped: {exc}")
            continue
        for name in columns:  # a column files of older versions lack: null
            if name not in t.column_names:
                t = t.append_column(PAGES.field(name), pa.nulls(t.num_rows, PAGES.field(name).type))
        tables.append(t.select(columns).append_column("file", pa.array([f.name] * t.num_rows, pa.string()))
                      .append_column("row", pa.array(range(t.num_rows), pa.int64())))
    return pa.concat_tables(tables, promote_options="permissive") if tables else None


def done_pages(storage: Storage, pages_dir: str, config_hash: str) -> dict[str, list[int]]:
    """Pages already read in earlier runs, per book: text-layer pages, and OCR'd pages of
    this OCR configuration."""
    return done_pages_of(page_index(storage, pages_dir), config_hash)


def file_failures(index: pa.Table | None, config_hash: str) -> set[str]:
    """Books whose current file row (page 0) is an error: their file could not be opened,
    or not read through."""
    if index is None:
        return set()
    rows = current_page_rows(index.filter(pc.equal(index["page"], 0)), config_hash)
    return set(rows.filter(pc.is_valid(rows["error"]))["book_id"].to_pylist())


def _stream(dataset, fold_books: pa.Array, keys: set) -> Iterator[pa.Table]:
    """The stage's page rows as they come, in batches big enough for Parquet row groups;
    the keys of rows of books that folded files also hold are noted for the fold."""
    for batch in dataset.iter_batches(batch_format="pyarrow", batch_size=ROW_GROUP_ROWS):
        if batch.num_rows == 0:
            continue
        batch = validate(batch, PAGES).select(PAGES.names)
        if len(fold_books):
            keys.update(keys_of(batch.filter(pc.is_in(batch["book_id"], fold_books))))
        yield batch


def _folded(storage: Storage, out: str, index: pa.Table | None, fold: list[str], keys: set) -> Iterator[pa.Table]:
    """The rows of the folded files that are not already elsewhere. A generator: the
    selection is made when first asked, after this run's rows (and their keys) are written."""
    for name, positions in fold_selection(index, fold, keys).items():
        if positions:
            with storage.open_input(join(out, name)) as f:
                table = pq.read_table(f).take(pa.array(positions, pa.int64()))
            yield from (pa.Table.from_batches([b]) for b in
                        validate(table, PAGES).select(PAGES.names).to_batches(max_chunksize=ROW_GROUP_ROWS))


def _write_files(storage: Storage, out: str, names: Iterator[str], tables: Iterable[pa.Table],
                 file_bytes: int) -> list[str]:
    """Streams the tables into files of at most `file_bytes`, each committed whole."""
    written = []
    for group in file_groups(tables, file_bytes):
        name = next(names)
        storage.write_table(join(out, name), group, PAGES)
        written.append(name)
    return written


def pages_stage(cfg: DictConfig, storage: Storage, stages, books: list[dict], actor_pool) -> dict:
    import ray

    out = join(cfg.output, "pages")
    config_hash = ocr_config_hash(cfg.ocr)
    key = stage_key("pages", books, config_hash)
    if (done := stages.finished("pages", key)) and not done.get("unreadable_files"):
        log(f"pages: already done ({done['pages']} pages), skipped")
        return done
    started = stages.start("pages", [])  # page files are kept: they are the resume state
    settings = OmegaConf.to_container(cfg.pages, resolve=True)
    run = new_run_id()
    files, data_bytes = page_files(storage, out, clean=True), {}
    index = page_index(storage, out, files, clean=True, data_bytes=data_bytes)
    done_by_book = done_pages_of(index, config_hash)
    failed_before = file_failures(index, config_hash)
    items = [{**b, "done": done_by_book.get(b["book_id"], []), "file_failed_before": b["book_id"] in failed_before}
             for b in books]
    resumed = sum(map(len, done_by_book.values()))
    if resumed:
        log(f"pages: {resumed} pages already read in an earlier run, not read again")
    # Sizes as `pages.file_bytes` counts them; a file that could not be read now is neither
    # folded nor deleted: it may be readable later.
    sized = [PageFile(f.name, data_bytes[f.name], f.mtime) for f in files if f.name in data_bytes]
    fold = [f.name for f in fold_plan(sized, run, settings["file_bytes"])[0]]
    fold_books = pa.array([], pa.string()) if index is None or not fold else \
        index.filter(pc.is_in(index["file"], pa.array(fold)))["book_id"].unique()
    ocr = OmegaConf.to_container(cfg.ocr, resolve=True)
    pdf = PdfTextLayer(max_pages=cfg.ocr.max_pages, **ocr["routing"])
    gpus = ocr["easyocr"]["num_gpus"] if ocr["engine"] == "easyocr" else 0
    journal = {"directory": out, "run": run, **{k: settings[k] for k in ("commit_pages", "commit_seconds",
                                                                          "rolling_pages")}}
    # Routing reads each book once; its page rows (text, no images) are kept so the two
    # kinds of page can go separate ways: text-layer pages are written at once, pages to
    # OCR travel one per block, so every OCR actor gets pages of a long book (a block is
    # one actor call), and each actor journals its pages as they are done.
    routed = (ray.data.from_items(items, override_num_blocks=max(1, len(items)))
              .map_batches(ReadBookPages(storage, pdf), batch_size=1, batch_format="pyarrow")
              .materialize())
    # Filtering rows is light and asks for no CPU, so it runs even when the OCR actors
    # hold every CPU (any share of one would wait for them forever on a laptop); one task
    # at a time, so Ray keeps reusing one worker process instead of starting new ones.
    light = {"num_cpus": 0, "compute": ray.data.TaskPoolStrategy(size=1)}
    read = routed.map_batches(_pages_to_ocr, fn_kwargs={"wanted": False}, batch_format="pyarrow", **light)
    to_ocr = routed.map_batches(_pages_to_ocr, fn_kwargs={"wanted": True}, batch_format="pyarrow",
                                **light).materialize()  # page numbers only, no text: small
    # No OCR actor (models, dictionaries) is started for books that are all text layer.
    ocr_read = (to_ocr.repartition(target_num_rows_per_block=1)
                .map_batches(OcrPages, fn_constructor_args=(storage, ocr, config_hash, journal), batch_size=1,
                             batch_format="pyarrow", compute=actor_pool(cfg, ocr["actors"]), num_gpus=gpus or None)
                if to_ocr.count() else None)
    keys: set = set()
    names = (compacted_name(run, f"{part:05d}") for part in count())
    # Text-layer pages are committed before OCR starts (a crash during OCR keeps them);
    # OCR'd pages and the folded small files of earlier runs follow in the same files.
    written = _write_files(storage, out, names, _stream(read, fold_books, keys), settings["file_bytes"])
    written += _write_files(storage, out, names, chain(_stream(ocr_read, fold_books, keys) if ocr_read else (),
                                                       _folded(storage, out, index, fold, keys)),
                            settings["file_bytes"])
    again = book_pass_rows(storage, out, config_hash, tuple(ocr["language_check"]["candidates"])) \
        if ocr["language_check"]["enabled"] else []
    if again:
        log(f"pages: {len(again)} pages read again in the language their book reads as")
        reread = (ray.data.from_items(again, override_num_blocks=len(again))
                  .map_batches(ReadAgain, fn_constructor_args=(storage, ocr, config_hash, journal), batch_size=1,
                               batch_format="pyarrow", compute=actor_pool(cfg, ocr["actors"]),
                               num_gpus=gpus or None))
        written += _write_files(storage, out, names, _stream(reread, pa.array([], pa.string()), keys),
                                settings["file_bytes"])
    # Only now that the compacted files are whole: the journals (their rows are in them)
    # and the folded files go. A crash in between leaves copies that readers and the
    # next compaction drop.
    journals = [f.name for f in page_files(storage, out) if is_journal(f.name, run)]
    for name in fold + journals:
        storage.delete(join(out, name))
    final_files = page_files(storage, out)
    columns = [*INDEX_COLUMNS, "route_reason"]
    final = page_index(storage, out, final_files, columns=columns)
    table = current_page_rows(final.select(columns), config_hash) if final is not None else \
        pa.table({c: pa.array([], PAGES.field(c).type) for c in columns})
    table = table.filter(pc.or_(pc.greater(table["page"], 0), pc.is_valid(table["error"])))  # pages, file errors
    methods = Counter(table["method"].to_pylist())
    failed = sum(e is not None for e in table["error"].to_pylist())
    unreadable = pc.sum(pc.and_(pc.is_valid(table["error"]), pc.equal(table["route_reason"], UNREADABLE))).as_py()
    n_files = len(final_files)
    info = stages.finish("pages", key, started, {"books": len(books), "pages": table.num_rows,
                                                 "by_method": dict(methods), "failed": failed, "resumed": resumed,
                                                 "read_again_for_their_book": len(again),
                                                 "unreadable_files": unreadable or 0, "files": n_files})
    log(f"pages: {table.num_rows} pages of {len(books)} books {dict(methods)}, {failed} failed; "
        f"{n_files} page files ({len(written)} written, {len(fold)} folded in, {len(journals)} OCR journals removed)")
    return info
