"""robots.txt (RFC 9309) for one user agent: Allow/Disallow, Crawl-delay, Sitemap lines.

Our own parser rather than urllib.robotparser, which applies the first matching rule
instead of the longest one (so `Allow: /private/open.html` after `Disallow: /private/`
loses there) and knows no `*` / `$` wildcards.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

MAX_BYTES = 512 * 1024  # RFC 9309: parse at least 500 KiB, ignore the rest


def product_token(user_agent: str) -> str:
    """`qazflow/0.1 (+https://...)` → `qazflow`: robots groups name the product only."""
    match = re.match(r"[A-Za-z_-]+", user_agent.strip())
    return (match.group(0) if match else user_agent).lower()


def _pattern(path: str) -> re.Pattern:
    path = unquote(path)
    anchored = path.endswith("$")
    body = re.escape(path[:-1] if anchored else path).replace(r"\*", ".*")
    return re.compile(body + ("$" if anchored else ""))


@dataclass
class RobotsRules:
    """The rules that apply to one user agent on one host."""

    rules: list[tuple[bool, str, re.Pattern]] = field(default_factory=list)  # (allow, path, pattern)
    crawl_delay: float | None = None
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
        groups: list[tuple[list[str], list[tuple[str, str]]]] = []
        sitemaps: list[str] = []
        agents: list[str] = []
        lines: list[tuple[str, str]] | None = None
        for raw in text.splitlines():
            line = raw.split("#", 1)[0].strip()
            key, sep, value = line.partition(":")
            if not sep:
                continue
            key, value = key.strip().lower(), value.strip()
            if key == "sitemap":  # not part of any group
                if value:
                    sitemaps.append(value)
            elif key in ("user-agent", "useragent"):
                if lines is not None:  # a user-agent after rules starts a new group
                    agents, lines = [], None
                agents.append(value.lower())
            elif key in ("allow", "disallow", "crawl-delay"):
                if lines is None:
                    if not agents:
                        continue  # rules before any user-agent belong to nobody
                    lines = []
                    groups.append((agents, lines))
                lines.append((key, value))
        mine = [ls for ags, ls in groups if any(a != "*" and product_token(a) == token for a in ags)]
        if not mine:
            mine = [ls for ags, ls in groups if "*" in ags]
        rules = cls(sitemaps=sitemaps)
        for group in mine:  # several groups naming us are merged (RFC 9309 2.2.1)
            for key, value in group:
                if key == "crawl-delay":
                    try:
                        rules.crawl_delay = max(rules.crawl_delay or 0.0, float(value))
                    except ValueError:
                        pass
                elif value:  # an empty Disallow allows everything: no rule
                    rules.rules.append((key == "allow", value, _pattern(value)))
        return rules

    def allowed(self, url: str) -> bool:
        if self.disallow_all:
            return False
        parts = urlsplit(url)
        path = unquote(parts.path or "/") + (f"?{unquote(parts.query)}" if parts.query else "")
        if path == "/robots.txt":
            return True
        best_len, best_allow = -1, True
        for allow, raw, pattern in self.rules:
            if pattern.match(path):
                # The longest (most specific) rule wins; on a tie Allow wins.
                if len(raw) > best_len or (len(raw) == best_len and allow):
                    best_len, best_allow = len(raw), allow
        return best_allow
