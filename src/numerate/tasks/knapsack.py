"""0/1 knapsack with capacity 9 by dynamic programming: one item per iteration.

Items have weight w and value v in 1..9 and are written as one two-digit operand, 10 w + v. The procedure keeps
a row T[0..9], the best value within each capacity using the items so far; one iteration folds in the next item:
T'[c] = max(T[c], T[c - w] + v). The chosen items are read back from the rows, last item first (an item is taken
if it changed T at the capacity still free). A final answer is one 0/1 choice per item.
"""

from __future__ import annotations

import random

from numerate.tasks.base import TASKS, Problem
from numerate.tasks.iterative import STEP, IterativeTask

CAPACITY = 9


def dp_step(row: tuple[int, ...], item: int) -> tuple[int, ...]:
    w, v = divmod(item, 10)
    return tuple(max(row[c], row[c - w] + v) if c >= w else row[c] for c in range(len(row)))


def choices(items: tuple[int, ...], rows: list[tuple[int, ...]]) -> tuple[int, ...]:
    """0/1 per item from the rows before and after each item (rows[0] is all zeros)."""
    c, taken = CAPACITY, [0] * len(items)
    for i in range(len(items) - 1, -1, -1):
        if rows[i + 1][c] != rows[i][c]:
            taken[i] = 1
            c -= items[i] // 10
    return tuple(taken)


@TASKS.register("knapsack", "0/1 knapsack, capacity 9, weights and values 1-9; dial = items; a step is one DP row")
class Knapsack(IterativeTask):
    name = "knapsack"
    symbol = ","
    dial = "items"

    def sample_problem(self, rng: random.Random, k: int) -> Problem:
        return Problem(tuple(10 * rng.randint(1, CAPACITY) + rng.randint(1, 9) for _ in range(max(1, k))))

    def sample_step(self, rng: random.Random, lo: int, hi: int) -> Problem:
        """The row after 0-40 random items (rows fill up as items accumulate), then one more item. Half the rows
        come after at most `hi` items, so the first rows of every run, down to the all-zero one, are common."""
        row = (0,) * (CAPACITY + 1)
        seen = rng.randint(0, hi) if rng.random() < 0.5 else rng.randint(0, 40)
        for item in self.sample_problem(rng, 40).operands[:seen]:
            row = dp_step(row, item)
        return Problem((*row, self.sample_problem(rng, 1).operands[0]), STEP)

    def iterations(self, problem: Problem) -> int:
        return len(problem.operands)

    def answer_shape(self, problem: Problem, width: int) -> tuple[int, int]:
        return (CAPACITY + 1, 2) if problem.mark == STEP else (len(problem.operands), 1)

    def start(self, problem: Problem) -> dict:
        return {"i": 0, "rows": [[0] * (CAPACITY + 1)]}

    def query(self, problem: Problem, state: dict) -> Problem:
        return Problem((*state["rows"][-1], problem.operands[state["i"]]), STEP)

    def advance(self, problem: Problem, state: dict, value) -> dict:
        return {"i": state["i"] + 1, "rows": [*state["rows"], list(value)]}

    def done(self, problem: Problem, state: dict) -> bool:
        return state["i"] >= len(problem.operands)

    def result(self, problem: Problem, state: dict):
        """The choice the rows so far support: the best packing of the items seen, the rest left out."""
        i = state["i"]
        seen = choices(problem.operands[:i], [tuple(r) for r in state["rows"]])
        return seen + (0,) * (len(problem.operands) - i)

    def step_answer(self, query: Problem):
        *row, item = query.operands
        return dp_step(tuple(row), item)

    def check(self, query: Problem, value) -> dict:
        if value is not None and (not isinstance(value, tuple) or len(value) != CAPACITY + 1):
            return {"ok": False, "why": "malformed"}
        return super().check(query, value)

    def optimum(self, problem: Problem) -> int:
        row = (0,) * (CAPACITY + 1)
        for item in problem.operands:
            row = dp_step(row, item)
        return row[CAPACITY]

    def judge(self, problem: Problem, value) -> dict:
        """Constraints: one 0/1 choice per item (well-formed) and total weight <= capacity; gap = 1 - value / optimum
        for feasible answers."""
        items = problem.operands
        bits = value if isinstance(value, tuple) else (value,)
        well_formed = value is not None and len(bits) == len(items) and all(b in (0, 1) for b in bits)
        weight = sum(i // 10 for i, b in zip(items, bits) if b == 1) if well_formed else None
        capacity = well_formed and weight <= CAPACITY
        best = self.optimum(problem)
        gained = sum(i % 10 for i, b in zip(items, bits) if b == 1) if capacity else None
        return {
            "exact": capacity and gained == best,
            "constraints": {"well_formed": well_formed, "capacity": capacity},
            "feasible": capacity,
            "gap": (1 - gained / best) if capacity else None,
        }
