"""The one-shot multiplication switches: the chain-of-thought format, ICoT's test files, the running-sum auxiliary
loss and stepwise internalization."""

import random
import re
from pathlib import Path

import pytest
import torch

from numerate.checkpoint import build
from numerate.data import IGNORE, encode_examples
from numerate.errors import UsageError
from numerate.eval.icot import read_icot
from numerate.tasks.base import Problem
from numerate.train.auxiliary import SCALE
from numerate.train.internalize import Internalize
from numerate.train.loop import train

from conftest import tiny_config

ICOT = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "icot"


def chain_bundle(*overrides):
    return build(tiny_config("task.name=multiplication", "format.name=chain", *overrides))


def numbers(text: str) -> list[int]:
    """Every reversed number of a chain, in order."""
    return [int(t[::-1]) for t in re.findall(r"\d+", text)]


def test_the_chain_states_each_partial_product_and_running_sum():
    b = chain_bundle()
    rng = random.Random(0)
    for _ in range(200):
        n, m = rng.randint(1, 7), rng.randint(1, 7)
        x, y = rng.randrange(10 ** (n - 1), 10**n), rng.randrange(10 ** (m - 1), 10**m)
        p = Problem((x, y))
        chain, rest = b.fmt.split_target(p, x * y)
        assert rest == "#" + b.fmt.target(p, x * y).rsplit("#", 1)[1]
        assert b.fmt.parse(chain + rest) == x * y
        values, ys = numbers(chain), str(y)[::-1]
        partials = [x * int(d) * 10**j for j, d in enumerate(ys)]
        want = [partials[0]]
        for j in range(1, len(ys)):
            want += [partials[j]] + ([x * (y % 10 ** (j + 1))] if j < len(ys) - 1 else [])
        assert values == want


@pytest.mark.parametrize("n", [4, 5, 7, 9, 11])
def test_the_chain_is_icots_own(n):
    path = ICOT / f"{n}_by_{n}_mult_test_bigbench.txt"
    if not path.is_file():
        pytest.skip(f"ICoT's test files are not in {ICOT} (see ../shared/data/README.md)")
    b = chain_bundle()
    lines = path.read_text().splitlines()
    for line, p in zip(lines, read_icot(path)):
        question, rest = line.split("||")
        assert b.fmt.prompt(p) == question.replace(" ", "") + "="
        assert b.fmt.target(p, b.task.answer(p)) == rest.replace(" ", "").replace("####", "#")


def test_an_answer_is_read_after_the_chain_whatever_is_left_of_it():
    fmt = chain_bundle().fmt
    assert fmt.parse("#21") == 12
    assert fmt.parse("0)+0012#4321") == 1234  # a chain cut from the left
    assert fmt.parse("1234") is None  # no '#': not an answer
    assert fmt.parse("#") is None


def test_an_internalized_answer_counts_as_written_exactly():
    fmt = chain_bundle().fmt
    p = Problem((2967, 6361))
    whole = fmt.target(p, 18873087)
    assert fmt.writes(p, 18873087, whole) and fmt.writes(p, 18873087, "#78037881")
    assert fmt.writes(p, 18873087, whole[12:])  # a chain cut from the left
    assert not fmt.writes(p, 18873087, "#780378810")  # an extra digit
    assert not fmt.writes(p, 18873087, "7#78037881")  # not an end of the chain (it ends in 1)
    assert not fmt.writes(p, 18873087, "#78037882")


def test_the_chain_format_refuses_what_it_cannot_write():
    with pytest.raises(UsageError, match="task multiplication"):
        build(tiny_config("format.name=chain"))
    with pytest.raises(UsageError, match="reverse"):
        chain_bundle("format.reverse=false")


def test_running_sums_give_the_digits_and_the_carries():
    task = build(tiny_config("task.name=multiplication")).task
    rng = random.Random(1)
    for _ in range(300):
        x, y = rng.randrange(1, 10 ** rng.randint(1, 8)), rng.randrange(1, 10 ** rng.randint(1, 8))
        digits = len(str(x)) + len(str(y))
        sums = task.running_sums(Problem((x, y)), digits)
        assert "".join(str(s % 10) for s in sums)[::-1].lstrip("0") == str(x * y)
        assert sums[-1] < 10  # nothing carried out of the answer
    assert task.running_sums(Problem((99, 99)), 4) == [81, 170, 98, 9]  # 9801


def test_icot_files_are_checked_line_by_line(tmp_path):
    good = tmp_path / "good.txt"
    good.write_text("2 1 * 4 3||8 4 0 + 0 6 3 0 #### 8 0 4 0\n")
    assert read_icot(good) == [Problem((12, 34))]
    for text, why in [
        ("2 1 * 4 3||8 4 0 #### 8 0 4 1\n", "it is 408"),
        ("2 1 x 4 3||#### 8 0 4 1\n", "not an ICoT line"),
        ("2 1 * 4 a||#### 8 0 4 1\n", "not space-separated digits"),
        ("", "no problems"),
    ]:
        bad = tmp_path / "bad.txt"
        bad.write_text(text)
        with pytest.raises(UsageError, match=why):
            read_icot(bad)
    with pytest.raises(UsageError, match="cannot read"):
        read_icot(tmp_path / "absent.txt")


def test_the_probes_regress_running_sums_at_the_answer_digits():
    cfg = tiny_config("task.name=multiplication", "train.aux_loss=running-sum", "model.n_layer=2")
    bundle = build(cfg)
    from numerate.train.auxiliary import build_aux_loss

    aux = build_aux_loss(cfg, bundle.model, bundle.task, bundle.fmt)
    problems = [Problem((12, 34)), Problem((7, 865))]
    x, y = encode_examples(problems, bundle.task, bundle.fmt, bundle.tok)
    want = aux.targets(problems, y, bundle.tok.eos_id)
    for row, p in enumerate(problems):
        digits = bundle.fmt.answer_shape(p, bundle.fmt.width(p))[1]
        answer = (y[row] != IGNORE).nonzero().flatten()[:digits]  # the answer digits' positions, then <eos>
        assert torch.equal(~torch.isnan(want[row]), torch.isin(torch.arange(y.shape[1]), answer))
        assert (want[row, answer] * SCALE).round().tolist() == bundle.task.running_sums(p, digits)
    bundle.model.train()
    bundle.model(x, bundle.model.positions(x, None))
    loss = aux.loss(problems, y, bundle.tok.eos_id)
    assert loss.item() > 0 and loss.requires_grad
    aux.close()


def test_the_auxiliary_loss_is_refused_where_it_has_no_running_sum():
    with pytest.raises(UsageError, match="running sums"):
        train(tiny_config("train.aux_loss=running-sum"), Path("/nonexistent-never-made"), quiet=True)
    with pytest.raises(UsageError, match="unknown auxiliary loss"):
        train(tiny_config("train.aux_loss=runing-sum"), Path("/nonexistent-never-made"), quiet=True)


def test_internalization_removes_the_chain_a_stage_at_a_time():
    schedule = Internalize(per_stage=8, start=300, stage_steps=100, smoothing=0.0, reset=True)
    assert [schedule.removed(s) for s in (0, 299, 300, 399, 400, 550)] == [0, 0, 8, 8, 16, 24]
    assert [schedule.new_stage(s) for s in (0, 100, 300, 301, 400)] == [False, False, True, False, True]
    smooth = Internalize(per_stage=8, start=100, stage_steps=100, smoothing=1.0, reset=True)
    drops = smooth.drops(150, 4000, seed=0, rank=0)
    assert drops == smooth.drops(150, 4000, seed=0, rank=0)  # a pure function of (seed, step, rank)
    extra = [d - 8 for d in drops]
    assert min(extra) == 0
    assert abs(sum(e == 0 for e in extra) / len(extra) - (1 - 2.718281828**-1)) < 0.03  # P(o = 0) = 1 - e^-lambda

    b = chain_bundle()
    p = Problem((2967, 6361))
    _, y = encode_examples([p, p], b.task, b.fmt, b.tok, drops=[0, 12])
    whole, cut = (b.tok.decode([t for t in row.tolist() if t != IGNORE]) for row in y)
    assert whole[12:] == cut and cut.endswith("#78037881")  # decode drops the end token
    _, y = encode_examples([p], b.task, b.fmt, b.tok, drops=[1000])
    assert b.tok.decode([t for t in y[0].tolist() if t != IGNORE]).startswith("#")


def test_internalization_needs_a_chain_format(tmp_path):
    with pytest.raises(UsageError, match="format.name=chain"):
        train(tiny_config("task.name=multiplication", "train.internalize=8"), tmp_path / "run", quiet=True)


def test_the_optimizer_is_reset_at_each_new_stage(tmp_path, monkeypatch):
    import numerate.train.loop as loop

    seen = []
    real = loop._step

    def spy(cfg, bundle, train_model, optimizer, ctx, last_finite):
        value = real(cfg, bundle, train_model, optimizer, ctx, last_finite)
        first = next(iter(optimizer.state.values()))
        seen.append(int(first["step"]))  # AdamW's own count: restarts from 1 after a reset
        return value

    monkeypatch.setattr(loop, "_step", spy)
    cfg = tiny_config(
        "task.name=multiplication",
        "format.name=chain",
        "train.internalize=4",
        "train.internalize_steps=5",
        "train.internalize_start=5",
    )
    train(cfg, tmp_path / "run", quiet=True)
    assert seen[:12] == [1, 2, 3, 4, 5, 1, 2, 3, 4, 5, 1, 2]


@pytest.mark.parametrize(
    "extra",
    [
        ["train.aux_loss=running-sum"],
        ["format.name=chain", "train.internalize=6", "train.internalize_steps=40", "train.internalize_start=40"],
    ],
)
def test_loss_falls_on_a_tiny_budget(tmp_path, extra):
    import json

    cfg = tiny_config(
        "task.name=multiplication",
        "task.train_lengths=[1, 2]",
        "train.max_steps=120",
        "train.eval_every=20",
        "model.n_embd=64",
        *extra,
    )
    train(cfg, tmp_path / "run", quiet=True)
    rows = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert rows[-1]["loss"] < 0.8 * rows[0]["loss"]
