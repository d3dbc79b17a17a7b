"""What a procedure is: a registered program over named step models that only routes digits.

Each procedure declares the step models it needs, how one input line reads as a problem (and why a line is not
one), an exact oracle, a sampler for benchmarks and tests, and its body: a generator over `arith` primitives that
`engine.run` drives for many problems at once.
"""

from __future__ import annotations

import random
from typing import Any

from numerate.registry import Registry

PROCEDURES: Registry[type[Procedure]] = Registry("procedure")

# The step models a procedure may name, and the task each must have been trained on.
STEP_TASKS = {"add": "addition", "sub": "subtraction", "times": "times-digit"}


class Procedure:
    name: str = ""
    steps: tuple[str, ...] = ()  # names in STEP_TASKS
    syntax: str = ""  # how one input line is written, for messages and --help
    claim: str = ""  # what a proven run guarantees, for `numerate verify`
    variants: tuple[str, ...] = ("default",)

    def __init__(self, variant: str = "default"):
        if variant not in self.variants:
            raise ValueError(f"procedure {self.name} has no variant {variant!r} (known: {', '.join(self.variants)})")
        self.variant = variant

    def parse(self, text: str) -> Any:
        """One line as a problem; ValueError saying what is wrong (the caller names the line)."""
        raise NotImplementedError

    def expression(self, problem) -> str:
        """The problem written as an input line (parse(expression(p)) == p)."""
        raise NotImplementedError

    def body(self, problem):
        """The generator that computes the answer from step-model answers (engine.run drives it)."""
        raise NotImplementedError

    def oracle(self, problem) -> Any:
        """The exact answer, computed in Python."""
        raise NotImplementedError

    def write(self, problem, answer) -> str:
        """An answer as an output line."""
        return str(answer)

    def correct(self, problem, answer) -> bool:
        return answer == self.oracle(problem)

    def sample(self, rng: random.Random, size: int) -> Any:
        """A random problem of the given size (digits, or items for the knapsack)."""
        raise NotImplementedError

    def max_rounds(self, problem) -> int | None:
        """An upper bound on the rounds of questions the problem takes when every step answer is exact (None: no
        bound is known). A run past it is stopped: only a wrong step model gets there."""
        return None

    def widest_questions(self, problem) -> dict[str, int]:
        """For each step whose widest question is known before the run, its operand width in digits (the solver
        checks up front that each step model represents it); steps not named are checked when asked."""
        return {}

    def adversarial(self, rng: random.Random, size: int) -> Any:
        """A problem built to be hard for the procedure (long borrow chains, long runs); default: a sample."""
        return self.sample(rng, size)


def parse_int(text: str, what: str) -> int:
    from numerate.bigint import from_str

    text = text.strip()
    if not text or not text.isascii() or not text.isdigit():
        raise ValueError(f"{what} must be a non-negative integer written in digits, got {text[:30]!r}")
    return from_str(text)
