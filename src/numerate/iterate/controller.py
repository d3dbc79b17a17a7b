"""The external loop: propose, verify, refine, with the procedure's state kept outside the proposer.

For a batch of problems the controller holds each one's state, asks the proposer for the next step of every
unfinished problem at once, checks each proposal with the task's exact checker and only then advances the
state. A rejected proposal is asked again, with the verdicts so far, up to `retries` times; a problem stops when
its procedure is done (a verified answer), when no proposal for a step survives the retries, or at the step
budget. Every proposal is one ledger row.

With a `judge` the loop checks itself: the judge (the proposer's own model, asked whether the step is right)
decides what is accepted, and the exact checker only keeps score, counting how often a wrong step was accepted
and a right one rejected (the generation-verification gap). Only the step's form (a readable answer of the right
shape) is enforced outside the judge, since the state cannot hold anything else.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from numerate.iterate.proposers import Proposer, Question


@dataclass
class Outcome:
    answer: object = None  # what the state held when the loop stopped (None if it holds no answer)
    status: str = "running"  # done | rejected | budget
    steps: int = 0  # accepted steps
    proposals: int = 0  # including rejected ones
    parse_failures: int = 0
    first_try_ok: int = 0  # steps whose first proposal was verified
    first_feasible_step: int | None = None
    best_step: int | None = None  # first step at which the loop's answer reached its final value
    judged_right: int = 0  # self-check: proposals that were right (by the exact checker) and were judged
    judged_wrong: int = 0
    accepted_wrong: int = 0  # ... wrong, yet the judge accepted them
    rejected_right: int = 0  # ... right, yet the judge rejected them
    trace: list = field(default_factory=list, repr=False)


def run_external(
    task,
    problems,
    proposer: Proposer,
    max_steps: int = 1000,
    retries: int = 3,
    ledger=None,
    judge=None,
    mode: str = "external",
):
    """Solve every problem step by step. Returns one Outcome per problem; writes ledger rows to `ledger` (a
    text file object) if given. `judge` (see the module's text) replaces the exact checker's say."""
    states = [task.start(p) for p in problems]
    outcomes = [Outcome() for _ in problems]
    active = [i for i, p in enumerate(problems) if not _finish_if_done(task, p, states[i], outcomes[i])]
    for step in range(1, max_steps + 1):
        if not active:
            break
        questions = {i: Question(task.query(problems[i], states[i])) for i in active}
        pending = list(active)
        for attempt in range(retries + 1):
            if not pending:
                break
            proposals = proposer.propose([questions[i] for i in pending])
            judgements = _judge(task, judge, [questions[i] for i in pending], proposals)
            still = []
            for i, prop, judged in zip(pending, proposals, judgements):
                q, out = questions[i], outcomes[i]
                verdict = task.check(q.problem, prop.value)
                if judged is not None:
                    verdict = _self_verdict(out, verdict, judged)
                out.proposals += 1
                out.parse_failures += prop.value is None
                if ledger is not None:
                    row = {"mode": mode, "problem": i, "step": step, "attempt": attempt}
                    row["input"] = proposer.describe(q.problem) if prop.prompt is None else prop.prompt
                    row.update(raw=prop.text, parsed=prop.value, verdict=verdict)
                    if prop.error:
                        row["error"] = prop.error
                    ledger.write(json.dumps(row) + "\n")
                if verdict["ok"]:
                    out.first_try_ok += attempt == 0
                    states[i] = task.advance(problems[i], states[i], prop.value)
                    out.steps = step
                    _note_progress(task, problems[i], states[i], out)
                else:
                    q.verdicts.append({**verdict, "said": prop.text})
                    still.append(i)
            pending = still
        for i in pending:
            outcomes[i].status = "rejected"
        active = [
            i for i in active if i not in pending and not _finish_if_done(task, problems[i], states[i], outcomes[i])
        ]
    for i in active:
        outcomes[i].status = "budget"
    for i, out in enumerate(outcomes):
        out.answer = task.result(problems[i], states[i])
        gaps = [g for _, g in out.trace if g is not None]
        if gaps:
            out.best_step = next(s for s, g in out.trace if g == min(gaps))
    return outcomes


FORM_ERRORS = ("unparseable", "malformed")  # what the loop enforces itself even when the model judges


def _judge(task, judge, questions, proposals) -> list:
    """The judge's (accepted, said) for each proposal of a readable form; None where there is no judge or the
    proposal's form already rejects it."""
    if judge is None:
        return [None] * len(proposals)
    formed = [
        k
        for k, (q, p) in enumerate(zip(questions, proposals))
        if task.check(q.problem, p.value)["why"] not in FORM_ERRORS
    ]
    out: list = [None] * len(proposals)
    for k, said in zip(formed, judge([questions[k] for k in formed], [proposals[k] for k in formed])):
        out[k] = said
    return out


def _self_verdict(out: Outcome, exact: dict, judged) -> dict:
    """The judge's verdict, scored against the exact one."""
    said_yes, said = judged
    accepted, right = bool(said_yes), exact["ok"]  # an unreadable judgement rejects
    out.judged_right += right
    out.judged_wrong += not right
    out.accepted_wrong += accepted and not right
    out.rejected_right += right and not accepted
    why = "judged right" if accepted else ("judged wrong" if said_yes is not None else "judgement unreadable")
    return {"ok": accepted, "why": why, "said": said, "exact": exact["why"]}


def _finish_if_done(task, problem, state, out: Outcome) -> bool:
    if task.done(problem, state):
        out.status = "done"
        return True
    return False


def _note_progress(task, problem, state, out: Outcome) -> None:
    """Track steps to the first feasible answer and to the best one (optimization tasks only)."""
    judged = task.judge(problem, task.result(problem, state))
    if "feasible" not in judged:
        return
    if judged["feasible"] and out.first_feasible_step is None:
        out.first_feasible_step = out.steps
    out.trace.append((out.steps, judged.get("gap")))


def run_unverified(task, problems, proposer: Proposer, max_steps: int = 100_000) -> list:
    """Run each problem's procedure on the proposer's word alone: every step's answer is taken as it is (this is
    how `numerate solve` uses a step model, where no checker exists). A problem whose step answer cannot be read
    stops with None; so does one still running after `max_steps`."""
    states = [task.start(p) for p in problems]
    results: list = [None] * len(problems)
    active = []
    for i, p in enumerate(problems):
        if task.done(p, states[i]):
            results[i] = task.result(p, states[i])
        else:
            active.append(i)
    for _ in range(max_steps):
        if not active:
            break
        proposals = proposer.propose([Question(task.query(problems[i], states[i])) for i in active])
        still = []
        for i, prop in zip(active, proposals):
            if prop.value is None:
                continue
            states[i] = task.advance(problems[i], states[i], prop.value)
            if task.done(problems[i], states[i]):
                results[i] = task.result(problems[i], states[i])
            else:
                still.append(i)
        active = still
    return results
