import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from numerate.formats.digits import DigitsFormat
from numerate.tasks.base import Problem
from numerate.tokenizer import CharTokenizer

naturals = st.integers(min_value=0, max_value=10**60)


@pytest.mark.parametrize("reverse", [True, False])
@pytest.mark.parametrize("pad", [True, False])
@settings(max_examples=100, deadline=None)
@given(a=naturals, b=naturals)
def test_target_parses_back_to_answer(reverse, pad, a, b):
    fmt = DigitsFormat("+", reverse=reverse, pad=pad)
    p = Problem((a, b))
    assert fmt.parse(fmt.target(p, a + b)) == a + b
    assert len(fmt.target(p, a + b)) <= fmt.max_target_len(p)


@settings(max_examples=100, deadline=None)
@given(a=naturals, b=naturals)
def test_tokenizer_round_trip(a, b):
    fmt = DigitsFormat("+", reverse=True, pad=True)
    tok = CharTokenizer(fmt.alphabet)
    text = fmt.prompt(Problem((a, b))) + fmt.target(Problem((a, b)), a + b)
    ids = tok.encode(text)
    assert tok.decode(ids) == text
    assert tok.decode(ids + [tok.eos_id] + tok.encode("123")) == text  # decoding stops at the end token
    assert CharTokenizer.from_vocab(tok.vocab).vocab == tok.vocab


def test_known_strings():
    p = Problem((123, 4567))
    assert DigitsFormat("+", True, True).prompt(p) == "3210+7654="
    assert DigitsFormat("+", True, True).target(p, 4690) == "09640"
    assert DigitsFormat("+", False, False).prompt(p) == "123+4567="
    assert DigitsFormat("+", False, True).target(p, 4690) == "04690"
    assert DigitsFormat("+", True, False).target(p, 4690) == "0964"


@pytest.mark.parametrize("bad", ["", "12a", "-3", " 4"])
def test_parse_rejects_non_numbers(bad):
    assert DigitsFormat("+", True, True).parse(bad) is None


def test_tokenizer_names_unknown_character():
    with pytest.raises(ValueError, match="'x'"):
        CharTokenizer("0123456789+=").encode("1x2")
