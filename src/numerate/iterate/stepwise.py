"""Answering whole problems with a step model: run the task's procedure, one model step at a time, each step's
answer taken as written (nothing checks it). This is how `numerate solve` and `numerate eval --stepwise` use an
iterative model; the iteration lab's external loop is the checked variant."""

from __future__ import annotations

from numerate.bigint import to_str
from numerate.eval.answer import Answer
from numerate.iterate.controller import run_unverified
from numerate.iterate.proposers.model import ModelProposer


def procedure_answers(bundle, problems, batch_size: int) -> list[Answer]:
    """The model's answers to whole problems of its iterative task, from its own steps; truth is the task's final
    answer."""
    values = run_unverified(bundle.task, problems, ModelProposer(bundle, batch_size=batch_size))
    written = [None if v is None else ",".join(map(to_str, v)) if isinstance(v, tuple) else to_str(v) for v in values]
    return [
        Answer(p, bundle.task.final_answer(p), "?" if w is None else w, None if w is None else v)
        for p, v, w in zip(problems, values, written)
    ]
