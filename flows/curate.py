"""Curation in two resumable stages.

1. Per-document work (read, assemble books, normalize, LID, filters, PII) is done per
   *unit* — one text file, all books, all news — and each unit is committed on its own under
   `OUTPUT/_work/curated/<config key>/`. A crash redoes only the units that were in flight: a
   rerun after a crash at 90% of the text files reads and curates the last 10%.
2. Exact and near dedup read the committed units; the result is written to `documents/`
   and `rejected/` in one streaming pass that also counts rows by reason. A crash during
   dedup redoes dedup only.
"""
from __future__ import annotations

import hashlib
import math
from collections import Counter

import pyarrow as pa
import pyarrow.compute as pc
from omegaconf import OmegaConf

from flows.exchange import Blocks
from flows.inputs import ReadTextFiles
from flows.near_dedup import near_dedup
from flows.news import news_documents, news_fingerprint
from flows.pages import PAGES, ocr_config_hash
from flows.runtime import actor_pool, cluster_cpus, full_cpus_on_small_clusters, log
from flows.stages import stage_key
from flows.storage import Storage, join
from operators.books.assemble import SOURCE as BOOK_SOURCE
from operators.books.assemble import BookAssembly
from operators.books.ledger import current_page_rows
from operators.documents import error_document
from operators.dedup.near import SHARD, with_shard
from operators.text.basic import add_exact_keys, mark_exact_duplicates
from operators.text.readers import TextReader
from schemas import CURATION, DOCUMENT, REJECTED, validate

ROWS_PER_FILE = 50_000  # documents/ and rejected/ files hold up to this many rows
ROWS_PER_SHARD = 100_000  # documents per exact-dedup shard: what one shard task holds
# Beside a unit whose file storage could not give: the unit holds its error row for this
# run, and the next run reads the file again (a vanished object may be back).
RETRY = ".retry"


class Curate:
    """The whole curation chain in one actor: models (fastText, word lists) load once per
    actor, and a 2-core laptop never has two actor pools waiting on each other's CPUs."""

    def __init__(self, chain: list[tuple[type, dict]]):
        self.operators = [operator(**settings) for operator, settings in chain]

    def __call__(self, table: pa.Table) -> pa.Table:
        for operator in self.operators:
            table = operator(table)
        return table


class CurateTextFiles:
    """One text file per call: read, curate, commit as one Parquet file of the unit's name.
    The file appears whole or not at all (Storage.write_table), so it marks the unit done."""

    def __init__(self, chain, storage: Storage, reader: TextReader, units: dict[str, str]):
        self.curate = Curate(chain)
        self.read = ReadTextFiles(storage, reader)
        self.storage = storage
        self.units = units  # input URI → the unit file it is committed to

    def __call__(self, batch: pa.Table) -> pa.Table:
        done = []
        for uri in batch.column("uri").to_pylist():
            curated = map(self.curate, self.read(pa.table({"uri": [uri]})))
            rows = self.storage.write_table(self.units[uri], curated, CURATION)
            if uri in self.read.unreadable:
                self.storage.write_text(self.units[uri] + RETRY, "")
            else:
                self.storage.delete(self.units[uri] + RETRY)
            done.append({"uri": uri, "rows": rows, "retry": int(uri in self.read.unreadable)})
        return pa.Table.from_pylist(done, pa.schema([("uri", pa.string()), ("rows", pa.int64()),
                                                     ("retry", pa.int64())]))


def book_assembler(books: list[dict], config_hash: str):
    """map_groups adapter: all page rows of one book (from every run) → its document row.
    Whatever goes wrong with one book's rows costs that book only: its error row."""
    by_id = {b["book_id"]: b for b in books}

    def assemble_book(pages: pa.Table) -> pa.Table:
        book_id = pages["book_id"][0].as_py()
        book = by_id.get(book_id, {})
        uri = book.get("uri") or pages["uri"][0].as_py()
        try:
            rows = current_page_rows(pages, config_hash).to_pylist()
            doc = BookAssembly()(book_id, uri, rows, book.get("title"))
            return validate(pa.Table.from_pylist([doc]), CURATION)
        except Exception as exc:  # page rows of the wrong shape, a bug: that book only
            doc = error_document(BOOK_SOURCE, uri, book_id, BookAssembly.name,
                                 f"cannot assemble: {type(exc).__name__}: {exc}", title=book.get("title"),
                                 book_id=book_id)
            return validate(pa.Table.from_pylist([doc]), CURATION)

    return assemble_book


def _digest(*parts) -> str:
    return hashlib.sha256("\0".join(map(str, parts)).encode()).hexdigest()[:16]


def curate_units(cfg, storage: Storage, chain, text_files: list[str], books: list[dict],
                 pages_key) -> tuple[list[str], int]:
    """Runs the per-document stage for every unit not yet committed, and for text files
    storage could not give last time; returns the URIs of all units (files, or directories
    ending in a `.done` marker) for dedup to read, and how many files storage could not
    give this time."""
    import ray

    settings = OmegaConf.to_container(cfg.inputs)
    for name in ("text", "books", "warc", "news", "catalog", "instructions"):  # unit names carry these
        settings.pop(name, None)
    config_key = stage_key("curate-units", settings, OmegaConf.to_container(cfg.filters))
    root = join(cfg.output, "_work", "curated")
    work = join(root, config_key)
    for stale in storage.list_dirs(root):  # units made under another configuration never mix in
        if stale.rstrip("/").rsplit("/", 1)[-1] != config_key:
            storage.delete(stale)

    units = {uri: join(work, f"text-{_digest(uri)}.parquet") for uri in text_files}
    present = {path.rsplit("/", 1)[-1] for path in storage.list_files(work)}  # one listing, not a request per file

    def committed(uri: str) -> bool:
        name = units[uri].rsplit("/", 1)[-1]
        return name in present and name + RETRY not in present

    pending = [uri for uri in text_files if not committed(uri)]
    if len(pending) < len(text_files):
        log(f"curate: {len(text_files) - len(pending)} of {len(text_files)} text files already curated")
    unreadable = 0
    if pending:
        reader = TextReader(cfg.inputs.text_field, cfg.inputs.id_field, cfg.inputs.title_field,
                            cfg.inputs.max_file_bytes, cfg.inputs.max_line_bytes, cfg.inputs.max_gzip_ratio,
                            cfg.inputs.txt_unit)
        files = ray.data.from_items([{"uri": u} for u in pending], override_num_blocks=len(pending))
        done = full_cpus_on_small_clusters(files).map_batches(
            CurateTextFiles, fn_constructor_args=(chain, storage, reader, units), compute=actor_pool(cfg),
            batch_size=1, batch_format="pyarrow").sum("retry")
        unreadable = int(done or 0)
    out = [units[uri] for uri in text_files]

    def dataset_unit(name: str, make_dataset) -> None:
        directory = join(work, name)
        if not storage.exists(directory + ".done"):
            storage.delete(directory)
            docs = make_dataset()
            if docs is not None:
                docs = docs.map_batches(Curate, fn_constructor_args=(chain,), compute=actor_pool(cfg),
                                        batch_size=256, batch_format="pyarrow")
                fs, path = storage.resolve(directory)
                docs.write_parquet(path, filesystem=fs, min_rows_per_file=ROWS_PER_FILE)
            storage.write_text(directory + ".done", "")
        elif storage.exists(directory):
            log(f"curate: {name} already curated")
        if storage.exists(directory):
            out.append(directory)

    if books:
        def book_documents():
            fs, path = storage.resolve(join(cfg.output, "pages"))
            return ray.data.read_parquet(path, filesystem=fs, schema=PAGES).groupby("book_id").map_groups(
                book_assembler(books, ocr_config_hash(cfg.ocr)), batch_format="pyarrow")

        dataset_unit(f"books-{_digest(pages_key, *sorted(b['book_id'] for b in books))}", book_documents)
    if cfg.inputs.news.seeds or cfg.inputs.warc:
        dataset_unit(f"news-{news_fingerprint(cfg, storage)}", lambda: news_documents(cfg, storage, crawl=False))
    return out, unreadable


def write_kept_and_rejected(table: pa.Table, storage: Storage, documents: str, rejected: str) -> pa.Table:
    """One pass over the deduplicated rows: kept ones to documents/, rejected ones to
    rejected/, and the count of each reason back to the driver. File names derive from the
    rows they hold, so a retried task overwrites its own file instead of adding a copy."""
    is_rejected = pc.is_valid(table.column("reason"))
    name = f"part-{_digest(*table.column('doc_id').to_pylist())}.parquet"
    kept = table.filter(pc.invert(is_rejected)).drop_columns(["reason", "detail"])
    bad = table.filter(is_rejected)
    if kept.num_rows:
        storage.write_table(join(documents, name), [validate(kept, DOCUMENT)], DOCUMENT)
    if bad.num_rows:
        storage.write_table(join(rejected, name), [validate(bad, REJECTED)], REJECTED)
    counts = bad.group_by("reason", use_threads=False).aggregate([("doc_id", "count")]).to_pydict()
    return pa.table({"reason": [""] + counts["reason"], "n": [kept.num_rows] + counts["doc_id_count"]},
                    pa.schema([("reason", pa.string()), ("n", pa.int64())]))


def _exact_keys(table: pa.Table, shards: int) -> pa.Table:
    return with_shard(add_exact_keys(table), "dedup_key", shards)


def _mark_shard(rows: pa.Table) -> pa.Table:
    return mark_exact_duplicates(rows.drop_columns([SHARD]))


def exact_dedup(docs, shards: int | None = None) -> Blocks:
    """Rows grouped by a stable hash of their text key into a few shards per CPU, one call
    per shard (mark_exact_duplicates is vectorized), through flows/exchange.py's plain
    tasks: grouping by the bare key costs a task round trip per key, Ray's hash shuffle a
    pool of aggregators and its sort shuffle a sampling pass, each more CPU on a 2-core
    machine than the dedup itself. `docs`: a Ray dataset or Blocks; `shards` defaults to
    two per CPU, or one per ROWS_PER_SHARD rows when that is more."""
    docs = Blocks.of(docs)
    if shards is None:
        shards = max(2 * cluster_cpus(), math.ceil(docs.count() / ROWS_PER_SHARD))
    return docs.map(_exact_keys, shards=shards).shuffle(_mark_shard, shards)


def dedup_and_write(cfg, storage: Storage, units: list[str], docs_out: str, rejected_out: str) -> Counter:
    """Exact and near dedup over the committed units, then documents/ and rejected/."""
    import ray

    counts = Counter()
    if not units:
        return counts
    paths = [storage.resolve(u)[1] for u in units]
    # No schema given: each unit keeps the signal columns its operators added.
    docs = Blocks.of(ray.data.read_parquet(paths, filesystem=storage.resolve(units[0])[0]))
    if cfg.dedup.exact:
        docs = exact_dedup(docs)
    if cfg.dedup.near.enabled:
        docs = near_dedup(docs, cfg.dedup)
    writer = docs.dataset().map_batches(write_kept_and_rejected, batch_size=ROWS_PER_FILE, batch_format="pyarrow",
                                        fn_kwargs=dict(storage=storage, documents=docs_out, rejected=rejected_out))
    for row in writer.take_all():
        counts[row["reason"]] += row["n"]
    return counts
