"""The two shapes every document operator takes.

A batch flowing through curation is a `pyarrow.Table` of documents with two extra
columns, `reason` and `detail`: null while a document is kept, set by the first
operator that rejects it. Later operators pass rejected rows through untouched, so a
rejected row keeps exactly the columns it had when rejected and nothing is dropped.
"""
from __future__ import annotations

import pyarrow as pa

Verdict = bool | tuple[bool, str]


class DocumentOperator:
    """Maps kept documents one at a time; subclasses implement `process(doc) -> doc`.

    `signals` declares the Arrow type of every column the operator adds, so batches
    agree on a schema even when a batch holds only rejected rows.
    """

    signals: dict[str, pa.DataType] = {}
    name = "DocumentOperator"

    def __init_subclass__(cls, **kwargs):
        # A class attribute, not type(self): Ray wraps actor classes in subclasses of its own.
        super().__init_subclass__(**kwargs)
        cls.name = cls.__name__

    def process(self, doc: dict) -> dict:
        raise NotImplementedError

    def reject(self, doc: dict, detail: str) -> dict:
        doc["reason"] = self.name
        doc["detail"] = detail
        return doc

    def __call__(self, table: pa.Table) -> pa.Table:
        rows = table.to_pylist()
        out = []
        for row in rows:
            if row.get("reason") is None:
                try:
                    row = self.process(row)
                except Exception as exc:  # one bad document must not crash the run
                    row = self.reject(row, f"{type(exc).__name__}: {exc}")
            out.append(row)
        return rows_to_table(out, table.schema, self.signals)


class DocumentFilter(DocumentOperator):
    """datatrove-style: `filter(doc)` returns True, or (False, detail) to reject."""

    def filter(self, doc: dict) -> Verdict:
        raise NotImplementedError

    def process(self, doc: dict) -> dict:
        verdict = self.filter(doc)
        keep, detail = (verdict, "") if isinstance(verdict, bool) else verdict
        return doc if keep else self.reject(doc, detail)


def rows_to_table(rows: list[dict], schema: pa.Schema, extra: dict[str, pa.DataType] | None = None) -> pa.Table:
    """Rebuild a table from dicts keeping `schema`'s types, adding the `extra` columns."""
    # A column that was all-null so far has no type yet: take it from the values.
    fields = [pa.field(f.name, pa.array([r.get(f.name) for r in rows]).type) if pa.types.is_null(f.type) else f
              for f in schema]
    names = set(schema.names)
    for name, type_ in (extra or {}).items():
        if name not in names:
            fields.append(pa.field(name, type_))
            names.add(name)
    for row in rows:  # columns an operator added without declaring them
        for name, value in row.items():
            if name not in names:
                fields.append(pa.field(name, pa.array([value]).type))
                names.add(name)
    full = pa.schema(fields)
    return pa.Table.from_pylist(rows, schema=full)
