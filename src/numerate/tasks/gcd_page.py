"""gcd(a, b) by Euclid's algorithm on a page: the model divides, swaps and stops by itself.

The page is a run of long divisions (tasks/division_page.py), each written in blocks of five lines, W =
max(len(a), len(b)) cells wide, least significant digit first:

- ``S``: the divisor shifted, d * 10^i: i blanks, d's digits, zeros up to W;
- ``R``: the dividend's remainder so far;
- ``K``: the borrow into each column of R - S, and one more column: 1 if R < S;
- ``F``: a flag carried along the line, one digit per column: 2 if S has no blank (i = 0) plus 1 if R has a
  non-zero digit so far; in the first block, 2 if S (that is b) has a non-zero digit so far, plus 1 as before;
- ``D``: R - S, digit by digit; after its last digit, the decision.

Each line opens with its block's variant, a mark the model wrote: ``=`` the first block (S = b, R = a), ``>``
align (S moves up a column while its top cell, column W, is 0), ``-`` subtract (R becomes D), ``<`` shift (S moves
down a column), ``|`` swap (the next division: S becomes the last remainder R, R becomes the last divisor S).
D's decision reads S's top cell, the last borrow and the flag's last column: align (first block, align or swap,
S's top 0); subtract (no borrow: R >= S); shift (a borrow and i > 0); swap (a borrow at i = 0, so R = dividend
mod divisor, and R is not 0; or, in the first block, b = 0); the end of the page (a borrow at i = 0 and R = 0:
the divisor is the gcd). The query on a decision mark writes it again, opening the next block, and every line of
the block repeats it, so each line's kind (posenc/page_program.py) is read from its own first token. The page's
last line is a D line ended by <eos>; the gcd is its block's S (no blanks: i = 0).

Why it is Euclid's algorithm and why it ends, for every a, b >= 0 not both 0: each division is long division
(tasks/division_page.py: S aligns to column W, then for i = k..0 subtracts while R >= S and shifts; R < S * 10 on
arrival at every i, so at most nine subtractions each), and at i = 0 with a borrow R is the dividend mod the
divisor. If it is 0 the divisor divides the dividend and is the gcd; otherwise the swap gives (divisor,
remainder), whose gcd is the same. b = 0 swaps at once: (a, 0) -> gcd(0, a) = a, whose first division ends the
page. Every division ends (division_page.py), and each swap makes the divisor smaller, so every page ends.
W stays the question's width on the whole page, so a division of a short divisor aligns it up to column W and
back: a page of two W-digit numbers has O(W^2) blocks.
"""

from __future__ import annotations

import random

from numerate.bigint import to_str
from numerate.tasks.base import TASKS, Problem, Task, random_number
from numerate.tasks.division_page import copied, same_columns, start_dividend, start_divisor
from numerate.tasks.page_program import (
    ANY_BIT,
    ANY_DIGIT,
    ANY_FLAG,
    END,
    FILL,
    LINE,
    Field,
    Form,
    Kind,
    Page,
    Program,
    is_digit,
    read_lines,
    value,
    write,
)

START, ALIGN, SUB, SHIFT, SWAP = "=", ">", "-", "<", "|"
VARIANTS = (START, ALIGN, SUB, SHIFT, SWAP)
LINES = ("S", "R", "K", "F", "D")
SYMBOL = ","
TRAIN_PAGE_TOKENS = 600  # longer training pages are drawn again (GcdPage.sample_range)


def _opener(own: str) -> bool:
    return own in VARIANTS


def _nonzero(cell) -> int:
    return int(is_digit(cell) and cell != "0")


def _rules(variant: str) -> dict:
    """The five kinds of line of this variant: what each reads (row offset, column offsets) and its rule."""

    def on_close(rule):
        def run(f: Field) -> str:
            return variant if f.own == LINE else rule(f)

        return run

    def s_align(f):  # reads S[c], S[c+1] a block up: up one column (column 1 is a new blank)
        ((s0, s1),) = f.rows
        if s1 == LINE:
            return LINE
        return FILL if _opener(f.own) else s0

    def s_shift(f):  # reads S[c+1], S[c+2] a block up: down one column
        ((s1, s2),) = f.rows
        if s1 == LINE:
            return LINE
        return "0" if s2 == LINE else s2

    def k_rule(f):  # reads S[c], R[c]: the borrow out of column c
        (s0,), (r0,) = f.rows
        if _opener(f.own):
            return "0"
        if not is_digit(r0):
            return LINE
        return "1" if value(r0) - value(s0) - value(f.own) < 0 else "0"

    def f_rule(f):  # reads S[c+1], R[c+1]: the flag after column c + 1
        (s1,), (r1,) = f.rows
        if not is_digit(r1):
            return LINE
        flag = 0 if _opener(f.own) else value(f.own)
        if variant == START:
            flag |= 2 * _nonzero(s1)
        elif _opener(f.own):
            flag |= 2 * is_digit(s1)  # S has no blank: i = 0
        return str(flag | _nonzero(r1))

    def d_rule(f):  # reads S[c], S[c+1], R[c+1], K[c+1], F[c]: R - S digit by digit, then the decision
        (s0, s1), (r1,), (k1,), (f0,) = f.rows
        if r1 is None:  # the query on D's closing mark: the decision opens the next block
            return f.own
        if is_digit(r1):
            return str((value(r1) - value(s1) - value(k1)) % 10)
        flag = value(f0)
        if variant == START and not flag & 2:  # b = 0: gcd(a, 0) = gcd(0, a)
            return SWAP
        if variant in (START, ALIGN, SWAP) and s0 == "0":  # S's top cell: the divisor has not reached column W
            return ALIGN
        if k1 == "0":
            return SUB
        if not flag & 2:
            return SHIFT
        return SWAP if flag & 1 else END

    up = -len(LINES)  # the same line a block up
    kinds = {
        "K": Kind("K", variant, ((-2, (0,)), (-1, (0,))), on_close(k_rule)),
        "F": Kind("F", variant, ((-3, (1,)), (-2, (1,))), on_close(f_rule)),
        "D": Kind("D", variant, ((-4, (0, 1)), (-3, (1,)), (-2, (1,)), (-1, (0,))), d_rule),
    }
    if variant == START:  # the question's a and b are rows 0 and 1; this block's S is row 2
        kinds["S"] = Kind("S", variant, ((-2, (1,)), (-1, (1,))), on_close(start_divisor))
        kinds["R"] = Kind("R", variant, ((-3, (1,)), (-2, (1,))), on_close(start_dividend))
    elif variant == SWAP:  # S <- R a block up (the remainder), R <- S a block up (the divisor)
        kinds["S"] = Kind("S", variant, ((up + 1, (1,)),), on_close(copied))
        kinds["R"] = Kind("R", variant, ((up - 1, (1,)),), on_close(copied))
    else:
        s_rule, s_cols = {ALIGN: (s_align, (0, 1)), SUB: (same_columns, (1,)), SHIFT: (s_shift, (1, 2))}[variant]
        kinds["S"] = Kind("S", variant, ((up, s_cols),), on_close(s_rule))
        r_from = -2 if variant == SUB else up  # subtract: D a block up, two rows above R; else R a block up
        kinds["R"] = Kind("R", variant, ((r_from, (1,)),), on_close(copied))
    return {(name, variant): kinds[name] for name in LINES}


def _block(variant: str, width: int, blanks: int, decision: str) -> list[dict]:
    """A block's five lines as forms: S with `blanks` blanks then digits, R digits, K a 0 then bits, F flags, D
    digits closed by the decision (none where the decision is the end of the page)."""
    d, b, q = ANY_DIGIT, ANY_BIT, ANY_FLAG
    cells = {
        "S": FILL * blanks + d * (width - blanks) + LINE,
        "R": d * width + LINE,
        "K": "0" + b * width + LINE,
        "F": q * width + LINE,
        "D": d * width + decision,
    }
    return [{i: t for i, t in enumerate(variant + cells[name])} for name in LINES]


def forms(max_width: int):
    """Every form an Euclid page of width W <= max_width takes, as the part its queries read (`Form`): its first
    block under the question, and every pair of consecutive blocks. A query reads at most one block and one line
    up (a swap's R reads the S above the block above), so these hold every field.

    S is i blanks then W - i digits. After the first block, an align or a swap, the next block may align (one
    blank more, i <= W - 2); after any block it may subtract (as many blanks) or shift (one fewer; not at i = 0);
    after a block at i = 0 it may swap (no blank); a block at i = 0 may end the page after its D's digits. Every
    other cell is a placeholder (digits, borrows, flags 0-3): a superset of the fields real pages show."""
    d = ANY_DIGIT
    for width in range(1, max_width + 1):
        for n, m in [(n, width) for n in range(1, width + 1)] + [(width, m) for m in range(1, width)]:
            question = [
                {i + 1: t for i, t in enumerate(d * n + SYMBOL)},
                {i + 1: t for i, t in enumerate(d * m + SYMBOL)},
            ]
            for decision in (ALIGN, SUB, SWAP, END):
                rows = question + _block(START, width, 0, decision)
                yield Form(Page(rows, [None, None] + [START] * 5), 2, width)
        for before in VARIANTS:
            for blanks in range(width if before not in (START, SWAP) else 1):
                for variant in (ALIGN, SUB, SHIFT, SWAP):
                    if variant == ALIGN and (before not in (START, ALIGN, SWAP) or blanks > width - 2):
                        continue
                    if (variant == SHIFT and blanks == 0) or (variant == SWAP and blanks != 0):
                        continue
                    nxt = {ALIGN: blanks + 1, SUB: blanks, SHIFT: blanks - 1, SWAP: 0}[variant]
                    first = [{}, {}] + _block(before, width, blanks, variant)
                    for decision in (ALIGN, SUB, SHIFT, SWAP, END):
                        if decision == ALIGN and variant not in (ALIGN, SWAP):
                            continue
                        if decision in (SWAP, END) and nxt != 0 or decision == SHIFT and nxt == 0:
                            continue
                        rows = first + _block(variant, width, nxt, decision)
                        yield Form(Page(rows, [None] * 2 + [before] * 5 + [variant] * 5), 7, width)


EUCLID = Program(
    name="euclid",
    question=("a", "b"),
    lines=LINES,
    variants=VARIANTS,
    kinds={key: k for v in VARIANTS for key, k in _rules(v).items()},
    closers=ALIGN + SUB + SHIFT + SWAP,
    forms=forms,
    form_width=6,  # a query reads two columns right: every distance from the page's edges shows by width 6
)


def digits(x: int) -> str:
    return to_str(x)[::-1]


def page(a: int, b: int):
    """The page the declaration writes for gcd(a, b) (tasks/page_program.Page)."""
    if a < 0 or b < 0 or a == b == 0:
        raise ValueError("a page takes two non-negative integers, not both 0")
    lines, cells = GcdPage().answer_shape(Problem((a, b)), max(len(digits(a)), len(digits(b))))
    return write(EUCLID, [digits(a) + SYMBOL, digits(b) + SYMBOL], max_tokens=lines * (cells + 2))


def page_text(a: int, b: int) -> str:
    """What the model writes after the prompt `a,b,=` (reversed digits), without <eos>."""
    p = page(a, b)
    return "".join(p.line(r) for r in range(2, len(p.rows)))[1:]


@TASKS.register("gcd-page", "gcd(a, b) by Euclid's algorithm on a page: the model divides, swaps and stops")
class GcdPage(Task):
    """The answer is the page's text (`page_text`); `final` reads the gcd from the last block's S."""

    name = "gcd-page"
    symbol = SYMBOL
    marks = "".join(VARIANTS)
    page = True
    program = EUCLID
    proof_obstacle = ""
    train_answer_tokens = TRAIN_PAGE_TOKENS + 1  # sample_range draws no longer page (and <eos>)
    samplers = {
        "uniform": "a and b of exactly the cell's lengths, uniformly random",
        "fibonacci": "consecutive Fibonacci numbers near the lengths: every quotient 1, the most divisions",
        "common": "a = g * x, b = g * y with a large common factor g",
    }

    def proof_contract(self):
        from numerate.tasks.proof import PAGE_GCD

        return PAGE_GCD

    def answer(self, problem: Problem) -> str:
        a, b = problem.operands
        return page_text(a, b)

    def final(self, answer) -> int | None:
        """gcd(a, b) from the last block's S, for a page that ends inside a D line; else None."""
        lines = read_lines(answer, VARIANTS) if isinstance(answer, str) else None
        if lines is None or len(lines) < 5 or lines[-1][2] != END or len(lines) % 5:
            return None
        s, r, k, f, d = (cells for _, cells, _ in lines[-5:])
        width = len(r)
        if any(len(x) != width for x in (s, f, d)) or len(k) != width + 1 or not s.isdigit():
            return None  # the last block is not whole: a page cut short
        return int(s[::-1])

    def parse_expression(self, text: str) -> Problem:
        problem = super().parse_expression(text)
        if not any(problem.operands):
            raise ValueError("a gcd of two integers not both 0 (gcd(0, 0) is not defined here)")
        return problem

    def line_names(self, first: int, count: int) -> list[str]:
        return [f"block {i // 5 + 1}: {LINES[i % 5]}" for i in range(count)]

    def answer_shape(self, problem: Problem, width: int) -> tuple[int, int]:
        """(lines, cells a line may hold): at most 5 * width + 2 divisions (Lame: the divisor falls below
        10^(width - k) within 5k + 2 of them), each of at most 11 * width + 2 blocks of five lines of at most
        width + 1 cells."""
        return 5 * (11 * width + 2) * (5 * width + 2), width + 1

    def sample(self, rng: random.Random, sampler: str, lengths: tuple[int, ...]) -> Problem:
        la, lb = lengths
        if sampler == "uniform":
            a, b = random_number(rng, la), random_number(rng, lb)
            return Problem((a, b)) if a or b else Problem((a, 1))
        if sampler == "fibonacci":
            x, y = 1, 1
            while len(to_str(y)) < max(la, lb):
                x, y = y, x + y
            return Problem((y, x) if la >= lb else (x, y))
        if sampler == "common":
            g = random_number(rng, max(1, min(la, lb) - 1)) or 1
            x = random_number(rng, max(1, la - len(to_str(g)) + 1)) or 1
            y = random_number(rng, max(1, lb - len(to_str(g)) + 1)) or 1
            return Problem((g * x, g * y))
        raise self.unknown_sampler(sampler)

    def sample_range(self, rng: random.Random, lo: int, hi: int) -> Problem:
        """Lengths drawn from [lo, hi], a fifth of the problems Fibonacci pairs or with a common factor, a tenth
        with b = 0 or a = 0; a problem whose page is longer than TRAIN_PAGE_TOKENS is drawn again (after 20
        tries, at the shortest length): every field of a long page shows on short ones."""
        for tries in range(1000):
            problem = self._draw(rng, lo, hi) if tries < 20 else self._draw(rng, lo, lo)  # then short ones
            if len(page_text(*problem.operands)) <= TRAIN_PAGE_TOKENS:
                return problem
        raise RuntimeError(f"no training page of at most {TRAIN_PAGE_TOKENS} tokens at length {lo}")

    def _draw(self, rng: random.Random, lo: int, hi: int) -> Problem:
        la, lb = rng.randint(lo, hi), rng.randint(lo, hi)
        u = rng.random()
        if u < 0.05:
            return Problem((max(1, random_number(rng, la)), 0))
        if u < 0.1:
            return Problem((0, max(1, random_number(rng, lb))))
        if u < 0.2:
            return self.sample(rng, "fibonacci", (la, lb))
        if u < 0.3:
            return self.sample(rng, "common", (la, lb))
        return self.sample(rng, "uniform", (la, lb))

    def worst_case(self, width: int) -> Problem:
        return self.sample(random.Random(0), "fibonacci", (width, width))
