import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
# The documents the project came from (real kk/ru/en text), next to the repository; the
# tests that read them directly are skipped where a checkout has no such directory.
SEEDS = Path(os.environ.get("QAZFLOW_SEEDS", REPO.parent / "shared" / "seeds"))
needs_seeds = pytest.mark.skipif(not SEEDS.is_dir(), reason=f"no seed documents at {SEEDS} (set QAZFLOW_SEEDS)")
SAMPLES = REPO / "samples"

os.environ.setdefault("RAY_AUTH_MODE", "disabled")


@pytest.fixture(scope="session")
def samples() -> Path:
    return SAMPLES


@pytest.fixture(scope="session")
def ray_session():
    """One local Ray for every flow test (starting Ray costs seconds)."""
    import ray

    ray.init(num_cpus=2, include_dashboard=False, logging_level="warning", object_store_memory=400 * 1024**2)
    yield ray
    ray.shutdown()


@pytest.fixture(scope="session")
def scanned_books(tmp_path_factory, samples) -> Path:
    """Two image-only books of four pages each, made from the sample scans (OCR work that
    lasts long enough to crash or lose a node in the middle of it)."""
    import pymupdf

    books = tmp_path_factory.mktemp("scans")
    source = pymupdf.open(samples / "books" / "scanned_kk.pdf")
    for name, order in (("kitap_a", [0, 1, 0, 1]), ("kitap_b", [1, 0, 0, 1])):
        doc = pymupdf.open()
        for page in order:
            doc.insert_pdf(source, from_page=page, to_page=page)
        doc.save(books / f"{name}.pdf")
    return books


def ocr_rows(output: Path) -> list[dict]:
    """The OCR'd page rows written so far (a file a killed run was writing is skipped)."""
    import pyarrow.parquet as pq

    rows = []
    for path in (output / "pages").glob("*.parquet"):
        try:
            rows += [r for r in pq.read_table(path).to_pylist() if r["method"] == "tesseract"]
        except Exception:
            pass
    return rows


def qazflow_bin() -> str:
    found = shutil.which("qazflow", path=str(Path(os.sys.executable).parent)) or shutil.which("qazflow")
    assert found, "the qazflow command is not installed"
    return found


def run_qazflow(*args: str, timeout: int = 600, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([qazflow_bin(), *args], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})}, cwd=REPO)
