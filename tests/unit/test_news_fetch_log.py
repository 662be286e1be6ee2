from collections import Counter

import pyarrow as pa

from operators.news.fetch_log import FETCH_LOG, FetchCounts


def row(kind="page", status="fetched", error=None, attempts=1):
    return {"kind": kind, "status": status, "error": error, "attempts": attempts}


def test_counts_for_the_report():
    tally = FetchCounts()
    for r in (row(), row(), row(status="error", error="http_500", attempts=3), row(status="skipped_robots", attempts=0),
              row(status="redirected"), row("robots"), row("sitemap", status="error", error="parse"), row("feed")):
        tally.add(r)
    frontier = Counter({"known": 4, "skipped_filetype": 2, "bad_links.port": 2, "bad_links.scheme": 1,
                        "discovery_failed": 1})
    counts = tally.counts(frontier, known_before=9)
    assert (counts["fetched"], counts["skipped_robots"], counts["redirected_offsite"]) == (2, 1, 1)
    assert counts["errors"] == {"http_500": 1} and counts["requests"] == 9
    assert counts["discovery"] == {"fetched": 2, "errors": {"parse": 1},
                                   "by_kind": {"feed": 1, "robots": 1, "sitemap": 1}}
    assert counts["bad_links"] == 3 and counts["bad_links_by_reason"] == {"port": 2, "scheme": 1}
    assert (counts["known"], counts["skipped_filetype"], counts["discovery_failed"], counts["skipped_offsite"]) == (
        4, 2, 1, 0)
    assert counts["state_urls_before"] == 9


def test_a_crawler_row_fits_the_schema():
    from operators.news.crawl import item, log_row
    from operators.news.fetch import FetchResult

    logged = {**log_row(item("https://x.kz/a", "page", 1), "x.kz", FetchResult("https://x.kz/a", "fetched")),
              "run": "r"}
    assert set(logged) == set(FETCH_LOG.names)
    assert pa.Table.from_pylist([logged], schema=FETCH_LOG).num_rows == 1
