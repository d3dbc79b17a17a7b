"""The self-check loop mode: the language model judges its own steps in the exact checker's place, and the checker
only scores the judge. Measured on scripted language models whose proposals and judgements are known."""

from __future__ import annotations

import re

import pytest

from numerate.cli import main
from numerate.errors import UsageError
from numerate.iterate.lab import LabSettings, measure
from numerate.iterate.subject import LanguageModelSubject
from numerate.lm.base import Completion, LanguageModel
from numerate.tasks import get_task
from numerate.tasks.gcd import euclid_step


class ScriptedGcd(LanguageModel):
    """Proposes the right Euclid step except when a + b is divisible by 3 (then the first number is one too
    large); judges by `judge`: "yes", "no" or "exact" (the truth)."""

    name, chat = "scripted", False

    def __init__(self, judge: str):
        self.judge = judge
        self.judged = 0

    def complete(self, requests, progress=None):
        out = []
        for r in requests:
            last = r.prompt.rstrip().split("\n")
            if last[-1] == "Is this step right?":
                self.judged += 1
                a, b, x, y = map(int, re.findall(r"-?\d+", last[-2]))
                truth = euclid_step(a, b) == (x, y)
                said = {"yes": True, "no": False, "exact": truth, "mumble": None}[self.judge]
                out.append(Completion({True: "yes", False: "no", None: "maybe"}[said]))
                continue
            a, b = map(int, re.findall(r"\d+", last[-1]))
            x, y = euclid_step(a, b)
            out.append(Completion(f"{x + ((a + b) % 3 == 0)},{y}"))
        return out


def _row(judge: str, mode: str, k: int = 4):
    task = get_task("gcd")
    subject = LanguageModelSubject(task, ScriptedGcd(judge), shots=2)
    settings = LabSettings(samples=30, seed=5, retries=0, proposer="lm", steps_per_iteration=3)
    return measure(subject, mode, k, settings), subject.lm


def test_a_judge_that_always_says_yes_accepts_every_wrong_step_and_loses_answers():
    judged, lm = _row("yes", "self-check")
    assert lm.judged > 0 and judged["judged_wrong"] > 0
    assert judged["accepts_wrong"] == 1.0 and judged["rejects_right"] == 0.0
    assert judged["exact"] < 1.0


def test_a_judge_that_always_says_no_rejects_every_right_step():
    judged, _ = _row("no", "self-check")
    assert judged["rejects_right"] == 1.0 and judged["exact"] == 0.0


def test_an_unreadable_judgement_rejects_the_step():
    judged, _ = _row("mumble", "self-check")
    assert judged["rejects_right"] == 1.0 and judged["accepts_wrong"] == 0.0 and judged["exact"] == 0.0


def test_an_exact_judge_makes_self_check_the_external_loop():
    checked, _ = _row("exact", "external")
    judged, _ = _row("exact", "self-check")
    assert judged["accepts_wrong"] == 0.0 and judged["rejects_right"] == 0.0
    assert judged["exact"] == checked["exact"]


def test_self_check_needs_a_language_model(tmp_path, capsys):
    with pytest.raises(UsageError, match="self-check"):
        from numerate.iterate.lab import MODES

        MODES.get("self-check")(object(), [], LabSettings())
    assert main(["iterate", "runs/none", "--modes", "self-check", "--out", str(tmp_path)]) == 2
    assert "needs a language model" in capsys.readouterr().err
