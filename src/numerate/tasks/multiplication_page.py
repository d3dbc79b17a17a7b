"""a * b worked on a page: long multiplication, every digit of it written by the model (format page-grid).

Step j (for b's digit j, least significant first) writes seven lines, each a row of cells in the columns of
significance: column c holds the digit of place c - 1, and a blank (None, written '.') where a line has nothing
yet. With n = len(a) and d = b_j:

0. `a * 10^j`: the line of this kind above, shifted one column (the question's a for step 0 is a itself);
1. `b` with its lowest j digits blanked, so that b_j is in column j + 1, where a's copy starts;
2. d in every column of a's copy (columns j+1 .. j+n);
3. the carry into each column of a * d, shifted: 0 in column j + 1, then (a's digit * d + carry) // 10, up to
   column j + n + 1;
4. the partial product a * d * 10^j: (a's digit * d + carry) % 10 in columns j+1 .. j+n+1 (the top may be 0);
5. the carry into each column of (running sum + partial product): 0 in column j + 1, then whether the column
   below reached 10;
6. the running sum a * (b mod 10^(j+1)): the one before in columns 1 .. j (the partial product is blank there),
   then (sum + product + carry) % 10 up to column j + n + 1.

The question's a and b are rows 0 and 1 (step 0's first two lines); the page ends in step len(b)'s second line,
when no digit of b is left: its blanks are followed by the end of the page. Every cell is a function of at most
three cells in columns c - 1 and c of at most three lines above (posenc/page_grid.py says which), so the page is
local in both directions (docs/pages.md, "Multiplication").
"""

from __future__ import annotations

import random

from numerate.bigint import to_str
from numerate.tasks.base import TASKS, Problem, random_number
from numerate.tasks.multiplication import Multiplication
from numerate.tasks.proof import PAGE_MUL

LINES_PER_STEP = 7
LINE_NAMES = ("a", "b", "d", "carry", "product", "sum-carry", "sum")  # the kinds of line, in their order in a step


def digits(x: int) -> list[int]:
    """Least significant first."""
    return [int(ch) for ch in reversed(to_str(x))]


def page_lines(a: int, b: int) -> tuple[tuple, ...]:
    """The lines the model writes for a * b (after the question's two rows), each a tuple of cells for columns
    1, 2, ...: a digit, or None for a blank. The last is the unfinished line that ends the page."""
    A, Bd = digits(a), digits(b)
    n, m = len(A), len(Bd)
    lines: list[tuple] = []
    total: list[int | None] = []  # the running sum's cells, columns 1..
    for j in range(m):
        blank = [None] * j
        d = Bd[j]
        if j:
            lines.append(tuple(blank + A))  # a * 10^j
            lines.append(tuple(blank + Bd[j:]))  # b, lowest j digits blanked
        lines.append(tuple(blank + [d] * n))
        carry, product = [0], []
        for x in A:
            t = x * d + carry[-1]
            product.append(t % 10)
            carry.append(t // 10)
        product.append(carry[-1])  # the top of the partial product: the last carry (perhaps 0)
        lines.append(tuple(blank + carry))
        lines.append(tuple(blank + product))
        below = total[:j]
        above = total[j:]
        k, s = [0], []
        for c in range(n + 1):
            t = (above[c] if c < len(above) else 0) + product[c] + k[-1]
            s.append(t % 10)
            k.append(t // 10)
        lines.append(tuple(blank + k[: n + 1]))  # k[n + 1] is 0: a * (b mod 10^(j+1)) < 10^(n+j+1)
        total = below + s
        lines.append(tuple(total))
    assert k[-1] == 0, "a * b has at most len(a) + len(b) digits"
    lines.append(tuple([None] * m + A))  # step m's first line, a * 10^m ...
    lines.append((None,) * m)  # ... and its second: every digit of b blanked, then the end of the page
    return tuple(lines)


@TASKS.register("multiplication-page", "a * b as long multiplication written out on a page (format page-grid)")
class MultiplicationPage(Multiplication):
    """The answer is the page (`page_lines`); `final` reads the product back from its last running sum. The
    problems and samplers are multiplication's."""

    name = "multiplication-page"
    page = True
    proof_obstacle = ""

    def proof_contract(self):
        return PAGE_MUL  # every cell a function of a few cells nearby: verify/page_grid.py enumerates them

    def answer(self, problem: Problem):
        a, b = problem.operands
        return page_lines(a, b)

    def final(self, answer) -> int | None:
        """The product a page stands for: its last running sum (the line before the last two); None for a page
        too short to hold one (a model off the procedure)."""
        if len(answer) < 3:
            return None
        total = answer[-3]
        return sum((c or 0) * 10**i for i, c in enumerate(total))

    def line_names(self, first: int, count: int) -> list[str]:
        """Each line named by its step and kind; the question's `first` rows are the first lines of step 0."""
        return [
            f"step {(first + i) // LINES_PER_STEP}: {LINE_NAMES[(first + i) % LINES_PER_STEP]}" for i in range(count)
        ]

    def answer_shape(self, problem: Problem, width: int) -> tuple[int, int]:
        return LINES_PER_STEP * (width + 1), 2 * width + 1  # width + 1 steps of lines of at most 2 * width + 1

    def sample_range(self, rng: random.Random, lo: int, hi: int) -> Problem:
        """Operand lengths drawn from [lo, hi]; a quarter of the operands made of 0s and 9s only (so that
        carries of every size, zero digits inside a number and zero partial products are common)."""

        def one():
            n = rng.randint(lo, hi)
            if rng.random() < 0.25:
                x = int("".join(rng.choice("09") for _ in range(n)))
                return x if len(to_str(x)) == n or n == 1 else random_number(rng, n)
            return random_number(rng, n)

        return Problem((one(), one()))
