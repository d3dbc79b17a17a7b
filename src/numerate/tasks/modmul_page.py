"""(a * b) mod p on a page: the model multiplies by Horner's rule with repeated addition, then divides by p, every
digit and every decision its own.

The question is a, b and p, each reversed and closed by ``*``. The page is a run of blocks of five lines, least
significant digit first. First the multiplication, T = a * b built from b's digits, the top one first:

- ``A``: a, copied;
- ``P``: p, copied;
- ``C``: the carries of N (0 or 1; C's opening mark stands for a carry 0);
- ``N``: the new total, from T (the N a block up);
- ``B``: b's digits not yet used; its top cell counts the additions still due for the digit in hand.

A multiplication block is one of four variants (the mark that opens every line of it), each the model's choice:

- ``^`` *shift and add*: N = 10 T + a, and B's top cell less one: the first addition for a digit;
- ``+`` *add*: N = T + a, and B's top cell less one;
- ``~`` *shift*: N = 10 T: a digit 0 (B copied);
- ``!`` *next*: N = T, and B without its top cell (a 0 by then), or, when that was B's last cell, a single ``0``.

B's last cell closes the block with the decision: after ``^`` or ``+``, add again (``+``) while B's top cell is
not 0, else ``!``; after ``~``, ``!``; after ``!``, ``^`` for a next digit that is not 0, ``~`` for a 0, and, when
B is spent (its ``0`` under the closing mark of B a block up), ``=``: the long division of T = a * b by p begins
(tasks/division_page.py: the same five lines S, R, Q, K, D and the same rules, its first block reading the last
N and P instead of the question's rows). The first block (``@``, the prompt's mark) copies a and p, writes T =
len(a) zeros and copies b, and opens ``^`` or ``~`` by b's top digit. The page ends as long division's does; its
last block's R is (a * b) mod p.

Every token is a function of the token before it and of at most three cells in columns c..c + 2 of rows at most
six above, which each kind names (`MODMUL`, the declaration); tasks/page_program.py writes the page from it. No
rule multiplies: a column of N is a sum of at most three cells (T's, a's and a carry of 0 or 1).

Why it is correct, for every a, b >= 0 and p > 0: by induction over blocks, after the blocks for b's top j digits
and k additions for the next one, T = a * (b's top j digits * 10 + k) with k counted down in B's top cell; so when
B is spent, T = a * b (Horner's rule). T has len(a) cells after the first block and one more at each shift, and
a * (b's top j digits) < 10^(len(a) + j), so no sum carries out of N. Each block adds, shifts or drops a cell of B,
at most 10 blocks a digit, so the multiplication ends; the division is long division of T by p, which ends
(division_page.py) with R = T mod p.
"""

from __future__ import annotations

import random

from numerate.bigint import from_str, to_str
from numerate.tasks import division_page as division
from numerate.tasks.base import TASKS, Problem, Task, random_number
from numerate.tasks.page_program import (
    ANY_BIT,
    ANY_DIGIT,
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

MUL_START = "@"
SHIFT_ADD, ADD, SHIFT, NEXT = "^", "+", "~", "!"
MUL_VARIANTS = (SHIFT_ADD, ADD, SHIFT, NEXT)
DIV_START = division.START  # "=": the division's first block
VARIANTS = (MUL_START, *MUL_VARIANTS, DIV_START, division.ALIGN, division.SUB, division.SHIFT)
LINES = division.LINES  # positions; a multiplication block holds A, P, C, N, B at them
QUESTION = ("a", "b", "p")
SYMBOL = "*"
SPENT = "0"  # B's one cell once b's digits are spent (a digit: a line's last cell is one)
TRAIN_PAGE_TOKENS = 600  # longer training pages are drawn again (ModmulPage.sample_range)

# which blocks may follow which (the first block's and `!`'s choice depends on the next digit)
FOLLOWS = {
    MUL_START: (SHIFT_ADD, SHIFT),
    SHIFT_ADD: (ADD, NEXT),
    ADD: (ADD, NEXT),
    SHIFT: (NEXT,),
    NEXT: (SHIFT_ADD, SHIFT, DIV_START),
}


def _mark(own: str) -> bool:
    return own is not None and not is_digit(own) and own != FILL and own != LINE


def _on_close(variant: str, rule):
    def run(f: Field) -> str:
        return variant if f.own == LINE else rule(f)

    return run


def _less_one(cell: str) -> str:
    """The count less one (a block that adds follows only a count above 0; the forms' superset also holds 0)."""
    return str((int(cell) - 1) % 10)


def _digit_opens(own: str) -> str:
    """The block that starts a digit of b: shift and add, or for a 0 shift only."""
    return SHIFT_ADD if own != "0" else SHIFT


def _first_rules() -> dict:
    """The first block, under the question's rows a (row 0), b (1) and p (2): A and P copied, C a 0, N as many
    zeros as a has digits (T = 0, as long as a: no later sum carries out of N), B copied."""

    def zero(f):  # C: a single 0
        return "0" if _mark(f.own) else LINE

    def zeros(f):  # N: reads A[c+1]: a zero under each digit of a
        ((a1,),) = f.rows
        return "0" if is_digit(a1) else LINE

    def b_start(f):  # reads b[c+1]: b's digits; after its top digit, the block that starts it
        ((b1,),) = f.rows
        if is_digit(b1):
            return b1
        if is_digit(f.own):
            return _digit_opens(f.own)
        return f.own  # the query on the decision mark writes it again, opening the next block

    v = MUL_START
    kinds = (
        Kind(LINES[0], v, ((-3, (1,)),), _on_close(v, division.copied)),  # A: a, three rows up
        Kind(LINES[1], v, ((-2, (1,)),), _on_close(v, division.copied)),  # P: p, two rows up
        Kind(LINES[2], v, (), _on_close(v, zero)),
        Kind(LINES[3], v, ((-3, (1,)),), _on_close(v, zeros)),
        Kind(LINES[4], v, ((-6, (1,)),), b_start),  # B: b, six rows up
    )
    return {(k.line, v): k for k in kinds}


def _mul_rules(v: str) -> dict:
    """A multiplication block of variant v. T is the N a block up; a shift reads T one column left (N[c+1] from
    T[c], so N[1] sums no T), an addition in place reads T[c+1]."""
    shifts, adds = v in (SHIFT_ADD, SHIFT), v in (SHIFT_ADD, ADD)
    t_col = 0 if shifts else 1

    def column(f):  # (T's cell, a's cell, carry in, whether N has a column c + 1)
        t = f.rows[0][0]
        a1 = f.rows[1][0] if adds else None
        return t, a1, (_mark(f.own) and shifts) or is_digit(t)

    def c_rule(f):  # reads T[c or c+1] (N a block up), and A[c+1] if it adds: the carry out of column c + 1
        t, a1, more = column(f)
        if not more:
            return LINE
        carry = 0 if _mark(f.own) else value(f.own)
        return str((value(t) + value(a1) + carry) // 10)

    def n_rule(f):  # reads T[c or c+1], A[c+1] if it adds, C[c]: column c + 1 of N
        t, a1, more = column(f)
        if not more:
            return LINE
        return str((value(t) + value(a1) + value(f.rows[-1][0])) % 10)

    def b_rule(f):  # reads B[c+1], B[c+2] a block up
        ((b1, b2),) = f.rows
        if _mark(f.own):
            if not is_digit(b1):
                return f.own  # the query on the decision mark writes it again, opening the next block
            if v == NEXT and not is_digit(b2):
                return SPENT  # B a block up had one cell: none is left
            return b1 if is_digit(b2) or not adds else _less_one(b1)
        if v == NEXT:
            if not is_digit(b1):
                return DIV_START  # after SPENT (its column 1 sees B's closing mark a block up): divide
            return b1 if is_digit(b2) else _digit_opens(f.own)  # b1 was the top dropped; this cell is the new top
        if is_digit(b1):
            return b1 if is_digit(b2) or not adds else _less_one(b1)  # the top cell counts down
        if v == SHIFT:
            return NEXT
        return ADD if f.own != "0" else NEXT

    up = -len(LINES)
    t_read = ((-4, (t_col,)),)
    a_read = ((-2, (1,)),) if adds else ()
    kinds = (
        Kind(LINES[0], v, ((up, (1,)),), _on_close(v, division.copied)),  # A
        Kind(LINES[1], v, ((up, (1,)),), _on_close(v, division.copied)),  # P
        Kind(LINES[2], v, t_read + a_read, _on_close(v, c_rule)),  # C: T, a
        Kind(
            LINES[3], v, ((up, (t_col,)),) + tuple((o - 1, c) for o, c in a_read) + ((-1, (0,)),), _on_close(v, n_rule)
        ),
        Kind(LINES[4], v, ((up, (1, 2)),), b_rule),
    )
    return {(k.line, v): k for k in kinds}


def _kinds() -> dict:
    kinds = _first_rules()
    for v in MUL_VARIANTS:
        kinds.update(_mul_rules(v))
    # the division reads the product (N, two rows above its S) and p (P, four rows above)
    for v in (DIV_START, division.ALIGN, division.SUB, division.SHIFT):
        kinds.update(division._rules(v, start=DIV_START, ask=(-2, -4)))
    return kinds


def _row(cells: str, variant: str | None = None) -> dict:
    start = 0 if variant is not None else 1
    return {i + start: t for i, t in enumerate((variant or "") + cells)}


def _mul_block(variant: str, la: int, lp: int, ln: int, b_cells: str, decision: str) -> list[dict]:
    """A multiplication block's lines as forms: a, p, carries and N (`ln` cells each), B closed by `decision`."""
    d = ANY_DIGIT
    carries = ANY_BIT * ln if variant in (SHIFT_ADD, ADD) else "0" * ln
    cells = [d * la + LINE, d * lp + LINE, carries + LINE, d * ln + LINE, b_cells + decision]
    if variant == MUL_START:
        cells[2], cells[3] = "0" + LINE, "0" * la + LINE
    return [_row(c, variant) for c in cells]


def _b_lines(variant: str, lb: int) -> list[tuple[str, str]]:
    """(B's cells, closing mark) a block of `variant` may write when B a block up had `lb` cells."""
    if variant != NEXT:
        return [(ANY_DIGIT * lb, nxt) for nxt in FOLLOWS[variant]]
    if lb == 1:
        return [(SPENT, DIV_START)]
    return [(ANY_DIGIT * (lb - 1), nxt) for nxt in FOLLOWS[NEXT] if nxt != DIV_START]


SHORT = 4  # the multiplication's forms: len(a), len(p), len(B) and len(T) - len(a) up to this


def forms(max_width: int):
    """Every form a page takes, as the part its queries read (`Form`): the first block under the question, every
    pair of multiplication blocks one may follow the other (`FOLLOWS`), the last multiplication block with the
    division's first, and every pair of division blocks (division_page.pair_forms).

    A multiplication block's lines are a (len(a) cells), p (len(p)), C and N (len(T) + 1 after a shift, len(T)
    otherwise; T is the N a block up, len(a) zeros after the first block and never shorter), and B (b's unused
    cells). Each line's queries read only the lines its kind names, so the lengths that matter to one line are
    enumerated together (len(a) with len(T) for C and N; len(B) with B's closing mark) and the others alongside:
    len(a), len(p), len(B) from 1 to SHORT and len(T) - len(a) from 0 to SHORT (a query reads two columns right:
    longer lines show no other field), and the division's widths to `max_width` (as division_page.forms argues)."""
    d, q = ANY_DIGIT, len(QUESTION)
    question = lambda n: _row(d * n + SYMBOL)  # noqa: E731
    lengths = range(1, SHORT + 1)
    for la in lengths:
        for lb in lengths:
            for lp in lengths:
                for nxt in FOLLOWS[MUL_START]:
                    rows = [question(la), question(lb), question(lp)]
                    rows += _mul_block(MUL_START, la, lp, la, d * lb, nxt)
                    yield Form(Page(rows, [None] * q + [MUL_START] * 5), q, 0)
    for before in (MUL_START, *MUL_VARIANTS):
        if before == MUL_START:
            shapes = [(la, la) for la in lengths]
        else:
            shapes = [(la, la + k) for la in lengths for k in range(SHORT + 1)]
        for v in FOLLOWS[before]:
            if v == DIV_START:
                continue
            grows = v in (SHIFT_ADD, SHIFT)
            bs = [(lb, b) for lb in lengths for b in _b_lines(v, lb)]
            for i in range(max(len(shapes), len(bs))):
                (la, lt), lp, (lb, (b_cells, decision)) = shapes[i % len(shapes)], i % SHORT + 1, bs[i % len(bs)]
                rows = [{} for _ in range(q)]
                rows += _mul_block(before, la, lp, lt, d * lb, v)
                rows += _mul_block(v, la, lp, lt + grows, b_cells, decision)
                yield Form(Page(rows, [None] * q + [before] * 5 + [v] * 5), q + 5, 0)
    for width in range(1, max_width + 1):
        sizes = [(n, width) for n in range(2, width + 1)] + [(width, m) for m in range(1, width)]
        for lt, lp in sizes:  # the product T (at least two cells) and p
            for decision in (division.ALIGN, division.SUB, division.SHIFT):
                rows = [{} for _ in range(q)] + _mul_block(NEXT, 1, lp, lt, SPENT, DIV_START)
                rows += division._block(DIV_START, width, 0, decision)
                yield Form(Page(rows, [None] * q + [NEXT] * 5 + [DIV_START] * 5), q + 5, width)
        yield from division.pair_forms(width, DIV_START, q)


MODMUL = Program(
    name="modular multiplication",
    question=QUESTION,
    lines=LINES,
    variants=VARIANTS,
    kinds=_kinds(),
    closers="".join(VARIANTS[1:]),
    forms=forms,
    form_width=6,  # `forms`: the division's widths as division_page argues; the multiplication's by its own
)


def digits(x: int) -> str:
    return to_str(x)[::-1]


def page(a: int, b: int, p: int):
    """The page the declaration writes for (a * b) mod p (tasks/page_program.Page)."""
    if p <= 0 or a < 0 or b < 0:
        raise ValueError("a page multiplies non-negative integers modulo a positive one")
    lines, cells = ModmulPage().answer_shape(Problem((a, b, p)), 0)
    return write(MODMUL, [digits(x) + SYMBOL for x in (a, b, p)], max_tokens=lines * (cells + 2))


def page_text(a: int, b: int, p: int) -> str:
    """What the model writes after the prompt `a*b*p*@` (reversed digits), without <eos>."""
    pg = page(a, b, p)
    out = "".join(pg.line(r) for r in range(len(QUESTION), len(pg.rows)))
    return out[1:]


def _number(cells: str) -> int | None:
    if not cells or any(not ch.isdigit() for ch in cells):
        return None
    return int(cells[::-1])


@TASKS.register(
    "modmul-page",
    "(a * b) mod p as long multiplication then long division written out on a page; the model decides",
)
class ModmulPage(Task):
    """The answer is the page's text (`page_text`); `final` reads (a * b) mod p from its last block's R."""

    name = "modmul-page"
    symbol = SYMBOL
    marks = "".join(VARIANTS)  # the prompt ends with '@'; the rest are the variants the model writes
    page = True
    program = MODMUL
    proof_obstacle = ""
    operand_counts = (3, 3)
    cell_dims = ("len_a", "len_b", "len_p")
    train_answer_tokens = TRAIN_PAGE_TOKENS + 1

    def proof_contract(self):
        from numerate.tasks.proof import PAGE_MODMUL

        return PAGE_MODMUL

    samplers = {
        "uniform": "a, b and p of exactly the cell's lengths, uniformly random (p > 0)",
        "edges": "a and b from {0, 1, p - 1, p, p + 1, 10^n - 1}: zeros, ones and residues at the modulus's edges",
        "near": "p = a * b or a * b - 1 (or p = a or b where that is too long): remainders 0 and 1",
        "nines": "a and b with every digit 9 or 0 (9 most often), p uniform: long carry chains in every sum",
    }

    def answer(self, problem: Problem) -> str:
        return page_text(*problem.operands)

    def final(self, answer) -> int | None:
        """(a * b) mod p from the last block's R, or None for a page that is not one."""
        lines = read_lines(answer, VARIANTS) if isinstance(answer, str) else None
        if lines is None or len(lines) < 6 or lines[-1] != (division.SHIFT, "", ""):
            return None  # not a page, or one that does not end with a shift with nothing left to shift
        if any(variant in (MUL_START, *MUL_VARIANTS) for variant, _, _ in lines[-6:-1]):
            return None  # the page ended before its division
        return _number(lines[-5][1])

    def expression(self, problem: Problem) -> str:
        a, b, p = problem.operands
        return f"{to_str(a)}*{to_str(b)}%{to_str(p)}"

    def parse_expression(self, text: str) -> Problem:
        left, sep, p = text.partition("%")
        parts = left.split("*") + [p]
        numbers = [x.strip() for x in parts]
        if not sep or len(parts) != 3 or not all(n.isascii() and n.isdigit() for n in numbers):
            raise ValueError("A*B%P: three non-negative integers (a times b, modulo p)")
        problem = Problem(tuple(from_str(n) for n in numbers))
        if problem.operands[2] == 0:
            raise ValueError("a modulus p > 0 (p is 0)")
        return problem

    def line_names(self, first: int, count: int) -> list[str]:
        return [f"block {i // 5 + 1}: line {i % 5 + 1}" for i in range(count)]

    def answer_shape(self, problem: Problem, width: int) -> tuple[int, int]:
        """(lines, cells a line may hold): the first block and at most ten for each digit of b (shift and add,
        eight adds, next), then long division of a (len(a) + len(b))-digit product by p: at most 11 W + 2 blocks of
        width W = max(len(a) + len(b), len(p))."""
        la, lb, lp = (len(digits(x)) for x in problem.operands)
        w = max(la + lb, lp, width)
        return 5 * (1 + 10 * lb + 11 * w + 2), w + 1

    def _lengths(self, lengths: tuple[int, ...]) -> tuple[int, int, int]:
        if len(lengths) == 3:
            return tuple(lengths)
        la, lb = (lengths * 2)[:2]
        return la, lb, max(la, lb)

    def sample(self, rng: random.Random, sampler: str, lengths: tuple[int, ...]) -> Problem:
        la, lb, lp = self._lengths(lengths)
        p = max(1, random_number(rng, lp))
        if sampler == "uniform":
            return Problem((random_number(rng, la), random_number(rng, lb), p))
        if sampler == "edges":

            def edge(n):
                return rng.choice((0, 1, p - 1, p, p + 1, 10**n - 1))

            return Problem((edge(la), edge(lb), p))
        if sampler == "near":  # p = a * b - r (r = 0 or 1) where it has at most lp digits, else a or b
            a, b = max(1, random_number(rng, la)), max(1, random_number(rng, lb))
            p = max(1, a * b - rng.choice((0, 1)))
            return Problem((a, b, p if len(to_str(p)) <= lp else rng.choice((a, b))))
        if sampler == "nines":

            def nines(n):
                return int("9" + "".join(rng.choice("9990") for _ in range(n - 1)))

            return Problem((nines(la), nines(lb), p))
        raise self.unknown_sampler(sampler)

    def sample_range(self, rng: random.Random, lo: int, hi: int) -> Problem:
        """Lengths of a, b and p drawn from [lo, hi]; a quarter edge cases, a fifth near-remainders. A problem
        whose page is longer than TRAIN_PAGE_TOKENS is drawn again (then at the shortest lengths): every field of
        a long page also shows on short ones."""
        for tries in range(1000):
            hi_now = hi if tries < 20 else lo
            lengths = tuple(rng.randint(lo, hi_now) for _ in range(3))
            u = rng.random()
            sampler = "edges" if u < 0.25 else "near" if u < 0.45 else "uniform"
            problem = self.sample(rng, sampler, lengths)
            if len(page_text(*problem.operands)) <= TRAIN_PAGE_TOKENS:
                return problem
        raise RuntimeError(f"no training page of at most {TRAIN_PAGE_TOKENS} tokens at length {lo}")

    def worst_case(self, width: int) -> Problem:
        return Problem((10**width - 1, 10**width - 1, 1))
