"""a * d for a non-negative integer a and one digit d: the step of a long multiplication that the model writes.

The question is (a, D) with D the digit d written in every column of a (d * 11...1 as wide as a), so every column
holds all its answer digit needs: a's digit and d. The carry into a column is at most d - 1 <= 8 (9 * 9 + 8 = 89),
and it is fixed by the column below and the answer digit written there (a's digit times d plus a carry of 0..8
spans fewer than ten values, so its last digit tells the carry): the step is as local as two-operand addition,
and a 2-D model with a one-sided column window can be proven for it (`numerate verify`).

A whole product a * b is then routed, never computed, around two proven models (numerate/procedures/multiplication.py):
for each digit d_j of b, P_j = a * d_j by this task's model, then s_{j+1} = s_j + P_j * 10^j by a proven adder.
"""

from __future__ import annotations

import random

from numerate.bigint import from_str, to_str
from numerate.tasks.base import TASKS, Problem, Task, random_number
from numerate.tasks.proof import TIMES_DIGIT


def repdigit(d: int, width: int) -> int:
    """d written in each of `width` columns (0 for d = 0)."""
    return d * (10**width - 1) // 9


@TASKS.register("times-digit", "a * d for a non-negative integer a and a digit d, d written in every column of a")
class TimesDigit(Task):
    name = "times-digit"
    symbol = "*"
    cell_dims = ("digits",)
    samplers = {
        "uniform": "a of exactly the cell's digits, uniformly random; d uniform in 0-9",
        "carry": "d = 9 and a = 99...9 or a = 11...12: the largest carry (8) or a carry through every column",
    }

    def proof_contract(self):
        return TIMES_DIGIT  # rows a and d (d the same in every column); carries 0-8 (tasks/proof.py)

    @staticmethod
    def question(a: int, d: int) -> Problem:
        return Problem((a, repdigit(d, len(to_str(a)))))

    def answer(self, problem: Problem):
        a, digits = problem.operands
        return a * (digits % 10)  # plain arithmetic: numpy arrays of operands work too (verify's case tables)

    def sample(self, rng: random.Random, sampler: str, lengths: tuple[int, ...]) -> Problem:
        n = lengths[0]
        if sampler == "uniform":
            return self.question(random_number(rng, n), rng.randrange(10))
        if sampler == "carry":
            a = 10**n - 1 if rng.random() < 0.5 or n == 1 else (10**n - 1) // 9 + 1
            return self.question(a, 9)
        raise self.unknown_sampler(sampler)

    def sample_range(self, rng: random.Random, lo: int, hi: int) -> Problem:
        return self.question(random_number(rng, rng.randint(lo, hi)), rng.randrange(10))

    def cells(self, lengths: list[int], grid: bool = False, adversarial: bool = False) -> list[tuple]:
        cells = [("uniform", (n,)) for n in lengths]
        return cells + ([("carry", (n,)) for n in lengths] if adversarial else [])

    def worst_case(self, width: int) -> Problem:
        return Problem((10**width - 1, repdigit(9, width)))

    def expression(self, problem: Problem) -> str:
        a, digits = problem.operands
        return f"{to_str(a)}*{digits % 10}"

    def parse_expression(self, text: str) -> Problem:
        """`A*d`: a non-negative integer times one digit (written `A*ddd` with d in every column of A, too)."""
        parts = [p.strip() for p in text.split(self.symbol)]
        if len(parts) != 2 or not all(p.isascii() and p.isdigit() for p in parts):
            raise ValueError("a non-negative integer and a digit joined by '*'")
        a, d = parts
        a = a.lstrip("0") or "0"
        if len(set(d)) != 1 or len(d) not in (1, len(a)):
            raise ValueError("a non-negative integer times one digit (the digit alone, or repeated once per digit)")
        return self.question(from_str(a), int(d[0]))
