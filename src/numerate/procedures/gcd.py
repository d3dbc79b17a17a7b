"""gcd(a, b) of integers of any length, by Euclid's algorithm.

- "euclid" (default): (a, b) -> (b, a mod b) until b is 0, each remainder by long division (arith.divmod_long);
- "subtractive": the larger number less the smaller until they are equal, the larger chosen by the sign of a
  subtraction (the iteration lab's procedure, one question per iteration).
"""

from __future__ import annotations

import math
import random

from numerate.bigint import to_str
from numerate.procedures import arith
from numerate.procedures.base import PROCEDURES, Procedure, parse_int


@PROCEDURES.register("gcd", "gcd(a, b) by Euclid's algorithm, remainders by long division (or subtractive)")
class GCD(Procedure):
    name = "gcd"
    steps = ("sub", "times")
    syntax = "A,B with A, B >= 0, not both 0 (e.g. 462,1071)"
    claim = "for every pair of non-negative integers a and b, not both 0, of any length, it writes exactly gcd(a, b)"
    variants = ("euclid", "subtractive")
    lab_task = "gcd"  # the iteration lab's task of the same problems

    def __init__(self, variant: str = "euclid"):
        super().__init__("euclid" if variant == "default" else variant)

    def parse(self, text: str):
        parts = text.split(",")
        if len(parts) != 2:
            raise ValueError(f"a gcd problem: {self.syntax}")
        a, b = (parse_int(p, "each operand") for p in parts)
        if a == 0 and b == 0:
            raise ValueError("a gcd problem: gcd(0, 0) is undefined")
        return (a, b)

    def expression(self, problem) -> str:
        return f"{problem[0]},{problem[1]}"

    def from_lab(self, problem):
        return tuple(problem.operands)

    def to_lab(self, problem, answer):
        return answer

    def max_rounds(self, problem) -> int | None:
        """Euclid: at most 5 steps per digit of the smaller number (Lame), each the multiples' round and one round
        per quotient digit; subtractive: one or two rounds per subtraction, at most a + b of them."""
        a, b = problem
        if self.variant == "subtractive":
            return 2 * (a + b) + 4
        digits = len(to_str(max(a, b)))
        return (5 * digits + 2) * (digits + 2) + 2

    def oracle(self, problem) -> int:
        return math.gcd(*problem)

    def sample(self, rng: random.Random, size: int):
        """Two size-digit numbers with a common factor of about size/3 digits (so the answer is not always 1)."""
        g = rng.randrange(10 ** max(0, size // 3 - 1), 10 ** max(1, size // 3))
        lo, hi = 10 ** (size - 1), 10**size - 1
        p = rng.randint(max(1, lo // g), max(1, hi // g))
        q = rng.randint(max(1, lo // g), max(1, hi // g))
        return (g * p, g * q)

    def adversarial(self, rng: random.Random, size: int):
        """Consecutive Fibonacci numbers near size digits: the most Euclid steps for their size (Lamé), every
        quotient 1."""
        a, b = 1, 1
        while len(to_str(b)) < size:
            a, b = b, a + b
        return (b, a)

    def body(self, problem):
        a, b = problem
        if self.variant == "subtractive":
            return (yield from self._subtractive(a, b))
        while not arith.is_zero(b):
            _, r = yield from arith.divmod_long(a, b)
            a, b = b, r
        return a

    def _subtractive(self, a: int, b: int):
        if arith.is_zero(a) or arith.is_zero(b):
            return a if arith.is_zero(b) else b
        while True:
            diff = yield from arith.sub(a, b)
            if diff == 0:
                return a
            if diff > 0:
                a = diff
            else:
                b = yield from arith.sub(b, a)
