"""SFT shards from the bundled Kazakh instruction sample, read back with labels."""
import json

import numpy as np
import pytest

from flows.build import storage_for
from flows.config import load_config
from flows.shards import build_sft_shards
from flows.stages import StageLog
from flows.verify import verify_shards
from operators.tokens.reader import PackedReader
from tests.unit._shards import EN, KK, RU
from operators.tokens.bpe import train_bpe


@pytest.fixture(scope="module")
def sft(ray_session, samples, tmp_path_factory):
    out = tmp_path_factory.mktemp("sft") / "out"
    (out / "shards").mkdir(parents=True)
    tokenizer = train_bpe(KK * 20 + RU * 5 + EN * 5, vocab_size=700)
    (out / "shards/tokenizer.json").write_text(tokenizer.to_str())
    gone = out.parent / "moved_away.jsonl"  # listed in the config, not there when read
    cfg = load_config([f"output={out}", f"inputs.instructions=[{samples}/instructions,{gone}]",
                       "inputs.on_missing=reject"])
    info = build_sft_shards(cfg, storage_for(cfg), StageLog(storage_for(cfg), str(out), True), "test")
    return out, cfg, info, tokenizer


def test_sft_shards_keep_good_pairs_once_and_count_the_rest(sft):
    out, cfg, info, _ = sft
    # 14 records: empty, echo, two ru answers rejected, one exact and one near duplicate dropped
    assert info["n_docs"] == 8
    assert info["rejected"] == {"cannot open the file": 1, "empty response": 1, "exact duplicate": 1,
                                "language mismatch": 2, "near duplicate": 1, "response identical to prompt": 1}
    manifest = json.loads((out / "sft/manifest.json").read_text())
    assert manifest["kind"] == "sft" and {s["partition"]["lang"] for s in manifest["shards"]} == {"kk"}
    assert verify_shards(storage_for(cfg), str(out / "sft")) == []


def test_reader_yields_labels_only_on_responses(sft, samples):
    out, _, _, tokenizer = sft
    r = PackedReader(str(out / "sft"), seq_len=15)  # short samples: the dropped tail is under 16 tokens
    stream_ids, stream_labels = [], []
    for s in r:
        assert set(s) == {"input_ids", "labels"}
        stream_ids.append(s["input_ids"])
        stream_labels.append(s["labels"])
    ids, labels = np.concatenate(stream_ids), np.concatenate(stream_labels)
    assert np.all((labels == -100) | (labels == ids))
    trained = tokenizer.decode(ids[labels != -100].tolist())
    prompts = tokenizer.decode(ids[labels == -100].tolist())
    records = [json.loads(x) for x in (samples / "instructions/kk_instructions.jsonl").read_text().splitlines()]
    assert "ә, ғ, қ, ң, ө, ұ, ү, һ, і" in trained and "Кітапхана күн сайын ескі кітаптарды цифрлайды." in trained
    assert "Мына сөйлемді ағылшын тілінен қазақ тіліне аудар." in prompts
    assert records[1]["instruction"] not in trained and "Осенью" not in trained + prompts


def as_alpaca_or_sharegpt(record: dict, i: int) -> dict:
    """The record in Alpaca's fields (output for response) or, every other one, ShareGPT's."""
    if "messages" in record or i % 2:
        turns = record.get("messages") or [{"role": "user", "content": record["instruction"]
                                            + (f"\n\n{record['input']}" if record["input"] else "")},
                                           {"role": "assistant", "content": record["response"]}]
        return {"conversations": [{"from": {"user": "human", "assistant": "gpt"}.get(t["role"], t["role"]),
                                   "value": t["content"]} for t in turns], "lang": record["lang"]}
    return {"instruction": record["instruction"], "input": record["input"], "output": record["response"],
            "lang": record["lang"]}


def test_an_alpaca_json_array_gives_the_conversations_of_the_jsonl(sft, samples, tmp_path):
    """The sample's records as a Hugging Face-style .json array (one line, pretty-printed
    JSON would do as well), Alpaca and ShareGPT records mixed: the same pairs kept, the same
    rejected, the same token ids."""
    out, _, info, tokenizer = sft
    records = [json.loads(x) for x in (samples / "instructions/kk_instructions.jsonl").read_text().splitlines()
               if x.strip()]
    (tmp_path / "instructions").mkdir()
    array = tmp_path / "instructions" / "kk_alpaca.json"
    array.write_text(json.dumps([as_alpaca_or_sharegpt(r, i) for i, r in enumerate(records)], ensure_ascii=False,
                                indent=2), encoding="utf-8")
    again = tmp_path / "out"
    (again / "shards").mkdir(parents=True)
    (again / "shards/tokenizer.json").write_text(tokenizer.to_str())
    cfg = load_config([f"output={again}", f"inputs.instructions=[{tmp_path}/instructions]"])
    alpaca = build_sft_shards(cfg, storage_for(cfg), StageLog(storage_for(cfg), str(again), True), "test")
    assert alpaca["n_docs"] == info["n_docs"]
    assert alpaca["rejected"] == {k: v for k, v in info["rejected"].items() if k != "cannot open the file"}
    tokens = [np.concatenate([s["input_ids"] for s in PackedReader(str(o / "sft"), seq_len=15)]) for o in (out, again)]
    assert np.array_equal(*tokens)
