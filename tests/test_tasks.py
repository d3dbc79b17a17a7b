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
    from numerate.eval.answer import Answer
    from numerate.eval.evaluate import wrong_digit_tenths
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


# The task contract, checked for every registered task.
from numerate.tasks import TASKS  # noqa: E402
from numerate.tasks.base import as_tuple  # noqa: E402
from numerate.tasks.iterative import IterativeTask  # noqa: E402


@pytest.mark.parametrize("name", TASKS.names())
def test_every_task_meets_the_contract(name):
    import random

    from numerate import config
    from numerate.formats import get_format

    task = get_task(name)
    assert list(task.samplers)[0] == "uniform" and all(task.samplers.values())
    lo, hi = task.operand_counts
    rng = random.Random(0)
    modes = ["sign", "complement"] if task.signed else ["sign"]
    for negatives in modes:
        page = {"addition-page": "page", "multiplication-page": "page-grid"}.get(name)  # lines need their format
        page = "page-program" if getattr(task, "program", None) is not None else page
        options = {"name": page, "reverse": True} if page else {}
        fmt = get_format(config.FormatConfig(negatives=negatives, **options), task)
        for sampler, cell in task.cells([1, 2, 5], grid=len(task.cell_dims) == 2, adversarial=True):
            assert len(cell) == len(task.cell_dims)
            for _ in range(5):
                p = task.sample(rng, sampler, cell)
                assert lo <= len(p.operands) <= hi or isinstance(task, IterativeTask)
                truth = task.answer(p)
                if isinstance(truth, str):  # a page program's page: read back, its lines within the shape
                    assert fmt.parse(fmt.target(p, truth)) == truth and task.final(truth) is not None
                    lines, digits = task.answer_shape(p, fmt.width(p))
                    written = fmt.split(truth)
                    assert len(written) <= lines and all(len(x) <= digits + 2 for x in written)
                    assert task.parse_expression(task.expression(p)) == p
                    continue
                assert isinstance(truth, (int, tuple))
                cells = isinstance(truth, tuple) and truth and isinstance(truth[0], tuple)  # lines of cells
                if not task.signed and not cells:
                    assert all(v >= 0 for v in (truth if isinstance(truth, tuple) else (truth,)))
                assert as_tuple(fmt.parse(fmt.target(p, truth))) == as_tuple(truth)  # written, read back
                _, digits = task.answer_shape(p, fmt.width(p))
                for v in truth if isinstance(truth, tuple) else (truth,):
                    assert (len(v) if cells else len(str(abs(v)))) <= digits
                if not isinstance(task, IterativeTask):  # an expression a user would type reads back the same
                    assert task.parse_expression(task.expression(p)) == p
    with pytest.raises(Exception, match="no sampler"):
        task.sample(rng, "no-such-sampler", (1,) * len(task.cell_dims))


@pytest.mark.parametrize("n", [1, 2, 5, 20, 100])
def test_borrow_chains_borrow_through_every_digit(n):
    """In every borrow-chain problem the borrow born in the lowest column reaches the top column."""
    import random

    task = get_task("subtraction")
    rng = random.Random(n)
    for _ in range(50):
        a, b = task.sample(rng, "borrow", (n, n)).operands
        width = max(len(str(a)), len(str(b)))
        borrow, borrows = 0, []
        for j in range(width):
            d = (a // 10**j) % 10 - (b // 10**j) % 10 - borrow
            borrow = 1 if d < 0 else 0
            borrows.append(borrow)
        assert n == 1 or all(borrows[:-1]) or all(borrows), (a, b, borrows)


def test_subtraction_expressions_and_signs():
    task = get_task("subtraction")
    assert task.answer(task.parse_expression(" 1000 - 1 ")) == 999
    assert task.answer(task.parse_expression("3-5")) == -2
    for bad in ("1-2-3", "-1-2", "1+2", "1.5-2", "a-b", "1-"):
        with pytest.raises(ValueError):
            task.parse_expression(bad)


def test_many_operand_training_can_fill_every_column():
    """task.equal_lengths: that fraction of training problems has operands of one shared length; 0 keeps the
    independent lengths (and the same random stream as before the option existed)."""
    from numerate import config

    task = get_task("addition-many")
    task.configure(config.TaskConfig(name="addition-many", equal_lengths=1.0))
    rng = random.Random(0)
    for _ in range(50):
        assert len({len(str(x)) for x in task.sample_range(rng, 1, 10).operands}) == 1
    task.configure(config.TaskConfig(name="addition-many", equal_lengths=0.0))
    mixed = [task.sample_range(rng, 1, 10) for _ in range(50)]
    assert sum(len({len(str(x)) for x in p.operands}) > 1 for p in mixed) > 40
    with pytest.raises(Exception, match="equal_lengths"):
        config.TaskConfig(name="addition-many", equal_lengths=1.5).validate()
