"""Property-based tests (hypothesis) for what news discovery parses from the open web:
URLs, robots.txt, sitemaps, feeds and links. No input may raise; outputs keep their
invariants. Example counts are kept small so the file runs in a few seconds."""
from __future__ import annotations

import gzip
from urllib.parse import urlsplit

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from operators.news.feeds import FeedError, parse_feed
from operators.news.html import page_links
from operators.news.robots import RobotsRules
from operators.news.sitemaps import SitemapError, parse_sitemap
from operators.news.urls import BAD_REASONS, SiteScope, canonicalize, resolve, site_of, url_key

FAST = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
BASE = "https://www.x.kz/news/a.html"

# Pieces real hrefs are made of, bad ones included, so generated URLs hit the parser's edges.
_PIECES = st.sampled_from([
    "http://", "https://", "//", "/", "./", "../", "?", "#", "&", "=", ":", "@", "[", "]", "%", "%2F", "%zz", "%E2%82",
    "www.", "x.kz", "X.KZ", "қазақ.kz", "127.0.0.1", "[::1]", ":80", ":443", ":8080", ":99999", ":8o", "utm_source=tg",
    "a=1", "b=2", "javascript:", "mailto:", " ", "\t", "\n", "\x00", "\x07", "\x7f", "ж", "ツ", "\ud800", "*", "$",
    "..", "ccpa-preferences", "\u200b", "\ufeff",
])
hrefs = st.one_of(st.text(max_size=40), st.lists(_PIECES, max_size=10).map("".join))


@FAST
@given(hrefs, st.one_of(st.none(), st.just(BASE), hrefs))
def test_resolve_never_raises_and_canonical_form_is_idempotent(href, base):
    url, reason = resolve(href, base)
    if url is None:
        assert reason in BAD_REASONS
        return
    assert reason is None
    assert url.isascii() and url.encode("utf-8").decode("utf-8") == url  # valid UTF-8, nothing to escape later
    parts = urlsplit(url)
    assert parts.scheme in ("http", "https") and parts.hostname and not parts.fragment
    assert canonicalize(url) == url  # canonical form is a fixed point
    assert url_key(url) == url_key(canonicalize(url)) is not None
    assert "utm_source" not in (parts.query or "")


@FAST
@given(hrefs)
def test_scope_only_admits_its_own_site(href):
    scope = SiteScope([BASE])
    url = canonicalize(href, BASE)
    if url is not None and scope.allows(url):
        assert site_of(url) == "x.kz"


@FAST
@given(st.lists(st.sampled_from(["User-agent: *", "User-agent: qazflow", "user-agent: other", "Disallow: /",
                                 "Disallow: /a", "Allow: /a/b", "Disallow: /*.pdf$", "Disallow:", "Crawl-delay: 2",
                                 "Crawl-delay: nan", "Request-rate: 1/0", "Request-rate: x", "Sitemap: ",
                                 "Sitemap: https://x.kz/s.xml", "# c"]) | st.text(max_size=30), max_size=12),
       hrefs)
def test_robots_never_raises(lines, href):
    rules = RobotsRules.parse("\n".join(lines).encode("utf-8", "surrogatepass"), "qazflow/0.1")
    assert rules.crawl_delay is None or rules.crawl_delay >= 0
    url = canonicalize(href, BASE)
    if url is not None:
        assert isinstance(rules.allowed(url), bool)
        assert rules.allowed(urlsplit(url)._replace(path="/robots.txt", query="").geturl())


_XML = st.lists(st.sampled_from(["<urlset>", "</urlset>", "<sitemapindex>", "<url>", "</url>", "<sitemap>", "<loc>",
                                 "</loc>", "<lastmod>2026-01-02</lastmod>", "https://x.kz/a", "http://[", "&amp;",
                                 "&bogus;", "<![CDATA[", "]]>", "<rss>", "<channel>", "<item>", "</item>", "<link>",
                                 "</link>", "<feed>", "<entry>", '<link href="https://x.kz/b"/>', "<?xml ", "?>",
                                 "\x00", "ж"]), max_size=20).map("".join)


@FAST
@given(st.one_of(_XML, st.text(max_size=60)), st.booleans())
def test_sitemaps_and_feeds_raise_only_their_own_errors(text, gzipped):
    data = text.encode("utf-8", "surrogatepass")
    if gzipped:
        data = gzip.compress(data)
    try:
        for entry in parse_sitemap(data).entries:
            assert isinstance(entry.loc, str) and entry.loc
    except SitemapError:
        pass
    try:
        for entry in parse_feed(data):
            assert isinstance(entry.url, str) and entry.url
    except FeedError:
        pass


@FAST
@given(st.lists(hrefs, max_size=8), st.one_of(st.none(), hrefs))
def test_page_links_never_raise_and_account_for_every_href(links, base_href):
    from html import escape

    base = f'<base href="{escape(base_href)}">' if base_href is not None else ""
    body = "".join(f'<a href="{escape(h)}">x</a>' for h in links)
    found = page_links(f"<html><head>{base}</head><body>{body}</body></html>", BASE)
    for url in found.links:
        assert canonicalize(url) == url
    assert len(found.links) + sum(found.bad.values()) <= len(links)



# Spellings of one thing, as rules and links write them: protego matches percent-encoding
# equivalents (escapes of reserved, unreserved and non-ASCII characters, either case), keeps
# %2F / %25 escaped, and reads "*" / a final "$" as wildcard / anchor. A rule and a path are
# drawn as the same sequence of pieces, each spelled independently, then cut and extended,
# so matches, near misses and re-spellings all come up.
_SPELLINGS = [["/"], ["/", "%2F", "%2f"], ["%25"], ["=", "%3D", "%3d"], ["~", "%7E", "%7e"], ["A", "%41"], ["a"],
              ["b"], ["ж", "%D0%B6", "%d0%b6"], ["ツ", "%E3%83%84"], ["?", "%3F"], ["&", "%26"], ["*", "%2A"],
              ["$", "%24"], [":", "+", ";", "-", ".", "%"], ["%D0", "%FF"], ["index.html"], ["https://x.kz/"],
              ["#", " ", "robots.txt"]]


@st.composite
def _rule_and_paths(draw):
    def spell(shape):
        return "".join(draw(st.sampled_from(_SPELLINGS[i])) for i in shape)

    pieces = st.integers(0, len(_SPELLINGS) - 1)
    shapes = draw(st.lists(st.lists(pieces, min_size=1, max_size=6), min_size=1, max_size=6))
    # Rules nearly always start with "/" (a pattern without one can only match after a "*").
    rules = [(draw(st.sampled_from(["Allow", "Disallow"])), draw(st.sampled_from(["/", "/", "/", "*", ""])) + spell(shape))
             for shape in shapes]
    paths = []
    for _ in range(draw(st.integers(1, 6))):
        shape = draw(st.sampled_from(shapes))
        shape = shape[:draw(st.integers(0, len(shape)))] + draw(st.lists(pieces, max_size=3))
        paths.append(draw(st.sampled_from(["/", "/", "/", "?"])) + spell(shape))  # "?": a URL with no path
    return rules, paths + draw(st.lists(st.text(max_size=12), max_size=2))


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_rule_and_paths(), st.sampled_from(["qazflow", "*", "other"]), st.booleans())
# The normalizations one by one: %2F stays escaped, broken UTF-8 is U+FFFD, escapes of unreserved
# characters and "=" are decoded, lower-case escapes, reserved characters escaped, no path at all.
@example(([("Disallow", "/a%2Fb"), ("Allow", "/a/")], ["/a%2Fb", "/a/b", "/a%2fb"]), "*", False)
@example(([("Disallow", "/%FF"), ("Disallow", "/x%D0")], ["/%FF", "/%ff/", "/x%D0?", "/"]), "*", False)
@example(([("Disallow", "/%7Ea=%41"), ("Allow", "/~a%3D")], ["/~a=A", "/%7ea%3dA", "/~a%3D%41"]), "*", True)
@example(([("Disallow", "/ж"), ("Disallow", "/q?x=&y"), ("Disallow", "/?*")], ["/%d0%b6", "/q?x=&y", "/q%3Fx=%26y",
                                                                               "?a", "/?a"]), "qazflow", False)
def test_fast_robots_decision_is_protegos(rules_and_paths, agent, canonical):
    """RobotsRules.allowed decides without protego's per-URL re-quoting; it must say what
    protego's `can_fetch` says, for canonical URLs (what the crawler asks) and raw ones."""
    rules, paths = rules_and_paths
    text = f"User-agent: {agent}\n" + "".join(f"{field}: {value}\n" for field, value in rules)
    robots = RobotsRules.parse(text, "qazflow/0.1")
    for path in paths:
        url = "https://x.kz" + ("" if path.startswith(("/", "?")) else "/") + path
        if canonical:
            url = canonicalize(url)
            if url is None:
                continue
        try:
            expected = robots.parser.can_fetch(url, "qazflow")
        except (ValueError, UnicodeError):
            expected = False
        assert robots.allowed(url) == expected, (text, url)
