"""Ukrainian locatives without a preposition (pymorphy3's real Ukrainian dictionary)."""
from hypothesis import given, settings
from hypothesis import strategies as st

from operators.text.ukrainian_grammar import bare_locatives, only_locative


def test_words_ukrainian_has_only_as_locatives():
    # Kazakh possessives ("its language", "its algorithm") that Ukrainian has as locatives only.
    assert only_locative("тілі") and only_locative("алгоритмі") and only_locative("декодері")
    # Also a genitive, a dative and a plural: a Ukrainian word without a preposition.
    assert not only_locative("панелі") and not only_locative("сторінці")
    assert not only_locative("файли")
    # A word the dictionary does not know is never a bare locative.
    assert not only_locative("жазуы") and not only_locative("мәтіні")


def test_a_preposition_anywhere_before_governs_the_locative():
    assert bare_locatives(["ява", "тілі"]) == {1}
    assert bare_locatives(["csr", "алгоритмі"]) == {1}
    assert bare_locatives(["у", "тілі", "людини"]) == set()
    assert bare_locatives(["кодування", "тексту", "в", "новому", "алгоритмі"]) == set()
    assert bare_locatives(["на", "панелі"]) == set()
    assert bare_locatives(["тілі", "при", "тілі"]) == {0}


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(alphabet="абвгдеєжзиіїйклмнопрстуфхцчшщьюяәғқңөұүһ'-", min_size=1, max_size=12), max_size=8))
def test_bare_locatives_are_positions_of_words_ending_in_i_before_any_preposition(words):
    bare = bare_locatives(words)
    assert bare <= {i for i, w in enumerate(words) if w.endswith("і")}
    first_preposition = next((i for i, w in enumerate(words) if w in ("в", "у", "на", "по", "при", "о")), len(words))
    assert all(i < first_preposition for i in bare)
