"""Crawl state: what earlier runs fetched, so a later run fetches only what is new.

One row per URL identity (`url_key`): the outcome of its last fetch, when, the content
hash, and where its response lies in the WARC files. Redirect targets and
`<link rel=canonical>` targets are rows too (status `alias`), so a page reached under
another spelling is not fetched twice. Discovery resources (robots.txt, sitemaps,
feeds, seed pages) are never stored: every run reads them again to find new articles.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

import pyarrow as pa

from operators.documents import error_document
from operators.news.extract import SOURCE, news_columns
from operators.news.urls import site_of, url_key
from operators.news.warc import warc_sequence

FETCH_NAME = "NewsFetch"  # the reason on rows of pages that could not be fetched

STATE = pa.schema([
    ("key", pa.string()), ("url", pa.string()), ("site", pa.string()), ("status", pa.string()),
    ("error", pa.string()), ("detail", pa.string()), ("http_status", pa.int32()), ("content_hash", pa.string()),
    ("fetched_at", pa.float64()), ("warc_file", pa.string()), ("warc_offset", pa.int64()),
    ("warc_record_id", pa.string()), ("alias_of", pa.string()),
])

# A page with one of these outcomes is not fetched again (errors only with retry_failed off).
SETTLED = frozenset({"fetched", "alias", "redirected", "skipped_robots"})


class CrawlState:
    def __init__(self, table: pa.Table | None = None, retry_failed: bool = False):
        self.rows: dict[str, dict] = {}
        self.retry_failed = retry_failed
        for row in (table.to_pylist() if table is not None else []):
            self.rows[row["key"]] = row

    def __len__(self) -> int:
        return len(self.rows)

    def known(self, url: str) -> bool:
        row = self.rows.get(url_key(url) or url)
        if row is None:
            return False
        return row["status"] in SETTLED or (row["status"] == "error" and not self.retry_failed)

    def record(self, log: dict) -> None:
        """Takes in one page's fetch-log row (discovery rows are ignored)."""
        if log["kind"] != "page":
            return
        key = url_key(log["url"]) or log["url"]
        row = {name: log.get(name) for name in STATE.names}
        row.update(key=key, fetched_at=log.get("started"), site=site_of(log["url"]), alias_of=None)
        self.rows[key] = row
        for other in (log.get("final_url"), log.get("canonical_link")):
            other_key = url_key(other) if other else None
            if other_key and other_key != key and log["status"] == "fetched" and other_key not in self.rows:
                self.rows[other_key] = {**row, "key": other_key, "url": other, "status": "alias", "alias_of": key,
                                        "site": site_of(other)}

    def record_fetched(self, url: str, warc: dict, fetched_at: float | None = None) -> bool:
        """A page found in a finished WARC file the state does not list (a crash between
        publishing the file and saving the state). True when it was new."""
        key = url_key(url) or url
        if key in self.rows and self.rows[key]["status"] == "fetched":
            return False
        self.rows[key] = {**dict.fromkeys(STATE.names), "key": key, "url": url, "site": site_of(url),
                          "status": "fetched", "http_status": 200, "fetched_at": fetched_at, **warc}
        return True

    def record_warc_pages(self, responses: Iterable[tuple[dict, int]], warc_file: str) -> int:
        """The pages fetched into a finished WARC file the state does not list, from its
        response records as `iter_warc_responses` gives them; how many were new."""
        return sum(self.record_fetched(fields["url"], {"warc_file": warc_file, "warc_offset": offset,
                                                       "warc_record_id": fields["warc_record_id"]})
                   for fields, offset in responses if fields["kind"] == "page" and fields["http_status"] == 200)

    def to_table(self) -> pa.Table:
        rows = sorted(self.rows.values(), key=lambda r: r["key"])
        return pa.Table.from_pylist(rows, schema=STATE)

    def error_documents(self) -> list[dict]:
        """Pages that could not be fetched, as document rows rejected by NewsFetch."""
        out = []
        for row in sorted(self.rows.values(), key=lambda r: r["key"]):
            if row["status"] in ("error", "skipped_robots"):
                detail = row["detail"] or row["error"] or row["status"]
                if row["status"] == "skipped_robots" and "robots" not in detail:
                    detail = f"robots.txt: {detail}"
                columns = news_columns(row["url"], None, None, None)
                out.append(error_document(SOURCE, row["url"], row["url"], FETCH_NAME, detail, **columns))
        return out


@dataclass(frozen=True)
class WarcFolder:
    """The crawl's WARC folder as a run finds it. After a crash it may hold half-written
    files (`NAME.open`, to remove) and finished files the saved state does not list yet (a
    crash between publishing a file and saving the state: to take into the state)."""
    half_written: list[str]
    unlisted: list[str]
    next_sequence: dict[str, int]  # per site file prefix: the sequence after its last file

    @classmethod
    def of(cls, files: Iterable[str], listed: Iterable[str]) -> WarcFolder:
        listed = set(listed)
        half_written, unlisted, next_sequence = [], [], {}
        for name in sorted(files):
            if name.endswith(".open"):
                half_written.append(name)
            elif (parsed := warc_sequence(name)) is not None:
                prefix, sequence = parsed
                next_sequence[prefix] = max(next_sequence.get(prefix, 0), sequence + 1)
                if name not in listed:
                    unlisted.append(name)
        return cls(half_written, unlisted, next_sequence)


class PendingFetches:
    """Fetch outcomes whose response lies in a WARC file not published yet. They enter the
    state and the fetch log only once their file is published: a fetcher that dies loses
    the file it had open, and those pages are fetched again."""

    def __init__(self):
        self.by_site: dict[str, list[tuple[dict, dict]]] = defaultdict(list)  # site → (work item, log row)
        self.published: set[str] = set()

    def add(self, site: str, work: dict, row: dict) -> None:
        self.by_site[site].append((work, row))

    def publish(self, files: Iterable[str]) -> None:
        self.published.update(files)

    def ready(self, site: str) -> list[dict]:
        """The site's log rows that can be committed now (their file published, or none);
        the rest stay pending."""
        ready, waiting = [], []
        for work, row in self.by_site.pop(site, []):
            (waiting if row["warc_file"] and row["warc_file"] not in self.published else ready).append((work, row))
        if waiting:
            self.by_site[site] = waiting
        return [row for _, row in ready]

    def lost(self, site: str) -> list[dict]:
        """The work items of the site's pending rows, forgotten (their fetcher died)."""
        return [work for work, _ in self.by_site.pop(site, [])]

    def sites(self) -> list[str]:
        return list(self.by_site)
