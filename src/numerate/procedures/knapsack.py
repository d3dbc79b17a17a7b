"""0/1 knapsack with multi-digit weights and values, by the dynamic-programming row.

row[c] is the best value within capacity c using the items seen so far (all 0 at first). Item (w, v) turns it
into new[c] = max(row[c], row[c - w] + v) for c >= w: a copy of the row shifted by w places, one sum per entry
(`add`) and one choice of the larger per entry, read off the sign of a subtraction (`sub`). Capacities and weights
are places in the row, never values: a shift by w places is routing. The chosen items are read back from the
choices, last item first. The answer is the optimum row[C] and one set of items that reaches it.
"""

from __future__ import annotations

import random

from numerate.procedures.base import PROCEDURES, Procedure, parse_int
from numerate.procedures.engine import Ask

MAX_CAPACITY = 100_000  # the row has C + 1 entries: a larger capacity is refused, not attempted


@PROCEDURES.register("knapsack", "0/1 knapsack by the DP row: one sum and one max per entry, per item")
class Knapsack(Procedure):
    name = "knapsack"
    steps = ("add", "sub")
    lab_task = "knapsack"  # the iteration lab's task: capacity 9, item (w, v) written 10 w + v
    syntax = "C; w:v, w:v, ... with capacity C >= 1 and every weight w and value v >= 1 (e.g. 10; 5:10, 4:40, 6:30)"
    claim = (
        "for every capacity and list of items with positive integer weights and values, it writes the optimal "
        "total value and a set of items of total weight at most the capacity that reaches it"
    )

    def parse(self, text: str):
        head, sep, rest = text.partition(";")
        if not sep:
            raise ValueError(f"a knapsack problem: {self.syntax}")
        capacity = parse_int(head, "the capacity")
        if not 1 <= capacity <= MAX_CAPACITY:
            raise ValueError(f"a knapsack problem: the capacity must be between 1 and {MAX_CAPACITY:,}")
        items = []
        for part in rest.split(","):
            w, colon, v = part.partition(":")
            if not colon:
                raise ValueError(f"a knapsack problem: each item is weight:value, got {part.strip()[:20]!r}")
            items.append((parse_int(w, "a weight"), parse_int(v, "a value")))
        if any(w == 0 or v == 0 for w, v in items):
            raise ValueError("a knapsack problem: every weight and value must be at least 1")
        if all(w > capacity for w, _ in items):
            raise ValueError("a knapsack problem with no feasible item: every weight exceeds the capacity")
        return (capacity, tuple(items))

    def expression(self, problem) -> str:
        capacity, items = problem
        return f"{capacity}; " + ", ".join(f"{w}:{v}" for w, v in items)

    def from_lab(self, problem):
        return (9, tuple(divmod(item, 10) for item in problem.operands))

    def to_lab(self, problem, answer):
        """The lab's answer: one 0/1 choice per item."""
        chosen = set(answer[1])
        return tuple(int(i + 1 in chosen) for i in range(len(problem.operands)))

    def max_rounds(self, problem) -> int | None:
        return 2 * len(problem[1]) + 1  # a round of sums and a round of choices per item

    def oracle(self, problem) -> int:
        """The optimal value (plain Python DP)."""
        capacity, items = problem
        row = [0] * (capacity + 1)
        for w, v in items:
            for c in range(capacity, w - 1, -1):
                row[c] = max(row[c], row[c - w] + v)
        return row[capacity]

    def judge(self, problem, answer) -> dict:
        """Feasible (total weight within capacity, the value is the chosen items' sum) and optimal."""
        capacity, items = problem
        value, chosen = answer
        ok_items = all(1 <= i <= len(items) for i in chosen) and len(set(chosen)) == len(chosen)
        weight = sum(items[i - 1][0] for i in chosen) if ok_items else capacity + 1
        feasible = ok_items and weight <= capacity and value == sum(items[i - 1][1] for i in chosen)
        return {"feasible": feasible, "optimal": feasible and value == self.oracle(problem)}

    def correct(self, problem, answer) -> bool:
        return self.judge(problem, answer)["optimal"]

    def write(self, problem, answer) -> str:
        value, chosen = answer
        return f"{value}: " + ",".join(map(str, chosen))

    def sample(self, rng: random.Random, size: int, value_digits: int = 6, max_weight: int = 40):
        """`size` items, weights 1..max_weight, values of value_digits digits, capacity half the total weight."""
        items = tuple(
            (rng.randint(1, max_weight), rng.randrange(10 ** (value_digits - 1), 10**value_digits)) for _ in range(size)
        )
        return (max(max(w for w, _ in items), sum(w for w, _ in items) // 2), items)

    def adversarial(self, rng: random.Random, size: int, value_digits: int = 6):
        """Values proportional to weights (every item equally dense, so greedy choices tie and only the DP's exact
        sums decide), plus all-nines values whose sums carry through every digit."""
        items = []
        for _ in range(size):
            w = rng.randint(1, 40)
            v = min(10**value_digits - 1, w * (10**value_digits // 41)) if rng.random() < 0.5 else 10**value_digits - 1
            items.append((w, v))
        return (max(max(w for w, _ in items), sum(w for w, _ in items) // 2), tuple(items))

    def body(self, problem):
        capacity, items = problem
        row = [0] * (capacity + 1)
        taken: list[set[int]] = []
        for w, v in items:
            places = range(w, capacity + 1)  # empty when the item is heavier than the knapsack
            sums = yield [Ask("add", (row[c - w], v)) for c in places]
            diffs = yield [Ask("sub", (s, row[c])) for s, c in zip(sums, places)]
            take = {c for c, d in zip(places, diffs) if d > 0}
            row = [s if c in take else row[c] for c, s in zip(range(capacity + 1), [0] * w + sums)]
            taken.append(take)
        chosen, c = [], capacity
        for i in range(len(items), 0, -1):
            if c in taken[i - 1]:
                chosen.append(i)
                c -= items[i - 1][0]  # a move of w places along the row
        return (row[capacity], tuple(sorted(chosen)))
