"""The ledger written into an output directory across two runs, and `qazflow status`
reading it: real files, no Ray (the ledger is one small table on the driver)."""
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from omegaconf import OmegaConf
from rich.console import Console

from flows.cli import main
from flows.config import load_config
from flows.ledger import read_ledger, write_ledger
from flows.status import show_status
from flows.storage import Storage
from operators.books.catalog import match_books, parse_catalog
from schemas import DOCUMENT, LEDGER, PAGE, REJECTED, validate

CATALOG = """book_id;title;author;year;language;collection;file;shelf
KZ-1;Абай жолы;Мұхтар Әуезов;1942;kk;rare_books;abai.pdf;A-12
KZ-2;Война и мир;Лев Толстой;1869;ru;classics;war.pdf;B-3
KZ-3;Қазақ тілі оқулығы;Ахмет Байтұрсынұлы;1914;kk;rare_books;oqulyq.pdf;
KZ-4;Қара сөздер;Абай Құнанбайұлы;1918;kk;classics;qara_soz.pdf;
""".encode("utf-8-sig")
RUN1, RUN2 = "2024-05-01T09:00:00+00:00", "2024-05-02T10:00:00+00:00"


def page(book_id, n, method, confidence=None, error=None, language=None, detected=None):
    return {"book_id": book_id, "page": n, "uri": f"/scans/{book_id}.pdf", "method": method,
            "text": "мәтін" if error is None else None, "confidence": confidence, "error": error,
            "config_hash": "c1", "language": language, "detected_language": detected}


def document(book_id, reason=None, detail=None):
    return {"doc_id": f"d-{book_id}", "source": "book", "source_id": book_id, "uri": f"/scans/{book_id}.pdf",
            "text": "мәтін", "n_chars": 5, "book_id": book_id, "reason": reason, "detail": detail}


def write_parquet(path: Path, rows: list[dict], schema: pa.Schema):
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(validate(pa.Table.from_pylist(rows), schema), path)


def write_library(output: Path, scans: Path) -> dict:
    """Two runs of a small library into `output`; returns the summaries."""
    for name in ("abai.pdf", "war.pdf", "qara_soz.pdf", "broken.pdf"):
        (scans / name).parent.mkdir(parents=True, exist_ok=True)
        (scans / name).write_bytes(b"%PDF-")
    cfg = OmegaConf.create({"output": str(output), "ledger": {"low_confidence": 60}})
    storage = Storage()
    catalog = parse_catalog(CATALOG, "catalog.csv")

    # Run 1: abai (kk, text layer + OCR), war (ru, OCR), a broken uncatalogued PDF; qara_soz not scanned yet.
    match = match_books(catalog.rows, [str(scans / n) for n in ("abai.pdf", "war.pdf", "broken.pdf")], [str(scans)])
    write_parquet(output / "pages/run1.parquet", [
        page("KZ-1", 1, "textlayer", language="kk"), page("KZ-1", 2, "tesseract", 91.0, language="kk"),
        page("KZ-1", 3, "tesseract", 45.0, language="kk"),
        page("KZ-2", 1, "easyocr", 80.0, language="ru", detected="kk"),  # the catalog's ru is wrong
        page("KZ-2", 2, "easyocr", 70.0, language="ru", detected="kk"),
        page("broken", 0, "none", error="cannot open PDF: no objects found"),
    ], PAGE)
    write_parquet(output / "documents/part-0.parquet", [document("KZ-1")], DOCUMENT)
    write_parquet(output / "rejected/part-0.parquet", [
        document("KZ-2", "LanguageFilter", "lang=tr (0.41)"), document("broken", "BookAssembly", "cannot open PDF"),
        {**document("x"), "source": "text", "source_id": "t-1", "book_id": None, "reason": "C4Quality",
         "detail": "lorem"},
    ], REJECTED)
    first = write_ledger(cfg, storage, RUN1, match.books, match.missing, catalog_problems=catalog.problems)

    # Run 2: qara_soz arrives (one page fails, one has low confidence); war is kept this time;
    # the librarian corrected a title in the catalog.
    catalog = parse_catalog(CATALOG.decode("utf-8-sig").replace("Абай жолы", "Абай жолы. 1-кітап").encode())
    match = match_books(catalog.rows, [str(scans / n) for n in ("war.pdf", "qara_soz.pdf")], [str(scans)])
    write_parquet(output / "pages/run2.parquet", [
        page("KZ-4", 1, "tesseract", 30.0, language="kk"), page("KZ-4", 2, "tesseract", 95.0, language="kk"),
        page("KZ-4", 3, "tesseract", error="cannot render page: bad image", language="kk"),
    ], PAGE)
    write_parquet(output / "documents/part-0.parquet", [document("KZ-1"), document("KZ-2"), document("KZ-4")],
                  DOCUMENT)
    write_parquet(output / "rejected/part-0.parquet", [document("broken", "BookAssembly", "cannot open PDF")],
                  REJECTED)
    second = write_ledger(cfg, storage, RUN2, match.books, match.missing)
    return {"first": first, "second": second}


def write_curation_report(output: Path) -> None:
    """The report.json a build of the library would leave (one book rejected by assembly)."""
    report = {"created": RUN2, "output": str(output),
              "documents": {"in": 4, "kept": 3, "rejected": 1, "rejected_by_reason": {"BookAssembly": 1},
                            "balanced": True},
              "stages": [{"stage": "BookAssembly", "in": 4, "rejected": 1, "out": 3}],
              "pages": None, "shards": {"n_shards": 1, "n_docs": 3, "n_tokens": 42, "n_bytes": 1},
              "timings": {"total": 1.0}}
    (output / "report.json").write_text(json.dumps(report))


@pytest.fixture
def library(tmp_path):
    output = tmp_path / "out"
    summaries = write_library(output, tmp_path / "scans")
    return output, summaries


def test_first_run_summary_counts_books_pages_and_statuses(library):
    _, summaries = library
    first = summaries["first"]
    assert first["books"] == 5 and first["catalogued"] == 4
    assert first["by_status"] == {"queued": 2, "in progress": 0, "done": 0, "failed": 1, "in corpus": 1,
                                  "rejected": 1}
    assert first["pages"]["total"] == 5 and first["pages"]["textlayer"] == 1 and first["pages"]["ocr"] == 4
    assert first["pages"]["low_confidence"] == 1
    assert first["collections"]["rare_books"] == {"books": 2, "pages_total": 3, "in corpus": 1}


def test_second_run_keeps_earlier_books_and_first_run(library):
    output, summaries = library
    table = pq.read_table(output / "ledger/ledger.parquet")
    validate(table, LEDGER, allow_extra=False)
    assert sorted((output / "ledger").iterdir()) == [output / "ledger/ledger.parquet"]  # no temp files left
    rows = {r["book_id"]: r for r in table.to_pylist()}
    assert set(rows) == {"KZ-1", "KZ-2", "KZ-3", "KZ-4", "broken"}
    kk = rows["KZ-1"]  # not scanned in run 2: as run 1 left it, but for the catalog's correction
    assert (kk["first_run"], kk["last_run"], kk["status"]) == (RUN1, RUN1, "in corpus")
    assert (kk["pages_total"], kk["pages_textlayer"], kk["pages_ocr"], kk["low_confidence_pages"]) == (3, 1, 2, 1)
    assert kk["mean_confidence"] == pytest.approx(68.0)
    assert json.loads(kk["metadata"]) == {"shelf": "A-12"} and kk["title"] == "Абай жолы. 1-кітап"  # corrected
    war = rows["KZ-2"]  # in both runs: rejected then kept
    assert (war["first_run"], war["last_run"], war["status"]) == (RUN1, RUN2, "in corpus")
    assert war["language_warning"] == "catalog language looks wrong: 2 of 2 OCR'd pages read as kk (catalog: ru)"
    assert all(rows[k]["language_warning"] is None for k in rows if k != "KZ-2")
    new = rows["KZ-4"]
    assert (new["first_run"], new["last_run"], new["status"], new["pages_failed"], new["low_confidence_pages"]) == \
        (RUN1, RUN2, "in corpus", 1, 1)  # catalogued (queued) since run 1, scanned in run 2
    assert (rows["KZ-3"]["status"], rows["KZ-3"]["last_run"]) == ("queued", RUN1)  # still no scan
    assert rows["broken"]["status"] == "failed" and "cannot open PDF" in rows["broken"]["status_detail"]
    assert not rows["broken"]["catalogued"]
    assert summaries["second"]["by_status"]["in corpus"] == 3
    assert read_ledger(Storage(), str(output)) == [rows[k] for k in sorted(rows)]


def status_config(output: Path, **status):
    cfg = load_config([f"output={output}"])
    OmegaConf.set_struct(cfg, False)
    cfg.status = {"collection": None, "books": False, **status}
    return cfg


def run_status(cfg) -> tuple[int, str]:
    console = Console(record=True, width=220, color_system=None)
    code = show_status(cfg, console)
    return code, console.export_text()


def test_status_prints_collections_and_books_and_writes_report_html(library):
    output, _ = library
    code, text = run_status(status_config(output))
    assert code == 0
    cells = {line.split()[0]: line.split()[1:] for line in text.splitlines() if line.strip()}
    assert cells["rare_books"][:5] == ["2", "3", "1", "2", "0"]  # books, pages, text layer, OCR'd, failed
    assert cells["classics"][:5] == ["2", "5", "0", "4", "1"] and cells["(uncatalogued)"][0] == "1"
    assert cells["all"][-2:] == ["3", "0"]  # in corpus, rejected
    assert "rare_books: 1 queued; (uncatalogued): 1 failed" in text
    assert "catalog language looks wrong: KZ-2 — 2 of 2 OCR'd pages read as kk (catalog: ru)" in text
    assert "KZ-1" not in text  # books only with books=true
    html = (output / "report.html").read_text()
    assert 'id="library"' in html and 'data-collection="rare_books"' in html
    to_check = html.split('id="to-check"', 1)[1].split("</table>", 1)[0]
    assert "KZ-2" in to_check and "read as kk (catalog: ru)" in to_check and "KZ-1" not in to_check

    code, text = run_status(status_config(output, books=True, collection="classics"))
    assert code == 0 and "KZ-4" in text and "KZ-2" in text and "KZ-1" not in text
    assert "Қара сөздер" in text
    code, text = run_status(status_config(output, collection="no_such"))
    assert code == 1 and "rare_books" in text


def test_status_keeps_the_curation_report_and_the_cli_runs(library, capsys):
    output, _ = library
    write_curation_report(output)
    assert main(["status", f"output={output}"]) == 0
    out = capsys.readouterr().out
    assert "BookAssembly" in out and "rare_books" in out
    html = (output / "report.html").read_text()
    assert 'id="docs-in">4<' in html and 'id="library"' in html
    assert main(["status", f"output={output}"]) == 0  # again: the section is replaced, not repeated
    assert (output / "report.html").read_text().count('id="library"') == 1
    capsys.readouterr()
    assert main(["status", f"output={output}", "collection=classics", "books=true"]) == 0  # the short forms
    out = capsys.readouterr().out
    assert "KZ-4" in out and "KZ-1" not in out


def test_status_without_a_build_says_so(tmp_path):
    code, text = run_status(status_config(tmp_path / "nothing"))
    assert code == 1 and "has a build run there" in text


def test_status_counts_a_page_once_when_a_crash_left_it_in_a_journal_and_a_compacted_file(library):
    output, _ = library
    _, before = run_status(status_config(output))
    pages = output / "pages"
    # An OCR journal (this run's, still open, or one a crash left beside the compacted file
    # holding the same rows), and a half-written temporary: neither changes a count.
    for f in list(pages.glob("*.parquet")):
        (pages / f"ocr-20240502T100000Z-abcdef-actor1-00000.{f.stem}.parquet").write_bytes(f.read_bytes())
    (pages / "pages-x.parquet.tmp-1").write_bytes(b"PAR1")
    code, after = run_status(status_config(output))
    assert code == 0 and after == before
