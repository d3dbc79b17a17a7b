import random

import pytest

from numerate.data import IGNORE, encode_examples, training_problems
from numerate.formats.digits import DigitsFormat
from numerate.tasks import get_task
from numerate.tokenizer import CharTokenizer

task = get_task("addition")


def carries(a: int, b: int) -> int:
    """Digit positions that produce a carry when adding a and b by hand."""
    count, carry = 0, 0
    while a or b or carry:
        s = a % 10 + b % 10 + carry
        carry = s // 10
        count += carry
        a, b = a // 10, b // 10
    return count


@pytest.mark.parametrize("seed", range(5))
def test_answers_match_python(seed):
    rng = random.Random(seed)
    for _ in range(200):
        p = task.sample_range(rng, 1, 30)
        assert task.answer(p) == p.operands[0] + p.operands[1]


@pytest.mark.parametrize("lengths", [(1, 1), (3, 7), (20, 20), (1, 40)])
def test_uniform_sampler_lengths(lengths):
    rng = random.Random(0)
    for _ in range(50):
        p = task.sample(rng, "uniform", lengths)
        assert tuple(len(str(x)) for x in p.operands) == lengths


@pytest.mark.parametrize("n", [1, 2, 5, 20, 100])
def test_carry_chains_carry_through_every_digit(n):
    rng = random.Random(n)
    for _ in range(50):
        a, b = task.sample(rng, "carry", (n, n)).operands
        assert max(len(str(a)), len(str(b))) == n
        assert carries(a, b) == n


def test_training_batches_are_reproducible_and_bucketed():
    one = training_problems(task, (1, 10), 32, seed=3, step=7, rank=0, bucket=True)
    assert one == training_problems(task, (1, 10), 32, seed=3, step=7, rank=0, bucket=True)
    assert one != training_problems(task, (1, 10), 32, seed=3, step=8, rank=0, bucket=True)
    assert len({tuple(len(str(x)) for x in p.operands) for p in one}) == 1


def test_loss_only_on_answer_tokens():
    fmt = DigitsFormat("+", reverse=True, pad=True)
    tok = CharTokenizer(fmt.alphabet)
    probs = training_problems(task, (1, 5), 8, seed=0, step=0, rank=0, bucket=False)
    x, y = encode_examples(probs, task, fmt, tok)
    for p, xr, yr in zip(probs, x.tolist(), y.tolist()):
        n_prompt = len(fmt.prompt(p))
        answer = fmt.target(p, task.answer(p))
        assert all(t == IGNORE for t in yr[: n_prompt - 1])
        assert tok.decode([t for t in yr if t != IGNORE]) == answer
        assert yr[n_prompt - 1 + len(answer)] == tok.eos_id


def test_wrong_digit_tenths_locates_errors():
    from numerate.eval.evaluate import Answer, wrong_digit_tenths
    from numerate.tasks.base import Problem

    p = Problem((0, 0))
    answers = [
        Answer(p, 1234567890, "", 1234567891),  # least significant digit wrong -> tenth 0
        Answer(p, 1234567890, "", 9234567890),  # most significant digit wrong -> tenth 9
        Answer(p, 1234567890, "", 1234567890),  # right: not counted
        Answer(p, 100, "", 1100),  # an extra digit past the end counts in the last tenth
        Answer(p, 5, "", None),  # unparseable: not counted
    ]
    assert wrong_digit_tenths(answers) == [1, 0, 0, 0, 0, 0, 0, 0, 0, 2]
