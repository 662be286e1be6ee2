"""URL identity: one canonical spelling per page, and which sites a crawl may touch.

Two spellings of one page (tracking parameters, fragments, default ports, `www.`,
query order) must dedup to one canonical URL, or an incremental crawl fetches the same
article again under every newsletter's utm_* tag.

The spelling itself (dot segments, percent-encoding, query order, IDNA) is w3lib's
`canonicalize_url`, the one Scrapy uses. What w3lib does not do is refuse: it keeps a
host with spaces and raises on a bad port or an unparsable `[...]` host. Real pages
carry such links (`http://[ccpa-preferences]`), so `resolve` checks scheme, host and
port first and says why a link is unusable instead of raising.
"""
from __future__ import annotations

import re
from functools import lru_cache
from urllib.parse import unquote, urljoin, urlsplit, urlunsplit

from w3lib.url import canonicalize_url

DEFAULT_PORTS = {"http": 80, "https": 443}

# Parameters that say who sent the reader, never which page it is. (courlan's tracker
# list also drops `cid`, `id`-like and `source` parameters, which on news sites often
# are the page's identity, so the list stays ours.)
_TRACKING = (r"utm_[a-z_]+|fbclid|gclid|dclid|gbraid|wbraid|msclkid|yclid|ysclid|mc_cid|mc_eid|_ga|_gl|igshid|"
             r"ref_src|ref_url|cmpid|spm|_hsenc|_hsmi|mkt_tok|oly_anon_id|oly_enc_id|vero_id|rb_clickid|s_cid")
TRACKING_PARAMS = re.compile(f"^(?:{_TRACKING})$", re.IGNORECASE)
_ANY_TRACKING = re.compile(f"[?&](?:{_TRACKING})(?:[=&]|$)", re.IGNORECASE)
# As a browser treats an href (WHATWG URL): C0 controls and spaces around it stripped, tabs
# and newlines inside removed; any other control character makes the link unusable.
_STRIP = "".join(map(chr, range(0x21)))
_TAB_NEWLINE = str.maketrans("", "", "\t\n\r")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_LABEL = re.compile(r"^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$")
_SPLIT = re.compile(r"^([a-z]+)://([^/?#]*)(.*)$", re.DOTALL | re.IGNORECASE)
# What a host may not hold once percent-decoded (WHATWG's forbidden domain code points,
# ASCII part): "evil%2Fx.kz" must not become the host "evil" with a path.
_FORBIDDEN_IN_HOST = re.compile(r"[\x00-\x20\x7f#%/:<>?@\[\\\]^|]")

# Why a link yields no fetchable URL (the keys of `news.bad_links_by_reason`).
BAD_REASONS = ("malformed", "control_char", "scheme", "host", "port")


def resolve(url: str, base: str | None = None) -> tuple[str | None, str | None]:
    """(canonical http(s) URL, None), or (None, reason) for anything else (mailto:, js,
    bad hosts or ports, junk). Never raises."""
    url = (url or "").strip(_STRIP)
    if _CONTROL.search(url):  # rare: only then pay for the translation
        url = url.translate(_TAB_NEWLINE)
        if _CONTROL.search(url) or (base and _CONTROL.search(base)):
            return None, "control_char"
    if base and not url[:8].lower().startswith(("http://", "https://")):  # absolute: nothing to join
        try:
            url = urljoin(base, url)
        except ValueError:  # e.g. "http://[ccpa-preferences]": not an IPv6 literal
            return None, "malformed"
    if not url[:8].lower().startswith(("http://", "https://")):
        return None, ("host" if url[:6].lower().startswith(("http:", "https:")) else "scheme")
    url = _decode_host(url)
    if url is None:
        return None, "host"
    try:
        parts = _SPLIT.match(canonicalize_url(url))
    except (ValueError, UnicodeError):  # w3lib refuses bad ports and brackets: say which
        try:
            return None, _netloc("http", urlsplit(url).netloc)[1] or "malformed"
        except ValueError:
            return None, "malformed"
    if parts is None:
        return None, "malformed"
    scheme, netloc, rest = parts.groups()
    netloc, reason = _netloc(scheme, netloc)
    if netloc is None:
        return None, reason
    return _drop_tracking(f"{scheme}://{netloc}{rest or '/'}"), None


def _decode_host(url: str) -> str | None:
    """The URL with its host percent-decoded, as a browser decodes it (WHATWG host parsing:
    `http://%41.kz/` is `http://a.kz/`), or None where the decoded host is no host (not
    UTF-8, or a character no host may hold). Done here rather than left to w3lib, whose
    releases differ on it (2.6 decodes, 2.5 keeps `%41`)."""
    match = _SPLIT.match(url)
    if match is None or "%" not in match.group(2):
        return url
    scheme, netloc, rest = match.groups()
    userinfo, at, hostport = netloc.rpartition("@")
    host, colon, port = hostport.partition(":")  # an IPv6 literal holds no "%" to decode
    try:
        host = unquote(host, errors="strict")
    except UnicodeDecodeError:
        return None
    if _FORBIDDEN_IN_HOST.search(host):
        return None
    return f"{scheme}://{userinfo}{at}{host}{colon}{port}{rest}"


@lru_cache(maxsize=4096)
def _netloc(scheme: str, netloc: str) -> tuple[str | None, str | None]:
    """(canonical host[:port], None) or (None, reason). w3lib lowercases and IDNA-encodes
    the host but keeps default ports, trailing dots, user info and hosts no DNS name can
    have ("a b"). Cached: a crawl sees a few hosts in millions of links."""
    try:
        parts = urlsplit(f"{scheme}://{netloc}")
        port = parts.port
    except ValueError:  # out of range or not a number: a typo we must not "fix" to port 80
        return None, ("malformed" if netloc.count("[") != netloc.count("]") else "port")
    host = (parts.hostname or "").rstrip(".")
    if ":" in host:  # an IPv6 literal, checked by urlsplit
        host = f"[{host}]"
    else:
        try:
            host = host.encode("idna").decode("ascii").lower()
        except UnicodeError:
            return None, "host"
        if not host or len(host) > 253 or not all(_LABEL.match(label) for label in host.split(".")):
            return None, "host"
    if port == 0:
        return None, "port"
    return (host if port in (None, DEFAULT_PORTS[scheme]) else f"{host}:{port}"), None


def canonicalize(url: str, base: str | None = None) -> str | None:
    """The canonical form of an http(s) URL, or None for anything else (mailto:, js, junk)."""
    return resolve(url, base)[0]


def _drop_tracking(url: str) -> str:
    if not _ANY_TRACKING.search(url):  # the common case, decided in one pass
        return url
    head, _, query = url.partition("?")
    kept = [pair for pair in query.split("&") if not TRACKING_PARAMS.match(pair.partition("=")[0])]
    return head + ("?" + "&".join(kept) if kept else "")


def url_key(url: str) -> str | None:
    """The identity used for dedup: canonical, `www.` dropped, no trailing slash, http = https.

    `https://www.x.kz/news/` and `http://x.kz/news?utm_source=tg` are one page.
    """
    canonical = canonicalize(url)
    if canonical is None:
        return None
    parts = urlsplit(canonical)
    path = parts.path.rstrip("/") or "/"
    return urlunsplit(("", site_of(parts.netloc), path, parts.query, "")).lstrip("/")


def netloc_of(url: str) -> str:
    """host[:port] of a canonical URL (the port only when not the scheme's default)."""
    return urlsplit(url).netloc


def site_of(url_or_netloc: str) -> str:
    """The site a URL belongs to: its host[:port] without a leading `www.`.

    `www.example.kz` and `example.kz` are one site: one rate limit and one queue, since
    they are nearly always one server.
    """
    netloc = netloc_of(url_or_netloc) if "://" in url_or_netloc else url_or_netloc.lower()
    return netloc[4:] if netloc.startswith("www.") else netloc


class SiteScope:
    """Which URLs a crawl may fetch: the seeds' own sites and the allowlisted domains.

    A seed admits its own site only (www. or not, same port); an allowlist entry
    `example.kz` admits that host and its subdomains, `example.kz:8080` that port only.
    (courlan's `is_external` compares registered domains without their suffix, so
    `example.kz` and `example.com` would be one site: too loose for a polite crawl.)
    """

    def __init__(self, seeds: list[str], allowlist: list[str] = ()):
        self.sites = {site_of(c) for c in filter(None, map(canonicalize, seeds))}
        self.allowed = []
        for entry in allowlist:
            entry = str(entry).strip().lower()
            if "://" in entry:
                entry = netloc_of(canonicalize(entry) or "")
            if entry:
                self.allowed.append(entry[4:] if entry.startswith("www.") else entry)

    def allows(self, url: str) -> bool:
        site = site_of(url)
        if site in self.sites:
            return True
        host, _, port = site.partition(":")
        for entry in self.allowed:
            e_host, _, e_port = entry.partition(":")
            if (host == e_host or host.endswith("." + e_host)) and (not e_port or e_port == port):
                return True
        return False
