"""The pages stage: every page of every book read from its text layer or OCR'd.

Pages are the unit of resume: a page already in `pages/` for the same OCR configuration
(book, page, config hash) is never read again, so a rerun after a crash OCRs only what
was in flight. Images are rendered inside the OCR actors, where they are used: only
page numbers travel between tasks, never page images.
"""
from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from omegaconf import DictConfig, OmegaConf

from flows.runtime import log
from flows.stages import stage_key
from flows.storage import Storage, join
from operators.books.images import image_pages, load_image_page
from operators.books.kazakh_letters import KazakhLetterRepair
from operators.books.ocr import OcrPage, engine_versions
from operators.books.page_language import PageLanguage, attempt, keep_better, languages_read
from operators.books.pdf import PdfTextLayer, failure, page_row
from operators.books.render import PdfPageRenderer
from schemas import PAGE, validate

# Extra page columns: which frame of the file holds the page, the book's language.
PAGES = PAGE.append(pa.field("frame", pa.int32())).append(pa.field("language", pa.string()))


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

    def _pages(self, book: dict) -> Iterator[dict]:
        ids = dict(book_id=book["book_id"], uri=book["uri"])
        if book["uri"].lower().endswith(".pdf"):
            data = self.storage.read_bytes(book["uri"])
            for row in self.pdf(book["book_id"], book["uri"], data):
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
                               **ids) \
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
            except Exception as exc:  # unreadable file, or a surprise while routing: the book's error row,
                # after the pages read before it
                rows.append(page_row(book["book_id"], 0, book["uri"], "none", frame=0,
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
    """

    def __init__(self, storage: Storage, ocr: dict, config_hash: str):
        self.storage = storage
        self.ocr = ocr
        self.config_hash = config_hash
        self.engines: dict[tuple, OcrPage] = {}
        self.source: tuple[str, object] | None = None  # the file being read, kept across its pages
        check = ocr["language_check"]
        self.language = None
        if check["enabled"]:
            from operators.text.langid import FastTextLangID

            self.language = PageLanguage(FastTextLangID(check["model_path"], kazakh_check=False),
                                         tuple(check["candidates"]), check["min_letters"], check["dictionaries"])
        repair = ocr["letter_repair"]
        self.letters = KazakhLetterRepair.load(repair["kazakh"], repair["russian"], repair["max_changes"]) \
            if repair["enabled"] else None

    def _engine(self, language: str | None) -> OcrPage:
        engine = "tesseract" if language == "kk" else self.ocr["engine"]
        if engine == "tesseract":
            t = self.ocr["tesseract"]
            settings = dict(languages=t["languages"].get(language or "default", t["languages"]["default"]),
                            psm=t["psm"], timeout_s=t["timeout_s"], dpi=self.ocr["dpi"], backend=t["backend"])
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
            data = self.storage.read_bytes(uri)
            reader = PdfPageRenderer(data, self.ocr["max_pixels"]) if uri.lower().endswith(".pdf") else data
            self.source = (uri, reader)
        reader = self.source[1]
        if isinstance(reader, PdfPageRenderer):
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
        return validate(pa.Table.from_pylist(rows, schema=PAGES), PAGES)

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
        second_reading = self.language.second_reading(verdict, languages_read(languages))
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
        return keep_better(read, second_read, [first, second], reason)


    def _repaired(self, row: dict) -> dict:
        """Kazakh pages (by their text, else by the catalog) with misread letters repaired."""
        kazakh = row.get("detected_language") == "kk" or (row.get("detected_language") is None
                                                          and row["language"] == "kk")
        if self.letters is None or row["error"] is not None or not kazakh:
            return row
        text, repaired = self.letters(row["text"])
        return {**row, "text": text, "letters_repaired": repaired}


def reading_languages(engine: OcrPage) -> str:
    """The engine's languages as one string: Tesseract's "kaz+rus", EasyOCR's ["ru", "en"] → "ru+en"."""
    languages = engine.engine.settings()["languages"]
    return languages if isinstance(languages, str) else "+".join(languages)


def ocr_config_hash(ocr: DictConfig) -> str:
    """What an OCR'd page depends on: the OCR settings and the engines' versions."""
    return stage_key("ocr", OmegaConf.to_container(ocr), engine_versions())


def done_pages(storage: Storage, pages_dir: str, config_hash: str) -> dict[str, list[int]]:
    """Pages already read in earlier runs, per book: text-layer pages, and OCR'd pages of
    this OCR configuration. Files a killed run left half-written are removed."""
    if not storage.exists(pages_dir):
        return {}
    tables = []
    for uri in storage.list_files(pages_dir):
        try:
            with storage.open_input(uri) as f:
                tables.append(pq.read_table(f, columns=["book_id", "page", "method", "config_hash", "error"]))
        except (OSError, pa.ArrowInvalid):
            storage.delete(uri)
    done: dict[str, list[int]] = {}
    for t in tables:
        for r in t.to_pylist():
            if r["error"] is None and (r["method"] == "textlayer" or r["config_hash"] == config_hash):
                done.setdefault(r["book_id"], []).append(r["page"])
    return done


def current_pages(table: pa.Table, config_hash: str) -> pa.Table:
    """One row per (book, page): this configuration's, else the newest from another one."""
    preferred = pc.or_(pc.equal(table["method"], "textlayer"), pc.equal(table["config_hash"], config_hash))
    table = table.append_column("_rank", pc.if_else(pc.fill_null(preferred, False), 0, 1))
    table = table.sort_by([("book_id", "ascending"), ("page", "ascending"), ("_rank", "ascending")])
    keep, last = [], None
    for i, key in enumerate(zip(table["book_id"].to_pylist(), table["page"].to_pylist())):
        keep.append(key != last)
        last = key
    return table.filter(pa.array(keep)).drop_columns(["_rank"])


def pages_stage(cfg: DictConfig, storage: Storage, stages, books: list[dict], actor_pool) -> dict:
    import ray

    out = join(cfg.output, "pages")
    config_hash = ocr_config_hash(cfg.ocr)
    key = stage_key("pages", books, config_hash)
    if done := stages.finished("pages", key):
        log(f"pages: already done ({done['pages']} pages), skipped")
        return done
    started = stages.start("pages", [])  # page files are kept: they are the resume state
    done_by_book = done_pages(storage, out, config_hash)
    items = [{**b, "done": done_by_book.get(b["book_id"], [])} for b in books]
    resumed = sum(map(len, done_by_book.values()))
    if resumed:
        log(f"pages: {resumed} pages already read in an earlier run, not read again")
    ocr = OmegaConf.to_container(cfg.ocr, resolve=True)
    pdf = PdfTextLayer(max_pages=cfg.ocr.max_pages, **ocr["routing"])
    gpus = ocr["easyocr"]["num_gpus"] if ocr["engine"] == "easyocr" else 0
    fs, path = storage.resolve(out)
    # Routing reads each book once; its page rows (text, no images) are kept so the two
    # kinds of page can go separate ways: text-layer pages are written a book at a time,
    # pages to OCR travel one per block, so every OCR actor gets pages of a long book (a
    # block is one actor call) and each OCR'd page is written, so resumable, once done.
    routed = (ray.data.from_items(items, override_num_blocks=max(1, len(items)))
              .map_batches(ReadBookPages(storage, pdf), batch_size=1, batch_format="pyarrow")
              .materialize())
    # Filtering and writing rows is light and asks for no CPU, so it runs even when the OCR
    # actors hold every CPU (any share of one would wait for them forever on a laptop); one
    # task at a time, so Ray keeps reusing one worker process instead of starting new ones.
    light = {"num_cpus": 0}
    read = routed.map_batches(_pages_to_ocr, fn_kwargs={"wanted": False}, batch_format="pyarrow", concurrency=1,
                              **light)
    ocr_read = (routed.map_batches(_pages_to_ocr, fn_kwargs={"wanted": True}, batch_format="pyarrow",
                                   concurrency=1, **light)
                .repartition(target_num_rows_per_block=1)
                .map_batches(OcrPages, fn_constructor_args=(storage, ocr, config_hash), batch_size=1,
                             batch_format="pyarrow", compute=actor_pool(cfg, ocr["actors"]), num_gpus=gpus or None))
    read.union(ocr_read).write_parquet(path, filesystem=fs, ray_remote_args=light, concurrency=1)
    columns = ["book_id", "page", "method", "config_hash", "error"]
    table = current_pages(pq.read_table(path, filesystem=fs, columns=columns), config_hash)
    methods = Counter(table["method"].to_pylist())
    failed = sum(e is not None for e in table["error"].to_pylist())
    info = stages.finish("pages", key, started, {"books": len(books), "pages": table.num_rows,
                                                 "by_method": dict(methods), "failed": failed, "resumed": resumed})
    log(f"pages: {table.num_rows} pages of {len(books)} books {dict(methods)}, {failed} failed")
    return info
