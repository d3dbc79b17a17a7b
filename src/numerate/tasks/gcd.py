"""Greatest common divisor by Euclid's subtractive algorithm: one subtraction per iteration."""

from __future__ import annotations

import random

from numerate.tasks.base import TASKS, Problem, random_number
from numerate.tasks.iterative import STEP, IterativeTask

LARGEST = 9999  # operands stay within 4 digits at every dial setting, so the dial counts iterations only


def euclid_step(a: int, b: int) -> tuple[int, int]:
    """Subtract the smaller number from the larger."""
    return (a - b, b) if a > b else (a, b - a)


def from_quotients(quotients: list[int]) -> tuple[int, int]:
    """(p, q), coprime, with p / q = [q1; q2, ..., qm] as a continued fraction."""
    p, q = 1, 0
    for x in reversed(quotients):
        p, q = x * p + q, p
    return p, q


@TASKS.register("gcd", "gcd(a, b) by subtractive Euclid, a, b <= 9999; dial = subtractions; a step subtracts once")
class GCD(IterativeTask):
    name = "gcd"
    symbol = ","
    dial = "subtractions"

    def sample_problem(self, rng: random.Random, k: int) -> Problem:
        """Subtractive Euclid on (g p, g q) takes sum(quotients) - 1 steps, so draw k + 1 split into 1-4
        partial quotients (the last >= 2) and a common factor g that keeps both numbers <= LARGEST."""
        k = max(1, k)
        for attempt in range(10_000):
            m = rng.randint(1, min(k, 4 if attempt < 1000 else 2))
            cuts = sorted(rng.sample(range(1, k), m - 1))
            quotients = [b - a for a, b in zip([0, *cuts], [*cuts, k])]
            quotients[-1] += 1
            p, q = from_quotients(quotients)
            if p <= LARGEST:
                g = rng.randint(1, LARGEST // p)
                pair = (g * p, g * q)
                return Problem(pair if rng.random() < 0.5 else pair[::-1])
        raise ValueError(f"cannot draw a gcd problem with {k} steps and operands <= {LARGEST}")

    def sample_step(self, rng: random.Random, lo: int, hi: int) -> Problem:
        """Any two different numbers up to LARGEST, each of 1-4 digits with equal chance."""
        while True:
            a, b = (random_number(rng, rng.randint(1, len(str(LARGEST)))) for _ in range(2))
            if a != b and a and b:
                return Problem((a, b), STEP)

    def iterations(self, problem: Problem) -> int:
        a, b = problem.operands
        n = 0
        while a != b:
            a, b = euclid_step(a, b)
            n += 1
        return n

    def answer_shape(self, problem: Problem, width: int) -> tuple[int, int]:
        return (2, width) if problem.mark == STEP else (1, width)

    def start(self, problem: Problem) -> dict:
        a, b = problem.operands
        return {"a": a, "b": b}

    def query(self, problem: Problem, state: dict) -> Problem:
        return Problem((state["a"], state["b"]), STEP)

    def advance(self, problem: Problem, state: dict, value) -> dict:
        return {"a": value[0], "b": value[1]}

    def done(self, problem: Problem, state: dict) -> bool:
        return state["a"] == state["b"]

    def result(self, problem: Problem, state: dict):
        return state["a"] if state["a"] == state["b"] else None

    def step_answer(self, query: Problem):
        return euclid_step(*query.operands)
