"""The shard manifest: what a trainer reads first. Written last, atomically."""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

MANIFEST_VERSION = 1


@dataclass(frozen=True)
class ShardEntry:
    path: str  # relative to the shards directory
    sha256: str
    n_docs: int
    n_tokens: int
    n_bytes: int
    first_doc_id: str
    last_doc_id: str


@dataclass
class ShardManifest:
    tokenizer: dict  # {"path", "sha256", "vocab_size", "eos_id", "kind"}
    shards: list[ShardEntry]
    mixture: dict  # {"by_source": {...}, "by_lang": {...}}: token shares summing to 1
    created: str
    qazflow_version: str
    config_hash: str
    version: int = MANIFEST_VERSION
    totals: dict = field(default_factory=dict)

    def __post_init__(self):
        self.shards = [s if isinstance(s, ShardEntry) else ShardEntry(**s) for s in self.shards]
        self.totals = {
            "n_shards": len(self.shards),
            "n_docs": sum(s.n_docs for s in self.shards),
            "n_tokens": sum(s.n_tokens for s in self.shards),
            "n_bytes": sum(s.n_bytes for s in self.shards),
        }

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "ShardManifest":
        data = json.loads(text)
        if data.get("version") != MANIFEST_VERSION:
            raise ValueError(f"unsupported manifest version {data.get('version')!r}")
        data.pop("totals", None)
        return cls(**data)
