"""A language model as the external loop's proposer: each question is written out with the procedure, worked
examples and, on a retry, the verdicts on its earlier replies (numerate.lm.iterative)."""

from __future__ import annotations

from numerate.errors import UsageError
from numerate.iterate.proposers.base import PROPOSERS, Proposal, Proposer, Question


@PROPOSERS.register("lm", "a language model (--openai-base-url or --hf): prompted with the procedure and verdicts")
def _lm_proposer(subject, settings) -> "LanguageModelProposer":
    lm = getattr(subject, "lm", None)
    if lm is None:
        raise UsageError("--proposer lm needs a language model: --openai-base-url URL --model NAME, or --hf PATH")
    return LanguageModelProposer(subject.task, lm, shots=subject.shots, seed=settings.seed)


class LanguageModelProposer(Proposer):
    def __init__(self, task, lm, shots: int = 3, seed: int = 0):
        from numerate.lm.iterative import examples, text_for

        self.task, self.lm = task, lm
        self.text = text_for(task)
        self.worked = examples(task, False, shots, seed)

    def propose(self, questions: list[Question]) -> list[Proposal]:
        from numerate.lm.base import Request
        from numerate.lm.iterative import budget, build

        requests = [
            Request(
                q.problem,
                build(self.task, self.lm.chat, q.problem, False, self.worked, q.verdicts),
                max_tokens=budget(self.task, q.problem, False),
            )
            for q in questions
        ]
        out = []
        for q, r, c in zip(questions, requests, self.lm.complete(requests)):
            value = self.text.read(q.problem, c.text, final=False)
            out.append(Proposal(c.text or "", value, prompt=r.prompt, error=c.error))
        return out


class LanguageModelJudge:
    """The same language model asked whether a proposed step is right (the `self-check` mode's verifier)."""

    def __init__(self, task, lm, shots: int = 3, seed: int = 0):
        from numerate.lm.iterative import judge_examples

        self.task, self.lm = task, lm
        self.worked = judge_examples(task, shots, seed)

    def __call__(self, questions: list[Question], proposals: list[Proposal]) -> list[tuple[bool | None, str]]:
        from numerate.lm.base import Request
        from numerate.lm.iterative import judge_build, read_judgement

        requests = [
            Request(q.problem, judge_build(self.task, self.lm.chat, q.problem, p.value, self.worked), max_tokens=4)
            for q, p in zip(questions, proposals)
        ]
        return [(read_judgement(c.text), c.text or "") for c in self.lm.complete(requests)]
