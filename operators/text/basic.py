"""The minimal curation steps every run has: a length gate and exact-duplicate keys."""
from __future__ import annotations

import hashlib
import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from operators.base import DocumentFilter

_SPACE = re.compile(r"\s+")


class LengthFilter(DocumentFilter):
    """Rejects documents too short to teach anything or too long to be one document."""

    def __init__(self, min_chars: int = 200, max_chars: int = 2_000_000):
        self.min_chars = min_chars
        self.max_chars = max_chars

    def filter(self, doc: dict):
        n = doc["n_chars"]
        if n < self.min_chars:
            return False, f"n_chars={n} < min_chars={self.min_chars}"
        if n > self.max_chars:
            return False, f"n_chars={n} > max_chars={self.max_chars}"
        return True


def exact_key(text: str) -> str:
    """Texts that differ only in case or whitespace are the same document."""
    return hashlib.sha1(_SPACE.sub(" ", text).strip().casefold().encode("utf-8")).hexdigest()


def add_exact_keys(table: pa.Table) -> pa.Table:
    """Adds `dedup_key`: the text key for kept rows; the doc_id for rejected ones, so a
    rejected row always forms a group of its own and is never chosen over a kept one.
    A document whose key cannot be computed is rejected (ExactDedup, with the exception)."""
    keys, failures = [], {}
    for i, (text, reason, doc_id) in enumerate(zip(table.column("text").to_pylist(),
                                                   table.column("reason").to_pylist(),
                                                   table.column("doc_id").to_pylist())):
        if reason is None:
            try:
                keys.append(exact_key(text))
                continue
            except Exception as exc:  # one document's surprise costs that document only
                failures[i] = f"cannot compute the exact-duplicate key: {type(exc).__name__}: {exc}"
        keys.append(f"rejected:{doc_id}")
    if failures:
        for name, value in (("reason", lambda i, old: "ExactDedup" if i in failures else old),
                            ("detail", lambda i, old: failures.get(i, old))):
            index = table.schema.get_field_index(name)
            values = [value(i, old) for i, old in enumerate(table.column(name).to_pylist())]
            table = table.set_column(index, name, pa.array(values, pa.string()))
    return table.append_column("dedup_key", pa.array(keys, pa.string()))


def mark_exact_duplicates(rows: pa.Table) -> pa.Table:
    """Rows of any number of `dedup_key`s (all rows of each): per key keeps the smallest
    doc_id and rejects the rest with reason ExactDedup and the id of the document they
    duplicate. Vectorized, so one call can take a whole shuffle shard of keys."""
    if rows.num_rows > 1:
        rows = rows.take(pc.sort_indices(rows, sort_keys=[("dedup_key", "ascending"), ("doc_id", "ascending")]))
        keys = rows.column("dedup_key").to_numpy(zero_copy_only=False)
        first = np.ones(len(keys), bool)
        first[1:] = keys[1:] != keys[:-1]
        if not first.all():
            keeper = np.maximum.accumulate(np.where(first, np.arange(len(keys)), 0))
            ids = rows.column("doc_id").to_pylist()
            reasons, details = rows.column("reason").to_pylist(), rows.column("detail").to_pylist()
            for i in np.flatnonzero(~first):
                reasons[i], details[i] = "ExactDedup", f"exact duplicate of {ids[keeper[i]]}"
            for name, values in (("reason", reasons), ("detail", details)):
                rows = rows.set_column(rows.schema.get_field_index(name), name, pa.array(values, pa.string()))
    return rows.drop_columns(["dedup_key"])
