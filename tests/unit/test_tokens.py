import pyarrow as pa

from operators.tokens.bpe import EOS, Tokenize, train_bpe

TEXTS = [
    "Қазақ тілі — түркі тілдерінің бірі. Әліпбиде ә ғ қ ң ө ұ ү һ і әріптері бар.",
    "Русский язык широко используется в Казахстане.",
    "English is the third language of the corpus.",
] * 20


def test_trained_bpe_round_trips_exactly_and_has_special_tokens():
    tokenizer = train_bpe(TEXTS, vocab_size=400, min_frequency=2)
    assert tokenizer.token_to_id(EOS) is not None
    table = pa.table({"doc_id": ["a", "b"], "source": ["text", "book"], "lang": ["kk", None],
                      "text": [TEXTS[0], "  Бос  орын\nжәне жаңа жол  "]})
    shard = Tokenize(tokenizer.to_str())(table)
    assert shard.column("n_tokens").to_pylist() == [len(ids) for ids in shard.column("input_ids").to_pylist()]
    for ids, text in zip(shard.column("input_ids").to_pylist(), table.column("text").to_pylist()):
        assert tokenizer.decode(ids) == text
    # a trained vocabulary compresses: fewer tokens than UTF-8 bytes
    assert shard.column("n_tokens").to_pylist()[0] < len(TEXTS[0].encode()) / 2
