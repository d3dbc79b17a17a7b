"""Proposers: whatever answers the external loop's questions. A model is one; anything with `propose` can be.

A proposer gets a batch of questions (problems from a task, such as "the next Euclid state from (a, b)") with
the verdicts on its earlier proposals for the same question, and returns one proposal per question: the raw
text it wrote and the value parsed from it (None if unparseable). A language model (proposers/lm.py) renders
the question and the verdicts into its prompt; the models trained here cannot read verdicts, so they answer
greedily first and sample on a retry.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from numerate.registry import Registry
from numerate.tasks.base import Problem

# Proposers by name, for `numerate iterate --proposer`: each entry builds one from (bundle, lab settings).
PROPOSERS: Registry = Registry("proposer")


@dataclass
class Question:
    problem: Problem
    verdicts: list[dict] = field(default_factory=list)  # on earlier proposals for this question, oldest first


@dataclass
class Proposal:
    text: str
    value: object  # the parsed answer, or None
    prompt: object = None  # what the proposer was asked, where it is text (language models), for the ledger
    error: str | None = None  # why no text came back (a failed request), for the ledger


class Proposer:
    def propose(self, questions: list[Question]) -> list[Proposal]:
        raise NotImplementedError

    def describe(self, problem: Problem) -> str:
        """How the question reads, for the ledger."""
        return repr(problem.operands) + problem.mark
