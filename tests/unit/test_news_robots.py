from operators.news.robots import RobotsRules, product_token

UA = "qazflow/0.1 (+corpus builder; contact: data-team@example.org)"

ROBOTS = """
# comments are ignored
User-agent: *
Disallow: /

User-agent: Googlebot
Disallow: /nogoogle/

user-agent: QAZFLOW
crawl-delay: 2.5
Disallow: /private/
Allow: /private/open.html
Disallow: /*.pdf$
Disallow: /search?
Disallow:

Sitemap: https://x.kz/sitemap_index.xml
Sitemap: https://x.kz/news-sitemap.xml.gz
"""


def test_product_token():
    assert product_token(UA) == "qazflow"
    assert product_token("Mozilla/5.0 (compatible)") == "mozilla"


def test_our_group_longest_match_and_wildcards():
    rules = RobotsRules.parse(ROBOTS, UA)
    assert rules.crawl_delay == 2.5
    assert rules.sitemaps == ["https://x.kz/sitemap_index.xml", "https://x.kz/news-sitemap.xml.gz"]
    assert rules.allowed("https://x.kz/news/1.html")  # our group, not "*": Disallow: / does not apply
    assert not rules.allowed("https://x.kz/private/secret.html")
    assert rules.allowed("https://x.kz/private/open.html")  # longer Allow beats shorter Disallow
    assert not rules.allowed("https://x.kz/files/report.pdf")
    assert rules.allowed("https://x.kz/files/report.pdf?download=1")  # "$" anchors the end
    assert not rules.allowed("https://x.kz/search?q=ai")
    assert rules.allowed("https://x.kz/search")
    assert rules.allowed("https://x.kz/robots.txt")


def test_star_group_when_we_are_not_named():
    rules = RobotsRules.parse(ROBOTS, "otherbot/1.0")
    assert not rules.allowed("https://x.kz/anything") and rules.crawl_delay is None


def test_groups_naming_us_are_merged_and_multi_agent_groups():
    text = "User-agent: a\nUser-agent: qazflow\nDisallow: /x/\n\nUser-agent: qazflow\nDisallow: /y/\nCrawl-delay: 1\n"
    rules = RobotsRules.parse(text.encode(), UA)
    assert not rules.allowed("https://x.kz/x/1") and not rules.allowed("https://x.kz/y/1")
    assert rules.allowed("https://x.kz/z/1") and rules.crawl_delay == 1


def test_empty_garbage_and_unavailable():
    assert RobotsRules.parse("", UA).allowed("https://x.kz/a")
    assert RobotsRules.parse(b"\x00\xff<html>not robots</html>", UA).allowed("https://x.kz/a")
    assert RobotsRules.parse("Disallow: /\n", UA).allowed("https://x.kz/a")  # rules outside any group
    assert RobotsRules.parse("User-agent: *\nCrawl-delay: soon\n", UA).crawl_delay is None
    down = RobotsRules.unavailable("robots.txt unavailable (HTTP 503)")
    assert not down.allowed("https://x.kz/a") and "503" in down.note
    assert RobotsRules.allow_all().allowed("https://x.kz/a")


# Conformance cases written from RFC 9309's own examples (sections 2.2.1 to 2.2.3, 5).
def test_rfc9309_longest_match_and_tie():
    rules = RobotsRules.parse("User-Agent: foobot\nAllow: /example/page/\nDisallow: /example/page/disallowed.gif\n"
                              "Allow: /tie\nDisallow: /tie\n", "FooBot/1.0")
    assert rules.allowed("https://x.kz/example/page/")
    assert not rules.allowed("https://x.kz/example/page/disallowed.gif")
    assert rules.allowed("https://x.kz/tie")  # equal length: the least restrictive rule (Allow) wins


def test_rfc9309_percent_encoding_and_special_characters():
    rules = RobotsRules.parse("User-agent: *\nDisallow: /foo/bar?baz=https://foo.bar\nDisallow: /foo/bar/ツ\n"
                              "Disallow: /qux/%E3%83%84\nDisallow: /path/file-with-a-%2A.html\n", UA)
    assert not rules.allowed("https://x.kz/foo/bar?baz=https://foo.bar")
    assert not rules.allowed("https://x.kz/foo/bar/%E3%83%84")  # UTF-8 in a rule = its percent-encoding
    assert not rules.allowed("https://x.kz/qux/ツ")
    assert not rules.allowed("https://x.kz/path/file-with-a-*.html")  # %2A is a literal "*", not a wildcard
    assert rules.allowed("https://x.kz/path/file-with-a-b.html")


def test_rfc9309_wildcards_and_end_anchor():
    rules = RobotsRules.parse("User-agent: foobot\nDisallow: /*.gif$\nDisallow: /example/\nAllow: /publications/\n",
                              "foobot")
    assert not rules.allowed("https://x.kz/a/b.gif") and rules.allowed("https://x.kz/a/b.gif?size=2")
    assert not rules.allowed("https://x.kz/example/x") and rules.allowed("https://x.kz/publications/1")


def test_rfc9309_groups_for_one_agent_are_merged_and_others_ignored():
    text = "User-agent: ExampleBot\nDisallow: /foo\nDisallow: /bar\n\nUser-agent: ExampleBot\nDisallow: /baz\n"
    rules = RobotsRules.parse(text, "examplebot")
    assert [rules.allowed(f"https://x.kz/{p}") for p in ("foo", "bar", "baz", "qux")] == [False, False, False, True]
    assert RobotsRules.parse("User-agent: otherbot\nDisallow: /\n", UA).allowed("https://x.kz/a")  # no group: allowed


def test_request_rate_and_the_product_token_only():
    assert RobotsRules.parse("User-agent: *\nRequest-rate: 1/5\nCrawl-delay: 2\n", UA).crawl_delay == 5.0
    assert RobotsRules.parse("User-agent: *\nRequest-rate: 3/1m\n", UA).crawl_delay == 20.0
    # Our User-Agent header says "corpus builder"; a group for "corpus" is not ours.
    assert RobotsRules.parse("User-agent: corpus\nDisallow: /\n", UA).allowed("https://x.kz/a")


def test_robots_cap_is_500_kib():
    text = b"User-agent: *\n" + b"#" * (600 * 1024) + b"\nDisallow: /\n"
    assert RobotsRules.parse(text, UA).allowed("https://x.kz/a")  # the rule lies past the cap
