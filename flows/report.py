"""report.json (for tools) and report.html (for people): every document accounted for."""
from __future__ import annotations

import html
import json
import platform
from datetime import datetime, timezone
from importlib.metadata import PackageNotFoundError, version

from omegaconf import DictConfig, OmegaConf

from flows.storage import Storage, join, masked


def _versions() -> dict:
    found = {"python": platform.python_version()}
    for package in ("qazflow", "ray", "pyarrow", "tokenizers", "fasttext", "pymupdf", "hydra-core"):
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            found[package] = None
    return found


def stage_table(curate: dict, order: list[str]) -> list[dict]:
    """Per-stage in/out/rejected, in the order documents meet the operators."""
    rows, remaining = [], curate["documents_in"]
    rejected = dict(curate["rejected"])
    for name in order + sorted(set(rejected) - set(order)):
        n = rejected.pop(name, 0)
        rows.append({"stage": name, "in": remaining, "rejected": n, "out": remaining - n})
        remaining -= n
    return rows


def build_report(cfg: DictConfig, run: dict) -> dict:
    curate, shards = run["curate"], run["shards"]
    rejected_total = sum(curate["rejected"].values())
    return {
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "output": cfg.output,
        "versions": _versions(),
        "inputs": run["inputs"],
        "documents": {
            "in": curate["documents_in"],
            "kept": curate["kept"],
            "rejected": rejected_total,
            "rejected_by_reason": curate["rejected"],
            "balanced": curate["documents_in"] == curate["kept"] + rejected_total,
        },
        "stages": stage_table(curate, run["curation_stages"]),
        "pages": {k: run["pages"].get(k) for k in ("books", "pages", "by_method", "failed")} if run["pages"] else None,
        "news": run["news"],
        "ledger": run.get("ledger"),
        "shards": {k: shards[k] for k in ("n_shards", "n_docs", "n_tokens", "n_bytes")}
        | {k: shards.get(k) for k in ("fertility", "tokenizer_sample", "failed")},
        "sft": run.get("sft"),
        # Stages run again because the cluster lost a node or worker under them.
        "stage_retries": run.get("stage_retries", []),
        "timings": {name: run[name]["seconds"] for name in ("pages", "curate", "shards") if run[name]}
        | {"total": run["seconds"]},
        "config": masked(OmegaConf.to_container(cfg, resolve=True)),
    }


def _bars(counts: dict[str, int]) -> str:
    """A horizontal SVG bar chart: no JavaScript, no network, renders anywhere."""
    if not counts:
        return "<p>None.</p>"
    top = max(counts.values()) or 1
    rows = []
    for i, (label, n) in enumerate(sorted(counts.items(), key=lambda kv: -kv[1])):
        width = 360 * n / top
        rows.append(f'<text x="0" y="{i * 24 + 16}">{html.escape(label)}</text>'
                    f'<rect x="170" y="{i * 24 + 4}" width="{width:.1f}" height="16" fill="#4a7bb7"/>'
                    f'<text x="{176 + width:.1f}" y="{i * 24 + 16}">{n}</text>')
    return f'<svg width="600" height="{len(counts) * 24 + 8}" font-size="13">{"".join(rows)}</svg>'


def needs_attention(report: dict) -> list[tuple[str, int, str]]:
    """What a run could not do, besides rejected documents: (what, how many, examples)."""
    # A report of an older version may lack any of these.
    inputs, pages, news = report.get("inputs") or {}, report.get("pages") or {}, report.get("news") or {}
    failed_docs = (report.get("shards") or {}).get("failed") or {}
    retries = report.get("stage_retries") or []
    rows = [
        ("input paths that do not exist", len(inputs.get("missing_paths") or []),
         ", ".join(inputs.get("missing_paths") or [])[:500]),
        ("input files of a kind no source reads (left out)", len(inputs.get("ignored_files") or []),
         ", ".join(inputs.get("ignored_files") or [])[:500]),
        ("book pages that could not be read", pages.get("failed") or 0, "see the library section and pages/"),
        ("news pages that could not be fetched", sum((news.get("errors") or {}).values()),
         "; ".join(f"{n} × {why}" for why, n in (news.get("errors") or {}).items())[:500]),
        ("news sitemaps / feeds / robots.txt that could not be read",
         sum(((news.get("discovery") or {}).get("errors") or {}).values()), ""),
        ("links dropped as malformed", news.get("bad_links") or 0,
         "; ".join(f"{n} × {why}" for why, n in (news.get("bad_links_by_reason") or {}).items())),
        ("documents that failed to tokenize", failed_docs.get("documents") or 0,
         "; ".join(map(str, failed_docs.get("first") or []))[:500]),
        ("stages run again after the cluster lost work", len(retries),
         "; ".join(f"{r['stage']}: {r['error']}" for r in retries)[:500]),
    ]
    return [row for row in rows if row[1]]


def render_html(report: dict) -> str:
    docs = report["documents"]
    attention = needs_attention(report)
    attention_html = ("<table><tr><th>what</th><th>how many</th><th>examples</th></tr>" + "".join(
        f"<tr><td>{html.escape(what)}</td><td>{n}</td><td>{html.escape(detail)}</td></tr>"
        for what, n, detail in attention) + "</table>") if attention else "<p>Nothing.</p>"
    stage_rows = "".join(
        f"<tr><td>{html.escape(s['stage'])}</td><td>{s['in']}</td><td>{s['rejected']}</td><td>{s['out']}</td></tr>"
        for s in report["stages"]
    )
    shards = report["shards"]
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>qazflow report</title>
<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:4px 10px;text-align:right}}td:first-child{{text-align:left}}</style></head>
<body><h1>qazflow report</h1>
<p>Output <code>{html.escape(str(report['output']))}</code>, created {report['created']}.</p>
<h2>Documents</h2>
<p id="balance">in <b id="docs-in">{docs['in']}</b> = kept <b id="docs-kept">{docs['kept']}</b>
+ rejected <b id="docs-rejected">{docs['rejected']}</b> ({'balanced' if docs['balanced'] else 'NOT BALANCED'})</p>
<h2>Stages</h2><table><tr><th>stage</th><th>in</th><th>rejected</th><th>out</th></tr>{stage_rows}</table>
<h2>Rejected by reason</h2>{_bars(docs['rejected_by_reason'])}
<h2 id="attention">Needs attention</h2>{attention_html}
<h2>Shards</h2><p><span id="n-shards">{shards['n_shards']}</span> shards,
<span id="n-tokens">{shards['n_tokens']}</span> tokens, {shards['n_docs']} documents.</p>
<h2>Timings (s)</h2><pre>{html.escape(json.dumps(report['timings'], indent=1))}</pre>
</body></html>
"""


def write_report(cfg: DictConfig, storage: Storage, run: dict) -> dict:
    report = build_report(cfg, run)
    storage.write_text(join(cfg.output, "report.json"), json.dumps(report, indent=2, ensure_ascii=False))
    page = render_html(report)
    if report["ledger"]:
        from flows.ledger import library_section
        from flows.librarian_html import insert_library_section

        page = insert_library_section(page, library_section(cfg, storage))
    storage.write_text(join(cfg.output, "report.html"), page)
    return report
