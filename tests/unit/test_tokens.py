import json
import os

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from operators.tokens.bpe import EOS, Fertility, FillLanguage, SampleForTraining, Tokenize, special_ids, train_bpe, \
    training_fractions
from operators.tokens.shards import ShardPacker, shard_name
from schemas import SHARD

TEXTS = [
    "Қазақ тілі — түркі тілдерінің бірі. Әліпбиде ә ғ қ ң ө ұ ү һ і әріптері бар.",
    "Русский язык широко используется в Казахстане.",
    "English is the third language of the corpus.",
] * 20


@pytest.fixture(scope="module")
def tokenizer():
    return train_bpe(TEXTS, vocab_size=400, min_frequency=2)


def test_trained_bpe_round_trips_exactly_and_has_special_tokens(tokenizer):
    assert tokenizer.token_to_id(EOS) is not None
    table = FillLanguage()(pa.table({"doc_id": ["a", "b"], "source": ["text", "book"], "lang": ["kk", None],
                                     "text": [TEXTS[0], "  Бос  орын\nжәне жаңа жол  "]}))
    shard = Tokenize(tokenizer.to_str())(table)
    assert shard.schema.field("input_ids").type == pa.list_(pa.uint32())
    assert shard.column("lang").to_pylist() == ["kk", "und"]
    assert shard.column("n_tokens").to_pylist() == [len(ids) for ids in shard.column("input_ids").to_pylist()]
    for ids, text in zip(shard.column("input_ids").to_pylist(), table.column("text").to_pylist()):
        assert tokenizer.decode(ids) == text
    # a trained vocabulary compresses: fewer tokens than UTF-8 bytes
    assert shard.column("n_tokens").to_pylist()[0] < len(TEXTS[0].encode()) / 2


def test_long_documents_split_into_ordered_chunks_that_rejoin(tokenizer):
    text = " ".join(TEXTS[:6])
    table = pa.table({"doc_id": ["d"], "source": ["book"], "lang": ["kk"], "text": [text]})
    whole = Tokenize(tokenizer.to_str())(table).column("input_ids")[0].as_py()
    rows = Tokenize(tokenizer.to_str(), max_doc_tokens=7)(table)
    assert rows.column("chunk").to_pylist() == list(range(len(rows)))
    assert max(rows.column("n_tokens").to_pylist()) == 7 and len(rows) == -(-len(whole) // 7)
    assert sum(rows.column("input_ids").to_pylist(), []) == whole
    # words and characters count once per document (on chunk 0) for fertility
    assert rows.column("n_chars").to_pylist() == [len(text)] + [0] * (len(rows) - 1)


def test_special_ids_require_eos():
    from tokenizers import Tokenizer, models

    with pytest.raises(ValueError, match="eos"):
        special_ids(Tokenizer(models.BPE()))


def test_training_sample_keeps_kazakh_share_against_larger_russian():
    chars = {("news", "ru"): 9_000_000, ("text", "kk"): 600_000, ("book", "kk"): 400_000, ("news", "en"): 5_000_000}
    fractions, shares = training_fractions(chars, {"kk": 0.5, "ru": 0.3, "en": 0.2}, budget_chars=1_000_000)
    assert shares["by_lang"] == {"en": 0.2, "kk": 0.5, "ru": 0.3}
    assert fractions[("text", "kk")] == fractions[("book", "kk")] == 0.5  # sources keep natural proportions
    # a language with less text than its share gives all of it; nobody refills its place
    fractions, shares = training_fractions(chars, {"kk": 0.9, "ru": 0.1}, budget_chars=4_000_000)
    assert fractions[("text", "kk")] == 1.0 and fractions[("news", "en")] == 0.0
    assert shares["by_lang"]["kk"] == pytest.approx(1_000_000 / 1_400_000, abs=1e-6)


def test_training_sample_is_a_deterministic_draw_by_doc_id():
    table = pa.table({"doc_id": [f"d{i}" for i in range(2000)], "source": ["text"] * 2000,
                      "lang": ["kk", "ru"] * 1000, "text": ["қ"] * 2000})
    pick = SampleForTraining({("text", "kk"): 1.0, ("text", "ru"): 0.25})
    kept = pick(table)
    assert kept.equals(pick(table))
    langs = kept.column("lang").to_pylist()
    assert langs.count("kk") == 1000 and 200 < langs.count("ru") < 300


def test_fertility_counts_tokens_per_word_by_language(tokenizer):
    table = pa.table({"doc_id": ["a", "b"], "source": ["text"] * 2, "lang": ["kk", "en"],
                      "text": [TEXTS[0], TEXTS[2]]})
    f = Fertility()
    f.add(Tokenize(tokenizer.to_str(), max_doc_tokens=5)(table))
    report = f.report()
    assert report["kk"]["words"] == len(TEXTS[0].split()) and report["kk"]["chars"] == len(TEXTS[0])
    assert report["kk"]["tokens"] == len(tokenizer.encode(TEXTS[0]).ids)
    assert report["en"]["tokens_per_word"] == round(len(tokenizer.encode(TEXTS[2]).ids) / len(TEXTS[2].split()), 4)


def rows(n_docs: int, tokens_per_doc: int, source="text", lang="kk", chunks=1, seed=0):
    rng = np.random.default_rng(seed)
    out = []
    for d in range(n_docs):
        for c in range(chunks):
            ids = rng.integers(0, 50_000, tokens_per_doc).tolist()
            out.append({"doc_id": f"{source}-{lang}-{d:05d}", "source": source, "lang": lang,
                        "input_ids": ids, "n_tokens": tokens_per_doc, "chunk": c})
    return pa.Table.from_pylist(out, schema=SHARD)


def pack(tmp_path, table, batch=37, **kwargs):
    written = []
    packer = ShardPacker(str(tmp_path), ["source", "lang"], lambda p, e: written.append((p, e)), **kwargs)
    for start in range(0, table.num_rows, batch):
        packer(table.slice(start, batch))
    packer.close()
    return written


def test_packer_cuts_by_size_per_partition_never_inside_a_document(tmp_path):
    table = pa.concat_tables([rows(300, 200, "text", "kk", chunks=3), rows(100, 200, "news", "ru", seed=1)])
    written = pack(tmp_path, table, target_bytes=400_000, row_group_bytes=60_000)
    assert len({tuple(e["partition"].values()) for _, e in written}) == 2
    assert [e["partition"] for _, e in written] == sorted((e["partition"] for _, e in written),
                                                          key=lambda p: p["source"] != "text")
    back = []
    for path, entry in written:
        assert os.path.basename(path) == shard_name(entry["partition"], int(path[-13:-8]))
        f = pq.ParquetFile(path)
        assert f.metadata.num_rows == entry["n_rows"] and f.num_row_groups == len(entry["row_group_tokens"]) > 0
        assert f.metadata.row_group(0).column(3).compression == "ZSTD"
        for g in range(f.num_row_groups):
            group = f.read_row_group(g)
            assert group.column("source").unique().to_pylist() == [entry["partition"]["source"]]
            assert sum(group.column("n_tokens").to_pylist()) == entry["row_group_tokens"][g]
            assert len(set(group.column("doc_id").to_pylist())) == entry["row_group_docs"][g]
            assert group.column("chunk")[0].as_py() == 0  # a row group starts a document
        # sized by bytes: a shard stays near its target (one row group over at most)
        assert entry["n_bytes"] < 400_000 + 2 * 60_000
        back.append(f.read())
    assert pa.concat_tables(back).equals(table)
    assert len([w for w in written if w[1]["partition"]["lang"] == "kk"]) >= 2


def test_packer_output_is_byte_identical_for_any_batching(tmp_path):
    table = rows(200, 150, chunks=2)
    a = pack(tmp_path / "a", table, batch=7, target_bytes=200_000, row_group_bytes=30_000)
    b = pack(tmp_path / "b", table, batch=501, target_bytes=200_000, row_group_bytes=30_000)
    assert [e["sha256"] for _, e in a] == [e["sha256"] for _, e in b]


def test_chat_template_masks_everything_but_the_responses(tokenizer):
    from operators.tokens.sft import IGNORE, ChatTemplate

    template = ChatTemplate(tokenizer)
    messages = [{"role": "system", "content": "Сен көмекшісің."}, {"role": "user", "content": "Әріптерді ата."},
                {"role": "assistant", "content": "ә ғ қ ң ө ұ ү һ і"}, {"role": "user", "content": "Тағы?"},
                {"role": "assistant", "content": "Бітті."}]
    ids, labels = template.render(messages)
    assert len(ids) == len(labels)
    trained = [t for t, lab in zip(ids, labels) if lab != IGNORE]
    assert all(lab in (IGNORE, t) for t, lab in zip(ids, labels))
    eos = tokenizer.encode(EOS, add_special_tokens=False).ids
    expected = tokenizer.encode("ә ғ қ ң ө ұ ү һ і").ids + eos + tokenizer.encode("Бітті.").ids + eos
    assert trained == expected  # exactly the responses and their end markers
    assert "Әріптерді ата." in tokenizer.decode(ids) and tokenizer.decode([t for t, lab in zip(ids, labels)
                                                                           if lab == IGNORE]).count("<|user|>") == 2


def test_sft_rows_reject_with_their_own_checks(tokenizer, samples):
    from operators.tokens.sft import SftRows

    lines = (samples / "instructions" / "kk_instructions.jsonl").read_text().splitlines() + ["{not json"]
    rows = SftRows(tokenizer.to_str())(pa.table({"record": lines}))
    by_id = dict(zip([json.loads(line)["id"] for line in lines[:-1]], rows.to_pylist()))
    assert by_id["kk-sft-008"]["detail"] == "empty response"
    assert by_id["kk-sft-009"]["detail"] == "response identical to prompt"
    assert by_id["kk-sft-010"]["detail"].startswith("language mismatch")
    # Russian with one Kazakh place name: the alphabet says kk, the language ID says ru
    assert by_id["kk-sft-014"]["detail"] == "language mismatch: prompt kk, response ru"
    assert by_id["kk-sft-002"]["reason"] is None  # the English `input` to translate is material, not the prompt
    assert rows.to_pylist()[-1]["detail"].startswith("unreadable record")
    assert by_id["kk-sft-011"]["doc_id"] == by_id["kk-sft-001"]["doc_id"]  # duplicates share an id
    kept = [r for r in rows.to_pylist() if r["reason"] is None]
    # 14 records - 4 rejected here; the flow drops the duplicate (011) and the near duplicate (013)
    assert len(kept) == 10 and all(r["lang"] == "kk" and r["n_tokens"] == len(r["input_ids"]) for r in kept)
    assert all(len(r["labels"]) == len(r["input_ids"]) and any(x != -100 for x in r["labels"]) for r in kept)


def test_instruction_records_in_the_formats_they_ship_in():
    from operators.tokens.sft import messages_of

    one_turn = [{"role": "user", "content": "Аудар.\n\nGood morning."}, {"role": "assistant", "content": "Қайырлы таң."}]
    assert messages_of({"instruction": "Аудар.", "input": "Good morning.", "response": "Қайырлы таң."}) == one_turn
    assert messages_of({"instruction": "Аудар.", "input": "Good morning.", "output": "Қайырлы таң."}) == one_turn  # Alpaca
    assert messages_of({"instruction": "Аудар.", "context": "Good morning.", "response": "Қайырлы таң."}) == one_turn  # Dolly
    sharegpt = {"conversations": [{"from": "system", "value": "Сен көмекшісің."}, {"from": "human", "value": "Сәлем"},
                                  {"from": "gpt", "value": "Сәлеметсіз бе!"}]}
    assert [m["role"] for m in messages_of(sharegpt)] == ["system", "user", "assistant"]
    assert messages_of(sharegpt)[2]["content"] == "Сәлеметсіз бе!"


def test_array_records_read_a_json_array_gzipped_or_not_and_count_a_break():
    import gzip

    from operators.tokens.sft import array_records

    records = [{"instruction": "Сұрақ?", "output": "Жауап."}, {"conversations": []}]
    data = json.dumps(records, ensure_ascii=False, indent=1).encode()
    assert [json.loads(r["text"]) for r in array_records("a.json", data, 1 << 20)] == records
    assert array_records("a.json.gz", gzip.compress(data), 1 << 20) == array_records("a.json", data, 1 << 20)
    cut = array_records("a.json", data[:-20], 1 << 20)
    assert json.loads(cut[0]["text"]) == records[0] and "invalid JSON" in cut[-1]["text"]


def test_near_duplicates_keep_the_first_of_a_rephrased_pair():
    from flows.near_dedup import NearDedupSettings
    from operators.tokens.sft import NearDuplicates

    settings = NearDedupSettings.from_config({"threshold": 0.7})
    letter = ("Қымбатты досым! Туған күніңмен шын жүректен құттықтаймын. Саған мықты денсаулық, отбасыңа "
              "амандық және барлық армандарыңның орындалуын тілеймін.")
    texts = [letter, letter.replace(".", "!"), "Наурыз — күн мен түннің теңелуін тойлайтын көктем мейрамы.", None]
    table = settings.signer()(pa.table({"doc_id": ["a", "b", "c", "d"], "text": texts}))
    seen = NearDuplicates(*settings.lsh(), 0.7)
    assert seen.earlier(table) == [None, "a", None, None]  # d has no text: nothing to compare, kept as is
    later = settings.signer()(pa.table({"doc_id": ["e"], "text": [letter.replace("досым", "досым менің")]}))
    assert seen.earlier(later) == ["a"]  # the index spans batches


def test_script_language_tells_kazakh_from_russian():
    from operators.tokens.sft import script_language

    assert script_language("Күз келгенде құстар оңтүстікке ұшады.") == "kk"
    assert script_language("Осенью листья желтеют и опадают.") == "ru"
    assert script_language("Rivers rise after the spring rain.") == "en"
    assert script_language("Иә.") is None


def test_a_damaged_or_bomb_gzip_instruction_array_is_one_unreadable_row_not_a_crash():
    import gzip
    import io

    from operators.tokens.sft import array_records, holds_json_array

    data = gzip.compress(json.dumps([{"instruction": "Сұрақ?", "output": "Жауап."}] * 50).encode())
    cut = array_records("a.json.gz", data[:len(data) // 2], 1 << 20)
    assert cut[-1]["text"].startswith("unreadable file:")
    bomb = gzip.compress(b"[" + b" " * (300 << 20) + b"]")
    assert array_records("b.json.gz", bomb, 1 << 20)[-1]["text"].startswith("unreadable file:")
    assert not holds_json_array("c.json.gz", io.BytesIO(b"\x1f\x8b not gzip"))
