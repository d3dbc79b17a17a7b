"""Multiplication a * b of non-negative integers, answered in one shot (no scratchpad)."""

from __future__ import annotations

import random

from numerate.tasks.base import TASKS, Problem, Task, random_number


@TASKS.register("multiplication", "a * b for non-negative integers a and b (one-shot: no scratchpad)")
class Multiplication(Task):
    """Every answer digit depends on every operand digit at or below its place: unlike addition, no column window
    sees enough, so the task is outside the provable class and tests what attention can gather."""

    name = "multiplication"
    symbol = "*"
    proof_obstacle = (
        "an answer digit of a * b depends on every lower digit of both operands, a number of digits that grows with "
        "the length; models/mul is proven instead: a times-digit step model and an adder, with routing between them"
    )
    samplers = {
        "uniform": "operands of exactly the cell's lengths, uniformly random",
        "nines": "99...9 x 99...9: the largest partial-product sums and carries at every place",
        "sparse": "one or two non-zero digits per operand: answers of mostly zeros (copying, not summing)",
    }

    def answer(self, problem: Problem) -> int:
        a, b = problem.operands
        return a * b

    def answer_shape(self, problem: Problem, width: int) -> tuple[int, int]:
        return 1, 2 * width

    def sample(self, rng: random.Random, sampler: str, lengths: tuple[int, ...]) -> Problem:
        if sampler == "uniform":
            return Problem(tuple(random_number(rng, n) for n in lengths))
        if sampler == "nines":
            return Problem(tuple(10**n - 1 for n in lengths))
        if sampler == "sparse":
            return Problem(tuple(_sparse(rng, n) for n in lengths))
        raise self.unknown_sampler(sampler)

    def sample_range(self, rng: random.Random, lo: int, hi: int) -> Problem:
        return Problem((random_number(rng, rng.randint(lo, hi)), random_number(rng, rng.randint(lo, hi))))


def _sparse(rng: random.Random, n: int) -> int:
    value = rng.randint(1, 9) * 10 ** (n - 1)  # exactly n digits
    if n > 1 and rng.random() < 0.5:
        value += rng.randint(1, 9) * 10 ** rng.randrange(n - 1)
    return value
