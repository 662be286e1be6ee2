from operators.news.state import CrawlState


def log(url, status="fetched", **kw):
    return {"url": url, "kind": "page", "status": status, "error": kw.get("error"), "detail": kw.get("detail"),
            "http_status": 200 if status == "fetched" else kw.get("http_status"), "started": 1.0,
            "final_url": kw.get("final_url", url), "canonical_link": kw.get("canonical_link"),
            "content_hash": "h", "warc_file": "f", "warc_offset": 1, "warc_record_id": "r"}


def test_known_urls_and_aliases_survive_a_round_trip():
    state = CrawlState()
    state.record(log("https://x.kz/a", final_url="https://x.kz/a-moved/", canonical_link="https://www.x.kz/a-canon"))
    state.record(log("https://x.kz/b", status="error", error="http_500", detail="HTTP 500 Internal Server Error"))
    state.record(log("https://x.kz/c", status="skipped_robots", detail="disallowed by robots.txt"))
    state.record({**log("https://x.kz/sitemap.xml"), "kind": "sitemap"})  # discovery: never stored
    again = CrawlState(state.to_table())
    for url in ("https://x.kz/a?utm_source=tg", "http://www.x.kz/a-moved", "https://x.kz/a-canon/", "https://x.kz/b",
                "https://x.kz/c"):
        assert again.known(url), url
    assert not again.known("https://x.kz/sitemap.xml") and not again.known("https://x.kz/new")
    assert not CrawlState(state.to_table(), retry_failed=True).known("https://x.kz/b")
    errors = again.error_documents()
    assert [(e["url"], e["reason"], e["detail"]) for e in errors] == [
        ("https://x.kz/b", "NewsFetch", "HTTP 500 Internal Server Error"),
        ("https://x.kz/c", "NewsFetch", "disallowed by robots.txt")]
    assert errors[0]["source"] == "news" and errors[0]["text"] == ""


def test_record_fetched_from_a_warc_the_state_missed():
    state = CrawlState()
    assert state.record_fetched("https://x.kz/a", {"warc_file": "f", "warc_offset": 5, "warc_record_id": "r"})
    assert not state.record_fetched("https://x.kz/a/", {"warc_file": "g", "warc_offset": 6, "warc_record_id": "s"})
    assert state.known("https://x.kz/a") and state.to_table().num_rows == 1
