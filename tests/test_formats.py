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


OPTIONS = [
    dict(group=3),
    dict(group=3, group_from="left"),
    dict(group=4, reverse=False, pad=False),
    dict(hints=True),
    dict(hints=True, reverse=False),
    dict(spaces=0.3),
    dict(spaces=0.5, group=2, hints=True),
]


@pytest.mark.parametrize("options", OPTIONS)
@settings(max_examples=60, deadline=None)
@given(a=naturals, b=naturals)
def test_representation_options_round_trip(options, a, b):
    fmt = DigitsFormat("+", **{"reverse": True, "pad": True, **options})
    p = Problem((a, b))
    target = fmt.target(p, a + b)
    assert fmt.parse(target) == a + b
    assert len(target) <= fmt.max_target_len(p)
    assert set(fmt.prompt(p) + target) <= set(fmt.alphabet)
    assert fmt.prompt(p) == fmt.prompt(Problem((a, b)))  # random spaces are fixed per problem


@pytest.mark.parametrize(
    "options, prompt, target",
    [
        (dict(reverse=False, pad=False, group=3), "1,234,567+89=", "1,234,656"),
        (dict(reverse=False, pad=False, group=3, group_from="left"), "123,456,7+89=", "123,465,6"),
        (dict(reverse=True, pad=False, group=3), "765,432,1+98=", "656,432,1"),
        (dict(reverse=True, pad=True, hints=True), "a7b6c5d4e3f2g1+a9b8c0d0e0f0g0=", "a6b5c6d4e3f2g1h0"),
    ],
)
def test_representation_known_strings(options, prompt, target):
    fmt = DigitsFormat("+", **options)
    p = Problem((1234567, 89))
    assert (fmt.prompt(p), fmt.target(p, 1234656)) == (prompt, target)


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


def test_format_config_and_format_options_are_one_list():
    """A new representation option is declared in FormatConfig and read by the format: nothing mirrors it."""
    import inspect

    from numerate.config import FormatConfig
    from numerate.formats import FORMATS

    config_keys = set(FormatConfig.__dataclass_fields__) - {"name"}
    for name in FORMATS.names():
        params = set(inspect.signature(FORMATS.get(name)).parameters) - {"symbol", "marks", "answer_shape", "signed"}
        assert params == config_keys, name


@pytest.mark.parametrize("reverse", [True, False])
@pytest.mark.parametrize("pad", [True, False])
def test_negative_answers_with_a_sign(reverse, pad):
    from numerate import config
    from numerate.formats import get_format
    from numerate.tasks import get_task

    task = get_task("subtraction")
    fmt = get_format(config.FormatConfig(reverse=reverse, pad=pad, negatives="sign"), task)
    for a, b in [(3, 5), (12, 345), (1000, 1), (7, 7), (0, 99999)]:
        p = Problem((a, b))
        text = fmt.target(p, a - b)
        assert fmt.parse(text) == a - b
        assert (text.endswith("-") if reverse else text.startswith("-")) == (a < b)
    assert fmt.parse("0-" if reverse else "-0") is None  # no negative zero
    assert "-" in fmt.alphabet


def test_negative_answers_as_complements_are_local():
    """3 - 5 = -2 is written as the digits a borrow leaves: 10^w - 2 in the padded width (top digit 9)."""
    from numerate import config
    from numerate.errors import UsageError
    from numerate.formats import get_format
    from numerate.tasks import get_task

    task = get_task("subtraction")
    fmt = get_format(config.FormatConfig(negatives="complement"), task)
    assert fmt.target(Problem((3, 5)), -2) == "89"  # reversed: 98 is 100 - 2
    assert fmt.target(Problem((210, 543)), -333) == "7669"  # 10^4 - 333 = 9667
    assert fmt.target(Problem((543, 210)), 333) == "3330"
    assert fmt.parse("89") == -2 and fmt.parse("3330") == 333
    with pytest.raises(UsageError, match="pad"):
        get_format(config.FormatConfig(negatives="complement", pad=False), task)
