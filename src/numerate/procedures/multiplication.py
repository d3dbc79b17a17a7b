"""a * b for any two non-negative integers: long multiplication (arith.multiply), the procedure of models/mul."""

from __future__ import annotations

import random

from numerate.bigint import to_str
from numerate.procedures import arith
from numerate.procedures.base import PROCEDURES, Procedure, parse_int


@PROCEDURES.register("long-multiplication", "a * b: every a * d_j by times-digit, then pairwise sums in a tree")
class LongMultiplication(Procedure):
    name = "long-multiplication"
    steps = ("times", "add")
    syntax = "A*B with A, B >= 0 (e.g. 12*34)"
    claim = "for every pair of non-negative integers a and b, of any length, it writes exactly a * b"

    def parse(self, text: str):
        parts = text.split("*")
        if len(parts) != 2:
            raise ValueError(f"a product: {self.syntax}")
        return tuple(parse_int(p, "each factor") for p in parts)

    def expression(self, problem) -> str:
        return f"{to_str(problem[0])}*{to_str(problem[1])}"

    def oracle(self, problem) -> int:
        return problem[0] * problem[1]

    def sample(self, rng: random.Random, size: int):
        return tuple(rng.randrange(10 ** (size - 1) if size > 1 else 0, 10**size) for _ in range(2))

    def adversarial(self, rng: random.Random, size: int):
        return (10**size - 1, 10**size - 1)

    def widest_questions(self, problem) -> dict[str, int]:
        """a * d at a's width, and sums as wide as the product."""
        a, b = problem
        return {"times": len(to_str(a)), "add": len(to_str(a)) + len(to_str(b))}

    def body(self, problem):
        return (yield from arith.multiply(*problem))
