"""Addition of many non-negative integers: a1 + a2 + ... + ak in one answer."""

from __future__ import annotations

import random

from numerate.bigint import to_str
from numerate.tasks.base import TASKS, Problem, Task, random_number

DEFAULT_OPERANDS = (2, 10)  # operand counts seen in training unless task.operands says otherwise


@TASKS.register("addition-many", "a1 + ... + ak of non-negative integers; cells are (operands, digits)")
class AdditionMany(Task):
    """With k operands the carry into a column reaches k - 1: from 11 operands on it no longer fits in one digit,
    and the previous answer digit with its column no longer determines it (for two operands it does, which is what
    makes two-operand addition local)."""

    name = "addition-many"
    symbol = "+"
    cell_dims = ("operands", "digits")
    operand_counts = (2, 100_000)
    samplers = {
        "uniform": "k operands of exactly n digits, uniformly random",
        "nines": "every operand 99...9: the largest column sums and carries (above 9 from 12 operands on)",
        "carry": "column digit sums of exactly 9 above a lowest column of 10 or more: a carry through every column",
        "big-carry": "every digit 5-9: column sums and carries near their maximum, carries of several digits",
    }

    def __init__(self):
        self.train_operands = DEFAULT_OPERANDS
        self.equal_lengths = 0.0

    def configure(self, cfg) -> None:
        if cfg.operands:
            self.train_operands = tuple(cfg.operands)
        self.equal_lengths = cfg.equal_lengths

    def answer(self, problem: Problem) -> int:
        return sum(problem.operands)

    def answer_shape(self, problem: Problem, width: int) -> tuple[int, int]:
        return 1, len(to_str(len(problem.operands) * (10**width - 1)))

    def worst_case(self, width: int) -> Problem:
        return Problem(tuple(10**width - 1 for _ in range(self.train_operands[1])))

    def cells(self, lengths: list[int], grid: bool = False, adversarial: bool = False) -> list[tuple]:
        """(operands, digits) cells: with `grid`, every count in `lengths` times every length; else both equal."""
        counts = [n for n in lengths if n >= 2] or [2]
        shapes = [(k, n) for k in counts for n in lengths] if grid else [(max(2, n), n) for n in lengths]
        cells = [("uniform", s) for s in shapes]
        if adversarial:
            cells += [(name, s) for name in list(self.samplers)[1:] for s in shapes]
        return cells

    def sample(self, rng: random.Random, sampler: str, cell: tuple[int, ...]) -> Problem:
        k, n = cell
        k = max(2, k)
        if sampler == "uniform":
            return Problem(tuple(random_number(rng, n) for _ in range(k)))
        if sampler == "nines":
            return Problem(tuple(10**n - 1 for _ in range(k)))
        if sampler == "big-carry":
            return Problem(tuple(_from_digits([rng.randint(5, 9) for _ in range(n)]) for _ in range(k)))
        if sampler == "carry":
            return self.carry_chain(rng, k, n)
        raise self.unknown_sampler(sampler)

    def sample_range(self, rng: random.Random, lo: int, hi: int) -> Problem:
        k = rng.randint(*self.train_operands)
        # Independent lengths leave the high columns nearly empty; test cells fill every column with k digits.
        if self.equal_lengths and rng.random() < self.equal_lengths:
            n = rng.randint(lo, hi)
            return Problem(tuple(random_number(rng, n) for _ in range(k)))
        return Problem(tuple(random_number(rng, rng.randint(lo, hi)) for _ in range(k)))

    @staticmethod
    def carry_chain(rng: random.Random, k: int, n: int) -> Problem:
        """Lowest column: digits summing to 10 or more; every column above: digits summing to exactly 9, so the
        carry of 1 born at the bottom runs through every column (top digits non-zero where the sum allows)."""
        columns = [_split(rng, rng.randint(10, 9 * k), k)]
        columns += [_split(rng, 9, k) for _ in range(n - 1)]
        rows = [[col[r] for col in columns] for r in range(k)]  # least significant digit first
        return Problem(tuple(_from_digits(row) for row in rows))


def _split(rng: random.Random, total: int, k: int) -> list[int]:
    """k digits 0-9 summing to `total` (<= 9k), in random order."""
    digits = [0] * k
    for _ in range(total):
        i = rng.choice([j for j in range(k) if digits[j] < 9])
        digits[i] += 1
    return digits


def _from_digits(least_first: list[int]) -> int:
    return sum(d * 10**i for i, d in enumerate(least_first))
