"""Shipped models load, match the preset their card names, and answer fresh problems."""

import random
from pathlib import Path

import pytest

from numerate import config
from numerate.checkpoint import load_model
from numerate.eval.evaluate import answer_problems
from numerate.tasks.base import Problem

MODELS = Path(__file__).parent.parent / "models"
SHIPPED = sorted(p for p in MODELS.iterdir() if (p / "config.json").exists())


@pytest.mark.parametrize("folder", SHIPPED, ids=lambda p: p.name)
def test_shipped_model_matches_its_preset_and_card(folder):
    bundle = load_model(folder)
    assert bundle.cfg == config.load(folder.name), "the preset no longer reproduces this model"
    card = (folder / "README.md").read_text()
    assert f"numerate train {folder.name}" in card and "<!-- eval:start -->" in card


@pytest.mark.parametrize("folder", SHIPPED, ids=lambda p: p.name)
def test_shipped_model_adds(folder):
    bundle = load_model(folder)
    rng = random.Random(99)
    problems = [Problem((rng.randrange(10**14, 10**15), rng.randrange(10**14, 10**15))) for _ in range(50)]
    problems.append(Problem((10**15 - 1, 1)))
    answers = answer_problems(bundle, problems)
    assert sum(a.correct for a in answers) >= 50
