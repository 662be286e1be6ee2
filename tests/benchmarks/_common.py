"""Helpers shared by the benchmark scripts: real kk/ru/en text, edit distance, tables, results.

Not a test module (pytest does not collect tests/benchmarks). Every script puts this
folder and the repository root on sys.path, so `import _common` works from anywhere.
"""
from __future__ import annotations

import datetime
import glob
import json
import os
import platform
import re
import sys
import unicodedata
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "samples"
# Extra seed text (*.txt), optional: $QAZFLOW_SEEDS, else shared/seeds next to the checkout.
# When the folder does not exist the text comes from samples/text alone.
SEEDS = Path(os.environ.get("QAZFLOW_SEEDS") or (REPO.parent / "shared" / "seeds"))
RESULTS = Path(__file__).resolve().parent / "results"
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))
os.environ.setdefault("RAY_AUTH_MODE", "disabled")

KK_LETTERS = "әғқңөұүһі"
KK_SPECIFIC = set(KK_LETTERS + KK_LETTERS.upper())
_CYR = re.compile(r"[\u0400-\u04FF]")
_LAT = re.compile(r"[A-Za-z]")
_MIXED_WORD = re.compile(r"\b(?=\w*[\u0400-\u04FF])(?=\w*[A-Za-z])\w+\b")
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+(?=[A-ZА-ЯЁӘҒҚҢӨҰҮҺІ«\"(])")


# ---------------------------------------------------------------- real text ----
def _script_of(text: str) -> str | None:
    """'kk', 'ru', 'en' or None for a paragraph, by its letters."""
    cyr, lat = len(_CYR.findall(text)), len(_LAT.findall(text))
    if cyr + lat < 40:
        return None
    if _MIXED_WORD.search(text):  # Latin homoglyphs inside Cyrillic words (a planted sample)
        return None
    if cyr > 0.9 * (cyr + lat):
        return "kk" if any(c in KK_SPECIFIC for c in text) and sum(c in KK_SPECIFIC for c in text) > cyr * 0.01 else "ru"
    if lat > 0.97 * (cyr + lat) and not re.search(r"[äöüßçğışÄÖÜ]", text):  # no German/Turkish
        return "en"
    return None


def _clean(text: str) -> str:
    text = re.sub(r"\^\{[^}]*\}|\*+|<https?://[^>]+>|https?://\S+", "", text)
    return re.sub(r"[ \t]+", " ", unicodedata.normalize("NFC", text)).strip()


def _raw_paragraphs() -> list[str]:
    out = []
    for path in sorted(glob.glob(str(SAMPLES / "text" / "*.jsonl"))):
        for line in open(path, encoding="utf-8"):
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(record, dict) and isinstance(record.get("text"), str):
                out.extend(record["text"].split("\n"))
    seeds = sorted(glob.glob(str(SEEDS / "*.txt"))) if SEEDS.is_dir() else []
    for path in seeds + [str(SAMPLES / "text" / "mixed_kk_ru.txt")]:
        if os.path.exists(path):
            out.extend(open(path, encoding="utf-8").read().split("\n"))
    return out


def _is_prose(text: str) -> bool:
    """Running text: not a reference-list entry, table row or figure caption."""
    if re.match(r"^(- )?\[\d+\]|^(Table|Fig\.?|Figure|Таблица|Кесте|Сурет|Рис\.?)\s", text):
        return False
    return sum(ch.isdigit() for ch in text) / len(text) <= 0.03


def paragraphs(prose_only: bool = False) -> dict[str, list[str]]:
    """Real paragraphs (>= 80 chars) per language, deduplicated, in a fixed order.

    Sources: samples/text/*.jsonl, samples/text/mixed_kk_ru.txt and SEEDS/*.txt when that
    folder exists ($QAZFLOW_SEEDS, default ../shared/seeds beside the repository).
    Planted rejections (too short, boilerplate, German, Turkish, Latin homoglyphs) and
    markup-heavy seed lines (e-mail, URLs, affiliations) are left out.
    """
    pools: dict[str, list[str]] = {"kk": [], "ru": [], "en": []}
    seen = set()
    for raw in _raw_paragraphs():
        text = _clean(raw)
        if len(text) < 80 or "@" in text or "|" in text or text in seen:
            continue
        lang = _script_of(text)
        if lang and (not prose_only or _is_prose(text)):
            seen.add(text)
            pools[lang].append(text)
    return pools


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END.split(text) if s.strip()]


def sentence_pools() -> dict[str, list[str]]:
    """Real sentences of running text per language (>= 20 chars), deduplicated."""
    pools = {}
    for lang, paras in paragraphs(prose_only=True).items():
        seen, out = set(), []
        for p in paras:
            for s in sentences(p):
                if len(s) >= 20 and s not in seen:
                    seen.add(s)
                    out.append(s)
        pools[lang] = out
    return pools


# ------------------------------------------------------------ edit distance ----
def _codes(s: str) -> np.ndarray:
    return np.frombuffer(s.encode("utf-32-le"), dtype=np.uint32)


def _as_array(seq) -> np.ndarray:
    if isinstance(seq, str):
        return _codes(seq).astype(np.int64)
    return np.asarray(seq, dtype=np.int64)


def levenshtein(ref, hyp) -> int:
    """Edit distance; one numpy pass per reference symbol (the row's left-to-right
    dependency is a running minimum of t[k] - k)."""
    a, b = _as_array(ref), _as_array(hyp)
    if len(a) == 0 or len(b) == 0:
        return int(max(len(a), len(b)))
    idx = np.arange(len(b) + 1)
    prev = idx.copy()
    t = np.empty(len(b) + 1, dtype=np.int64)
    for i, ch in enumerate(a, 1):
        t[0] = i
        np.minimum(prev[1:] + 1, prev[:-1] + (b != ch), out=t[1:])
        prev = np.minimum.accumulate(t - idx) + idx
    return int(prev[-1])


def align(ref: str, hyp: str) -> list[tuple[str | None, str | None]]:
    """A minimal-edit alignment: (ref char or None, hyp char or None) pairs."""
    a, b = _as_array(ref), _as_array(hyp)
    n, m = len(a), len(b)
    idx = np.arange(m + 1)
    rows = np.empty((n + 1, m + 1), dtype=np.int32)
    rows[0] = idx
    t = np.empty(m + 1, dtype=np.int64)
    for i in range(1, n + 1):
        t[0] = i
        if m:
            np.minimum(rows[i - 1, 1:].astype(np.int64) + 1, rows[i - 1, :-1] + (b != a[i - 1]), out=t[1:])
        rows[i] = np.minimum.accumulate(t - idx) + idx
    pairs = []
    i, j = n, m
    while i > 0 or j > 0:
        if i > 0 and j > 0 and rows[i, j] == rows[i - 1, j - 1] + (a[i - 1] != b[j - 1]):
            pairs.append((ref[i - 1], hyp[j - 1]))
            i, j = i - 1, j - 1
        elif i > 0 and rows[i, j] == rows[i - 1, j] + 1:
            pairs.append((ref[i - 1], None))
            i -= 1
        else:
            pairs.append((None, hyp[j - 1]))
            j -= 1
    return pairs[::-1]


def normalize_ws(text: str | None) -> str:
    return " ".join(unicodedata.normalize("NFC", text or "").split())


def word_ids(*texts: str) -> list[list[int]]:
    vocab: dict[str, int] = {}
    return [[vocab.setdefault(w, len(vocab)) for w in t.split()] for t in texts]


# ------------------------------------------------------------ reporting ----
def md_table(headers: list[str], rows: list[list]) -> str:
    def fmt(v):
        if isinstance(v, float):
            return f"{v:.3f}" if abs(v) < 10 else f"{v:.1f}"
        return "" if v is None else str(v)

    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(fmt(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def machine() -> dict:
    info = {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count(),
            "loadavg_at_start": [round(x, 2) for x in os.getloadavg()],
            "date": datetime.datetime.now().isoformat(timespec="seconds")}
    try:
        import psutil

        info["memory_gb"] = round(psutil.virtual_memory().total / 2**30, 1)
    except ImportError:
        pass
    return info


def write_results(name: str, data: dict) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(data, indent=1, ensure_ascii=False, default=str), encoding="utf-8")
    tmp.replace(path)
    return path
