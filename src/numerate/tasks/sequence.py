"""Digit-sequence tasks with low-probability answers for a language model: copying a digit string, writing it
backwards (the digit version of reversing a word) and counting one digit in it (of counting letters in a word).
numerate's models read them as digits in columns, so `numerate train` and `numerate eval` run them like any
arithmetic task; lm/lowprob.py asks language models the same questions in words.
"""

from __future__ import annotations

from numerate.bigint import to_str

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


@TASKS.register("reverse", "write a digit string backwards (reversing a word, in digits)")
class Reverse(Copy):
    """The answer holds the string's digits in the opposite order, as many as the string has (a string ending in
    0 gives an answer with leading zeros, which are written). Its first digit is the string's last: in columns of
    significance that is an anti-diagonal, not a column's neighbour, so no column window covers it."""

    name = "reverse"

    proof_obstacle = (
        "each answer digit is the string's digit in the mirrored column (n - 1 - k), at an offset that grows "
        "with the length: no fixed column window holds it, so there is no finite case set"
    )

    def proof_contract(self):
        return None

    def answer(self, problem: Problem) -> int:
        return int(str(problem.operands[0])[::-1])

    def worst_case(self, width: int) -> Problem:
        return Problem((10 ** (width - 1),))  # reversed: 0...01, every digit but the last a written zero


@TASKS.register("digit-count", "how many times digit d appears in a digit string (letter counting, in digits)")
class DigitCount(Task):
    """Question (a, d): the string a and the digit d to count; the answer is the count."""

    name = "digit-count"
    symbol = "#"
    cell_dims = ("digits",)

    def answer(self, problem: Problem) -> int:
        a, d = problem.operands
        return to_str(a).count(str(d))

    def answer_shape(self, problem: Problem, width: int) -> tuple[int, int]:
        return 1, len(to_str(width))

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
        d = int(rng.choice(to_str(a))) if rng.random() < 0.5 else rng.randrange(10)
        return Problem((a, d))

    def cells(self, lengths, grid=False, adversarial=False):
        return [("uniform", (n,)) for n in lengths]

    def worst_case(self, width: int) -> Problem:
        return Problem((10**width - 1, 9))
