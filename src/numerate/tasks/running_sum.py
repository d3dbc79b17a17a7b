"""Running sums: a1 + a2 + ... + ak, one addition per iteration."""

from __future__ import annotations

from numerate.bigint import to_str

import random

from numerate.tasks.base import TASKS, Problem, random_number
from numerate.tasks.iterative import IterativeTask
from numerate.tasks.proof import CARRY

DIGITS = 3  # each operand has 1-3 digits; the dial is how many there are


@TASKS.register("running-sum", "a1 + ... + ak with 1-3 digit operands; dial = k operands; a step adds the next one")
class RunningSum(IterativeTask):
    name = "running-sum"
    symbol = "+"
    marks = "="  # a step, s + a, is itself a two-operand sum
    dial = "operands"
    # Whole problems have any number of operands; a step (and what `verify` proves) has two: operand_counts
    # stays (2, 2) for the proof, and expressions to solve may have more.
    expression_counts = (2, 100_000)

    def proof_contract(self):
        """A step is two-operand addition, so its contract is addition's: a step model can be proven with
        `numerate verify`, which checks the two-operand questions s + a."""
        return CARRY

    def sample_problem(self, rng: random.Random, k: int) -> Problem:
        return Problem(tuple(random_number(rng, rng.randint(1, DIGITS)) for _ in range(max(1, k))))

    def sample_step(self, rng: random.Random, lo: int, hi: int) -> Problem:
        """A partial sum of 1-5 digits (sums of up to 100 operands) plus one operand."""
        return Problem((random_number(rng, rng.randint(1, DIGITS + 2)), random_number(rng, rng.randint(1, DIGITS))))

    def iterations(self, problem: Problem) -> int:
        return len(problem.operands) - 1

    def answer_shape(self, problem: Problem, width: int) -> tuple[int, int]:
        return 1, len(to_str(len(problem.operands) * (10**width - 1)))

    def start(self, problem: Problem) -> dict:
        return {"i": 1, "sum": problem.operands[0]}

    def query(self, problem: Problem, state: dict) -> Problem:
        return Problem((state["sum"], problem.operands[state["i"]]))

    def advance(self, problem: Problem, state: dict, value) -> dict:
        return {"i": state["i"] + 1, "sum": value}

    def done(self, problem: Problem, state: dict) -> bool:
        return state["i"] >= len(problem.operands)

    def result(self, problem: Problem, state: dict):
        return state["sum"]

    def step_answer(self, query: Problem):
        return sum(query.operands)

    def answer(self, problem: Problem):
        return sum(problem.operands)  # a step is a two-operand problem: one rule for both
