"""Shipped models load, match the preset their card names, and answer fresh problems."""

import random
from pathlib import Path

import pytest

from numerate import config
from numerate.checkpoint import load_model
from numerate.eval.answer import answer_problems
from numerate.tasks.base import Problem

MODELS = Path(__file__).parent.parent / "models"
SHIPPED = sorted(p for p in MODELS.iterdir() if (p / "config.json").exists())


@pytest.mark.parametrize("folder", SHIPPED, ids=lambda p: p.name)
def test_shipped_model_matches_its_preset_and_card(folder):
    bundle = load_model(folder)
    assert bundle.cfg == config.load(folder.name), "the preset no longer reproduces this model"
    card = (folder / "README.md").read_text()
    assert f"numerate train {folder.name}" in card and "<!-- eval:start -->" in card


# Shipped models that are sampled rather than proven, and short of right on every problem: the least share of
# fresh problems each must still get right (below what its card reports, so only a real regression fails).
FLOORS = {"mul-lines": 0.8}


@pytest.mark.slow
@pytest.mark.parametrize("folder", SHIPPED, ids=lambda p: p.name)
def test_shipped_model_answers_fresh_problems(folder):
    """15-digit operands (and 999...9 + 1) for the addition-like models and copying; 1-5 digit products, computed
    line by line as `numerate solve` does, for the multiplication scratchpad."""
    from numerate.iterate.stepwise import procedure_answers
    from numerate.tasks.iterative import is_stepwise

    bundle = load_model(folder)
    rng = random.Random(99)
    if bundle.task.name == "long-multiplication":
        problems = [bundle.task.sample_problem(rng, rng.randint(1, 5)) for _ in range(51)]
    else:
        n = min(2, bundle.task.operand_counts[1])  # two operands, or one for copying
        problems = [Problem(tuple(rng.randrange(10**14, 10**15) for _ in range(n))) for _ in range(50)]
        problems.append(Problem((10**15 - 1, 1)[:n]))
    if is_stepwise(bundle.task):
        answers = procedure_answers(bundle, problems, 256)
        right = sum(a.value == bundle.task.final_answer(p) for a, p in zip(answers, problems))
    else:
        right = sum(a.correct for a in answer_problems(bundle, problems))
    assert right >= FLOORS.get(folder.name, 50 / 51) * len(problems)
