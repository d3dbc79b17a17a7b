from __future__ import annotations

import random
from dataclasses import dataclass

from numerate.registry import Registry

TASKS: Registry = Registry("task")


@dataclass(frozen=True)
class Problem:
    """Operands of one problem, as Python integers (so answers are exact at any length).

    `mark` is the symbol that ends the prompt: "=" asks for the final answer, ">" (iterative tasks) for the next
    state of the procedure.
    """

    operands: tuple[int, ...]
    mark: str = "="


def as_tuple(value):
    """Answers of one number compare equal whether written as 7 or (7,); None stays None."""
    return value if value is None or isinstance(value, tuple) else (value,)


def random_number(rng: random.Random, n_digits: int) -> int:
    """A uniformly random integer with exactly `n_digits` digits (0–9 for one digit)."""
    if n_digits == 1:
        return rng.randrange(10)
    return rng.randrange(10 ** (n_digits - 1), 10**n_digits)


class Task:
    """Sample problems and compute exact answers. Subclasses register under a name."""

    name: str = ""
    symbol: str = ""  # operator written between operands by formats
    marks: str = "="  # symbols that can end a prompt
    samplers: tuple[str, ...] = ("uniform",)

    def answer_shape(self, problem: Problem, width: int) -> tuple[int, int]:
        """(how many numbers the answer has, digits each can need) when operands have at most `width` digits."""
        return 1, width + 1

    def answer(self, problem: Problem) -> int:
        raise NotImplementedError

    def sample(self, rng: random.Random, sampler: str, lengths: tuple[int, ...]) -> Problem:
        raise NotImplementedError

    def sample_range(self, rng: random.Random, lo: int, hi: int) -> Problem:
        """Each operand length drawn independently and uniformly from [lo, hi]."""
        raise NotImplementedError
