"""The shard manifest: what a trainer reads first. Written last, atomically.

Version 2: every shard names its partition and the tokens of each of its row groups
(a reader plans its order from the manifest alone); the tokenizer carries its special
ids; totals are broken down by source, language and partition.
"""
from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, dataclass, field

MANIFEST_VERSION = 2


def partition_key(partition: dict) -> str:
    """`{"source": "book", "lang": "kk"}` → "book/kk": the name a mixture file uses.

    The order is fixed (source, then lang, then any other column by name), not the
    dict's: the manifest is written with sorted keys and must read back to the same names.
    """
    order = {"source": 0, "lang": 1}
    keys = sorted(partition, key=lambda k: (order.get(k, 2), k))
    return "/".join(str(partition[k]) for k in keys) or "all"


@dataclass(frozen=True)
class ShardEntry:
    path: str  # relative to the shards directory
    sha256: str
    n_bytes: int
    n_docs: int  # distinct documents (a split document counts once per shard it is in)
    n_rows: int  # rows: documents or chunks of documents
    n_tokens: int
    partition: dict  # {"source": ..., "lang": ...}: the values of shards.partition_by
    row_group_tokens: list  # tokens per Parquet row group, in file order
    row_group_rows: list  # rows per Parquet row group
    # documents per row group: a row group never cuts a document, so a reader knows
    # from the manifest alone how many eos tokens each row group adds to the stream
    row_group_docs: list

    @property
    def partition_key(self) -> str:
        return partition_key(self.partition)


@dataclass
class ShardManifest:
    tokenizer: dict  # {"path", "sha256", "kind", "vocab_size", "bos_id", "eos_id", "pad_id", "trained", ...}
    shards: list[ShardEntry]
    created: str
    qazflow_version: str
    config_hash: str
    partition_by: list = field(default_factory=lambda: ["source", "lang"])
    max_doc_tokens: int = 0
    version: int = MANIFEST_VERSION
    totals: dict = field(default_factory=dict)  # derived from shards; rewritten on load
    by_source: dict = field(default_factory=dict)  # tokens per source, per language (from the writer)
    by_lang: dict = field(default_factory=dict)
    tokenizer_sample: dict = field(default_factory=dict)  # shares of the tokenizer's training text
    kind: str = "pretrain"

    def __post_init__(self):
        self.shards = [s if isinstance(s, ShardEntry) else ShardEntry(**s) for s in self.shards]
        by_partition = Counter()
        for s in self.shards:
            by_partition[s.partition_key] += s.n_tokens
        self.totals = {
            "n_shards": len(self.shards),
            "n_docs": sum(s.n_docs for s in self.shards),
            "n_rows": sum(s.n_rows for s in self.shards),
            "n_tokens": sum(s.n_tokens for s in self.shards),
            "n_bytes": sum(s.n_bytes for s in self.shards),
            "by_partition": dict(sorted(by_partition.items())),
            "by_source": dict(sorted(self.by_source.items())),
            "by_lang": dict(sorted(self.by_lang.items())),
        }

    @property
    def partitions(self) -> dict[str, int]:
        """Tokens per partition key."""
        return self.totals["by_partition"]

    def entry(self, path: str) -> ShardEntry:
        for s in self.shards:
            if s.path == path:
                return s
        raise KeyError(path)

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "ShardManifest":
        data = json.loads(text)
        if data.get("version") != MANIFEST_VERSION:
            raise ValueError(f"unsupported manifest version {data.get('version')!r} (expected {MANIFEST_VERSION})")
        data.pop("totals", None)
        return cls(**data)
