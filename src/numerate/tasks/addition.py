"""Addition of two non-negative integers."""

from __future__ import annotations

import random

from numerate.bigint import from_str
from numerate.tasks.base import TASKS, Problem, Task, random_number
from numerate.tasks.proof import CARRY


@TASKS.register("addition", "a + b for non-negative integers a and b")
class Addition(Task):
    name = "addition"
    symbol = "+"
    samplers = {
        "uniform": "operands of exactly the cell's lengths, uniformly random",
        "carry": "a carry through every digit: 99…9 + 1, or digit pairs summing to 9 above a carry",
    }

    def proof_contract(self):
        return CARRY  # two rows; the carry into a column is 0 or 1, set by one column below (tasks/proof.py)

    def answer(self, problem: Problem) -> int:
        return sum(problem.operands)

    def sample(self, rng: random.Random, sampler: str, lengths: tuple[int, ...]) -> Problem:
        """`uniform`: operands of exactly these lengths; `carry`: a carry chain through every digit."""
        if sampler == "uniform":
            return Problem(tuple(random_number(rng, n) for n in lengths))
        if sampler == "carry":
            return self.carry_chain(rng, max(lengths))
        raise self.unknown_sampler(sampler)

    def sample_range(self, rng: random.Random, lo: int, hi: int) -> Problem:
        return Problem((random_number(rng, rng.randint(lo, hi)), random_number(rng, rng.randint(lo, hi))))

    @staticmethod
    def carry_chain(rng: random.Random, n: int) -> Problem:
        """A problem whose carry runs through all n digits.

        Half are 99…9 + 1 (one operand short, in either order); the rest are two n-digit numbers whose lowest
        digit pair sums to 10–18 and whose other digit pairs each sum to 9, so the carry born at the bottom must
        travel to the top.
        """
        if n == 1:
            a = rng.randint(1, 9)
            return Problem((a, rng.randint(10 - a, 9)))
        if rng.random() < 0.5:
            pair = (10**n - 1, rng.randint(1, 9))
            return Problem(pair if rng.random() < 0.5 else pair[::-1])
        low_a = rng.randint(1, 9)
        low_b = rng.randint(10 - low_a, 9)
        top_a = rng.randint(1, 8)  # top pair sums to 9 with both digits non-zero
        a_digits, b_digits = [low_a], [low_b]
        for _ in range(n - 2):
            d = rng.randint(0, 9)
            a_digits.append(d)
            b_digits.append(9 - d)
        a_digits.append(top_a)
        b_digits.append(9 - top_a)
        a = from_str("".join(map(str, reversed(a_digits))))
        b = from_str("".join(map(str, reversed(b_digits))))
        return Problem((a, b))
