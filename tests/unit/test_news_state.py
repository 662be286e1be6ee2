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


def test_the_warc_folder_after_a_crash():
    from operators.news.state import WarcFolder

    files = ["w/x.kz-00000.warc.gz", "w/x.kz-00001.warc.gz", "w/x.kz-00002.warc.gz.open", "w/y.kz_8080-00004.warc.gz",
             "w/notes.txt"]
    folder = WarcFolder.of(files, listed=["w/x.kz-00000.warc.gz"])
    assert folder.half_written == ["w/x.kz-00002.warc.gz.open"]
    assert folder.unlisted == ["w/x.kz-00001.warc.gz", "w/y.kz_8080-00004.warc.gz"]  # never a file from elsewhere
    assert folder.next_sequence == {"x.kz": 2, "y.kz_8080": 5}
    assert WarcFolder.of([], listed=[]) == WarcFolder([], [], {})


def test_pages_of_an_unlisted_warc_enter_the_state_once():
    state = CrawlState()
    page = {"kind": "page", "http_status": 200, "url": "https://x.kz/a", "warc_record_id": "r1"}
    responses = [(page, 10), ({**page, "kind": "sitemap", "url": "https://x.kz/sitemap.xml"}, 20),
                 ({**page, "http_status": 404, "url": "https://x.kz/gone"}, 30),
                 ({**page, "url": "https://x.kz/a/?utm_source=x"}, 40)]  # the same page again
    assert state.record_warc_pages(responses, "w/x.kz-00001.warc.gz") == 1
    assert state.to_table().to_pylist()[0]["warc_offset"] == 10
    assert state.record_warc_pages(responses, "w/x.kz-00001.warc.gz") == 0


def test_pending_fetches_commit_only_published_warcs_and_give_back_lost_work():
    from operators.news.state import PendingFetches
    from operators.news.warc import next_sequence

    pending = PendingFetches()
    in_open = {"url": "https://x.kz/a", "warc_file": "w/x.kz-00003.warc.gz"}
    no_body = {"url": "https://x.kz/b", "warc_file": None}  # an error: no record to wait for
    pending.add("x.kz", {"url": in_open["url"]}, in_open)
    pending.add("x.kz", {"url": no_body["url"]}, no_body)
    assert pending.ready("x.kz") == [no_body]
    assert pending.sites() == ["x.kz"]
    pending.publish(["w/x.kz-00003.warc.gz"])
    assert pending.ready("x.kz") == [in_open] and pending.sites() == []

    pending.add("x.kz", {"url": "https://x.kz/c"}, {"url": "https://x.kz/c", "warc_file": "w/x.kz-00004.warc.gz"})
    assert pending.lost("x.kz") == [{"url": "https://x.kz/c"}] and pending.sites() == []
    # The new fetcher writes after every published file (never over x.kz-00003), or further on.
    assert next_sequence(pending.published, "x.kz") == 4
    assert next_sequence(pending.published, "x.kz", at_least=6) == 6
    assert next_sequence(pending.published, "y.kz") == 0
