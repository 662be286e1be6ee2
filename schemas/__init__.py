"""Data contracts: Arrow schemas and the shard manifest. Pure pyarrow, no Ray, no I/O."""
from schemas.document import CURATION, DOCUMENT, REJECTED
from schemas.books import LEDGER, PAGE
from schemas.shard import SHARD
from schemas.manifest import ShardEntry, ShardManifest
from schemas.validate import SchemaError, validate

__all__ = [
    "DOCUMENT", "REJECTED", "CURATION", "PAGE", "LEDGER", "SHARD",
    "ShardEntry", "ShardManifest", "SchemaError", "validate",
]
