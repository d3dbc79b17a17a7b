"""Multiplication a * b of non-negative integers, answered in one shot (no scratchpad)."""

from __future__ import annotations

import random

from numerate.bigint import to_str
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

    def running_sums(self, problem: Problem, digits: int) -> list[int]:
        """ĉ_k = Σ_{i+j=k} a_i b_j + ĉ_{k-1} // 10 for the answer's `digits` places, least significant first:
        answer digit k is ĉ_k mod 10 and the carry into place k + 1 is ĉ_k // 10 (Bai et al. 2025's running sum,
        the target of the running-sum auxiliary loss, train/auxiliary.py)."""
        a, b = (to_str(x)[::-1] for x in problem.operands)
        out, carry = [], 0
        for k in range(digits):
            column = sum(int(a[i]) * int(b[k - i]) for i in range(max(0, k - len(b) + 1), min(k + 1, len(a))))
            out.append(column + carry)
            carry = out[-1] // 10
        return out


def chain_of_thought(a: int, b: int, width: int) -> list[tuple[str, int, int]]:
    """The long-multiplication chain of thought as Deng et al.'s ICoT data writes it: for each digit b_j of b
    (least significant first) the shifted partial product a * b_j * 10^j, and after every partial product but the
    first and the last, in parentheses, the running sum a * (b mod 10^(j+1)). Items are (opening mark, value,
    digits): partial product j and running sum j take width + 1 + j digits, width being a's padded width."""
    b_digits = to_str(b)[::-1]
    items = []
    for j, d in enumerate(b_digits):
        items.append(("" if j == 0 else "+", a * int(d) * 10**j, width + 1 + j))
        if 0 < j < len(b_digits) - 1:
            items.append(("(", a * (b % 10 ** (j + 1)), width + 1 + j))
    return items


def _sparse(rng: random.Random, n: int) -> int:
    value = rng.randint(1, 9) * 10 ** (n - 1)  # exactly n digits
    if n > 1 and rng.random() < 0.5:
        value += rng.randint(1, 9) * 10 ** rng.randrange(n - 1)
    return value
