"""Which input files a run reads and which it leaves out (flows/inputs.py; no Ray)."""
from flows.inputs import files_left_out


def test_a_file_one_source_passes_over_is_left_out_only_if_no_source_reads_it():
    # samples/bad is given to inputs.text and inputs.books: its PDFs are books, its JSONL text.
    ignored = [["bad/corrupt.pdf", "bad/notes.xlsx"], ["bad/malformed.jsonl", "bad/notes.xlsx"], []]
    read = [["bad/malformed.jsonl"], [], ["bad/corrupt.pdf"]]
    assert files_left_out(ignored, read) == ["bad/notes.xlsx"]

