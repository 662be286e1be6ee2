"""`qazflow status`: what a run produced, for people (rich tables)."""
from __future__ import annotations

import json

from omegaconf import DictConfig
from rich.console import Console
from rich.table import Table

from flows.storage import join


def show_status(cfg: DictConfig) -> int:
    from flows.build import storage_for

    storage = storage_for(cfg)
    uri = join(cfg.output, "report.json")
    if not storage.exists(uri):
        print(f"qazflow: no report at {uri}: has a build finished there?")
        return 1
    report = json.loads(storage.read_text(uri))
    console = Console()
    table = Table(title=f"qazflow run at {cfg.output}")
    for column in ("stage", "in", "rejected", "out"):
        table.add_column(column, justify="left" if column == "stage" else "right")
    for stage in report["stages"]:
        table.add_row(stage["stage"], str(stage["in"]), str(stage["rejected"]), str(stage["out"]))
    console.print(table)
    docs = report["documents"]
    console.print(f"documents: {docs['in']} in = {docs['kept']} kept + {docs['rejected']} rejected")
    if report.get("pages"):
        console.print(f"pages: {report['pages']['pages']} from {report['pages']['books']} books "
                      f"{report['pages']['by_method']}")
    return 0
