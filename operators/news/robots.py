"""robots.txt (RFC 9309) for one user agent, parsed by protego (Scrapy's parser):
longest match, `*` / `$` wildcards, groups naming one agent merged, Crawl-delay,
Request-rate, Sitemap lines.

What stays ours is what RFC 9309 leaves to the crawler: only the first 500 KiB are
parsed, the product token (not the whole User-Agent header) picks the group, and the
fetcher's answers for a robots.txt it could not read (`allow_all` on 4xx,
`unavailable` on 5xx or no answer).

Deciding is also partly ours, for speed only: protego's `can_fetch` re-normalizes the
percent-encoding of every URL (urlsplit, unquote to bytes, quote again), which made a
decision take twice as long as the hand-written parser it replaced. Our URLs are
canonical (ASCII, escapes upper case, no fragment), so `_protego_path` computes the very
string protego would match against, re-decoding only escape runs (cached: slugs are
words, words repeat), and the decision is the first match among protego's own rules in
protego's own order (longest first, Allow before Disallow on a tie). The decision is
identical to `can_fetch` (tests/unit/test_news_properties.py checks it on random
robots.txt files and paths); a URL outside that fast path, or another protego version
than the one whose normalization is mirrored here, is asked through `can_fetch`. The
rule list is protego's private state (`_get_matching_rule_set`, `_RuleSet._rules`,
`_URLPattern`), read once per robots.txt; hence the version check, and a missing
attribute also falls back to `can_fetch`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib.metadata import version
from string import ascii_letters, digits
from urllib.parse import quote

from protego import Protego

MAX_BYTES = 512 * 1024  # RFC 9309: parse at least 500 KiB, ignore the rest

# `_protego_path` mirrors protego 0.7's `_quote_path`; any other version decides by `can_fetch`.
_MIRRORED = version("protego").startswith("0.7.")
# protego quotes with `quote(safe="/%=")`: any other ASCII character that is not unreserved is escaped.
_QUOTE_ASCII = str.maketrans({c: f"%{ord(c):02X}" for c in map(chr, range(128))
                              if c not in ascii_letters + digits + "_.-~/%="})
_ESCAPE_RUN = re.compile(r"(?:%[0-9A-Fa-f]{2})+")
# scheme://netloc, then path and query: no fragment, brackets, spaces or control characters,
# which urlsplit would strip, remove or refuse (those URLs take protego's own path).
_SPLIT = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^/?#\[\]\x00-\x20\x7f]*([^#\x00-\x20\x7f]*)").fullmatch


def product_token(user_agent: str) -> str:
    """`qazflow/0.1 (+https://...)` → `qazflow`: robots groups name the product only.

    protego looks for a group's name anywhere in the string it is given, so the whole
    header would let `User-agent: corpus` match our "(+corpus builder)" comment."""
    match = re.match(r"[A-Za-z_-]+", user_agent.strip())
    return (match.group(0) if match else user_agent).lower()


@lru_cache(maxsize=1 << 16)
def _requote_run(run: str) -> str:
    """A run of %XX escapes as protego spells it: decoded as UTF-8 (invalid bytes become
    U+FFFD), then quoted again. %2F and %25 stay escaped: inside a run, a "/" or "%" can
    only have come from them, so quoting them too (safe="=") gives protego's spelling."""
    return quote(bytes.fromhex(run.replace("%", "")).decode("utf-8", "replace"), safe="=")


def _protego_path(url: str) -> str | None:
    """What protego 0.7 matches rules against for `url` (its `_quote_path`), or None
    where this shortcut is not sure to agree (non-ASCII, fragment, control characters)."""
    if not url.isascii() or (match := _SPLIT(url)) is None:
        return None
    rest = match.group(1)
    if "%" in rest:
        rest = _ESCAPE_RUN.sub(lambda m: _requote_run(m.group(0)), rest)
    rest = rest.translate(_QUOTE_ASCII)  # leaves the re-quoted runs as they are: "%" is kept
    return rest if rest.startswith("/") else "/" + rest


def _protego_rules(parser: Protego, token: str):
    """The rules protego applies to `token`, in protego's order, as (allow, match) pairs,
    split like protego does (plain prefixes rule out most paths with one startswith), or
    None when this protego's internals are not the ones mirrored here."""
    if not _MIRRORED:
        return None
    try:
        rule_set = parser._get_matching_rule_set(token)
        if rule_set is None:  # no group applies to us: everything allowed
            return (), (), ()
        rules = [(r.field == "allow", r.value.match, r.value._pattern) for r in rule_set._rules]
    except AttributeError:
        return None
    prefixes = tuple(p for _, _, p in rules if "*" not in p and not p.endswith("$"))
    special = tuple((a, m) for a, m, p in rules if "*" in p or p.endswith("$"))
    return prefixes, tuple((a, m) for a, m, _ in rules), special


@dataclass
class RobotsRules:
    """The rules that apply to one user agent on one host."""

    parser: Protego | None = None
    token: str = ""
    crawl_delay: float | None = None  # seconds between requests, from Crawl-delay or Request-rate
    sitemaps: list[str] = field(default_factory=list)
    disallow_all: bool = False  # robots.txt unreachable (5xx): RFC 9309 says assume complete disallow
    note: str = ""
    _fast: tuple | None = field(default=None, repr=False, compare=False)

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
                   sitemaps=list(parser.sitemaps), _fast=_protego_rules(parser, token))

    def allowed(self, url: str) -> bool:
        if self.disallow_all:
            return False
        if self.parser is None:
            return True
        if self._fast is not None and "/robots.txt" not in url:  # protego always allows /robots.txt itself
            path = _protego_path(url)
            if path is not None:
                prefixes, rules, special = self._fast
                for allow, match in (rules if path.startswith(prefixes) else special):
                    if match(path):
                        return allow
                return True
        try:
            return self.parser.can_fetch(url, self.token)
        except (ValueError, UnicodeError):  # a URL protego cannot split: ours are canonical, so never seen
            return False
