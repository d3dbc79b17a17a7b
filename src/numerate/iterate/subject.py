"""A language model as the subject of the iteration lab, beside the models trained here.

It answers a whole problem in one reply (`one-shot` mode) or one step at a time as the external loop's proposer
(`--proposer lm`); both prompts come from numerate.lm.iterative. It has no training lengths and cannot loop.
"""

from __future__ import annotations

from dataclasses import dataclass

from numerate.errors import UsageError


@dataclass
class LanguageModelSubject:
    task: object  # an IterativeTask
    lm: object  # a numerate.lm.base.LanguageModel
    shots: int = 3
    cfg: object = None  # no training config: plots draw no training band

    def __post_init__(self):
        from numerate.lm.iterative import TASK_TEXTS

        if self.task.name not in TASK_TEXTS.names():
            raise UsageError(
                f"no language-model prompts for '{self.task.name}' (have: {', '.join(TASK_TEXTS.names())})"
            )
        if not self.lm.reads_text:
            raise UsageError("a numerate model is given as MODEL_DIR, not as a language model")

    @property
    def name(self) -> str:
        return self.lm.name

    def final_answers(self, problems, seed: int, ledger=None) -> tuple[list, dict]:
        """One reply per whole problem, read strictly; prompts and replies go to the ledger."""
        import json

        from numerate.lm.iterative import final_requests, text_for

        requests = final_requests(self.task, self.lm.chat, problems, self.shots, seed)
        completions = self.lm.complete(requests)
        text = text_for(self.task)
        values = [text.read(p, c.text, final=True) for p, c in zip(problems, completions)]
        if ledger is not None:
            for i, (r, c, v) in enumerate(zip(requests, completions, values)):
                row = {"mode": "one-shot", "problem": i, "prompt": r.prompt, "raw": c.text, "parsed": v}
                ledger.write(json.dumps({**row, "error": c.error, "cached": c.cached}) + "\n")
        extra = {
            "proposals_mean": 1.0,
            "parse_failure_rate": sum(v is None for v in values) / len(problems),
            "failed_requests": sum(c.text is None for c in completions),
        }
        return values, extra


@dataclass
class ProcedureSubject:
    """A procedure folder (models/gcd, models/knapsack) as the subject of the iteration lab: it answers the lab's
    problems of its task through proven step models (mode `proven-steps`)."""

    task: object  # the lab's IterativeTask
    loaded: object  # numerate.procedures.folder.LoadedProcedure
    cfg: object = None  # no training config: plots draw no training band


def procedure_subject(folder):
    from numerate.procedures.folder import load
    from numerate.tasks import get_task

    loaded = load(folder)
    lab_task = getattr(loaded.procedure, "lab_task", None)
    if lab_task is None:
        raise UsageError(
            f"{folder}: the iteration lab has no task for procedure '{loaded.procedure.name}' (it has gcd and "
            "knapsack); use `numerate solve` or bench/procedures.py"
        )
    return ProcedureSubject(get_task(lab_task), loaded)
