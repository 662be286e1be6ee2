"""Instruction data → SFT rows: checks, a chat template and a loss mask.

Expert-written pairs are few and precious: web-tuned quality filters (Gopher, C4,
FineWeb) would throw out short, list-like answers, so they never see these rows.
They get their own checks instead (empty response, response that repeats the prompt,
prompt and response in different languages, a response not in the language the record
claims), the same normalization and PII redaction as any text, exact dedup on the whole
conversation and near dedup (MinHash, `NearDuplicates`) so that a pair rephrased a
little is trained on once.

Languages are told by the corpus's Kazakh-aware LID (operators/text/langid.py), not
taken from the record: a Russian answer in a file catalogued Kazakh is caught.

The template renders each turn separately and concatenates the token ids, so the
loss mask is exact: `labels` equals `input_ids` on assistant content and the
assistant end marker, -100 everywhere else.
"""
from __future__ import annotations

import gzip
import hashlib
import io
import json
import unicodedata

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from operators.text.json_array import JsonArrayError, is_json_array, json_array
from operators.text.normalize import normalize_whitespace, remove_control_chars
from operators.text.pii import find_pii, redact
from operators.text.readers import BoundedInflate
from schemas.shard import SFT_SHARD, TOKEN_TYPE

IGNORE = -100
KAZAKH_LETTERS = set("әғқңөұүһіӘҒҚҢӨҰҮҺІ")
DEFAULT_TEMPLATE = {
    "system": "<|system|>\n{content}\n",
    "user": "<|user|>\n{content}\n",
    "assistant_prefix": "<|assistant|>\n",
    "assistant_suffix": "<|endoftext|>",
}


# ShareGPT's speakers ("from") as chat roles.
SHAREGPT_ROLES = {"human": "user", "user": "user", "gpt": "assistant", "assistant": "assistant", "chatgpt": "assistant",
                  "bing": "assistant", "bard": "assistant", "model": "assistant", "system": "system"}


def messages_of(record: dict) -> list[dict]:
    """The conversation of a record in any of the common instruction formats: `messages`
    (OpenAI: role, content), `conversations` (ShareGPT: from, value), or one turn from
    instruction (+ input or Dolly's context) and response (Alpaca's output)."""
    if record.get("messages"):
        return [{"role": m["role"], "content": m.get("content") or ""} for m in record["messages"]]
    if record.get("conversations"):
        return [{"role": SHAREGPT_ROLES[str(m["from"]).lower()], "content": m.get("value") or ""}
                for m in record["conversations"]]
    prompt = record.get("instruction") or ""
    material = record.get("input") or record.get("context")
    if material:
        prompt = f"{prompt}\n\n{material}"
    response = record.get("response") if record.get("response") is not None else record.get("output")
    return [{"role": "user", "content": prompt}, {"role": "assistant", "content": response or ""}]


def array_records(path: str, data: bytes, max_record_bytes: int) -> list[dict]:
    """{"text": record JSON} for each element of an instruction file holding one JSON array
    (Alpaca's and most Hugging Face instruction sets' `.json`, gzipped or not), as reading a
    JSONL file by lines gives them. Broken JSON, a broken or bomb gzip end the file with a
    row no JSON parser reads, so it is counted as an unreadable record; the run goes on."""
    rows = []
    try:
        stream = BoundedInflate(io.BytesIO(data), "gzip") if path.endswith(".gz") else io.BytesIO(data)
        for _, element in json_array(stream, max_record_bytes):
            rows.append({"text": f"{element}" if isinstance(element, JsonArrayError)
                         else json.dumps(element, ensure_ascii=False)})
    except Exception as exc:  # a damaged gzip or a bomb: this file's last row says so
        rows.append({"text": f"unreadable file: {type(exc).__name__}: {exc}"})
    return rows


def holds_json_array(name: str, stream) -> bool:
    """The file is one JSON array (Alpaca's .json), whatever its name says, not JSONL. A
    file that cannot be read says no: reading it by lines reports it."""
    try:
        head = (gzip.GzipFile(fileobj=stream) if name.endswith(".gz") else stream).read(4096)
    except Exception:  # a damaged gzip header, an I/O error
        return False
    return is_json_array(head)


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


class Languages:
    """The language of a turn by the Kazakh-aware LID, or None when the text is too short
    or the model unsure: a short answer ("Иә.") is no evidence of a mismatch."""

    def __init__(self, model_path: str | None = None, min_letters: int = 20, min_score: float = 0.5):
        from operators.text.langid import FastTextLangID

        self.lid = FastTextLangID(model_path)
        self.min_letters, self.min_score = min_letters, min_score

    def __call__(self, text: str) -> str | None:
        if sum(c.isalpha() for c in text) < self.min_letters:
            return None
        lang, score, _ = self.lid.identify(text)
        return lang if score >= self.min_score else None


def check(messages: list[dict], lang: str | None, language=script_language) -> str | None:
    """Why a conversation cannot be trained on, or None. `language(text)` tells a text's
    language or None; prompts are the user turns (a record's `input` is material to work
    on, e.g. the English sentence to translate, and is not compared)."""
    turns = [m for m in messages if m["role"] in ("user", "assistant")]
    answers = [m["content"] for m in turns if m["role"] == "assistant"]
    prompts = [m["content"] for m in turns if m["role"] == "user"]
    if not answers or any(not a.strip() for a in answers):
        return "empty response"
    if not prompts or any(not p.strip() for p in prompts):
        return "empty prompt"
    if any(a.strip().casefold() == p.strip().casefold() for p, a in zip(prompts, answers)):
        return "response identical to prompt"
    asked, answered = language(" ".join(prompts)), language(" ".join(answers))
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


def _instruction_turns(record: dict, messages: list[dict]) -> list[dict]:
    """The turns compared for language: without a record's `input` (the material)."""
    if record.get("messages") or record.get("conversations") or not (record.get("input") or record.get("context")):
        return messages
    return [{"role": "user", "content": clean(record.get("instruction") or "")}, *messages[1:]]


class SftRows:
    """Instruction records (a `record` column of JSON strings) → SFT shard rows and
    rejected rows (`doc_id`, `reason`, `detail`). Loads the tokenizer and the LID once per
    actor. With a `signer` (MinHashSignature) rows also get `minhash` of the conversation's
    text for `NearDuplicates`."""

    def __init__(self, tokenizer_json: str, template: dict | None = None, signer=None, lid_model: str | None = None):
        from tokenizers import Tokenizer

        self.template = ChatTemplate(Tokenizer.from_str(tokenizer_json), template)
        self.language = Languages(lid_model)
        self.signer = signer

    def __call__(self, table: pa.Table) -> pa.Table:
        out = {n: [] for n in [*SFT_SHARD.names, "reason", "detail"]}
        texts = []
        for raw in table.column("record").to_pylist():
            try:
                record = json.loads(raw)
                messages = [{**m, "content": clean(m["content"])} for m in messages_of(record)]
                answers = " ".join(m["content"] for m in messages if m["role"] == "assistant")
                lang = self.language(answers) or record.get("lang") or "und"
                why = check(_instruction_turns(record, messages), record.get("lang"), self.language)
            except (ValueError, KeyError, TypeError, AttributeError) as exc:
                record, messages, lang, why = {}, [], "und", f"unreadable record: {type(exc).__name__}: {exc}"
            key = json.dumps(messages, ensure_ascii=False, sort_keys=True) if messages else raw
            doc_id = hashlib.sha256(key.encode()).hexdigest()[:16]  # same conversation → same id: exact dedup
            ids, labels = self.template.render(messages) if why is None else ([], [])
            for name, value in (("doc_id", doc_id), ("source", "sft"), ("lang", lang), ("input_ids", ids),
                                ("labels", labels), ("n_tokens", len(ids)), ("chunk", 0),
                                ("reason", None if why is None else "InstructionCheck"), ("detail", why)):
                out[name].append(value)
            texts.append("\n".join(m["content"] for m in messages) if why is None else None)
        schema = pa.schema([*SFT_SHARD, pa.field("reason", pa.string()), pa.field("detail", pa.string())])
        table = pa.table({n: pa.array(v, schema.field(n).type) for n, v in out.items()}, schema=schema)
        if self.signer is None:
            return table
        return self.signer(table.append_column("text", pa.array(texts, pa.string()))).drop_columns(["text"])


class NearDuplicates:
    """Remembers the conversations kept so far by their LSH band keys; `earlier(rows)` names,
    for each row, a kept conversation whose estimated Jaccard similarity reaches
    `threshold`, or None (then the row is kept and remembered). Instruction sets are small
    (thousands to a few million pairs), so one in-memory index in the driver holds them."""

    def __init__(self, bands: int, rows: int, threshold: float):
        self.bands, self.rows, self.threshold = bands, rows, threshold
        self.buckets: dict[int, list[str]] = {}
        self.signatures: dict[str, np.ndarray] = {}

    def earlier(self, table: pa.Table) -> list[str | None]:
        """For each row of (doc_id, minhash): the earlier kept near-duplicate, or None."""
        from operators.dedup.minhash import band_keys

        signed = table.filter(pc.is_valid(table["minhash"]))  # band_keys skips the unsigned the same way
        column = signed["minhash"].combine_chunks()
        sigs = iter(column.flatten().to_numpy().reshape(-1, column.type.list_size))
        keys = iter(band_keys(signed, self.bands, self.rows).column("band_key").to_numpy().reshape(-1, self.bands))
        valid = pc.is_valid(table["minhash"]).to_pylist()
        found = []
        for doc_id, has_signature in zip(table.column("doc_id").to_pylist(), valid):
            if not has_signature:
                found.append(None)
                continue
            sig, row_keys = next(sigs), next(keys)
            candidates = {c for k in row_keys for c in self.buckets.get(int(k), ())}
            match = min((c for c in candidates if np.mean(self.signatures[c] == sig) >= self.threshold), default=None)
            found.append(match)
            if match is None:
                self.signatures[doc_id] = sig
                for k in row_keys:
                    self.buckets.setdefault(int(k), []).append(doc_id)
        return found


__all__ = ["ChatTemplate", "Languages", "NearDuplicates", "SftRows", "check", "messages_of", "script_language",
           "IGNORE", "TOKEN_TYPE"]
