"""Step models answering whole problems (`numerate eval --stepwise`), another task's cells (`--task`), and
`task.step_fraction`."""

import json
import random
from pathlib import Path

import pytest
import torch

from numerate import config
from numerate.checkpoint import load_model
from numerate.eval.evaluate import cell_problems, evaluate, pose
from numerate.iterate.controller import run_unverified
from numerate.iterate.proposers.model import ModelProposer
from numerate.iterate.stepwise import procedure_answers
from numerate.tasks import get_task

SUM_STEPS = Path(__file__).parent.parent / "models" / "iter-sum-proof"
CELLS = [("uniform", (2, 12)), ("uniform", (6, 3)), ("uniform", (10, 20))]


@pytest.fixture(scope="module")
def sum_steps():
    return load_model(SUM_STEPS)


@pytest.fixture(scope="module")
def noisy_sum_steps():
    """The proven running-sum model with noise on one matrix: some steps wrong."""
    bundle = load_model(SUM_STEPS)
    weight = bundle.model.blocks[-1].mlp[0].weight
    with torch.no_grad():
        weight.add_(torch.randn(weight.shape, generator=torch.Generator().manual_seed(0)) * 0.05)
    return bundle


@pytest.mark.parametrize("fraction, marks", [(1.0, {">"}), (0.0, {"="})])
def test_step_fraction_sets_the_training_mixture(fraction, marks):
    cfg = config.load("iter-mul-lines", [f"task.step_fraction={fraction}"])
    task = get_task(cfg.task.name)
    task.configure(cfg.task)
    rng = random.Random(0)
    assert {task.sample_range(rng, 1, 10).mark for _ in range(200)} == marks


def test_the_lines_preset_trains_on_lines_only():
    cfg = config.load("iter-mul-lines", [])
    assert cfg.task.step_fraction == 1.0 and cfg.model.col_window == [0, 1]
    assert config.load("iter-mul", []).task.step_fraction == 0.5


def test_many_operand_cells_answered_step_by_step(sum_steps):
    """addition-many's own problems (rows keyed operands x digits), solved by the running-sum step model."""
    many = get_task("addition-many")
    rows, mistakes = evaluate(sum_steps, CELLS, samples=12, task=many, answerer=procedure_answers)
    assert [(r["operands"], r["digits"]) for r in rows] == [lengths for _, lengths in CELLS]
    assert all(r["exact_match"] == 1.0 for r in rows) and not mistakes


def test_stepwise_scores_are_the_procedures_own(noisy_sum_steps):
    """A model with wrong steps: evaluate's count equals the count found by running the procedure by hand and
    comparing with the true sums of the addition-many problems."""
    many = get_task("addition-many")
    rows, mistakes = evaluate(noisy_sum_steps, CELLS, samples=12, task=many, answerer=procedure_answers)
    for (sampler, lengths), row in zip(CELLS, rows):
        originals = cell_problems(many, sampler, lengths, 12, 1234)
        posed = [pose(p, many, noisy_sum_steps.task) for p in originals]
        values = run_unverified(noisy_sum_steps.task, posed, ModelProposer(noisy_sum_steps))
        assert row["correct"] == sum(v == sum(p.operands) for v, p in zip(values, originals))
    assert 0 < sum(r["correct"] for r in rows) < 36
    assert mistakes and all(m.truth == sum(m.problem.operands) != m.value for m in mistakes)


def test_whole_answers_of_another_tasks_cells(sum_steps):
    """Without --stepwise the model is asked for the whole sum at once: beyond its training it fails, which the
    judge must see."""
    rows, _ = evaluate(sum_steps, [("uniform", (12, 25))], samples=10, task=get_task("addition-many"))
    assert rows[0]["exact_match"] < 0.5


def test_eval_cli_stepwise_grid(tmp_path, capsys):
    from numerate.cli import main

    out = tmp_path / "rows.json"
    argv = ["eval", str(SUM_STEPS), "--task", "addition-many", "--stepwise", "--grid", "--lengths", "3,20"]
    assert main([*argv, "--samples", "5", "--json", str(out), "--quiet"]) == 0
    rows = json.loads(out.read_text())["rows"]
    assert {(r["operands"], r["digits"]) for r in rows} == {(3, 3), (3, 20), (20, 3), (20, 20)}
    assert all(r["exact_match"] == 1.0 for r in rows)
    assert "operands" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["models/add-small", "--stepwise"], "--stepwise needs an iterative task's model"),
        ([str(SUM_STEPS), "--task", "subtraction", "--stepwise"], "cannot take subtraction's problems"),
        ([str(SUM_STEPS), "--task", "no-such-task"], "no-such-task"),
        ([str(SUM_STEPS), "--stepwise", "--recurrences", "4"], "--recurrences"),
    ],
)
def test_eval_cli_refusals(argv, message, capsys):
    from numerate.cli import main

    root = Path(__file__).parent.parent
    argv = [str(root / a) if a.startswith("models/") else a for a in argv]
    assert main(["eval", *argv, "--lengths", "2", "--samples", "2", "--quiet"]) == 2
    assert message in capsys.readouterr().err


def test_the_lab_runs_a_step_model_in_the_external_loop_only(tmp_path):
    from numerate.cli import main
    from numerate.train.loop import train

    from conftest import tiny_config

    model = tmp_path / "steps"
    train(tiny_config("task.name=running-sum", "task.step_fraction=1.0", "train.max_steps=3"), model, quiet=True)
    out = tmp_path / "lab"
    assert main(["iterate", str(model), "--dial", "2", "--samples", "2", "--out", str(out), "--quiet"]) == 0
    assert {r["mode"] for r in json.loads((out / "results.json").read_text())["summary"]} == {"external"}
