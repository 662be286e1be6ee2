"""Instruction data → SFT rows: checks, a chat template and a loss mask.

Expert-written pairs are few and precious: web-tuned quality filters (Gopher, C4,
FineWeb) would throw out short, list-like answers, so they never see these rows.
They get their own checks instead (empty response, response that repeats the prompt,
prompt and response in different languages), the same normalization and PII
redaction as any text, and exact dedup on the whole conversation.

The template renders each turn separately and concatenates the token ids, so the
loss mask is exact: `labels` equals `input_ids` on assistant content and the
assistant end marker, -100 everywhere else.
"""
from __future__ import annotations

import hashlib
import json
import unicodedata

import numpy as np
import pyarrow as pa

from operators.text.normalize import normalize_whitespace, remove_control_chars
from operators.text.pii import find_pii, redact
from schemas.shard import SFT_SHARD, TOKEN_TYPE

IGNORE = -100
KAZAKH_LETTERS = set("әғқңөұүһіӘҒҚҢӨҰҮҺІ")
DEFAULT_TEMPLATE = {
    "system": "<|system|>\n{content}\n",
    "user": "<|user|>\n{content}\n",
    "assistant_prefix": "<|assistant|>\n",
    "assistant_suffix": "<|endoftext|>",
}


def messages_of(record: dict) -> list[dict]:
    """`messages` as given, else one turn from instruction (+ input) and response."""
    if record.get("messages"):
        return [{"role": m["role"], "content": m.get("content") or ""} for m in record["messages"]]
    prompt = record.get("instruction") or ""
    if record.get("input"):
        prompt = f"{prompt}\n\n{record['input']}"
    return [{"role": "user", "content": prompt}, {"role": "assistant", "content": record.get("response") or ""}]


def script_language(text: str) -> str | None:
    """kk / ru / en by script, or None when too short to tell. Kazakh Cyrillic is told
    from Russian by its nine own letters, which any Kazakh sentence of some length has."""
    letters = [c for c in text if c.isalpha()]
    if len(letters) < 20:
        return None
    cyrillic = sum("\u0400" <= c <= "\u04ff" for c in letters)
    if cyrillic > len(letters) / 2:
        return "kk" if any(c in KAZAKH_LETTERS for c in letters) else "ru"
    latin = sum(c.isascii() for c in letters)
    return "en" if latin > len(letters) / 2 else None


def clean(text: str) -> str:
    text = unicodedata.normalize("NFC", text)
    text, _ = remove_control_chars(text)
    text, _ = normalize_whitespace(text)
    return redact(text, find_pii(text))


def check(messages: list[dict], lang: str | None) -> str | None:
    """Why a conversation cannot be trained on, or None."""
    turns = [m for m in messages if m["role"] in ("user", "assistant")]
    answers = [m["content"] for m in turns if m["role"] == "assistant"]
    prompts = [m["content"] for m in turns if m["role"] == "user"]
    if not answers or any(not a.strip() for a in answers):
        return "empty response"
    if not prompts or any(not p.strip() for p in prompts):
        return "empty prompt"
    if any(a.strip().casefold() == p.strip().casefold() for p, a in zip(prompts, answers)):
        return "response identical to prompt"
    asked, answered = script_language(" ".join(prompts)), script_language(" ".join(answers))
    if asked and answered and asked != answered:
        return f"language mismatch: prompt {asked}, response {answered}"
    if lang and answered and lang != answered:
        return f"language mismatch: record says {lang}, response {answered}"
    return None


class ChatTemplate:
    """Renders a conversation to (input_ids, labels) with a loaded tokenizer."""

    def __init__(self, tokenizer, template: dict | None = None):
        self.tokenizer = tokenizer
        self.t = {**DEFAULT_TEMPLATE, **(template or {})}

    def _ids(self, text: str) -> list[int]:
        return self.tokenizer.encode(text, add_special_tokens=False).ids if text else []

    def render(self, messages: list[dict]) -> tuple[list[int], list[int]]:
        ids, labels = [], []
        for m in messages:
            if m["role"] == "assistant":
                head = self._ids(self.t["assistant_prefix"])
                body = self._ids(m["content"]) + self._ids(self.t["assistant_suffix"])
                ids += head + body
                labels += [IGNORE] * len(head) + body
            else:
                piece = self._ids(self.t.get(m["role"], self.t["user"]).format(content=m["content"]))
                ids += piece
                labels += [IGNORE] * len(piece)
        return ids, labels


class SftRows:
    """Instruction records (a `record` column of JSON strings) → SFT shard rows and
    rejected rows (`doc_id`, `reason`, `detail`). Loads the tokenizer once per actor."""

    def __init__(self, tokenizer_json: str, template: dict | None = None):
        from tokenizers import Tokenizer

        self.template = ChatTemplate(Tokenizer.from_str(tokenizer_json), template)

    def __call__(self, table: pa.Table) -> pa.Table:
        out = {n: [] for n in [*SFT_SHARD.names, "reason", "detail"]}
        for raw in table.column("record").to_pylist():
            try:
                record = json.loads(raw)
                messages = [{**m, "content": clean(m["content"])} for m in messages_of(record)]
                lang = record.get("lang") or script_language(" ".join(m["content"] for m in messages)) or "und"
                why = check(messages, record.get("lang"))
            except (ValueError, KeyError, TypeError, AttributeError) as exc:
                record, messages, lang, why = {}, [], "und", f"unreadable record: {type(exc).__name__}: {exc}"
            key = json.dumps(messages, ensure_ascii=False, sort_keys=True) if messages else raw
            doc_id = hashlib.sha256(key.encode()).hexdigest()[:16]  # same conversation → same id: exact dedup
            ids, labels = self.template.render(messages) if why is None else ([], [])
            for name, value in (("doc_id", doc_id), ("source", "sft"), ("lang", lang), ("input_ids", ids),
                                ("labels", labels), ("n_tokens", len(ids)), ("chunk", 0),
                                ("reason", None if why is None else "InstructionCheck"), ("detail", why)):
                out[name].append(value)
        schema = pa.schema([*SFT_SHARD, pa.field("reason", pa.string()), pa.field("detail", pa.string())])
        return pa.table({n: pa.array(v, schema.field(n).type) for n, v in out.items()}, schema=schema)


def drop_duplicates(table: pa.Table) -> pa.Table:
    """Keeps the first row of each doc_id (rows arrive sorted by doc_id)."""
    ids = table.column("doc_id").to_numpy(zero_copy_only=False)
    keep = np.ones(len(ids), bool)
    keep[1:] = ids[1:] != ids[:-1]
    return table.filter(pa.array(keep))


__all__ = ["ChatTemplate", "SftRows", "check", "messages_of", "script_language", "IGNORE", "TOKEN_TYPE"]
