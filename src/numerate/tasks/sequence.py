"""Digit-sequence tasks with low-probability answers for a language model: copying a digit string, and counting
one digit in it (the digit version of counting letters in a word). numerate's models read them as digits in
columns, so `numerate train` and `numerate eval` run them like any arithmetic task; lm/lowprob.py asks language
models the same questions in words.
"""

from __future__ import annotations

import random

from numerate.tasks.base import TASKS, Problem, Task, random_number
from numerate.tasks.proof import COPY


@TASKS.register("copy", "write a digit string again, exactly (working memory)")
class Copy(Task):
    name = "copy"
    symbol = "@"  # never written (one operand), but the format splits answers on it
    cell_dims = ("digits",)
    operand_counts = (1, 1)

    def proof_contract(self):
        return COPY  # one row, nothing carried: a column window can be proven to copy at every length

    def answer(self, problem: Problem) -> int:
        return problem.operands[0]

    def answer_shape(self, problem: Problem, width: int) -> tuple[int, int]:
        return 1, width

    def sample(self, rng: random.Random, sampler: str, lengths: tuple[int, ...]) -> Problem:
        if sampler != "uniform":
            raise self.unknown_sampler(sampler)
        return Problem((random_number(rng, lengths[0]),))

    def sample_range(self, rng: random.Random, lo: int, hi: int) -> Problem:
        return Problem((random_number(rng, rng.randint(lo, hi)),))

    def cells(self, lengths, grid=False, adversarial=False):
        return [("uniform", (n,)) for n in lengths]

    def worst_case(self, width: int) -> Problem:
        return Problem((10**width - 1,))


@TASKS.register("digit-count", "how many times digit d appears in a digit string (letter counting, in digits)")
class DigitCount(Task):
    """Question (a, d): the string a and the digit d to count; the answer is the count."""

    name = "digit-count"
    symbol = "#"
    cell_dims = ("digits",)

    def answer(self, problem: Problem) -> int:
        a, d = problem.operands
        return str(a).count(str(d))

    def answer_shape(self, problem: Problem, width: int) -> tuple[int, int]:
        return 1, len(str(width))

    def sample(self, rng: random.Random, sampler: str, lengths: tuple[int, ...]) -> Problem:
        if sampler != "uniform":
            raise self.unknown_sampler(sampler)
        return self._draw(rng, lengths[0])

    def sample_range(self, rng: random.Random, lo: int, hi: int) -> Problem:
        return self._draw(rng, rng.randint(lo, hi))

    @staticmethod
    def _draw(rng: random.Random, n: int) -> Problem:
        a = random_number(rng, n)
        # half the questions count a digit of the string, half any digit
        d = int(rng.choice(str(a))) if rng.random() < 0.5 else rng.randrange(10)
        return Problem((a, d))

    def cells(self, lengths, grid=False, adversarial=False):
        return [("uniform", (n,)) for n in lengths]

    def worst_case(self, width: int) -> Problem:
        return Problem((10**width - 1, 9))
