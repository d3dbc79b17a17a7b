"""Iterative tasks: a procedure whose number of iterations is the difficulty dial.

Each task answers two kinds of question about the same procedure, told apart by the prompt's mark:

- ``=``: the final answer of a whole problem (what a one-shot or looped model is asked);
- ``>``: the next state after one iteration (what a proposer in an external loop is asked).

Training mixes both (`sample_range`), so one model serves every way of solving. For the external loop a task
also says how to keep the procedure's state between questions (`start`, `query`, `check`, `advance`, `done`,
`result`) and how to judge a final answer (`judge`: exact, per-constraint feasibility, optimality gap). The
state is a plain dict of integers and lists, so it can be written to a ledger as JSON.
"""

from __future__ import annotations

import random

from numerate.errors import UsageError
from numerate.tasks.base import Problem, Task, as_tuple

STEP = ">"


class IterativeTask(Task):
    marks = "=" + STEP
    samplers = {"uniform": "problems needing exactly the cell's number of iterations"}
    cell_dims = ("k",)
    dial = "iterations"  # what the difficulty dial counts, for tables and plots
    step_fraction = 0.5  # share of training examples that are single-step questions (task.step_fraction)

    # --- the procedure -------------------------------------------------------------------------------------
    def sample_problem(self, rng: random.Random, k: int) -> Problem:
        """A problem (mark "=") whose procedure needs exactly k iterations."""
        raise NotImplementedError

    def iterations(self, problem: Problem) -> int:
        raise NotImplementedError

    def start(self, problem: Problem) -> dict:
        raise NotImplementedError

    def query(self, problem: Problem, state: dict) -> Problem:
        """The question for the next iteration from this state."""
        raise NotImplementedError

    def advance(self, problem: Problem, state: dict, value) -> dict:
        """The state after accepting `value` as the answer to `query(problem, state)`."""
        raise NotImplementedError

    def done(self, problem: Problem, state: dict) -> bool:
        raise NotImplementedError

    def result(self, problem: Problem, state: dict):
        """The final answer the state holds (when done) or the best answer it holds so far."""
        raise NotImplementedError

    def step_answer(self, query: Problem):
        """The exact answer to a single-step question."""
        raise NotImplementedError

    def widest_query(self, problem: Problem) -> Problem:
        """A step question at least as long as any the procedure asks (to check a model can represent them all
        before running it). The first one, unless the task's questions grow."""
        return self.query(problem, self.start(problem))

    def final_answer(self, problem: Problem):
        state = self.start(problem)
        while not self.done(problem, state):
            state = self.advance(problem, state, self.step_answer(self.query(problem, state)))
        return self.result(problem, state)

    def configure(self, cfg) -> None:
        self.step_fraction = cfg.step_fraction

    # --- checking --------------------------------------------------------------------------------------------
    def check(self, query: Problem, value) -> dict:
        """Verdict on one proposed step: {"ok": bool, "why": str}."""
        truth = self.step_answer(query)
        if value is None:
            return {"ok": False, "why": "unparseable"}
        if as_tuple(value) != as_tuple(truth):
            return {"ok": False, "why": "wrong"}
        return {"ok": True, "why": "verified"}

    def judge(self, problem: Problem, value) -> dict:
        """Verdict on a final answer: exact, and for optimization tasks per-constraint feasibility and gap."""
        return {"exact": value is not None and as_tuple(value) == as_tuple(self.final_answer(problem))}

    # --- the Task interface used by training and evaluate() --------------------------------------------------
    def answer(self, problem: Problem):
        return self.step_answer(problem) if problem.mark == STEP else self.final_answer(problem)

    def sample(self, rng: random.Random, sampler: str, lengths: tuple[int, ...]) -> Problem:
        if sampler != "uniform":
            raise UsageError(f"{self.name} has no sampler '{sampler}' (known: uniform)")
        return self.sample_problem(rng, lengths[0])

    def sample_range(self, rng: random.Random, lo: int, hi: int) -> Problem:
        """Training mixture: a whole problem with lo..hi iterations, or a single step (`sample_step`)."""
        if rng.random() < self.step_fraction:
            return self.sample_step(rng, lo, hi)
        return self.sample_problem(rng, rng.randint(lo, hi))

    def sample_step(self, rng: random.Random, lo: int, hi: int) -> Problem:
        """One step question. By default from a state on the way through a problem with lo..hi iterations;
        tasks override it to draw states from the procedure's whole state space, since a loop that runs longer
        than any training problem meets states no short run reaches."""
        problem = self.sample_problem(rng, rng.randint(lo, hi))
        state = self.start(problem)
        for _ in range(rng.randrange(max(1, self.iterations(problem)))):
            state = self.advance(problem, state, self.step_answer(self.query(problem, state)))
        return self.query(problem, state)


def is_stepwise(task) -> bool:
    """Iterative tasks can be solved by running their procedure one step at a time (long multiplication: line by
    line), the way their step models were trained to be used."""
    return isinstance(task, IterativeTask)
