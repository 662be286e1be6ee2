"""Polite HTTP fetching for one site: robots.txt, rate limit, timeouts, limits, retries.

A `PoliteFetcher` serves one site (one host, or its `www.` twin). The crawl keeps
exactly one per site in the whole cluster, so its limits are the site's limits:
a pause of at least `interval` (or the robots Crawl-delay, whichever is longer)
between the end of one response and the start of the next request, and at most
`concurrency` requests in flight when no pause applies. Every complete HTTP exchange goes
to `on_exchange` (the WARC writer) before anything else looks at it.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import urllib3
from urllib3.exceptions import ConnectTimeoutError, HTTPError, ProtocolError, ReadTimeoutError

from operators.news.html import HTML_TYPES, media_type
from operators.news.robots import MAX_BYTES as ROBOTS_MAX_BYTES
from operators.news.robots import RobotsRules
from operators.news.sitemaps import MAX_XML_BYTES
from operators.news.urls import canonicalize, site_of

RETRY_STATUS = frozenset({429, 500, 502, 503, 504, 507, 508, 509, 520, 521, 522, 523, 524})


@dataclass(frozen=True)
class FetchSettings:
    user_agent: str = "qazflow/0.1"
    interval: float = 1.0  # seconds from the end of one response to the next request on one site
    concurrency: int = 2  # requests in flight on one site
    connect_timeout: float = 10.0
    read_timeout: float = 20.0  # longest silence while waiting for bytes
    total_timeout: float = 60.0  # a whole request, however the server trickles
    max_bytes: int = 10 << 20
    content_types: tuple[str, ...] = HTML_TYPES
    max_redirects: int = 5
    retries: int = 2  # extra attempts after a 429/5xx/network error
    backoff: float = 2.0  # first retry waits this long, doubling each time
    backoff_max: float = 60.0
    max_crawl_delay: float = 60.0  # a longer robots Crawl-delay skips the site instead

    @classmethod
    def from_mapping(cls, options) -> FetchSettings:
        names = {f.name for f in fields(cls)}
        values = {k: v for k, v in dict(options).items() if k in names}
        if "content_types" in values:
            values["content_types"] = tuple(str(t).lower() for t in values["content_types"])
        return cls(**values)


@dataclass
class Exchange:
    """One complete HTTP request and response, as the WARC records it."""

    url: str
    request_headers: list[tuple[str, str]]
    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes
    date: datetime
    http_version: str = "HTTP/1.1"
    warc: dict = field(default_factory=dict)  # set by on_exchange: warc_file, warc_offset, warc_record_id


@dataclass
class FetchResult:
    url: str
    status: str  # fetched | skipped_robots | error | redirected
    final_url: str | None = None
    error: str | None = None  # a short kind: http_500, timeout, body_too_large, content_type, ...
    detail: str | None = None
    http_status: int | None = None
    content_type: str | None = None
    body: bytes | None = None
    redirect_to: str | None = None  # status "redirected": a URL on another site, queued there
    attempts: int = 0
    started: float = 0.0
    seconds: float = 0.0
    warc: dict = field(default_factory=dict)


class FetchError(Exception):
    def __init__(self, kind: str, detail: str, retry: bool = False, retry_after: float | None = None):
        super().__init__(detail)
        self.kind, self.detail, self.retry, self.retry_after = kind, detail, retry, retry_after


class RateLimiter:
    """When the next request on a site may start: `gap` seconds after the previous
    response ended, as the server experiences it (a slow response does not eat into the
    pause, as it would if request starts were spaced).

    The gap is given per request, so a Crawl-delay learnt from robots.txt applies from
    the very next request on. While a gap applies, requests on the site do not overlap
    (an end must be known before the next start); with no gap, up to `concurrency`
    run at once (bounded by the fetcher's semaphore).
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self._clock = clock
        self._cond = threading.Condition()
        self._in_flight = 0
        self._last_end = float("-inf")

    @contextmanager
    def slot(self, gap: float):
        with self._cond:
            while True:
                if gap > 0 and self._in_flight:
                    self._cond.wait()
                    continue
                wait = self._last_end + gap - self._clock()
                if wait <= 0:
                    break
                self._cond.wait(wait)  # may wake early (or on notify): the loop checks again
            self._in_flight += 1
        try:
            yield
        finally:
            with self._cond:
                self._in_flight -= 1
                self._last_end = max(self._last_end, self._clock())
                self._cond.notify_all()


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, (parsedate_to_datetime(value) - datetime.now(timezone.utc)).total_seconds())
    except (TypeError, ValueError):
        return None


class PoliteFetcher:
    """Fetches URLs of one site politely; thread-safe (the crawler runs `concurrency` threads)."""

    def __init__(self, settings: FetchSettings, on_exchange: Callable[[Exchange, str], dict] | None = None,
                 clock: Callable[[], float] = time.time):
        self.settings = settings
        self.on_exchange = on_exchange or (lambda exchange, kind: {})
        self.clock = clock
        self.http = urllib3.PoolManager(num_pools=4, maxsize=max(1, settings.concurrency), block=False,
                                        retries=False, headers={"User-Agent": settings.user_agent})
        self._limiter = RateLimiter()
        self._slots = threading.BoundedSemaphore(max(1, settings.concurrency))
        self._robots: dict[str, RobotsRules] = {}
        self._robots_lock = threading.Lock()
        self.robots_results: list[FetchResult] = []  # robots.txt fetches, drained by the crawler

    # ---- robots.txt -------------------------------------------------------------------
    def robots_for(self, url: str) -> RobotsRules:
        """The robots rules of `url`'s host, fetched once and cached for the fetcher's life."""
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        with self._robots_lock:  # one fetch per host even when threads race for it
            if origin not in self._robots:
                self._robots[origin] = self._fetch_robots(origin + "/robots.txt")
            return self._robots[origin]

    def _fetch_robots(self, url: str) -> RobotsRules:
        result = self._fetch(url, kind="robots", accept=None, max_bytes=ROBOTS_MAX_BYTES, same_site_only=False,
                             max_redirects=5, robots=RobotsRules.allow_all(), truncate=True)
        self.robots_results.append(result)
        code = result.http_status
        if result.status == "fetched":
            rules = RobotsRules.parse(result.body or b"", self.settings.user_agent)
        elif code is not None and 400 <= code < 500 and code != 429:
            rules = RobotsRules.allow_all(f"robots.txt HTTP {code}: no restrictions")  # RFC 9309 2.3.1.3
        else:  # 5xx, 429, network: RFC 9309 2.3.1.4 says assume complete disallow
            rules = RobotsRules.unavailable(f"robots.txt unavailable ({result.detail})")
        result.body = None
        return rules

    def interval_for(self, rules: RobotsRules) -> float:
        return max(self.settings.interval, rules.crawl_delay or 0.0)

    # ---- fetching ---------------------------------------------------------------------
    def fetch(self, url: str, kind: str = "page", accept: tuple[str, ...] | None = ()) -> FetchResult:
        """GET `url` obeying robots; `accept=()` means the configured content types, None any."""
        rules = self.robots_for(url)
        if not rules.allowed(url):
            return FetchResult(url, "skipped_robots", error="robots",
                               detail=rules.note or "disallowed by robots.txt", started=self.clock())
        if (rules.crawl_delay or 0) > self.settings.max_crawl_delay:
            return FetchResult(url, "skipped_robots", error="crawl_delay", started=self.clock(),
                               detail=f"robots.txt Crawl-delay {rules.crawl_delay:g} s exceeds "
                                      f"news.max_crawl_delay={self.settings.max_crawl_delay:g}")
        accept = self.settings.content_types if accept == () else accept
        # Sitemaps may be 50 MB by protocol; pages keep the configured limit.
        max_bytes = self.settings.max_bytes if kind in ("page", "seed") else max(self.settings.max_bytes,
                                                                                  MAX_XML_BYTES)
        return self._fetch(url, kind=kind, accept=accept, max_bytes=max_bytes, same_site_only=True,
                           max_redirects=self.settings.max_redirects, robots=rules)

    def _fetch(self, url, kind, accept, max_bytes, same_site_only, max_redirects, robots, truncate=False):
        started, t0 = self.clock(), time.monotonic()
        result = FetchResult(url, "error", started=started)
        chain = [url]
        current = url
        try:
            while True:
                exchange, attempts = self._with_retries(current, kind, accept, max_bytes, robots, truncate)
                result.attempts += attempts
                result.http_status = exchange.status
                location = dict((k.lower(), v) for k, v in exchange.headers).get("location")
                if 300 <= exchange.status < 400 and location:
                    target = canonicalize(location, current)
                    if target is None:
                        raise FetchError("bad_redirect", f"redirect to an unusable URL {location!r}")
                    if target in chain:
                        raise FetchError("redirect_loop", "redirect loop: " + " -> ".join(chain + [target]))
                    if len(chain) > max_redirects:
                        raise FetchError("too_many_redirects", f"more than {max_redirects} redirects from {url}")
                    chain.append(target)
                    if same_site_only and site_of(target) != site_of(url):
                        result.status, result.redirect_to, result.final_url = "redirected", target, target
                        result.detail = f"redirected to another site: {target}"
                        return result
                    same_host = urlsplit(target).netloc == urlsplit(current).netloc
                    if kind != "robots" and not (robots if same_host else self.robots_for(target)).allowed(target):
                        result.status, result.error = "skipped_robots", "robots"
                        result.detail = f"redirect target disallowed by robots.txt: {target}"
                        return result
                    current = target
                    continue
                result.final_url = current
                result.warc = exchange.warc
                if exchange.status != 200:
                    raise FetchError(f"http_{exchange.status}", f"HTTP {exchange.status} {exchange.reason}".strip()
                                     + (f" after {result.attempts} attempts" if result.attempts > 1 else ""))
                result.status = "fetched"
                result.content_type = dict((k.lower(), v) for k, v in exchange.headers).get("content-type")
                result.body = exchange.body
                return result
        except FetchError as exc:
            result.status, result.error, result.detail = "error", exc.kind, exc.detail
            result.attempts += getattr(exc, "attempts", 0)
            return result
        finally:
            result.seconds = round(time.monotonic() - t0, 3)

    def _with_retries(self, url, kind, accept, max_bytes, robots, truncate) -> tuple[Exchange, int]:
        """One exchange, retried with exponential backoff on 429, 5xx and network errors."""
        s = self.settings
        for attempt in range(s.retries + 1):
            wait = None
            try:
                exchange = self._exchange(url, kind, accept, max_bytes, robots, truncate)
                if exchange.status not in RETRY_STATUS or attempt == s.retries:
                    return exchange, attempt + 1
                headers = dict((k.lower(), v) for k, v in exchange.headers)
                wait = _retry_after(headers.get("retry-after"))
            except FetchError as exc:
                if not exc.retry or attempt == s.retries:
                    exc.attempts = attempt + 1
                    raise
            backoff = min(s.backoff_max, s.backoff * 2 ** attempt)
            time.sleep(min(s.backoff_max, max(backoff, wait or 0.0)))
        raise AssertionError("unreachable")

    def _exchange(self, url, kind, accept, max_bytes, robots, truncate) -> Exchange:
        s = self.settings
        with self._slots, self._limiter.slot(self.interval_for(robots)):
            date = datetime.now(timezone.utc)
            deadline = time.monotonic() + s.total_timeout
            request_headers = [("Host", urlsplit(url).netloc), ("User-Agent", s.user_agent),
                               ("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"),
                               ("Accept-Encoding", "gzip, deflate")]
            try:
                response = self.http.request(
                    "GET", url, headers=dict(request_headers[1:]), preload_content=False, redirect=False,
                    retries=False, decode_content=True,
                    timeout=urllib3.Timeout(connect=min(s.connect_timeout, s.total_timeout),
                                            read=min(s.read_timeout, s.total_timeout)))
            except (ConnectTimeoutError, ReadTimeoutError, TimeoutError):
                raise FetchError("timeout", f"timeout: no response within {min(s.read_timeout, s.total_timeout):g} s",
                                 retry=True) from None
            except (HTTPError, OSError) as exc:
                raise FetchError("connection", f"connection error: {_short(exc)}", retry=True) from None
            # The total deadline: a server that trickles bytes forever is cut off mid-body.
            watchdog = threading.Timer(max(0.0, deadline - time.monotonic()), _shutdown, (response,))
            watchdog.daemon = True
            watchdog.start()
            try:
                body = self._read_body(response, url, accept, max_bytes, deadline, truncate)
            finally:
                watchdog.cancel()
            version = {10: "HTTP/1.0", 11: "HTTP/1.1", 20: "HTTP/2"}.get(getattr(response, "version", 11), "HTTP/1.1")
            exchange = Exchange(url, request_headers, response.status, response.reason or "",
                                list(response.headers.items()), body, date, version)
        exchange.warc = self.on_exchange(exchange, kind) or {}
        return exchange

    def _read_body(self, response, url, accept, max_bytes, deadline, truncate) -> bytes:
        status = response.status
        complete = False
        try:
            if status == 200 and accept is not None:
                got = media_type(response.headers.get("content-type"))
                if got not in accept:
                    raise FetchError("content_type", f"content type {got or 'missing'} not allowed "
                                                     f"(news.content_types: {', '.join(accept)})")
            declared = response.headers.get("content-length", "")
            if status == 200 and not truncate and declared.isdigit() and int(declared) > max_bytes \
                    and not response.headers.get("content-encoding"):
                raise FetchError("body_too_large", f"body larger than {max_bytes} bytes")
            chunks, size = [], 0
            while True:
                try:
                    chunk = response.read1(64 * 1024)
                except (ReadTimeoutError, TimeoutError):
                    raise FetchError("timeout", f"timeout while reading the body of {url}", retry=True) from None
                except (ProtocolError, HTTPError, OSError, ValueError) as exc:
                    if time.monotonic() >= deadline:
                        raise FetchError("timeout", f"total deadline of {self.settings.total_timeout:g} s exceeded",
                                         retry=True) from None
                    raise FetchError("connection", f"connection error while reading: {_short(exc)}",
                                     retry=True) from None
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
                if size > max_bytes:
                    if truncate:  # robots.txt: parse the first 500 KiB, ignore the rest
                        chunks = [b"".join(chunks)[:max_bytes]]
                        break
                    raise FetchError("body_too_large", f"body larger than {max_bytes} bytes")
                if time.monotonic() >= deadline:
                    raise FetchError("timeout", f"total deadline of {self.settings.total_timeout:g} s exceeded",
                                     retry=True)
            complete = size <= max_bytes
            return b"".join(chunks)
        finally:
            if complete:
                response.release_conn()
            else:  # unread bytes: this connection cannot be reused
                response.close()


def _shutdown(response) -> None:
    try:
        response.shutdown()
    except (ValueError, OSError):
        response.close()


def _short(exc: BaseException) -> str:
    text = str(getattr(exc, "reason", None) or exc)
    return (text.split(": ", 1)[-1] if "object at 0x" in text else text)[:200]

