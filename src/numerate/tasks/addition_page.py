"""a1 + ... + ak worked on a page: the model writes one running total per line and the last line is the sum."""

from __future__ import annotations

import random

from numerate.bigint import to_str
from numerate.tasks.addition_many import AdditionMany
from numerate.tasks.base import TASKS, Problem, random_number
from numerate.tasks.proof import PAGE_SUM


@TASKS.register("addition-page", "a1 + ... + ak with one running total written per line of a page (format page)")
class AdditionPage(AdditionMany):
    """The answer is the page: the running totals a1, a1 + a2, ..., the last being the sum (`final`). Each line
    is the line above plus one operand, so each digit depends on two digits of each of those two lines and on
    the carry the digit below leaves: a bounded neighbourhood of the page (docs/verification.md, "Pages")."""

    name = "addition-page"
    operand_counts = (1, 100_000)
    page = True

    def answer(self, problem: Problem):
        total, lines = 0, []
        for x in problem.operands:
            total += x
            lines.append(total)
        return tuple(lines)

    def proof_contract(self):
        return PAGE_SUM

    def final(self, answer):
        """The result a page's lines stand for: the last running total (None for a page with no line)."""
        return answer[-1] if answer else None

    def line_names(self, first: int, count: int) -> list[str]:
        """Names for the page's lines of work, as `solve --show-work` prints them (`first`: the question's rows)."""
        return [f"total after operand {i + 1}" for i in range(count)]

    def answer_shape(self, problem: Problem, width: int) -> tuple[int, int]:
        return len(problem.operands), len(to_str(len(problem.operands) * (10**width - 1)))

    def sample_range(self, rng: random.Random, lo: int, hi: int) -> Problem:
        """1-8 operands, each of a length drawn from [lo, hi] (so lines meet operands longer and shorter than
        themselves). A fifth of the pages add to each line the line above itself or the operand before again, and
        two fifths draw every digit from one small set of one to three digits (half of them from 0, 1 and 9), so
        fields where the line above and the operand agree, carries run through 9s and zeros sit inside a number
        are as common as any: a page proof checks every field, rare or not."""
        k = rng.randint(1, 8)
        r = rng.random()
        if r < 0.2:  # each operand the running total so far (its line doubles) or a copy of the one before
            ops, total = [random_number(rng, rng.randint(lo, hi))], 0
            for _ in range(k - 1):
                total = sum(ops)
                ops.append(total if rng.random() < 0.5 and len(to_str(total)) <= hi else ops[-1])
            return Problem(tuple(ops))
        if r < 0.6:  # half of these from the digits carries turn on (0, 1, 9): 1 + 1099, 1091 + 9
            alphabet = rng.sample((0, 1, 9) if rng.random() < 0.5 else range(10), rng.randint(1, 3))
            return Problem(tuple(_digits(rng, rng.randint(lo, hi), alphabet) for _ in range(k)))
        return Problem(tuple(random_number(rng, rng.randint(lo, hi)) for _ in range(k)))


def _digits(rng: random.Random, n: int, alphabet: list[int]) -> int:
    return int("".join(str(rng.choice(alphabet)) for _ in range(n)))
