"""a // b and a mod b as long division on a page, every digit and every decision written by the model.

The question is a and b, each reversed and closed by ``/``. With W = max(len(a), len(b)), the page is a run of
blocks of five lines, each W cells wide (the borrows W + 1), least significant digit first:

- ``S``: the divisor shifted, b * 10^i: i blanks, b's digits, zeros up to W;
- ``R``: the remainder so far (a at first), zero-padded;
- ``Q``: the quotient so far: q_i in column i + 1;
- ``K``: the borrow into each column of R - S (column W + 1 holds the last: 1 if R < S);
- ``D``: R - S, digit by digit; its closing mark is the decision.

Every line opens with its block's variant, a mark the model wrote:

- ``=`` the first block: S = b, R = a, Q = 0;
- ``>`` *align*: the last block's S had not reached column W; S moves up a column (R and Q are copied);
- ``-`` *subtract*: the last block's R - S was not negative; R becomes that difference and q_i grows by one;
- ``<`` *shift*: it was negative; S moves down a column (i decreases), or, if i was 0, the page ends.

D's last cell is followed by the decision, read from two cells its query sees: S's top cell (0 while S has not
reached column W: b's top digit is not 0; read only in the first block and while aligning) and the last
borrow. The query on that mark writes it again, opening
the next block, and every line of the block repeats it; so each line's kind (posenc/page_program.py) is read from
its own first token. The page ends when a shift would move b's lowest digit out of column 1: the last block's Q
is a // b and its R is a mod b. Every token is a function of the token before it and of at most four cells in
columns c..c + 2 of
at most three rows above, which each kind names (`DIVISION`, the declaration); tasks/page_program.py writes the
page from it.

Why it is correct, for every a and b > 0: S starts at b and moves up while its top is below column W, so it
reaches b * 10^k with k = W - len(b). Then, with i = k, k - 1, ..., 0: while R >= S the block subtracts (R - S
in D, R <- D, q_i += 1); since R < S * 10 whenever i moves down (R < b * 10^(i+1) on arrival, as in long
division), q_i <= 9 and Q's digit never carries. When R < S, i moves down, or at i = 0 the page ends, with
a = Q * b + R and 0 <= R < b. Each block writes a finite page, and each block either subtracts (R falls by at
least b) or moves S (at most k + 1 times down, k times up), so every page ends.
"""

from __future__ import annotations

import random

from numerate.bigint import to_str
from numerate.tasks.base import TASKS, Problem, Task, random_number
from numerate.tasks.page_program import (
    ANY_BIT,
    ANY_DIGIT,
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

START, ALIGN, SUB, SHIFT = "=", ">", "-", "<"
VARIANTS = (START, ALIGN, SUB, SHIFT)
LINES = ("S", "R", "Q", "K", "D")
SYMBOL = "/"
TRAIN_PAGE_TOKENS = 360  # longer training pages are drawn again (DivisionPage.sample_range)


def _opener(own: str) -> bool:
    return own in VARIANTS


# Rules both long division and Euclid's algorithm use (tasks/gcd_page.py), each reading the cells named beside it.


def start_divisor(f: Field) -> str:
    """S of the first block, reading a[c+1], b[c+1]: b's digits, then zeros while a has digits, then close."""
    (a1,), (b1,) = f.rows
    return b1 if is_digit(b1) else ("0" if is_digit(a1) else LINE)


def start_dividend(f: Field) -> str:
    """R of the first block, reading a[c+1], b[c+1]: a's digits, then zeros while b has digits, then close."""
    (a1,), (b1,) = f.rows
    return a1 if is_digit(a1) else ("0" if is_digit(b1) else LINE)


def same_columns(f: Field) -> str:
    """S while subtracting, reading S[c+1] a block up: the same cells."""
    ((s1,),) = f.rows
    return s1 if is_digit(s1) or s1 == FILL else LINE


def copied(f: Field) -> str:
    """A line that copies the one cell it reads a block up (a digit), then closes."""
    ((x1,),) = f.rows
    return x1 if is_digit(x1) else LINE


def _rules(variant: str, start: str = START, ask: tuple[int, int] = (-2, -1)) -> dict:
    """The five kinds of line of this variant: what each reads (row offset, column offsets) and its rule. A rule
    is the token after column c; the query on a line's closing mark writes the next line's opening mark. `start`
    is the first block's mark and `ask` the rows (offsets from its S) holding the dividend and the divisor: the
    question's rows here; the product's and the modulus's lines on the modular-multiplication page
    (tasks/modmul_page.py), which divides after it multiplies."""

    def on_close(rule):
        def run(f: Field) -> str:
            return variant if f.own == LINE else rule(f)

        return run

    def q_start(f):  # reads R[c+1]: a zero under every digit
        ((r1,),) = f.rows
        return "0" if is_digit(r1) else LINE

    def s_align(f):  # reads S[c], S[c+1] a block up: up one column (column 1 is a new blank)
        ((s0, s1),) = f.rows
        if s1 == LINE:
            return LINE
        return FILL if _opener(f.own) else s0

    def s_shift(f):  # reads S[c+1], S[c+2] a block up: down one column; none left to move: the page ends
        ((s1, s2),) = f.rows
        if _opener(f.own) and is_digit(s1):
            return END
        if s1 == LINE:
            return LINE
        return "0" if s2 == LINE else s2

    def r_sub(f):  # reads D[c+1] a block up: the difference is the new remainder
        ((d1,),) = f.rows
        return d1 if is_digit(d1) else LINE

    def q_sub(f):  # reads Q[c+1] a block up and this block's S[c], S[c+1]: one more where S's lowest digit is
        (q1,), (s0, s1) = f.rows
        if not is_digit(q1):
            return LINE
        return str((int(q1) + (is_digit(s1) and not is_digit(s0))) % 10)

    def k_rule(f):  # reads S[c], R[c]: the borrow out of column c
        (s0,), (r0,) = f.rows
        if _opener(f.own):
            return "0"
        if not is_digit(r0):
            return LINE
        return "1" if value(r0) - value(s0) - value(f.own) < 0 else "0"

    def d_rule(f):  # reads S[c], S[c+1], R[c+1], K[c+1]: R - S digit by digit, then the decision
        (s0, s1), (r1,), (k1,) = f.rows
        if r1 is None:  # the query on D's closing mark (R has no column after it): the decision opens the next block
            return f.own
        if is_digit(r1):
            return str((value(r1) - value(s1) - value(k1)) % 10)
        if variant in (start, ALIGN) and s0 == "0":  # S's top cell: b has not reached column W yet
            return ALIGN
        return SUB if k1 == "0" else SHIFT

    up = -len(LINES)  # the same line a block up
    kinds = {
        "K": Kind("K", variant, ((-3, (0,)), (-2, (0,))), on_close(k_rule)),
        "D": Kind("D", variant, ((-4, (0, 1)), (-3, (1,)), (-1, (1,))), d_rule),
    }
    if variant == start:  # the dividend and the divisor are the rows `ask` names (the question's a and b)
        a, b = ask
        kinds["S"] = Kind("S", variant, ((a, (1,)), (b, (1,))), on_close(start_divisor))
        kinds["R"] = Kind("R", variant, ((a - 1, (1,)), (b - 1, (1,))), on_close(start_dividend))
        kinds["Q"] = Kind("Q", variant, ((-1, (1,)),), on_close(q_start))
    elif variant == ALIGN:
        kinds["S"] = Kind("S", variant, ((up, (0, 1)),), on_close(s_align))
        kinds["R"] = Kind("R", variant, ((up, (1,)),), on_close(copied))
        kinds["Q"] = Kind("Q", variant, ((up, (1,)),), on_close(copied))
    elif variant == SUB:
        kinds["S"] = Kind("S", variant, ((up, (1,)),), on_close(same_columns))
        kinds["R"] = Kind("R", variant, ((-2, (1,)),), on_close(r_sub))
        kinds["Q"] = Kind("Q", variant, ((up, (1,)), (-2, (0, 1))), on_close(q_sub))
    else:
        kinds["S"] = Kind("S", variant, ((up, (1, 2)),), on_close(s_shift))
        kinds["R"] = Kind("R", variant, ((up, (1,)),), on_close(copied))
        kinds["Q"] = Kind("Q", variant, ((up, (1,)),), on_close(copied))
    return {(name, variant): kinds[name] for name in LINES}


def _block(variant: str, width: int, blanks: int, decision: str) -> list[dict]:
    """A block's five lines as forms: S with `blanks` blanks then digits, R and Q digits, K a 0 then bits, D
    digits closed by the decision."""
    d, b = ANY_DIGIT, ANY_BIT
    cells = {
        "S": FILL * blanks + d * (width - blanks) + LINE,
        "R": d * width + LINE,
        "Q": d * width + LINE,
        "K": "0" + b * width + LINE,
        "D": d * width + decision,
    }
    return [{i: t for i, t in enumerate(variant + cells[name])} for name in LINES]


def forms(max_width: int):
    """Every form a division page of width W <= max_width takes, as the part its queries read (`Form`).

    A query reads at most one block up, so a page is covered by its first block under the question and by every
    pair of consecutive blocks. On a page of width W = max(len(a), len(b)) every line of a block is W cells (K
    W + 1), S is i blanks then W - i digits (0 <= i <= W - 1: b's digits and zeros above them), and a block's
    variant and its S's blanks follow from the block before: align (after the first block or an align, when S's
    top is below column W, so i <= W - 2) has one blank more; subtract has as many; shift one fewer, or, with no
    blank left, ends the page after its opening mark. D closes with the next block's variant: align only in the
    first block or an align. Digits are placeholders (b's top digit and the zeros above it included: a superset).
    Every distance a query's cells can have from column 0, from S's first digit and from the closing column
    shows on pages of width at most 6 (a query reads at most two columns right), so those forms hold every field
    of every page; tests/test_page_div.py looks the fields of long real pages up in the enumeration."""
    d = ANY_DIGIT
    for width in range(1, max_width + 1):
        for n, m in [(n, width) for n in range(1, width + 1)] + [(width, m) for m in range(1, width)]:
            question = [
                {i + 1: t for i, t in enumerate(d * n + SYMBOL)},
                {i + 1: t for i, t in enumerate(d * m + SYMBOL)},
            ]
            for decision in (ALIGN, SUB, SHIFT):
                rows = question + _block(START, width, 0, decision)
                yield Form(Page(rows, [None, None] + [START] * 5), 2, width)
        yield from pair_forms(width, START, len(DIVISION_QUESTION))


def pair_forms(width: int, start: str, above: int):
    """The forms of every pair of consecutive division blocks of width `width`, the first opened by `start` or
    any other variant, under `above` empty rows (so that rows keep their place in the block)."""
    for before in (start, ALIGN, SUB, SHIFT):
        for blanks in range(width):
            for variant in (ALIGN, SUB, SHIFT):
                if variant == ALIGN and (before not in (start, ALIGN) or blanks > width - 2):
                    continue
                if before == start and blanks:
                    continue
                nxt = blanks + {ALIGN: 1, SUB: 0, SHIFT: -1}[variant]
                first = [{} for _ in range(above)] + _block(before, width, blanks, variant)
                head = [None] * above + [before] * 5
                if nxt < 0:  # the end: the shift block's first line is its opening mark alone
                    yield Form(Page(first + [{0: variant}], head + [variant]), above + 5, width)
                    continue
                for decision in (ALIGN, SUB, SHIFT) if variant == ALIGN else (SUB, SHIFT):
                    rows = first + _block(variant, width, nxt, decision)
                    yield Form(Page(rows, head + [variant] * 5), above + 5, width)


DIVISION_QUESTION = ("a", "b")
DIVISION = Program(
    name="division",
    question=DIVISION_QUESTION,
    lines=LINES,
    variants=VARIANTS,
    kinds={key: k for v in VARIANTS for key, k in _rules(v).items()},
    closers=ALIGN + SUB + SHIFT,
    forms=forms,
    form_width=6,  # `forms`: every distance a field has from the page's edges shows by width 6
)


def digits(x: int) -> str:
    return to_str(x)[::-1]


def page(a: int, b: int):
    """The page the declaration writes for a / b (tasks/page_program.Page)."""
    if b <= 0 or a < 0:
        raise ValueError("a page divides a non-negative integer by a positive one")
    width = max(len(digits(a)), len(digits(b)))
    lines, cells = DivisionPage().answer_shape(Problem((a, b)), width)
    return write(DIVISION, [digits(a) + SYMBOL, digits(b) + SYMBOL], max_tokens=lines * (cells + 2))


def page_text(a: int, b: int) -> str:
    """What the model writes after the prompt `a/b/=` (reversed digits), without <eos>."""
    p = page(a, b)
    out = "".join(p.line(r) for r in range(2, len(p.rows)))
    return out[1:]


def _number(cells: str) -> int | None:
    if not cells or any(not ch.isdigit() for ch in cells):
        return None
    return int(cells[::-1])


@TASKS.register("division-page", "a // b and a mod b as long division written out on a page; the model decides")
class DivisionPage(Task):
    """The answer is the page's text (`page_text`); `final` reads (a // b, a mod b) from its last block."""

    name = "division-page"
    symbol = SYMBOL
    marks = "".join(VARIANTS)  # the prompt ends with '='; the rest are the variants the model writes
    page = True
    program = DIVISION
    proof_obstacle = ""
    train_answer_tokens = TRAIN_PAGE_TOKENS + 1  # sample_range draws no longer page (and <eos>)

    def proof_contract(self):
        from numerate.tasks.proof import PAGE_DIV

        return PAGE_DIV

    samplers = {
        "uniform": "a and b of exactly the cell's lengths, uniformly random",
        "nines": "a = 99...9 over b = 99...9: quotient digits 9 or 0 and long borrow chains",
        "near": "a = q * b + r with r in {0, 1, b - 1}: remainders at the edges",
    }

    def answer(self, problem: Problem) -> str:
        a, b = problem.operands
        return page_text(a, b)

    def final(self, answer) -> tuple[int, int] | None:
        """(quotient, remainder) from the last block, or None for a page that is not one."""
        lines = read_lines(answer, VARIANTS) if isinstance(answer, str) else None
        if lines is None or len(lines) < 6 or lines[-1] != (SHIFT, "", ""):
            return None  # not a page, or one that does not end with a shift with nothing left to shift
        block = lines[-6:-1]  # S, R, Q, K, D of the last block
        r, q = _number(block[1][1]), _number(block[2][1])
        return None if r is None or q is None else (q, r)

    def parse_expression(self, text: str) -> Problem:
        problem = super().parse_expression(text)
        if problem.operands[1] == 0:
            raise ValueError("a division by a positive integer (the divisor is 0)")
        return problem

    def line_names(self, first: int, count: int) -> list[str]:
        return [f"block {i // 5 + 1}: {LINES[i % 5]}" for i in range(count)]

    def answer_shape(self, problem: Problem, width: int) -> tuple[int, int]:
        """(lines, cells a line may hold): at most 11 * width + 2 blocks (the first, width - 1 to align, and up to
        ten for each of at most width quotient digits) of five lines of at most width + 1 cells."""
        return 5 * (11 * width + 2), width + 1

    def sample(self, rng: random.Random, sampler: str, lengths: tuple[int, ...]) -> Problem:
        la, lb = lengths
        if sampler == "uniform":
            return Problem((random_number(rng, la), max(1, random_number(rng, lb))))
        if sampler == "nines":
            return Problem((10**la - 1, 10**lb - 1))
        if sampler == "near":
            b = max(1, random_number(rng, lb))
            q = random_number(rng, max(1, la - lb + 1))
            r = rng.choice((0, 1, b - 1)) % b
            return Problem((q * b + r, b))
        raise self.unknown_sampler(sampler)

    def sample_range(self, rng: random.Random, lo: int, hi: int) -> Problem:
        """Lengths drawn from [lo, hi]; a quarter of the problems built as q * b + r with r at an edge (0, 1 or
        b - 1: remainders that tie with the divisor), a fifth with digits from {0, 9} only. A problem whose page
        is longer than TRAIN_PAGE_TOKENS is drawn again (after 20 tries, at the shortest length): every field of a
        long page also shows on short ones (a query reads three columns of three rows), and a batch is as long as
        its longest page."""
        for tries in range(1000):
            problem = self._draw(rng, lo, hi) if tries < 20 else self._draw(rng, lo, lo)  # then short ones
            if len(page_text(*problem.operands)) <= TRAIN_PAGE_TOKENS:
                return problem
        raise RuntimeError(f"no training page of at most {TRAIN_PAGE_TOKENS} tokens at length {lo}")

    def _draw(self, rng: random.Random, lo: int, hi: int) -> Problem:
        la, lb = rng.randint(lo, hi), rng.randint(lo, hi)
        u = rng.random()
        if u < 0.25:
            return self.sample(rng, "near", (la, lb))
        if u < 0.45:

            def zn(n):
                x = int("".join(rng.choice("09") for _ in range(n)))
                return x if len(to_str(x)) == n or n == 1 else random_number(rng, n)

            return Problem((zn(la), max(1, zn(lb))))
        return self.sample(rng, "uniform", (la, lb))

    def worst_case(self, width: int) -> Problem:
        return Problem((10**width - 1, 1))
