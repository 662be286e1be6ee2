#!/usr/bin/env python
"""OCR accuracy and page routing of the pipeline's book path, on pages with ground truth.

    .venv/bin/python tests/benchmarks/ocr_eval.py [--quick] [--workers 2]

Pages are typeset from real Kazakh, Russian, English and mixed kk/ru text (samples/text,
../shared/seeds) with PyMuPDF `insert_textbox` and a TrueType font, so the ground truth
is exactly the text on the page (read back from the vector page). Four kinds of PDF page:

  born_digital    the vector text page itself (a real text layer)       → expect textlayer
  scanned         an image of it (200 or 300 dpi, degraded), no text    → expect OCR
  garbage_layer   a clean 300-dpi image + an invisible (render mode 3)
                  layer of random characters, as old scans carry          → expect OCR
  hidden_ocr      a clean image + an invisible layer of the right text   → expect textlayer

Every PDF goes through the pipeline's own classes, without Ray: `ReadBookPages` (text layer
+ `text_layer_verdict` routing with flows/conf/ocr routing settings) then `OcrPages` (render
at ocr.dpi + `OcrPage(TesseractOCR)` with the language routing of flows/conf/ocr/common.yaml:
kk→kaz+rus, ru→rus+eng, en→eng+rus, mixed (no catalog language)→default kaz+rus), the
language check and Kazakh letter repair, one OCR worker process per core. Reported: CER (and WER) per language, degradation, scan dpi and
font; precision/recall of the Kazakh-specific letters; routing accuracy per page kind; and
an ablation: the same pages as books without a catalog language (`default` languages,
then the language check); per-letter recall with and without the language check and
letter repair; and Kazakh books catalogued as Russian, with the check and trusting the catalog.

Note on dpi: a "200 dpi" page is a 200-dpi scan image in the PDF; the pipeline renders every
PDF page at ocr.dpi (300), so Tesseract sees it upsampled, as it would in production.
"""
from __future__ import annotations

import argparse
import io
import os
import random
import sys
import tempfile
import time
from collections import Counter, defaultdict
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C  # noqa: E402

import numpy as np  # noqa: E402
import pyarrow as pa  # noqa: E402
import pymupdf  # noqa: E402
from PIL import Image, ImageFilter  # noqa: E402

NAME = "ocr_eval"
FONT_FILES = {
    "DejaVuSans": "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "DejaVuSerif": "/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf",
    "NotoSans": "/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf",
    "NotoSerif": "/usr/share/fonts/truetype/noto/NotoSerif-Regular.ttf",
}
LANGS = ["kk", "ru", "en", "mixed"]
DEGRADATIONS = ["clean", "rotate", "blur", "noise", "jpeg", "all"]
GARBAGE_KINDS = ["ascii_symbols", "mojibake_utf8", "mojibake_cp1251", "private_use", "no_spaces", "random_words"]
PAGE_W, PAGE_H = 420, 595  # A5 in points
MARGIN = 42
FONT_SIZE = 11
TARGET_CHARS = 1400


# ------------------------------------------------------------------ text ----
def page_texts(pools: dict[str, list[str]], lang: str, n: int, rng: random.Random) -> list[str]:
    """n page texts of ~TARGET_CHARS from consecutive real paragraphs, starting at random places."""
    if lang == "mixed":  # alternate Kazakh and Russian paragraphs
        seq = [p for pair in zip(pools["kk"], pools["ru"]) for p in pair]
    else:
        seq = pools[lang]
    out = []
    for _ in range(n):
        start = rng.randrange(len(seq))
        paras, size, i = [], 0, start
        while size < TARGET_CHARS:
            p = seq[i % len(seq)]
            if size + len(p) > TARGET_CHARS:
                cut = [s for s in C.sentences(p)]
                take = []
                for s in cut:
                    if size + len(" ".join(take + [s])) > TARGET_CHARS:
                        break
                    take.append(s)
                p = " ".join(take) if take else p[: TARGET_CHARS - size].rsplit(" ", 1)[0]
                paras.append(p)
                break
            paras.append(p)
            size += len(p) + 1
            i += 1
        out.append("\n".join(paras))
    return out


def missing_glyphs(font_file: str, text: str) -> str:
    font = pymupdf.Font(fontfile=font_file)
    return "".join(sorted({c for c in text if not c.isspace() and not font.has_glyph(ord(c))}))


def typeset(doc: pymupdf.Document, text: str, font_file: str) -> tuple[int, str]:
    """A vector text page; returns its index and the text that actually landed on it."""
    while True:
        page = doc.new_page(width=PAGE_W, height=PAGE_H)
        rc = page.insert_textbox(pymupdf.Rect(MARGIN, MARGIN, PAGE_W - MARGIN, PAGE_H - MARGIN), text,
                                 fontsize=FONT_SIZE, fontname="F0", fontfile=font_file, align=0)
        if rc >= 0:
            return page.number, page.get_text()
        doc.delete_page(-1)  # did not fit: drop the last sentence and retry
        text = text.rsplit(" ", 8)[0]


# ----------------------------------------------------------- degradation ----
def render(page: pymupdf.Page, dpi: int) -> Image.Image:
    pix = page.get_pixmap(dpi=dpi, colorspace=pymupdf.csGRAY, alpha=False)
    return Image.frombytes("L", (pix.width, pix.height), pix.samples, "raw", "L", pix.stride)


# Levels chosen where Tesseract starts to lose characters on these pages (measured on a
# Kazakh DejaVuSerif page: blur 2.4 px or noise sigma 70 at 300 dpi break it outright).
LEVELS = {"rotate": 1.5, "blur": 1.8, "noise": 50.0, "jpeg": 10}
ALL_LEVELS = {"rotate": 1.5, "blur": 1.2, "noise": 40.0, "jpeg": 15}  # "all": every artefact, milder each


def degrade(image: Image.Image, kind: str, dpi: int, rng: random.Random) -> tuple[bytes, dict]:
    """Degraded scan as (encoded bytes, parameters). JPEG pages stay JPEG inside the PDF.

    Blur radius is in pixels at 300 dpi and scaled with the scan dpi."""
    params = {}
    steps = ["rotate", "blur", "noise", "jpeg"] if kind == "all" else [kind]
    level = ALL_LEVELS if kind == "all" else LEVELS
    if "rotate" in steps:
        angle = rng.choice([-1, 1]) * level["rotate"]
        image = image.rotate(angle, resample=Image.BICUBIC, expand=False, fillcolor=255)
        params["angle"] = angle
    if "blur" in steps:
        radius = level["blur"] * dpi / 300
        image = image.filter(ImageFilter.GaussianBlur(radius))
        params["blur_radius_px"] = round(radius, 2)
    if "noise" in steps:
        sigma = level["noise"]
        pixels = np.asarray(image, dtype=np.float32)
        noise = np.random.default_rng(rng.randrange(2**32)).normal(0, sigma, pixels.shape)
        image = Image.fromarray(np.clip(pixels + noise, 0, 255).astype(np.uint8), "L")
        params["noise_sigma"] = sigma
    buf = io.BytesIO()
    if "jpeg" in steps:
        image.save(buf, "JPEG", quality=level["jpeg"])
        params["jpeg_quality"] = level["jpeg"]
    else:
        image.save(buf, "PNG", compress_level=1)
    return buf.getvalue(), params


def garbage(kind: str, n: int, rng: random.Random, russian: str) -> str:
    """An invisible layer's text. Mojibake is made from Russian text whatever the page shows:
    the layer is garbage either way, and English text would survive a Latin-1 misreading."""
    cyr = "абвгдеёжзийклмнопрстуфхцчшщъыьэюяәғқңөұүһі"
    if kind == "ascii_symbols":
        pool = "abcdefghijklmnopqrstuvwxyz0123456789!@#$%^&*()_+-=[]{};:'\",.<>/?\\|~` "
        return "".join(rng.choice(pool) for _ in range(n))
    if kind == "mojibake_utf8":  # UTF-8 Cyrillic read as Latin-1: "ÐŸÑ€Ð¸Ð²ÐµÑ‚"
        return russian[: n // 2].encode("utf-8").decode("latin-1")
    if kind == "mojibake_cp1251":  # cp1251 Cyrillic read as Latin-1: "Ïðèâåò", the classic of old PDFs
        return russian[:n].encode("cp1251", errors="replace").decode("latin-1")
    if kind == "private_use":  # broken font encodings map glyphs to the PUA
        return "".join(rng.choice([chr(rng.randrange(0xE000, 0xE0FF)), " "]) for _ in range(n))
    if kind == "no_spaces":
        return "".join(rng.choice(cyr) for _ in range(n))
    if kind == "random_words":  # random letters in word-sized groups: looks like language to a heuristic
        words = []
        while sum(map(len, words)) < n:
            words.append("".join(rng.choice(cyr) for _ in range(rng.randint(2, 9))))
        return " ".join(words)
    raise ValueError(kind)


def image_page(doc: pymupdf.Document, image_bytes: bytes) -> pymupdf.Page:
    page = doc.new_page(width=PAGE_W, height=PAGE_H)
    page.insert_image(page.rect, stream=image_bytes)
    return page


def invisible_text(page: pymupdf.Page, text: str, font_file: str) -> None:
    rect = pymupdf.Rect(MARGIN, MARGIN, PAGE_W - MARGIN, PAGE_H - MARGIN)
    size = FONT_SIZE
    while page.insert_textbox(rect, text, fontsize=size, fontname="F1", fontfile=font_file, render_mode=3) < 0:
        size -= 1  # insert_textbox writes nothing when the text does not fit


# -------------------------------------------------------------- building ----
def build_pages(args, workdir: Path) -> tuple[list[dict], dict]:
    """Writes one PDF per (kind, language, font[, dpi]) and returns page specs with ground truth."""
    rng = random.Random(20240601)
    pools = C.paragraphs()
    if getattr(args, "fonts", None):  # ocr_wrong_catalog.py builds its pages here too, without --fonts
        fonts = {Path(f).stem: f for f in args.fonts}
    else:
        fonts = {k: v for k, v in FONT_FILES.items() if os.path.exists(v)}
        if args.quick:
            fonts = {k: fonts[k] for k in ("DejaVuSans", "NotoSerif") if k in fonts}
    dpis = [300] if args.quick else [200, 300]
    degradations = ["clean", "all"] if args.quick else DEGRADATIONS
    garbage_langs = ["kk", "ru"] if args.quick else LANGS
    specs: list[dict] = []
    glyph_gaps = {}

    def save(doc, name):
        path = workdir / f"{name}.pdf"
        doc.save(path, garbage=3, deflate=True)
        return str(path)

    for lang in LANGS:
        for font, font_file in fonts.items():
            texts = page_texts(pools, lang, len(dpis) * len(degradations) + 2, rng)
            gaps = missing_glyphs(font_file, "".join(texts))
            if gaps:
                glyph_gaps[f"{font}/{lang}"] = gaps
            vector = pymupdf.open()
            vector_pages = [typeset(vector, t, font_file) for t in texts]
            # born-digital: the vector pages themselves
            bd = pymupdf.open()
            bd.insert_pdf(vector, from_page=0, to_page=1)
            path = save(bd, f"born_digital_{lang}_{font}")
            for i in range(2):
                specs.append(dict(kind="born_digital", lang=lang, font=font, dpi=None, degradation=None, uri=path,
                                  page=i + 1, truth=vector_pages[i][1], expect="textlayer"))
            # scanned, per scan dpi
            k = 2
            for dpi in dpis:
                doc = pymupdf.open()
                for j, deg in enumerate(degradations):
                    page, truth = vector_pages[k]
                    k += 1
                    data, params = degrade(render(vector[page], dpi), deg, dpi, rng)
                    image_page(doc, data)
                    specs.append(dict(kind="scanned", lang=lang, font=font, dpi=dpi, degradation=deg, params=params,
                                      uri=None, page=j + 1, truth=truth, expect="ocr", file=f"scanned_{lang}_{font}_{dpi}"))
                path = save(doc, f"scanned_{lang}_{font}_{dpi}")
                for s in specs:
                    if s.get("file") == f"scanned_{lang}_{font}_{dpi}":
                        s["uri"] = path
            # hidden OCR layer (right text, invisible) over a clean image: should be read, not OCR'd
            page, truth = vector_pages[0]
            doc = pymupdf.open()
            hidden = image_page(doc, degrade(render(vector[page], 300), "clean", 300, rng)[0])
            invisible_text(hidden, truth, font_file)
            path = save(doc, f"hidden_ocr_{lang}_{font}")
            specs.append(dict(kind="hidden_ocr", lang=lang, font=font, dpi=300, degradation="clean", uri=path, page=1,
                              truth=truth, expect="textlayer"))
        # garbage invisible layers over a clean image (one font: DejaVuSans has every glyph)
        if lang in garbage_langs:
            font = "DejaVuSans" if "DejaVuSans" in fonts else next(iter(fonts))
            texts = page_texts(pools, lang, len(GARBAGE_KINDS), rng)
            vector = pymupdf.open()
            doc = pymupdf.open()
            for j, kind in enumerate(GARBAGE_KINDS):
                page, truth = typeset(vector, texts[j], fonts[font])
                target = image_page(doc, degrade(render(vector[page], 300), "clean", 300, rng)[0])
                invisible_text(target, garbage(kind, 900, rng, " ".join(pools["ru"])), FONT_FILES["DejaVuSans"])
                specs.append(dict(kind="garbage_layer", garbage=kind, lang=lang, font=font, dpi=300,
                                  degradation="clean", uri=None, page=j + 1, truth=truth, expect="ocr"))
            path = save(doc, f"garbage_{lang}")
            for s in specs[-len(GARBAGE_KINDS):]:
                s["uri"] = path
    for s in specs:
        s.pop("file", None)
        s["book_id"] = Path(s["uri"]).stem
        s["language"] = None if s["lang"] == "mixed" else s["lang"]
    return specs, {"fonts": fonts, "glyph_gaps": glyph_gaps, "dpis": dpis, "degradations": degradations}


# -------------------------------------------------------- pipeline calls ----
_WORKER = {}


def _init_worker(ocr: dict, config_hash: str) -> None:
    from flows.build import storage_for  # noqa: F401  (imports the same modules a Ray worker does)
    from flows.pages import OcrPages
    from flows.storage import Storage

    _WORKER["ocr"] = {}
    _WORKER["make"] = lambda o: OcrPages(Storage(), o, config_hash)
    _WORKER["base"] = ocr


# The pipeline without its checks of the OCR text: the catalog's language is trusted,
# misread Kazakh letters stay as read.
TRUSTING = {"language_check": {"enabled": False}, "letter_repair": {"enabled": False}}


def _ocr_row(task: tuple[dict, dict | None]) -> dict:
    from flows.pages import PAGES

    row, overrides = task  # overrides: OCR settings that differ from the pipeline's, per section
    ocr = dict(_WORKER["base"])
    for section, values in (overrides or {}).items():
        ocr[section] = {**ocr[section], **values}
    key = repr(overrides)
    if key not in _WORKER["ocr"]:
        _WORKER["ocr"][key] = _WORKER["make"](ocr)
    table = _WORKER["ocr"][key](pa.Table.from_pylist([row], schema=PAGES))
    return table.to_pylist()[0]


def route(specs: list[dict], cfg) -> dict[tuple[str, int], dict]:
    """ReadBookPages on every PDF: page rows keyed by (uri, page)."""
    from omegaconf import OmegaConf

    from flows.build import storage_for
    from flows.pages import ReadBookPages
    from operators.books.pdf import PdfTextLayer

    ocr = OmegaConf.to_container(cfg.ocr, resolve=True)
    reader = ReadBookPages(storage_for(cfg), PdfTextLayer(max_pages=cfg.ocr.max_pages, **ocr["routing"]))
    rows = {}
    books = {s["uri"]: s for s in specs}
    for uri, s in books.items():
        batch = pa.Table.from_pylist([{"uri": uri, "book_id": s["book_id"], "files": [uri], "language": s["language"],
                                       "done": []}])
        for table in reader(batch):
            for row in table.to_pylist():
                rows[(uri, row["page"])] = row
    return rows


# -------------------------------------------------------------- metrics ----
def score(truth: str, text: str | None) -> dict:
    ref, hyp = C.normalize_ws(truth), C.normalize_ws(text)
    edits = C.levenshtein(ref, hyp)
    wr, wh = C.word_ids(ref, hyp)
    return {"ref_chars": len(ref), "char_edits": edits, "cer": edits / max(len(ref), 1),
            "ref_words": len(wr), "word_edits": C.levenshtein(wr, wh), "wer": C.levenshtein(wr, wh) / max(len(wr), 1)}


def aggregate(results: list[dict], key) -> dict:
    groups = defaultdict(lambda: [0, 0, 0, 0, 0])
    for r in results:
        g = groups[key(r)]
        g[0] += r["char_edits"]
        g[1] += r["ref_chars"]
        g[2] += r["word_edits"]
        g[3] += r["ref_words"]
        g[4] += 1
    return {k: {"cer": v[0] / max(v[1], 1), "wer": v[2] / max(v[3], 1), "pages": v[4]} for k, v in groups.items()}


def kazakh_letters(pairs_by_page: list[list[tuple]]) -> dict:
    truth, found, match = Counter(), Counter(), Counter()
    # A letter inside a word can be checked against a word list; one standing alone (the
    # alphabet list "ү, һ, і" of the seed text) cannot: recall is also given for the former.
    truth_in_words, match_in_words = Counter(), Counter()
    confusions, sources, missed_words = defaultdict(Counter), defaultdict(Counter), Counter()
    for pairs in pairs_by_page:
        ref = [r for r, _ in pairs if r is not None]
        k = -1
        for i, (r, h) in enumerate(pairs):
            k += r is not None
            if r in C.KK_SPECIFIC:
                truth[r] += 1
                in_word = (k > 0 and ref[k - 1].isalpha()) or (k + 1 < len(ref) and ref[k + 1].isalpha())
                truth_in_words[r] += in_word
                if h == r:
                    match[r] += 1
                    match_in_words[r] += in_word
                else:
                    confusions[r][h if h is not None else "∅"] += 1
                    missed_words[word_at(pairs, i)] += 1
            if h in C.KK_SPECIFIC:
                found[h] += 1
                if r != h:
                    sources[h][r if r is not None else "∅"] += 1
    out = {}
    for letter in C.KK_LETTERS:
        for ch in (letter, letter.upper()):
            if truth[ch] or found[ch]:
                out[ch] = {"truth": truth[ch], "ocr": found[ch], "correct": match[ch],
                           "recall": match[ch] / truth[ch] if truth[ch] else None,
                           "recall_in_words": match_in_words[ch] / truth_in_words[ch] if truth_in_words[ch] else None,
                           "precision": match[ch] / found[ch] if found[ch] else None,
                           "confused_with": dict(confusions[ch].most_common(3)),
                           "false_from": dict(sources[ch].most_common(3))}
    t, f, m = sum(truth.values()), sum(found.values()), sum(match.values())
    tw, mw = sum(truth_in_words.values()), sum(match_in_words.values())
    out["all"] = {"truth": t, "ocr": f, "correct": m, "recall": m / t if t else None,
                  "recall_in_words": mw / tw if tw else None, "precision": m / f if f else None,
                  "missed_in": dict(missed_words.most_common(40))}
    return out


def word_at(pairs: list[tuple], i: int) -> str:
    """"truth word → OCR word" around aligned position i: where a missed letter was."""
    def inside(pair):
        return not (pair[0] if pair[0] is not None else pair[1]).isspace()

    start, end = i, i + 1
    while start > 0 and inside(pairs[start - 1]):
        start -= 1
    while end < len(pairs) and inside(pairs[end]):
        end += 1
    truth = "".join(r for r, _ in pairs[start:end] if r)
    read = "".join(h for _, h in pairs[start:end] if h)
    return f"{truth} → {read}"


# ----------------------------------------------------------------- main ----
def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="2 fonts, 300 dpi, clean + all-degradations only")
    ap.add_argument("--workers", type=int, default=2, help="OCR processes (one per core)")
    ap.add_argument("--no-ablation", action="store_true")
    ap.add_argument("--fonts", nargs="+", metavar="FILE",
                    help="typeset the pages in these font files instead of the four above (fonts the pipeline "
                         "was never measured on); results go to ocr_eval_fonts.json")
    args = ap.parse_args()

    from omegaconf import OmegaConf

    from flows.config import load_config
    from flows.pages import needs_ocr, ocr_config_hash
    from operators.books.ocr import engine_versions

    cfg = load_config(["output=/tmp/qazflow-ocr-eval-unused"])
    ocr = OmegaConf.to_container(cfg.ocr, resolve=True)
    lang_table = ocr["tesseract"]["languages"]
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="qazflow-ocr-eval-") as tmp:
        specs, setup = build_pages(args, Path(tmp))
        t_build = time.perf_counter() - started
        rows = route(specs, cfg)
        for s in specs:
            s["row"] = rows[(s["uri"], s["page"])]
            s["routed"] = "textlayer" if s["row"]["method"] == "textlayer" else ("ocr" if needs_ocr(s["row"]) else "error")
        todo = [s for s in specs if s["routed"] == "ocr"]
        ablation = []
        if not args.no_ablation:  # clean 300-dpi scans again, as a book without a catalog language
            ablation = [s for s in specs if s["kind"] == "scanned" and s["dpi"] == 300
                        and s["degradation"] in (("clean", "all") if args.quick else ("clean",))
                        and s["lang"] != "mixed"]
        # The language check and letter repair, measured: every Kazakh and mixed page OCR'd
        # again trusting the catalog and without repair, and Kazakh books catalogued as Russian.
        kazakh = [s for s in todo if s["kind"] == "scanned" and s["lang"] in ("kk", "mixed")]
        wrong_catalog = [s for s in kazakh if s["lang"] == "kk" and s["dpi"] == 300]
        tasks = ([(s["row"], None) for s in todo] + [({**s["row"], "language": None}, None) for s in ablation]
                 + [(s["row"], TRUSTING) for s in kazakh]
                 + [({**s["row"], "language": "ru"}, overrides) for overrides in (None, TRUSTING) for s in wrong_catalog])
        print(f"{len(specs)} pages built in {t_build:.1f} s; OCR of {len(todo)} pages + {len(ablation)} ablation "
              f"pages on {args.workers} processes ...", file=sys.stderr, flush=True)
        t0 = time.perf_counter()
        with ProcessPoolExecutor(args.workers, initializer=_init_worker, initargs=(ocr, ocr_config_hash(cfg.ocr))) as pool:
            outputs = list(pool.map(_ocr_row, tasks, chunksize=1))
        t_ocr = time.perf_counter() - t0
    for s, out in zip(todo, outputs[: len(todo)]):
        s["row"] = out
    rest = iter(outputs[len(todo):])
    for s, out in zip(ablation, rest):
        s["ablation_row"] = out
    for s, out in zip(kazakh, rest):
        s["trusting_row"] = out
    for key in ("wrong_catalog_row", "wrong_catalog_trusting_row"):
        for s, out in zip(wrong_catalog, rest):
            s[key] = out

    # --- scores
    page_results, kk_pairs, errors = [], [], []
    for s in specs:
        row = s["row"]
        if row.get("error"):
            errors.append({"uri": Path(s["uri"]).name, "page": s["page"], "error": row["error"]})
        res = {k: s.get(k) for k in ("kind", "garbage", "lang", "font", "dpi", "degradation", "params", "page",
                                      "book_id", "expect", "routed")}
        res.update(method=row["method"], route_reason=row["route_reason"], confidence=row["confidence"],
                   seconds=row["seconds"], tesseract_languages=None)
        if row["method"] == "tesseract":
            res["tesseract_languages"] = lang_table.get(s["language"] or "default", lang_table["default"])
        res.update(score(s["truth"], row["text"]))
        if "ablation_row" in s:
            res["ablation"] = {"tesseract_languages": s["ablation_row"]["ocr_language"],
                               **score(s["truth"], s["ablation_row"]["text"])}
        page_results.append(res)
        if row["method"] == "tesseract" and row["text"] is not None:  # OCR output only
            kk_pairs.append(C.align(C.normalize_ws(s["truth"]), C.normalize_ws(row["text"])))
    scanned = [r for r in page_results if r["kind"] == "scanned"]
    by_lang = aggregate(scanned, lambda r: r["lang"])
    by_lang_deg = aggregate(scanned, lambda r: (r["degradation"], r["lang"]))
    by_deg = aggregate(scanned, lambda r: r["degradation"])
    by_lang_dpi = aggregate(scanned, lambda r: (r["dpi"], r["lang"]))
    by_dpi = aggregate(scanned, lambda r: r["dpi"])
    by_font = aggregate(scanned, lambda r: (r["font"], r["lang"]))
    by_font_all = aggregate(scanned, lambda r: r["font"])
    letters = kazakh_letters(kk_pairs)

    def pairs(rows):
        return [C.align(C.normalize_ws(s["truth"]), C.normalize_ws(r["text"])) for s, r in rows if r["text"]]

    def cer_of(rows):
        return aggregate([score(s["truth"], r["text"]) for s, r in rows], lambda r: 0)[0]["cer"] if rows else None

    checks = {
        "letters_without_checks": kazakh_letters(pairs([(s, s["trusting_row"]) for s in kazakh])),
        "letters_with_checks": kazakh_letters(pairs([(s, s["row"]) for s in kazakh])),
        "wrong_catalog": {
            "pages": len(wrong_catalog),
            "cer_catalogued_kk": cer_of([(s, s["row"]) for s in wrong_catalog]),
            "cer_catalogued_ru_checked": cer_of([(s, s["wrong_catalog_row"]) for s in wrong_catalog]),
            "cer_catalogued_ru_trusted": cer_of([(s, s["wrong_catalog_trusting_row"]) for s in wrong_catalog]),
            "reocr_pages": sum(bool(s["wrong_catalog_row"]["reocr_reason"]) for s in wrong_catalog),
            "letters_checked": kazakh_letters(pairs([(s, s["wrong_catalog_row"]) for s in wrong_catalog]))["all"],
            "letters_trusted": kazakh_letters(pairs([(s, s["wrong_catalog_trusting_row"]) for s in wrong_catalog]))["all"],
        },
    }

    routing = defaultdict(lambda: Counter())
    for r in page_results:
        kind = r["kind"] + (f":{r['garbage']}" if r.get("garbage") else "")
        routing[kind]["pages"] += 1
        routing[kind]["as_expected"] += r["routed"] == r["expect"]
        routing[kind]["textlayer"] += r["routed"] == "textlayer"
        routing[kind]["ocr"] += r["routed"] == "ocr"
        routing[kind]["reason: " + (r["route_reason"] or "")] += 1
    misrouted = [{"kind": r["kind"], "garbage": r.get("garbage"), "lang": r["lang"], "font": r["font"],
                  "reason": r["route_reason"]} for r in page_results if r["routed"] != r["expect"]]
    final_by_kind = aggregate(page_results, lambda r: r["kind"] + (f":{r['garbage']}" if r.get("garbage") else ""))

    abl = [r for r in page_results if "ablation" in r]
    ablation_table = {}
    for lang in ("kk", "ru", "en"):
        rs = [r for r in abl if r["lang"] == lang]
        if rs:
            routed = aggregate(rs, lambda r: 0)[0]
            default_ = aggregate([r["ablation"] | {"lang": lang} for r in rs], lambda r: 0)[0]
            ablation_table[lang] = {"routed_languages": lang_table[lang], "routed_cer": routed["cer"],
                                    "default_languages": lang_table["default"], "default_cer": default_["cer"],
                                    "pages": len(rs)}

    # --- print
    tess_version = engine_versions()["tesseract"]
    out = [f"## OCR accuracy ({'quick' if args.quick else 'full'} run)", "",
           f"{tess_version}; pipeline render dpi {ocr['dpi']}, psm {ocr['tesseract']['psm']}; fonts: "
           f"{', '.join(f'{k} ({Path(v).name})' for k, v in setup['fonts'].items())}; scan dpi {setup['dpis']}; "
           f"{len(scanned)} scanned pages of ~{TARGET_CHARS} chars (A5, {FONT_SIZE} pt). CER/WER = edits / reference "
           "length after whitespace normalization, micro-averaged.", "",
           f"Degradations (pixels at 300 dpi, scaled for 200): rotate ±{LEVELS['rotate']}°, Gaussian blur radius "
           f"{LEVELS['blur']} px, Gaussian noise σ={LEVELS['noise']:.0f}, JPEG quality {LEVELS['jpeg']}; all = rotate "
           f"±{ALL_LEVELS['rotate']}° + blur {ALL_LEVELS['blur']} + noise σ={ALL_LEVELS['noise']:.0f} + JPEG q"
           f"{ALL_LEVELS['jpeg']}.", ""]
    langs = [l for l in LANGS if l in by_lang]
    out.append("### CER by degradation × language (scanned pages, all fonts and scan dpis)\n")
    rows_ = [[d] + [by_lang_deg[(d, l)]["cer"] for l in langs] + [by_deg[d]["cer"], by_deg[d]["wer"]]
             for d in setup["degradations"]]
    rows_.append(["**all**"] + [by_lang[l]["cer"] for l in langs] +
                 [aggregate(scanned, lambda r: 0)[0]["cer"], aggregate(scanned, lambda r: 0)[0]["wer"]])
    out.append(C.md_table(["degradation"] + [f"{l} CER" for l in langs] + ["all CER", "all WER"], rows_))
    out.append("\nLanguages given to Tesseract: " + ", ".join(
        f"{l}→{lang_table.get(l if l != 'mixed' else 'default')}" for l in langs) + "\n")
    out.append("### CER by scan dpi × language\n")
    out.append(C.md_table(["scan dpi"] + langs + ["all"],
                          [[d] + [by_lang_dpi[(d, l)]["cer"] for l in langs] + [by_dpi[d]["cer"]] for d in setup["dpis"]]))
    out.append("\n### CER by font × language\n")
    out.append(C.md_table(["font"] + langs + ["all"],
                          [[f] + [by_font[(f, l)]["cer"] for l in langs] + [by_font_all[f]["cer"]] for f in setup["fonts"]]))
    out.append("\n### Kazakh-specific letters (every OCR'd page, all languages; case-sensitive match)\n")
    lrows = []
    for letter in C.KK_LETTERS:
        for ch in (letter, letter.upper()):
            if ch in letters:
                m = letters[ch]
                conf = ", ".join(f"{k}×{v}" for k, v in m["confused_with"].items())
                src = ", ".join(f"{'Latin ' if k.isascii() and k.isalpha() else ''}{k}×{v}"
                                for k, v in m["false_from"].items())
                lrows.append([ch, m["truth"], m["ocr"], m["recall"], m["recall_in_words"], m["precision"], conf, src])
    a = letters["all"]
    lrows.append(["**all**", a["truth"], a["ocr"], a["recall"], a["recall_in_words"], a["precision"], "", ""])
    out.append(C.md_table(["letter", "in truth", "in OCR", "recall", "recall in words", "precision", "missed: read as",
                           "false positives: truth was"], lrows))
    out.append("\n### Language check and letter repair (scanned kk and mixed pages)\n")
    without, with_ = checks["letters_without_checks"], checks["letters_with_checks"]
    out.append(C.md_table(["letter", "in truth", "recall trusting the catalog, no repair", "recall with check + repair",
                           "precision with"],
                          [[ch, with_[ch]["truth"], without.get(ch, {}).get("recall"), with_[ch]["recall"],
                            with_[ch]["precision"]] for ch in [*C.KK_LETTERS, "all"] if ch in with_]))
    w = checks["wrong_catalog"]
    out.append(f"\nKazakh books catalogued as Russian ({w['pages']} 300-dpi pages): CER {w['cer_catalogued_ru_trusted']:.4f} "
               f"trusting the catalog, {w['cer_catalogued_ru_checked']:.4f} with the language check "
               f"({w['reocr_pages']} pages OCR'd again), {w['cer_catalogued_kk']:.4f} when catalogued kk; Kazakh-letter "
               f"recall {w['letters_trusted']['recall']:.3f} → {w['letters_checked']['recall']:.3f}.")
    out.append("\n### Routing (text_layer_verdict via ReadBookPages)\n")
    def top_reason(v):
        reasons = Counter({k[8:]: n for k, n in v.items() if k.startswith("reason: ")})
        return reasons.most_common(1)[0][0] if reasons else ""

    out.append(C.md_table(["page kind", "expected", "pages", "routed as expected", "accuracy", "final CER",
                           "verdict (most pages)"],
                          [[k, "textlayer" if k in ("born_digital", "hidden_ocr") else "ocr", v["pages"], v["as_expected"],
                            v["as_expected"] / v["pages"], final_by_kind[k]["cer"], top_reason(v)]
                           for k, v in sorted(routing.items())]))
    out.append("\nfinal CER: of the text the page row ends with (text layer or OCR) against the ground truth.")
    if misrouted:
        out.append("\nMisrouted: " + "; ".join(sorted({f"{m['kind']}{':' + m['garbage'] if m['garbage'] else ''} "
                                                    f"({m['reason']})" for m in misrouted})))
    if ablation_table:
        out.append(f"\n### Language routing ablation ({'clean + all-degraded' if args.quick else 'clean'} "
                   "300-dpi scans, OCR'd again as books without a catalog language: `default` languages, "
                   "then the language check)\n")
        out.append(C.md_table(["book language", "routed languages", "CER", "default (catalog language unknown)", "CER",
                               "pages"],
                              [[l, v["routed_languages"], v["routed_cer"], v["default_languages"], v["default_cer"], v["pages"]]
                               for l, v in ablation_table.items()]))
    if errors:
        out.append(f"\n{len(errors)} OCR errors: {errors[:3]}")
    if setup["glyph_gaps"]:
        out.append(f"\nGlyphs missing from fonts: {setup['glyph_gaps']}")
    out.append(f"\nOCR wall time {t_ocr:.0f} s for {len(tasks)} page OCRs on {args.workers} processes; "
               f"total {time.perf_counter() - started:.0f} s.")
    print("\n".join(out))

    def keys(d):
        return {("/".join(map(str, k)) if isinstance(k, tuple) else str(k)): v for k, v in d.items()}

    path = C.write_results(NAME + ("_fonts" if args.fonts else "") + ("_quick" if args.quick else ""), {
        "benchmark": NAME, "quick": args.quick, "machine": C.machine(), "tesseract": tess_version,
        "ocr_config": {"dpi": ocr["dpi"], "psm": ocr["tesseract"]["psm"], "languages": lang_table,
                       "routing": ocr["routing"]},
        "setup": {**setup, "degradation_levels": LEVELS, "all_levels": ALL_LEVELS, "page_size_pt": [PAGE_W, PAGE_H], "font_size": FONT_SIZE, "target_chars": TARGET_CHARS,
                  "garbage_kinds": GARBAGE_KINDS},
        "cer_by_language": by_lang, "cer_by_degradation": by_deg, "cer_by_degradation_language": keys(by_lang_deg),
        "cer_by_dpi": keys(by_dpi), "cer_by_dpi_language": keys(by_lang_dpi), "cer_by_font_language": keys(by_font),
        "kazakh_letters": letters, "language_check": checks, "routing": {k: dict(v) for k, v in routing.items()}, "misrouted": misrouted,
        "final_cer_by_kind": final_by_kind, "language_ablation": ablation_table, "errors": errors,
        "seconds": {"build": t_build, "ocr": t_ocr, "total": time.perf_counter() - started},
        "pages": page_results,
    })
    print(f"\nresults: {path.relative_to(C.REPO)}")


if __name__ == "__main__":
    main()
