"""The fetch log of one crawl run: one row per fetch outcome (the Arrow schema), and the
counts `report.json` → `news` shows, taken as rows come in. Writing is the flow's job."""
from __future__ import annotations

from collections import Counter

import pyarrow as pa

FETCH_LOG = pa.schema([
    ("run", pa.string()), ("url", pa.string()), ("site", pa.string()), ("kind", pa.string()), ("depth", pa.int32()),
    ("hint", pa.string()), ("status", pa.string()), ("error", pa.string()), ("detail", pa.string()),
    ("http_status", pa.int32()), ("final_url", pa.string()), ("redirect_to", pa.string()),
    ("content_type", pa.string()), ("n_bytes", pa.int64()), ("attempts", pa.int32()), ("started", pa.float64()),
    ("seconds", pa.float64()), ("warc_file", pa.string()), ("warc_offset", pa.int64()),
    ("warc_record_id", pa.string()), ("content_hash", pa.string()), ("canonical_link", pa.string()),
    ("bad_links", pa.int32()),
])
# Counts the frontier keeps (URLs it turned away) and the crawler reports (per page).
FRONTIER_COUNTS = ("known", "skipped_offsite", "over_page_limit", "over_sitemap_limit", "skipped_filetype",
                   "discovery_failed")


class FetchCounts:
    def __init__(self):
        self.pages: Counter = Counter()
        self.errors: Counter = Counter()
        self.discovery: Counter = Counter()
        self.discovery_errors: Counter = Counter()
        self.requests = 0

    def add(self, row: dict) -> None:
        self.requests += row["attempts"] or 0
        if row["kind"] == "page":
            self.pages[row["status"]] += 1
            if row["status"] == "error":
                self.errors[row["error"]] += 1
        else:
            self.discovery[row["kind"]] += 1
            if row["error"]:
                self.discovery_errors[row["error"]] += 1

    def counts(self, frontier_counts: Counter, known_before: int) -> dict:
        bad = {k.split(".", 1)[1]: n for k, n in sorted(frontier_counts.items()) if k.startswith("bad_links.")}
        return {
            "fetched": self.pages["fetched"],
            "skipped_robots": self.pages["skipped_robots"],
            "redirected_offsite": self.pages["redirected"],
            "errors": dict(sorted(self.errors.items())),
            "discovery": {"fetched": sum(self.discovery.values()) - sum(self.discovery_errors.values()),
                          "errors": dict(sorted(self.discovery_errors.items())),
                          "by_kind": dict(sorted(self.discovery.items()))},
            "requests": self.requests,
            **{name: frontier_counts.get(name, 0) for name in FRONTIER_COUNTS},
            # Links (in pages, sitemaps, feeds, redirects) that give no fetchable http(s) URL:
            # malformed, bad host or port, control characters, another scheme (mailto:, javascript:).
            "bad_links": sum(bad.values()),
            "bad_links_by_reason": bad,
            "state_urls_before": known_before,
        }
