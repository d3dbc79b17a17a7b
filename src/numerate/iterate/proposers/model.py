"""A model trained here as a proposer: greedy on the first attempt, sampled on retries."""

from __future__ import annotations

import torch

from numerate.errors import UsageError

from numerate.iterate.proposers.base import PROPOSERS, Proposal, Proposer, Question
from numerate.tasks.base import Problem


@PROPOSERS.register("model", "the trained model: greedy first, sampled on retries")
def _model_proposer(bundle, settings) -> "ModelProposer":
    if not hasattr(bundle, "model"):
        raise UsageError("--proposer model needs a model trained here; for a language model use --proposer lm")
    return ModelProposer(bundle, seed=settings.seed)


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
