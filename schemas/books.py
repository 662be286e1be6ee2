"""Book pages and the digitization ledger (one row per book)."""
import pyarrow as pa

PAGE = pa.schema(
    [
        pa.field("book_id", pa.string(), nullable=False),
        pa.field("page", pa.int32(), nullable=False),  # 1-based, reading order
        pa.field("uri", pa.string(), nullable=False),
        pa.field("method", pa.string(), nullable=False),  # textlayer | tesseract | easyocr | none
        pa.field("route_reason", pa.string()),  # why this method was chosen
        pa.field("text", pa.string()),
        pa.field("confidence", pa.float32()),  # mean word confidence 0..100, null for text layer
        pa.field("dpi", pa.int32()),
        pa.field("engine", pa.string()),  # engine name and version
        pa.field("config_hash", pa.string()),  # resume key together with (book_id, page)
        pa.field("seconds", pa.float32()),
        pa.field("error", pa.string()),  # null when the page was read
        # Language check of OCR'd pages: the Tesseract languages of the kept reading, the
        # language its text turned out to be in, and why the page was OCR'd a second time
        # (null when it was not); `ocr_attempts` is JSON, one entry per reading.
        pa.field("ocr_language", pa.string()),
        pa.field("detected_language", pa.string()),
        pa.field("reocr_reason", pa.string()),
        pa.field("ocr_attempts", pa.string()),
        # 2: read again because the book as a whole reads as a language this page was never
        # read for (books.page_language.book_pass_plan); among rows of one page, the higher
        # pass wins. Null: the first pass.
        pa.field("ocr_pass", pa.int8()),
        # Kazakh letters OCR misread as look-alikes, repaired on the page (books.kazakh_letters).
        pa.field("letters_repaired", pa.int32()),
    ]
)

LEDGER = pa.schema(
    [
        pa.field("book_id", pa.string(), nullable=False),
        pa.field("title", pa.string()),
        pa.field("author", pa.string()),
        pa.field("year", pa.string()),
        pa.field("language", pa.string()),
        pa.field("collection", pa.string()),
        pa.field("file", pa.string()),
        pa.field("catalogued", pa.bool_()),
        pa.field("metadata", pa.string()),  # JSON of the remaining catalog columns
        pa.field("pages_total", pa.int32()),
        pa.field("pages_textlayer", pa.int32()),
        pa.field("pages_ocr", pa.int32()),
        pa.field("pages_failed", pa.int32()),
        pa.field("mean_confidence", pa.float32()),
        pa.field("low_confidence_pages", pa.int32()),
        pa.field("status", pa.string()),  # queued | in progress | done | failed | in corpus | rejected
        pa.field("status_detail", pa.string()),
        # What a librarian should look at besides the status: the catalog's language
        # disagrees with the text ("catalog language looks wrong: ..."), the scan file is
        # damaged ("repaired: N of M pages recovered"). Null when nothing is wrong.
        pa.field("language_warning", pa.string()),
        pa.field("file_warning", pa.string()),
        pa.field("first_run", pa.string()),
        pa.field("last_run", pa.string()),
    ]
)
