"""URL identity: one canonical spelling per page, and which sites a crawl may touch.

Two spellings of one page (tracking parameters, fragments, default ports, `www.`,
query order) must dedup to one canonical URL, or an incremental crawl fetches the same
article again under every newsletter's utm_* tag.
"""
from __future__ import annotations

import posixpath
import re
from urllib.parse import parse_qsl, quote, urlencode, urljoin, urlsplit, urlunsplit

DEFAULT_PORTS = {"http": 80, "https": 443}

# Parameters that say who sent the reader, never which page it is.
TRACKING_PARAMS = re.compile(
    r"^(utm_[a-z_]+|fbclid|gclid|dclid|gbraid|wbraid|msclkid|yclid|ysclid|mc_cid|mc_eid|_ga|_gl|igshid|"
    r"ref_src|ref_url|cmpid|spm|_hsenc|_hsmi|mkt_tok|oly_anon_id|oly_enc_id|vero_id|rb_clickid|s_cid)$",
    re.IGNORECASE,
)
# Path characters left unescaped: RFC 3986 unreserved, sub-delims, ':' '@' '/' and '%'.
_PATH_SAFE = "/:@!$&'()*+,;=-._~%"


_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")


def _normalize_path(path: str) -> str:
    """Dot segments resolved, escapes of unreserved characters decoded, others uppercased.

    The trailing slash is kept here (servers may serve `/a` and `/a/` differently and we
    fetch what was linked); `url_key` drops it for identity.
    """
    trailing = path.endswith("/")
    path = posixpath.normpath("/" + path.lstrip("/"))
    if path != "/":
        path = path.lstrip("/")
        path = "/" + path + ("/" if trailing else "")
    path = re.sub(r"%[0-9A-Fa-f]{2}",
                  lambda m: chr(int(m[0][1:], 16)) if chr(int(m[0][1:], 16)) in _UNRESERVED else m[0].upper(), path)
    return quote(path, safe=_PATH_SAFE)


def _host_port(parts) -> tuple[str, int | None]:
    host = (parts.hostname or "").rstrip(".")
    try:
        host = host.encode("idna").decode("ascii").lower() if host else ""
    except UnicodeError:  # not IDNA-encodable: keep it lowercased, it is still an identity
        host = host.lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    return host, port


def canonicalize(url: str, base: str | None = None) -> str | None:
    """The canonical form of an http(s) URL, or None for anything else (mailto:, js, junk)."""
    url = (url or "").strip()
    if base:
        url = urljoin(base, url)
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        return None
    host, port = _host_port(parts)
    if not host:
        return None
    netloc = host if port in (None, DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    path = _normalize_path(parts.path)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not TRACKING_PARAMS.match(k)]
    return urlunsplit((scheme, netloc, path, urlencode(sorted(query), doseq=True), ""))


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
