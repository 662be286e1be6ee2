"""Building document rows: the identity every source shares."""
from __future__ import annotations

import hashlib


def doc_id_for(source: str, uri: str, source_id: str) -> str:
    """Stable id: the same input record gets the same id in every run and on every node."""
    key = "\x1f".join((source, uri, source_id)).encode("utf-8")
    return hashlib.sha256(key).hexdigest()[:24]


def new_document(source: str, uri: str, source_id: str, text: str, title: str | None = None, **columns) -> dict:
    return {
        "doc_id": doc_id_for(source, uri, source_id),
        "source": source,
        "source_id": source_id,
        "uri": uri,
        "title": title,
        "text": text,
        "n_chars": len(text),
        "reason": None,
        "detail": None,
        **columns,
    }


def error_document(source: str, uri: str, source_id: str, operator: str, detail: str, **columns) -> dict:
    """An input that could not be read still becomes a row, rejected by the operator that tried."""
    doc = new_document(source, uri, source_id, "", **columns)
    doc["reason"] = operator
    doc["detail"] = detail
    return doc
