"""News: seeds → robots.txt / sitemaps / feeds → polite fetch (Ray actors, one owner per
site) → WARC → extraction (Ray Data) → document rows; or existing WARC files → extraction.

Only wiring lives here; fetching, WARC and extraction logic is in operators/news.

Why actors: politeness is a property of a site, not of a task. Each site is owned by
exactly one `NewsFetcher` actor (sites are spread over `news.fetch_actors` of them), so
its request interval, concurrency and robots.txt cache hold cluster-wide. The driver
keeps the frontier (operators/news/frontier.py: scope, dedup against this run and the
crawl state, per-site limits) and hands each site a batch at a time.

Crash safety: WARC files are written as `NAME.open` and published under their final
name when finished; the state (`OUTPUT/news/state/`) is saved after the crawl. On the
next run leftover `.open` files are removed and any published WARC file the state does
not list is indexed into it, so nothing is fetched twice and nothing is lost. If a
fetcher actor dies, the driver starts a new one and fetches again what the dead one
had not published.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
import uuid
import zlib
from collections import Counter

import pyarrow as pa
import pyarrow.parquet as pq
from omegaconf import DictConfig, OmegaConf

from flows.inputs import find_warc_files
from flows.runtime import cluster_cpus, full_cpus_on_small_clusters, log
from flows.storage import Storage, is_s3, join
from operators.base import rows_to_table
from operators.documents import error_document
from operators.news.crawl import CrawlOptions, SiteCrawler, item
from operators.news.extract import NAME as EXTRACT_NAME
from operators.news.extract import SOURCE, news_columns, record_document
from operators.news.fetch import FetchSettings
from operators.news.state import FETCH_NAME, CrawlState, PendingFetches, WarcFolder
from operators.news.fetch_log import FETCH_LOG, FetchCounts
from operators.news.frontier import Frontier
from operators.news.urls import SiteScope, canonicalize, site_of
from operators.news.warc import (RotatingWarcWriter, is_document_response, iter_warc_responses, next_sequence,
                                 warc_prefix)
from operators.news.warc_ranges import iter_warc_range, read_plan
from schemas import CURATION, validate

# The reasons news rows can carry (the operator that rejected them).
REASONS = (FETCH_NAME, EXTRACT_NAME)



# ---- paths ---------------------------------------------------------------------------
def news_dir(cfg: DictConfig, *parts: str) -> str:
    out = cfg.output if is_s3(cfg.output) else os.path.abspath(cfg.output)
    return join(out, "news", *parts)


def state_dir(cfg: DictConfig) -> str:
    return news_dir(cfg, cfg.news.state_dir)


def warc_files(cfg: DictConfig, storage: Storage) -> list[str]:
    """The WARC files extraction reads: this output's own crawl (when seeds are given)
    and `inputs.warc`, each once."""
    own_dir = news_dir(cfg, "warc")
    own = [f for f in storage.list_files(own_dir) if f.endswith(".warc.gz")] \
        if cfg.inputs.news.seeds and storage.is_dir(own_dir) else []
    return list(dict.fromkeys(own + find_warc_files(cfg, storage)[0]))


# ---- the fetcher actor ---------------------------------------------------------------
class NewsFetcher:
    """A Ray actor serving several sites, one `SiteCrawler` each (calls for different
    sites run in parallel threads; the driver never sends one site two batches at once)."""

    def __init__(self, storage: Storage, settings: FetchSettings, options: CrawlOptions, warc_dir: str,
                 rotate_bytes: int):
        self.storage = storage
        self.settings = settings
        self.options = options
        self.warc_dir = warc_dir
        self.rotate_bytes = rotate_bytes
        self.crawlers: dict[str, SiteCrawler] = {}
        if is_s3(warc_dir):  # finished files are uploaded from a local staging directory
            self.staging = tempfile.mkdtemp(prefix="qazflow-warc-")
        else:
            self.staging = warc_dir
            os.makedirs(warc_dir, exist_ok=True)

    def _publish(self, local_path: str, name: str) -> None:
        if not is_s3(self.warc_dir):
            os.replace(local_path, os.path.join(self.warc_dir, name))
            return
        fs, path = self.storage.resolve(join(self.warc_dir, name))
        # compression=None: pyarrow would otherwise gzip a ".gz" name a second time
        with open(local_path, "rb") as src, fs.open_output_stream(path, compression=None) as dst:
            shutil.copyfileobj(src, dst, 8 << 20)
        os.remove(local_path)

    def crawl(self, site: str, first_sequence: int, items: list[dict]) -> dict:
        crawler = self.crawlers.get(site)
        if crawler is None:
            writer = RotatingWarcWriter(site, self.staging, self.warc_dir, first_sequence, self.rotate_bytes,
                                        publish=self._publish)
            crawler = self.crawlers[site] = SiteCrawler(site, self.settings, writer, self.options)
        results = crawler.crawl(items)
        return {"results": results, "published": list(crawler.writer.finished)}

    def close(self) -> dict[str, list[str]]:
        return {site: crawler.close() for site, crawler in self.crawlers.items()}


# ---- state ---------------------------------------------------------------------------
def load_state(cfg: DictConfig, storage: Storage) -> tuple[CrawlState, list[str]]:
    uri = join(state_dir(cfg), "urls.parquet")
    table = pq.read_table(storage.open_input(uri)) if storage.exists(uri) else None
    warcs_uri = join(state_dir(cfg), "warcs.json")
    indexed = json.loads(storage.read_text(warcs_uri)) if storage.exists(warcs_uri) else []
    return CrawlState(table, retry_failed=cfg.news.retry_failed), indexed


def save_state(cfg: DictConfig, storage: Storage, state: CrawlState, indexed: list[str]) -> None:
    sink = pa.BufferOutputStream()
    pq.write_table(state.to_table(), sink)
    storage.write_bytes(join(state_dir(cfg), "urls.parquet"), sink.getvalue().to_pybytes())
    storage.write_text(join(state_dir(cfg), "warcs.json"), json.dumps(sorted(set(indexed)), indent=1))


def reconcile(cfg: DictConfig, storage: Storage, state: CrawlState, indexed: list[str]) -> tuple[list[str], dict]:
    """Removes half-written WARC files and indexes finished ones the state does not list.

    Returns (indexed files, next WARC sequence number per site file prefix)."""
    warc_dir = news_dir(cfg, "warc")
    folder = WarcFolder.of(storage.list_files(warc_dir) if storage.exists(warc_dir) else [], indexed)
    for uri in folder.half_written:
        storage.delete(uri)
    for uri in folder.unlisted:
        with storage.open_input(uri) as stream:
            added = state.record_warc_pages(iter_warc_responses(stream, with_body=False), uri)
        if added:
            log(f"news: {added} pages from {os.path.basename(uri)} taken into the crawl state")
    return sorted(set(indexed) | set(folder.unlisted)), folder.next_sequence


# ---- the crawl -----------------------------------------------------------------------
def fetch_settings(cfg: DictConfig) -> FetchSettings:
    return FetchSettings.from_mapping(OmegaConf.to_container(cfg.news, resolve=True))


def crawl_news(cfg: DictConfig, storage: Storage) -> dict:
    """Discovery + polite fetch + WARC for `inputs.news.seeds`; returns the fetch counts
    (also written to OUTPUT/news/state/last_crawl.json, and every outcome to
    OUTPUT/news/fetch_log/)."""
    import ray

    started = time.time()
    run_id = time.strftime("%Y%m%dT%H%M%S", time.gmtime(started)) + f"-{uuid.uuid4().hex[:6]}"
    news = cfg.news
    seeds = [str(s) for s in cfg.inputs.news.seeds]
    scope = SiteScope(seeds, list(news.allowlist))
    state, indexed = load_state(cfg, storage)
    indexed, next_seq = reconcile(cfg, storage, state, indexed)
    known_before = len(state)

    frontier = Frontier(scope, state, news.crawl.max_pages, news.max_sitemaps,
                        tuple(str(t).lower() for t in news.content_types))
    for seed in seeds:
        frontier.add(item(seed, "seed"))
    for url in news.sitemaps:
        frontier.add(item(str(url), "sitemap"))
    for url in news.feeds:
        frontier.add(item(str(url), "feed"))

    settings = fetch_settings(cfg)
    options = CrawlOptions(follow_links=news.crawl.enabled, max_depth=news.crawl.max_depth,
                           robots_sitemaps=news.robots_sitemaps, feed_autodiscovery=news.feed_autodiscovery)
    sites = sorted(set(frontier.queues) | {site_of(c) for c in map(canonicalize, seeds) if c})
    n_actors = max(1, min(news.fetch_actors, len(sites) or 1))
    actor_cls = ray.remote(NewsFetcher)
    warc_dir = news_dir(cfg, "warc")

    names = iter(range(1 << 30))

    def new_actor():  # named, so an operator (or a test) can find and inspect the fetchers
        return actor_cls.options(name=f"qazflow-news-fetcher-{run_id}-{next(names)}", num_cpus=news.fetch_actor_cpus,
                                 max_concurrency=news.sites_per_actor, max_restarts=0).remote(
            storage, settings, options, warc_dir, news.warc_rotate_bytes)

    actors = [new_actor() for _ in range(n_actors)]
    owner = lambda site: zlib.crc32(site.encode()) % n_actors  # noqa: E731 - stable site → actor
    batch_size = max(2, 2 * settings.concurrency)
    inflight: dict = {}  # ref → (site, items, actor index, generation)
    generation = [0] * n_actors
    busy: set[str] = set()
    pending = PendingFetches()
    fetch_log = FetchLog(cfg, storage, run_id)
    restarts = 0

    def first_sequence(site: str) -> int:
        return next_seq.get(warc_prefix(site), 0)

    def commit(site: str) -> None:
        for row in pending.ready(site):
            fetch_log.add(row)
            state.record(row)

    while inflight or any(frontier.queues[s] for s in frontier.queues if s not in busy):
        for site in sorted(frontier.queues):
            if site not in busy and frontier.queues[site]:
                index = owner(site)
                batch = frontier.take(site, batch_size)
                ref = actors[index].crawl.remote(site, first_sequence(site), batch)
                inflight[ref] = (site, batch, index, generation[index])
                busy.add(site)
        done, _ = ray.wait(list(inflight), num_returns=1)
        for ref in done:
            site, batch, index, gen = inflight.pop(ref)
            busy.discard(site)
            try:
                reply = ray.get(ref)
            except ray.exceptions.RayActorError as exc:
                # The actor (or its node) died: what it had not published is lost; fetch it again.
                restarts += 1
                if restarts > 3 * n_actors:
                    raise RuntimeError(f"news fetchers keep dying: {exc}") from exc
                if generation[index] == gen:
                    generation[index] += 1
                    actors[index] = new_actor()
                    for lost_site in [s for s in pending.sites() if owner(s) == index]:
                        next_seq[warc_prefix(lost_site)] = next_sequence(pending.published, lost_site,
                                                                         first_sequence(lost_site))
                        frontier.put_back(lost_site, pending.lost(lost_site))
                frontier.put_back(site, batch)
                log(f"news: fetcher for {site} died ({type(exc).__name__}); retrying its work")
                continue
            pending.publish(reply["published"])
            for result in reply["results"]:
                row = result["log"]
                pending.add(site, item(row["url"], row["kind"], row["depth"], row["hint"]), row)
                frontier.counts.update(result["counts"])
                for work in result["found"]:
                    frontier.add(work)
            commit(site)
    for index, actor in enumerate(actors):
        for files in ray.get(actor.close.remote()).values():
            pending.publish(files)
        ray.kill(actor)
    for site in pending.sites():
        commit(site)
    indexed = sorted(set(indexed) | pending.published)

    fetch_log.flush()
    counts = fetch_log.counts(frontier.counts, known_before)
    counts["seconds"] = round(time.time() - started, 3)
    counts["fetcher_restarts"] = restarts
    save_state(cfg, storage, state, indexed)
    storage.write_text(join(state_dir(cfg), "last_crawl.json"), json.dumps(counts, indent=2, sort_keys=True))
    log(f"news: fetched {counts['fetched']} pages, skipped by robots {counts['skipped_robots']}, "
        f"errors {counts['errors']}, {counts['known']} known from earlier runs")
    return counts


class FetchLog:
    """Fetch outcomes of one run: counted as they come (FetchCounts), written in parts of
    bounded size under OUTPUT/news/fetch_log/."""

    PART_ROWS = 20_000

    def __init__(self, cfg: DictConfig, storage: Storage, run_id: str):
        self.cfg, self.storage, self.run_id = cfg, storage, run_id
        self.rows: list[dict] = []
        self.parts = 0
        self.tally = FetchCounts()

    def add(self, row: dict) -> None:
        row["run"] = self.run_id
        self.tally.add(row)
        self.rows.append(row)
        if len(self.rows) >= self.PART_ROWS:
            self.flush()

    def flush(self) -> None:
        if not self.rows:
            return
        sink = pa.BufferOutputStream()
        pq.write_table(pa.Table.from_pylist(self.rows, schema=FETCH_LOG), sink)
        name = f"{self.run_id}-{self.parts:05d}.parquet"
        self.storage.write_bytes(news_dir(self.cfg, "fetch_log", name), sink.getvalue().to_pybytes())
        self.parts += 1
        self.rows = []

    def counts(self, frontier_counts: Counter, known_before: int) -> dict:
        return self.tally.counts(frontier_counts, known_before)


# ---- extraction ----------------------------------------------------------------------
class ExtractWarcRanges:
    """Byte ranges of WARC files → document rows (operators/news/extract.record_document). Each
    range is read once from start to end (operators/news/warc_ranges.py): a whole file is
    one range; a file split into ranges is read by several tasks at once, with no index
    pass. Rows come out in blocks of `rows_per_block` as the range is read; a damaged
    stretch of a file is one error row, and reading goes on after it."""

    def __init__(self, storage: Storage, max_bytes: int, include_tables: bool, favor_precision: bool,
                 rows_per_block: int):
        self.storage = storage
        self.max_bytes = max_bytes
        self.options = {"include_tables": include_tables, "favor_precision": favor_precision}
        self.rows_per_block = rows_per_block

    def __call__(self, batch: pa.Table):
        for task in batch.to_pylist():
            uri, out = task["warc_file"], []
            try:
                with self.storage.open_input(uri) as stream:
                    for fields, offset, error in iter_warc_range(stream, task["start"], task["end"],
                                                                 max_bytes=self.max_bytes):
                        if error:
                            out.append(self.unreadable_file(uri, error))
                        elif is_document_response(fields):
                            out.append(record_document(fields, uri, offset, self.max_bytes, **self.options))
                        if len(out) >= self.rows_per_block:
                            yield self.table(out)
                            out = []
            except Exception as exc:  # a file that cannot be opened or read at all
                out.append(self.unreadable_file(uri, unreadable_warc(exc)))
            if out:
                yield self.table(out)

    @staticmethod
    def unreadable_file(uri: str, error: str) -> dict:
        return error_document(SOURCE, uri, uri, EXTRACT_NAME, error, **news_columns("", uri, None, None))

    @staticmethod
    def table(rows: list[dict]) -> pa.Table:
        return validate(rows_to_table(rows, CURATION, NEWS_COLUMNS), CURATION)


def unreadable_warc(exc: Exception) -> str:
    return f"cannot read WARC: {type(exc).__name__}: {exc}"


# Columns news rows add beyond the document contract.
NEWS_COLUMNS = {"warc_record_id": pa.string(), "author": pa.string(), "site_name": pa.string(),
                "lang_hint": pa.string()}


def extract_warcs(cfg: DictConfig, storage: Storage, files: list[str]):
    import ray

    ext = cfg.news.extract
    if ext.split_files not in ("auto", "always", "never"):
        raise ValueError(f"news.extract.split_files: auto, always or never, not {ext.split_files!r}")
    cpus = cluster_cpus()
    # Fewer files than CPUs: byte ranges of each, read at once, so extraction spreads over every CPU.
    split = ext.split_files == "always" or ext.split_files == "auto" and len(files) < cpus
    tasks = read_plan(files, storage.sizes(files) if split else None, cpus, int(ext.range_bytes))
    ranges = full_cpus_on_small_clusters(ray.data.from_items(tasks, override_num_blocks=max(1, len(tasks))))
    return ranges.map_batches(ExtractWarcRanges(storage, cfg.news.max_bytes, ext.include_tables,
                                                ext.favor_precision, ext.records_per_block),
                              batch_size=1, batch_format="pyarrow")


def news_fingerprint(cfg: DictConfig, storage: Storage) -> str:
    """Changes exactly when the news documents would: the crawl state (pages fetched or
    failed, and where they lie) and the `inputs.warc` files. A resumable stage puts it
    in its key; WARC files holding only re-read robots/sitemaps/feeds do not count."""
    import hashlib

    digest = hashlib.sha256()
    uri = join(state_dir(cfg), "urls.parquet")
    if cfg.inputs.news.seeds and storage.exists(uri):
        digest.update(storage.read_bytes(uri))
    for path in find_warc_files(cfg, storage)[0]:
        digest.update(path.encode() + b"\0")
    return digest.hexdigest()[:16]


def news_documents(cfg: DictConfig, storage: Storage, stats: dict | None = None, crawl: bool = True):
    """The news part of the corpus as a Ray Dataset of CURATION rows (or None).

    With `inputs.news.seeds`: crawls (incrementally; `crawl=False` when the caller ran
    `crawl_news` itself), then extracts every WARC file of this output's crawl; pages
    that could not be fetched are rows rejected by NewsFetch. Files in `inputs.warc` are
    extracted too. `stats`, if given, receives the fetch counts and the WARC files read."""
    import ray

    counts = crawl_news(cfg, storage) if cfg.inputs.news.seeds and crawl else None
    files = warc_files(cfg, storage)
    parts = []
    if files:
        parts.append(extract_warcs(cfg, storage, files))
    if cfg.inputs.news.seeds:
        state, _ = load_state(cfg, storage)
        errors = state.error_documents()
        if errors:
            parts.append(ray.data.from_arrow(validate(rows_to_table(errors, CURATION, NEWS_COLUMNS), CURATION)))
    if stats is not None:
        stats.update({"fetch": counts, "warc_files": files})
    if not parts:
        return None
    return parts[0].union(*parts[1:]) if len(parts) > 1 else parts[0]
