from operators.news.urls import SiteScope, canonicalize, resolve, site_of, url_key


def test_canonicalize_normalizes_spelling():
    assert canonicalize("HTTP://WWW.Example.KZ:80/a/./b/../c?b=2&a=1#frag") == "http://www.example.kz/a/c?a=1&b=2"
    assert canonicalize("https://example.kz:443") == "https://example.kz/"
    assert canonicalize("https://example.kz:8443/x") == "https://example.kz:8443/x"
    assert canonicalize("https://example.kz/%7euser/%d0%b6") == "https://example.kz/~user/%D0%B6"
    assert canonicalize("https://example.kz/жаңалықтар") == "https://example.kz/%D0%B6%D0%B0%D2%A3%D0%B0%D0%BB%D1%8B%D2%9B%D1%82%D0%B0%D1%80"
    assert canonicalize("https://ҚАЗАҚ.kz/") == canonicalize("https://қазақ.kz") == "https://xn--80aau21bd.kz/"


def test_canonicalize_strips_tracking_parameters():
    url = "https://x.kz/news/1?utm_source=tg&utm_medium=social&fbclid=abc&gclid=1&yclid=2&id=7"
    assert canonicalize(url) == "https://x.kz/news/1?id=7"
    assert canonicalize("https://x.kz/a?utm_campaign=x") == "https://x.kz/a"


def test_canonicalize_resolves_relative_links_and_rejects_non_http():
    assert canonicalize("../b.html", "https://x.kz/news/a/index.html") == "https://x.kz/news/b.html"
    assert canonicalize("//cdn.x.kz/a", "https://x.kz/") == "https://cdn.x.kz/a"
    for junk in ("mailto:a@x.kz", "javascript:void(0)", "tel:123", "", "http://", "ftp://x.kz/a"):
        assert canonicalize(junk) is None


def test_url_key_is_one_identity_per_page():
    same = ["https://www.x.kz/news/", "http://x.kz/news?utm_source=tg", "https://X.KZ/news#top", "https://x.kz/news"]
    assert len({url_key(u) for u in same}) == 1
    assert url_key("https://x.kz/") == "x.kz/"
    assert url_key("https://x.kz/a?p=1") != url_key("https://x.kz/a?p=2")


def test_site_scope():
    scope = SiteScope(["https://www.tengrinews.kz/", "http://127.0.0.1:8080/news/"], ["kazinform.kz", "127.0.0.1:9000"])
    assert site_of("https://www.tengrinews.kz/a") == "tengrinews.kz"
    assert scope.allows("https://tengrinews.kz/kazakhstan_news/1")
    assert scope.allows("https://www.tengrinews.kz/a")
    assert not scope.allows("https://kaz.tengrinews.kz/a")  # a seed admits its own site only
    assert scope.allows("https://kaz.kazinform.kz/a") and scope.allows("https://kazinform.kz/")
    assert not scope.allows("https://notkazinform.kz/")
    assert scope.allows("http://127.0.0.1:8080/other")
    assert not scope.allows("http://127.0.0.1:8081/other")  # another port is another site
    assert scope.allows("http://127.0.0.1:9000/x")


def test_resolve_never_raises_and_says_why():
    base = "https://x.kz/news/a.html"
    cases = {"http://[ccpa-preferences]": "malformed", "http://[": "malformed", "http://x:99999/": "port",
             "http://x:8o/": "port", "http://x.kz:0/": "port", "javascript:void(0)": "scheme",
             "mailto:a@x.kz": "scheme", "/a\x07b": "control_char", "http://a b.kz/": "host",
             "http://a..b/": "host", "http://%zz.kz/": "host", "http://evil%2Fx.kz/": "host", "http://" + "a" * 64 + ".kz/": "host"}
    for href, reason in cases.items():
        assert resolve(href, base) == (None, reason), href
    assert resolve("  /b.html\n", base) == ("https://x.kz/b.html", None)  # as a browser trims an href
    assert resolve("http://[::1]:80/x") == ("http://[::1]/x", None)
    assert resolve("http://x.kz./a") == ("http://x.kz/a", None)
    assert resolve("http://%41.kz/") == ("http://a.kz/", None)  # a browser decodes the host
    assert resolve("http://%D2%9B.kz/") == ("http://xn--b4a.kz/", None)  # қ.kz
    assert canonicalize("/a", "http://[") is None  # a bad base is no base to resolve against
