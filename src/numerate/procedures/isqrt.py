"""The integer square root isqrt(n) = floor(sqrt(n)) of a number of any length, by Newton's method.

x <- (x + n // x) // 2 until it stops decreasing, from a start above the root: n // x by long division, the sum by
the adder, the halving as 5 (x + n // x) with its last digit dropped. The start is (s + 1) * 10^h, where s is the
root of n's top digits (n // 10^(2h), about half of them), found the same way: a start within a factor
1 + 1/s of the root, so a few iterations suffice at every level.
"""

from __future__ import annotations

import math
import random

from numerate.bigint import to_str
from numerate.procedures import arith
from numerate.procedures.base import PROCEDURES, Procedure, parse_int


@PROCEDURES.register("isqrt", "floor(sqrt(n)) by Newton's method, x <- (x + n // x) // 2, divisions by long division")
class IntegerSquareRoot(Procedure):
    name = "isqrt"
    steps = ("add", "sub", "times")
    syntax = "N with N >= 0 (e.g. 1000000)"
    claim = "for every non-negative integer n, of any length, it writes exactly floor(sqrt(n))"

    def parse(self, text: str):
        return parse_int(text, "the number")

    def expression(self, problem) -> str:
        return to_str(problem)

    def oracle(self, problem) -> int:
        return math.isqrt(problem)

    def sample(self, rng: random.Random, size: int):
        return rng.randrange(10 ** (size - 1) if size > 1 else 0, 10**size)

    def adversarial(self, rng: random.Random, size: int):
        """A perfect square, or one less than one (the root's last digit decided by one unit)."""
        root = rng.randrange(10 ** max(0, (size - 1) // 2), 10 ** ((size + 1) // 2))
        return root * root - rng.randint(0, 1) if root else 0

    def max_rounds(self, problem) -> int | None:
        """Loose: every level's Newton run is a few divisions of at most L quotient digits (L = n's digits)."""
        return 20 * (len(to_str(problem)) + 4) ** 2

    def body(self, n: int):
        return (yield from root(n))


def root(n: int):
    if arith.is_zero(n):
        return 0
    digits = len(to_str(n))
    if digits <= 2:
        x = 10  # above sqrt(99)
    else:
        h = digits // 4 if digits >= 8 else 1  # n's top digits keep about half of them
        s = yield from root(arith.drop(n, 2 * h))
        x = arith.shift((yield from arith.add(s, 1)), h)  # (s + 1)^2 > n // 10^2h, so x^2 > n
    # Newton from above: while x > isqrt(n), isqrt(n) <= y < x; at x = isqrt(n), y >= x.
    while True:
        q, _ = yield from arith.divmod_long(n, x)
        y = yield from arith.halve((yield from arith.add(x, q)))
        if (yield from arith.compare(y, x)) >= 0:
            return x
        x = y
