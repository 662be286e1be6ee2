import json

import pytest

from operators.tokens.mixture import Mixture, budget_table, parse_weights

PARTS = {"book/kk": 2_000_000, "text/kk": 1_000_000, "news/ru": 30_000_000, "news/en": 20_000_000}


def test_budget_follows_weights_until_a_cap_binds():
    mix = Mixture(weights={"book/kk": 0.3, "text/kk": 0.2, "news/ru": 0.3, "news/en": 0.2},
                  max_epochs={"book/kk": 4, "text/kk": 4})
    budget = mix.budget(PARTS)
    # text/kk binds: 4 passes over 1M = 4M tokens at weight 0.2 → a 20M-token epoch
    assert budget == {"book/kk": 6_000_000, "text/kk": 4_000_000, "news/ru": 6_000_000, "news/en": 4_000_000}
    for k, n in budget.items():
        assert n <= mix.cap(k) * PARTS[k]
    rows = {r["partition"]: r for r in budget_table(mix, PARTS)}
    assert rows["book/kk"]["passes"] == pytest.approx(3.0) and rows["news/ru"]["passes"] == pytest.approx(0.2)


def test_natural_mixture_reads_every_token_once():
    assert Mixture.natural(PARTS).budget(PARTS) == PARTS


def test_unweighted_partitions_get_nothing_and_unknown_ones_are_refused():
    assert Mixture(weights={"text/kk": 1}).budget(PARTS)["news/ru"] == 0
    with pytest.raises(ValueError, match="news/kk"):
        Mixture(weights={"news/kk": 1}).budget(PARTS)
    with pytest.raises(ValueError):
        Mixture(weights={"text/kk": -1})


def test_cli_form_and_file_round_trip(tmp_path):
    weights, caps = parse_weights(["text/kk=0.5:4", "news/ru=0.5"])
    assert weights == {"text/kk": 0.5, "news/ru": 0.5} and caps == {"text/kk": 4.0}
    mix = Mixture(weights=weights, max_epochs=caps)
    assert Mixture.from_text(mix.to_json()) == mix
    yaml_text = "weights:\n  text/kk: 0.5\n  news/ru: 0.5\nmax_epochs:\n  text/kk: 4\n"
    assert Mixture.from_text(yaml_text) == mix
    assert json.loads(mix.to_json())["version"] == 1
    with pytest.raises(ValueError, match="PARTITION=WEIGHT"):
        parse_weights(["text/kk"])
