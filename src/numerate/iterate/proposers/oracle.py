"""The task's exact step as a proposer (optionally wrong at a rate): a reference, and a tool for testing loops."""

from __future__ import annotations

import random

from numerate.iterate.proposers.base import PROPOSERS, Proposal, Proposer, Question


@PROPOSERS.register("oracle", "the task's exact step (a reference: what a perfect proposer scores)")
def _oracle_proposer(bundle, settings) -> "OracleProposer":
    return OracleProposer(bundle.task, seed=settings.seed)


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
