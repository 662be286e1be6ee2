"""The document: the one row type that flows through curation.

Operators add signal columns beyond these; `validate` keeps extra columns after the
contract ones. Book and news columns are null for other sources.
"""
import pyarrow as pa

DOCUMENT = pa.schema(
    [
        pa.field("doc_id", pa.string(), nullable=False),  # stable hash of (source, uri, source_id)
        pa.field("source", pa.string(), nullable=False),  # book | news | text
        pa.field("source_id", pa.string(), nullable=False),  # record id, file:line, book_id or URL
        pa.field("uri", pa.string(), nullable=False),  # where the input came from
        pa.field("title", pa.string()),
        pa.field("text", pa.string(), nullable=False),
        pa.field("lang", pa.string()),
        pa.field("lang_score", pa.float32()),
        pa.field("n_chars", pa.int64(), nullable=False),
        # books
        pa.field("book_id", pa.string()),
        pa.field("n_pages", pa.int32()),
        pa.field("ocr_confidence", pa.float32()),
        # news
        pa.field("url", pa.string()),
        pa.field("domain", pa.string()),
        pa.field("published", pa.string()),
        pa.field("warc_file", pa.string()),
        pa.field("warc_offset", pa.int64()),
    ]
)

# A rejected document keeps every column it had, plus who rejected it and why.
REJECTED = DOCUMENT.append(pa.field("reason", pa.string(), nullable=False)).append(pa.field("detail", pa.string()))

# Documents in flight through curation: `reason` stays null while a document is kept.
CURATION = DOCUMENT.append(pa.field("reason", pa.string())).append(pa.field("detail", pa.string()))
