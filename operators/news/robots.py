"""robots.txt (RFC 9309) for one user agent, parsed by protego (Scrapy's parser):
longest match, `*` / `$` wildcards, groups naming one agent merged, Crawl-delay,
Request-rate, Sitemap lines.

What stays ours is what RFC 9309 leaves to the crawler: only the first 500 KiB are
parsed, the product token (not the whole User-Agent header) picks the group, and the
fetcher's answers for a robots.txt it could not read (`allow_all` on 4xx,
`unavailable` on 5xx or no answer).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from protego import Protego

MAX_BYTES = 512 * 1024  # RFC 9309: parse at least 500 KiB, ignore the rest


def product_token(user_agent: str) -> str:
    """`qazflow/0.1 (+https://...)` → `qazflow`: robots groups name the product only.

    protego looks for a group's name anywhere in the string it is given, so the whole
    header would let `User-agent: corpus` match our "(+corpus builder)" comment."""
    match = re.match(r"[A-Za-z_-]+", user_agent.strip())
    return (match.group(0) if match else user_agent).lower()


@dataclass
class RobotsRules:
    """The rules that apply to one user agent on one host."""

    parser: Protego | None = None
    token: str = ""
    crawl_delay: float | None = None  # seconds between requests, from Crawl-delay or Request-rate
    sitemaps: list[str] = field(default_factory=list)
    disallow_all: bool = False  # robots.txt unreachable (5xx): RFC 9309 says assume complete disallow
    note: str = ""

    @classmethod
    def allow_all(cls, note: str = "") -> RobotsRules:
        return cls(note=note)

    @classmethod
    def unavailable(cls, note: str) -> RobotsRules:
        return cls(disallow_all=True, note=note)

    @classmethod
    def parse(cls, text: str | bytes, user_agent: str) -> RobotsRules:
        if isinstance(text, bytes):
            text = text[:MAX_BYTES].decode("utf-8", errors="replace")
        token = product_token(user_agent)
        parser = Protego.parse(text[:MAX_BYTES])
        delays = [parser.crawl_delay(token)]
        if (rate := parser.request_rate(token)) is not None:  # "Request-rate: 1/5" = one request per 5 s
            delays.append(rate.seconds / rate.requests)
        delays = [d for d in delays if d is not None]
        return cls(parser=parser, token=token, crawl_delay=max(delays) if delays else None,
                   sitemaps=list(parser.sitemaps))

    def allowed(self, url: str) -> bool:
        if self.disallow_all:
            return False
        if self.parser is None:
            return True
        try:
            return self.parser.can_fetch(url, self.token)
        except (ValueError, UnicodeError):  # a URL protego cannot split: ours are canonical, so never seen
            return False
