"""Proposers: whatever answers the external loop's questions. A model is one; anything with `propose` can be.

A proposer gets a batch of questions (problems from a task, such as "the next Euclid state from (a, b)") with
the verdicts on its earlier proposals for the same question, and returns one proposal per question: the raw
text it wrote and the value parsed from it (None if unparseable). A language model behind an adapter would
render the question and the verdicts into its prompt; the models trained here cannot read verdicts, so they
answer greedily first and sample on a retry.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import torch

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


class Proposer:
    def propose(self, questions: list[Question]) -> list[Proposal]:
        raise NotImplementedError

    def describe(self, problem: Problem) -> str:
        """How the question reads, for the ledger."""
        return repr(problem.operands) + problem.mark


@PROPOSERS.register("model", "the trained model: greedy first, sampled on retries")
def _model_proposer(bundle, settings) -> "ModelProposer":
    return ModelProposer(bundle, seed=settings.seed)


@PROPOSERS.register("oracle", "the task's exact step (a reference: what a perfect proposer scores)")
def _oracle_proposer(bundle, settings) -> "OracleProposer":
    return OracleProposer(bundle.task, seed=settings.seed)


class ModelProposer(Proposer):
    """A trained model: greedy on the first attempt, sampled at `temperature` on retries (seeded)."""

    def __init__(self, bundle, temperature: float = 1.0, seed: int = 0, batch_size: int = 512):
        self.bundle, self.temperature, self.batch_size = bundle, temperature, batch_size
        self.generator = torch.Generator().manual_seed(seed)

    def describe(self, problem: Problem) -> str:
        return self.bundle.fmt.prompt(problem)

    def propose(self, questions: list[Question]) -> list[Proposal]:
        from numerate.eval.answer import answer_problems

        out: list[Proposal | None] = [None] * len(questions)
        first = [i for i, q in enumerate(questions) if not q.verdicts]
        retry = [i for i, q in enumerate(questions) if q.verdicts]
        for idxs, temperature in ((first, 0.0), (retry, self.temperature)):
            if not idxs:
                continue
            answers = answer_problems(
                self.bundle,
                [questions[i].problem for i in idxs],
                self.batch_size,
                temperature=temperature,
                generator=self.generator,
            )
            for i, a in zip(idxs, answers):
                out[i] = Proposal(a.text, a.value)
        return out


class OracleProposer(Proposer):
    """The task's exact step, wrong with probability `error_rate` (an off-by-one): for testing controllers."""

    def __init__(self, task, error_rate: float = 0.0, seed: int = 0):
        self.task, self.error_rate, self.rng = task, error_rate, random.Random(seed)

    def propose(self, questions: list[Question]) -> list[Proposal]:
        out = []
        for q in questions:
            value = self.task.step_answer(q.problem)
            if self.rng.random() < self.error_rate:
                value = tuple(x + 1 for x in value) if isinstance(value, tuple) else value + 1
            out.append(Proposal(str(value), value))
        return out
