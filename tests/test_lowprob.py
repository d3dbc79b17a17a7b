"""Low-probability text tasks (lm/lowprob.py) and their digit versions (tasks/sequence.py): exact oracles, strict
readers, seeded questions, and the probe's statuses with a scripted language model."""

import random
import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from numerate.lm.base import Completion, LanguageModel
from numerate.lm.lowprob import TEXT_TASKS, TextProblem, problems, run_text_probe
from numerate.tasks import get_task
from numerate.tasks.base import Problem

TASK_NAMES = TEXT_TASKS.names()
LENGTH = {"alphabet-backwards": st.integers(1, 26)}


@pytest.mark.parametrize("name", TASK_NAMES)
@given(seed=st.integers(0, 10**6), n=st.integers(1, 40), spaced_out=st.booleans())
@settings(max_examples=60, deadline=None)
def test_oracles_are_exact_and_the_right_reply_reads_back(name, seed, n, spaced_out):
    task = TEXT_TASKS.get(name)()
    if name == "alphabet-backwards":
        n = 1 + n % 26
    p = task.sample(random.Random(seed), n)
    if name == "letter-count":
        assert len(p.subject) == n and p.answer == str(sum(c == p.extra for c in p.subject))
    elif name == "reverse-word":
        assert p.answer == "".join(reversed(p.subject)) and len(p.answer) == n
    elif name == "alphabet-backwards":
        assert p.answer[0] == p.subject and len(p.answer) == n == int(p.extra)
        assert all(ord(x) - ord(y) == 1 for x, y in zip(p.answer, p.answer[1:])) and p.answer[-1] >= "a"
    else:
        assert p.answer == p.subject and len(p.subject) == n and set(p.subject) <= set(string.digits)
    form = task.reply_form(p, spaced_out)
    assert task.read(form, spaced_out) == p.answer
    assert task.read(f"  {form}  \nbecause I counted", spaced_out) == p.answer  # the first line only


@pytest.mark.parametrize(
    "name, reply, spaced_out",
    [
        ("letter-count", "3.", False),
        ("letter-count", "three", False),
        ("letter-count", "The answer is 3", False),
        ("letter-count", "03", False),
        ("reverse-word", "olleh!", False),
        ("reverse-word", "o l l e h", False),
        ("reverse-word", "olleh", True),
        ("reverse-word", "o  l l e h", True),
        ("alphabet-backwards", "c, b, a", False),
        ("copy-digits", "12 34", False),
        ("copy-digits", "", False),
    ],
)
def test_readers_are_strict(name, reply, spaced_out):
    assert TEXT_TASKS.get(name)().read(reply, spaced_out) is None


def test_questions_are_fixed_by_seed_and_differ_between_seeds():
    task = TEXT_TASKS.get("reverse-word")()
    assert problems(task, 8, 5, 1) == problems(task, 8, 5, 1)
    assert problems(task, 8, 5, 1) != problems(task, 8, 5, 2)


class Scripted(LanguageModel):
    """Replies right, with prose, or not at all, by the question's position."""

    name, chat = "scripted", True

    def complete(self, requests, progress=None):
        out = []
        for i, r in enumerate(requests):
            p: TextProblem = r.problem
            right = TEXT_TASKS.get("letter-count")().reply_form(p, False)
            out.append([Completion(right), Completion(f"It is {right}."), Completion(None, error="HTTP 500")][i % 3])
        return out


def test_probe_statuses_with_a_scripted_model():
    rows, records = run_text_probe(Scripted(), TEXT_TASKS.get("letter-count")(), [4], 9, 0, 2, False)
    (row,) = rows
    assert (row["correct"], row["malformed"], row["failed"], row["n"]) == (3, 3, 3, 9)
    assert [r["status"] for r in records[:3]] == ["right", "malformed", "failed"]
    # shots are shown as worked examples in chat turns
    assert len(records[0]["prompt"]) == 1 + 2 * 2 + 1


@given(a=st.integers(0, 10**30), d=st.integers(0, 9))
def test_digit_versions_answer_exactly(a, d):
    assert get_task("copy").answer(Problem((a,))) == a
    assert get_task("digit-count").answer(Problem((a, d))) == sum(c == str(d) for c in str(a))
