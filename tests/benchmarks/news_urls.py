#!/usr/bin/env python
"""URLs/s of news discovery's two hot paths, new code vs the code before it (issue 13):
URL canonicalization (w3lib now, hand-written before) and robots.txt decisions (protego
now, hand-written before), on the same 100,000 URLs.

    .venv/bin/python tests/benchmarks/news_urls.py [--urls 100000] [--repeats 3] [--baseline REV] [--cold]

Baseline: `operators/news/urls.py` and `operators/news/robots.py` as they were at git
revision REV (default d96b6eb, the last commit before the libraries replaced them),
loaded from git history at run time, so both sides run in this process on the same input.

URLs: deterministic (seeded), like the links of Kazakh news sites: hosts with and without
`www.`, an IDN host, ports, Cyrillic and Latin paths, dot segments, percent escapes,
queries with tracking parameters in random order, fragments; a tenth are relative hrefs
resolved against a page. Robots: a robots.txt with a group for us (Allow/Disallow,
`*`, `$`) and one for `*`, parsed once; every canonical URL is then asked `allowed`.
The URLs draw their words from a short list, so the robots decision's cache of re-quoted
escape runs (one per Cyrillic word) is always hit; `--cold` turns that cache off, as for
a site whose every slug is new.
Each measurement is the best of --repeats runs, in CPU seconds of this process
(repetitions alternate old/new, so a neighbour's load on a shared machine hits both). Target: new ≥ 0.8 × old.
"""
from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import time
import types
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from operators.news import robots as new_robots  # noqa: E402
from operators.news import urls as new_urls  # noqa: E402

UA = "qazflow/0.1 (+corpus builder; contact: data-team@example.org)"
ROBOTS = """User-agent: *
Disallow: /admin/
Disallow: /search
Crawl-delay: 1

User-agent: qazflow
Disallow: /private/
Allow: /private/open/
Disallow: /*.pdf$
Disallow: /*?print=
Disallow: /tag/*/feed$
Allow: /kk/
Disallow: /ru/archive/
Sitemap: https://x.kz/sitemap.xml
"""


def old_module(rev: str, path: str, name: str) -> types.ModuleType:
    source = subprocess.run(["git", "-C", str(REPO), "show", f"{rev}:{path}"], check=True, capture_output=True,
                            text=True).stdout
    module = types.ModuleType(name)
    sys.modules[name] = module  # dataclasses look their module up while building the class
    exec(compile(source, f"{rev}:{path}", "exec"), module.__dict__)
    return module


def make_urls(n: int, seed: int = 13) -> list[tuple[str, str | None]]:
    rnd = random.Random(seed)
    hosts = ["tengrinews.kz", "www.tengrinews.kz", "kaz.inform.kz", "www.inform.kz", "x.kz:8080", "Қазақ.kz",
             "NUR.KZ", "127.0.0.1:8000"]
    words = ["news", "kk", "ru", "en", "kazakhstan_news", "жаңалықтар", "новости", "private", "open", "tag",
             "sport", "2026", "01", "ai-damuy", "archive", "search", "%D0%B6", "%7euser", ".", ".."]
    params = ["utm_source=tg", "utm_medium=social", "fbclid=abc", "id=7", "page=2", "lang=kk", "print=1", "q=жаңа",
              "gclid=1", "sort=date"]
    out = []
    for i in range(n):
        path = "/" + "/".join(rnd.choice(words) for _ in range(rnd.randint(1, 5)))
        path += rnd.choice(["", "/", ".html", ".pdf", "/feed"])
        query = "&".join(rnd.sample(params, rnd.randint(0, 3)))
        url = path + ("?" + query if query else "") + rnd.choice(["", "", "#top", "#comments"])
        if i % 10 == 0:  # a relative href on a page
            out.append((url.lstrip("/"), f"https://{rnd.choice(hosts)}/kk/page.html"))
        else:
            out.append((f"{rnd.choice(['http', 'https', 'HTTPS'])}://{rnd.choice(hosts)}{url}", None))
    return out


def rate(fn, items) -> float:
    # CPU time of this process: on a shared machine, wall time mostly measures the neighbours.
    start = time.process_time()
    fn(items)
    return len(items) / (time.process_time() - start)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--urls", type=int, default=100_000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--baseline", default="d96b6eb")
    ap.add_argument("--cold", action="store_true", help="robots: no cache of re-quoted escape runs")
    args = ap.parse_args()
    if args.cold:
        new_robots._requote_run = new_robots._requote_run.__wrapped__

    old_urls = old_module(args.baseline, "operators/news/urls.py", "_old_news_urls")
    old_robots = old_module(args.baseline, "operators/news/robots.py", "_old_news_robots")
    hrefs = make_urls(args.urls)
    canonical = [c for c in (new_urls.canonicalize(u, b) for u, b in hrefs) if c]
    old_rules, new_rules = old_robots.RobotsRules.parse(ROBOTS, UA), new_robots.RobotsRules.parse(ROBOTS, UA)

    def canon(module):
        return lambda items: [module.canonicalize(u, b) for u, b in items]

    def decide(rules):
        return lambda items: [rules.allowed(u) for u in items]

    cases = {"canonicalize": (canon(old_urls), canon(new_urls), hrefs),
             "robots allowed": (decide(old_rules), decide(new_rules), canonical)}
    results = {}
    for name, (old, new, items) in cases.items():
        runs = {"old": [], "new": []}
        for _ in range(args.repeats):
            runs["old"].append(rate(old, items))
            runs["new"].append(rate(new, items))
        best = {k: max(v) for k, v in runs.items()}
        results[name] = {"n": len(items), "old_per_s": round(best["old"]), "new_per_s": round(best["new"]),
                         "ratio": round(best["new"] / best["old"], 3), "runs": runs}
    agree = sum(old_rules.allowed(u) == new_rules.allowed(u) for u in canonical)
    same = sum(old_urls.canonicalize(u, b) == new_urls.canonicalize(u, b) for u, b in hrefs)

    print(f"{'':16} {'URLs':>8} {'old URLs/s':>12} {'new URLs/s':>12} {'new/old':>8}")
    for name, r in results.items():
        print(f"{name:16} {r['n']:>8} {r['old_per_s']:>12,} {r['new_per_s']:>12,} {r['ratio']:>8.2f}")
    print(f"same canonical form: {same}/{len(hrefs)}; same robots decision: {agree}/{len(canonical)}")
    out = Path(__file__).resolve().parent / "results" / "news_urls.json"
    out.write_text(json.dumps({"args": vars(args), "results": results, "same_canonical": same,
                               "same_robots": agree}, indent=1))


if __name__ == "__main__":
    main()
