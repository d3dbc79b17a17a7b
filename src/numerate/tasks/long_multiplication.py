"""a * b by the schoolbook method, one multiply-accumulate line per digit of b: a scratchpad whose lines the model
writes and whose bookkeeping (which digit of b, the shift) stays outside it.

Line j adds the partial product of a and b's digit j (least significant first) to the running sum:

    s_{j+1} = s_j + d_j * (a * 10^j),   s_0 = 0,   a * b = s_m for b of m digits.

A step question is (s_j, a * 10^j, D_j) with D_j the digit d_j written in every column (d_j * 11...1 as wide as
a * 10^j), so every column of the question holds what its answer digit needs — s's digit, a's digit and d_j — and
the carry into a column (at most 9: 9 + 9 * 9 + 9 = 99) is fixed by the previous answer digit and its column, as
for two-operand addition: the step is local, and a 2-D model's step generalizes in length like addition does. The
controller shifts a and picks d_j; the model does every digit product, sum and carry. Line j of a k x k problem has
k + j + 1 answer digits, so the scratchpad writes k (3k + 1) / 2 of them (155 at 10 x 10) where one-shot writes 2k.

Whole problems ("a*b=", the one-shot question) and steps ("s*A*D>") are mixed in training like the other
iterative tasks; the dial is the digits of both operands (and the lines of the scratchpad).
"""

from __future__ import annotations

from numerate.bigint import to_str

import random

from numerate.tasks.base import TASKS, Problem, random_number
from numerate.tasks.iterative import STEP, IterativeTask


def repdigit(d: int, width: int) -> int:
    """d written in each of `width` columns (0 for d = 0)."""
    return d * (10**width - 1) // 9


@TASKS.register(
    "long-multiplication", "a * b as a scratchpad: one multiply-accumulate line s + d * a10^j per digit of b"
)
class LongMultiplication(IterativeTask):
    name = "long-multiplication"
    symbol = "*"
    proof_obstacle = (
        "a line s + d * (a * 10^j) has a shifted row, a * 10^j with zeros in its lowest j places, which a contract "
        "cannot state yet; models/mul splits the line into a * d (task times-digit, provable) and a sum (addition)"
    )
    dial = "digits"
    samplers = {"uniform": "a and b of exactly the cell's digits, uniformly random"}

    def sample_problem(self, rng: random.Random, k: int) -> Problem:
        k = max(1, k)
        return Problem((random_number(rng, k), random_number(rng, k)))

    def sample_step(self, rng: random.Random, lo: int, hi: int) -> Problem:
        """A line of a problem with a and b of lo..hi digits each (any shapes, not only squares)."""
        a, b = random_number(rng, rng.randint(lo, hi)), random_number(rng, rng.randint(lo, hi))
        j = rng.randrange(len(to_str(b)))
        return self.query(Problem((a, b)), {"j": j, "sum": a * (b % 10**j)})

    def iterations(self, problem: Problem) -> int:
        return len(to_str(problem.operands[1]))

    def answer_shape(self, problem: Problem, width: int) -> tuple[int, int]:
        return (1, width + 1) if problem.mark == STEP else (1, 2 * width)

    def start(self, problem: Problem) -> dict:
        return {"j": 0, "sum": 0}

    def query(self, problem: Problem, state: dict) -> Problem:
        a, b = problem.operands
        j = state["j"]
        shifted = a * 10**j
        digit = b // 10**j % 10
        return Problem((state["sum"], shifted, repdigit(digit, len(to_str(shifted)))), STEP)

    def advance(self, problem: Problem, state: dict, value) -> dict:
        return {"j": state["j"] + 1, "sum": value}

    def done(self, problem: Problem, state: dict) -> bool:
        return state["j"] >= self.iterations(problem)

    def result(self, problem: Problem, state: dict):
        return state["sum"]

    def widest_query(self, problem: Problem) -> Problem:
        """The last line: a shifted furthest, with the widest running sum."""
        a, b = problem.operands
        j = self.iterations(problem) - 1
        return self.query(problem, {"j": j, "sum": a * (b % 10**j)})

    def step_answer(self, query: Problem):
        s, shifted, digits = query.operands
        return s + shifted * (digits % 10)

    def final_answer(self, problem: Problem):
        a, b = problem.operands
        return a * b
