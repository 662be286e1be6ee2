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
