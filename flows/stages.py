"""Stage markers: what makes a rerun after a crash skip finished work.

A stage writes its outputs, then `_stages/<name>.json` with the key of everything it
depended on. On rerun a stage whose marker carries the same key is skipped; any other
stage clears its outputs and runs again, so a half-written stage never survives.
"""
from __future__ import annotations

import hashlib
import json
import time

from flows.storage import Storage, join


def stage_key(*parts) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:16]


class StageLog:
    def __init__(self, storage: Storage, output: str, resume: bool):
        self.storage = storage
        self.output = output
        self.resume = resume

    def _marker(self, name: str) -> str:
        return join(self.output, "_stages", f"{name}.json")

    def finished(self, name: str, key: str) -> dict | None:
        uri = self._marker(name)
        if not self.resume or not self.storage.exists(uri):
            return None
        info = json.loads(self.storage.read_text(uri))
        return info if info.get("key") == key else None

    def start(self, name: str, outputs: list[str]) -> float:
        for uri in [self._marker(name), *outputs]:
            self.storage.delete(uri)
        return time.time()

    def finish(self, name: str, key: str, started: float, info: dict) -> dict:
        info = {"key": key, "started": started, "seconds": round(time.time() - started, 3), **info}
        self.storage.write_text(self._marker(name), json.dumps(info, indent=2, ensure_ascii=False))
        return info
