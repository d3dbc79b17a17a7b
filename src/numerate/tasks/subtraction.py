"""Subtraction a - b of non-negative integers; the answer may be negative."""

from __future__ import annotations

import random

from numerate.bigint import from_str
from numerate.tasks.base import TASKS, Problem, Task, random_number
from numerate.tasks.proof import BORROW


@TASKS.register("subtraction", "a - b for non-negative integers a and b (answers may be negative)")
class Subtraction(Task):
    name = "subtraction"
    symbol = "-"
    signed = True
    samplers = {
        "uniform": "operands of exactly the cell's lengths, uniformly random",
        "borrow": "a borrow through every digit: 10…0 - 1, or equal digits above a lower column that borrows",
        "negative": "b > a: every answer is negative",
    }

    def proof_contract(self):
        return BORROW  # two rows; the borrow into a column is 0 or 1, set by one column below (tasks/proof.py)

    def answer(self, problem: Problem) -> int:
        a, b = problem.operands
        return a - b

    def sample(self, rng: random.Random, sampler: str, lengths: tuple[int, ...]) -> Problem:
        n = max(lengths)
        if sampler == "uniform":
            return Problem(tuple(random_number(rng, k) for k in lengths))
        if sampler == "borrow":
            return self.borrow_chain(rng, n)
        if sampler == "negative":
            a, b = random_number(rng, lengths[0]), random_number(rng, lengths[-1])
            if a == b:
                b += 1
            return Problem((min(a, b), max(a, b)))
        raise self.unknown_sampler(sampler)

    def sample_range(self, rng: random.Random, lo: int, hi: int) -> Problem:
        return Problem((random_number(rng, rng.randint(lo, hi)), random_number(rng, rng.randint(lo, hi))))

    @staticmethod
    def borrow_chain(rng: random.Random, n: int) -> Problem:
        """Half are 10…0 (n digits) minus a one-digit number; the rest are two n-digit numbers
        with the same digits above a lowest column where a's digit is smaller, so the borrow born there runs to the
        top (and the answer is negative)."""
        if n == 1:
            a = rng.randint(0, 8)
            return Problem((a, rng.randint(a + 1, 9)))
        if rng.random() < 0.5:
            return Problem((10 ** (n - 1), rng.randint(1, 9)))
        top = [rng.randint(1, 9)] + [rng.randint(0, 9) for _ in range(n - 2)]
        low_a = rng.randint(0, 8)
        low_b = rng.randint(low_a + 1, 9)
        prefix = "".join(map(str, top))
        return Problem((from_str(prefix + str(low_a)), from_str(prefix + str(low_b))))
