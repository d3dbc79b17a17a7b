"""The long-division page: its declaration writes correct pages, every page ends, the layout gives each token the
kind the declaration gives it, and what a one-layer model sees of a page determines the next token."""

import random
from collections import defaultdict

import pytest
import torch

from numerate import config
from numerate.checkpoint import build
from numerate.errors import UsageError
from numerate.tasks.base import Problem
from numerate.tasks.division_page import DIVISION, VARIANTS, DivisionPage, page, page_text
from numerate.tasks.page_program import field_of


@pytest.fixture(scope="module")
def bundle():
    return build(config.load("page-div"))


def test_every_small_division_is_written_right():
    task = DivisionPage()
    for a in range(0, 400):
        for b in range(1, 45):
            assert task.final(page_text(a, b)) == divmod(a, b), (a, b)


def test_long_and_adversarial_divisions():
    task, rng = DivisionPage(), random.Random(7)
    cases = [(10**30 - 1, 10**15 - 1), (10**25, 1), (10**25, 10**25), (10**25 - 1, 10**25), (7, 10**20)]
    for _ in range(60):
        b = rng.randrange(1, 10 ** rng.randint(1, 25))
        q, r = rng.randrange(10 ** rng.randint(1, 20)), rng.choice((0, 1, b - 1))
        cases.append((q * b + r, b))
    for a, b in cases:
        assert task.final(page_text(a, b)) == divmod(a, b), (a, b)


def test_the_page_decides_its_own_blocks():
    """Every block after the first is opened by the decision the last one closed with, and the page's blocks are
    exactly: aligning moves, then for each quotient digit q_i subtractions and one shift."""
    a, b = 90817, 23
    p = page(a, b)
    blocks = [p.variants[r] for r in range(2, len(p.rows), 5)]
    q = a // b
    k = len(str(a)) - len(str(b))
    expected = ["="] + [">"] * k
    for d in str(q).rjust(k + 1, "0"):
        expected += ["-"] * int(d) + ["<"]
    assert blocks == expected


def test_a_zero_divisor_is_refused():
    task = DivisionPage()
    with pytest.raises(ValueError, match="divisor is 0"):
        task.parse_expression("12/0")
    with pytest.raises(ValueError):
        page(5, 0)


def test_read_back_refuses_what_is_not_a_page(bundle):
    fmt, task = bundle.fmt, bundle.task
    good = page_text(47, 3)
    assert fmt.parse(good) == good and task.final(good) == (15, 2)
    for bad in ("", "12", "3;x74", good[:-1] + "7", good.replace(";", "", 1), "3;=4"):
        assert task.final(bad) is None


def test_layout_gives_each_token_the_declarations_place(bundle):
    scheme = bundle.model.scheme
    for a, b in [(4711, 23), (5, 7), (0, 1), (99999, 9)]:
        problem = Problem((a, b))
        text = bundle.fmt.prompt(problem) + bundle.task.answer(problem)
        ids = torch.tensor([bundle.tok.encode(text)])
        rows, cols, _, kinds = scheme.page_layout(ids)
        p, i = page(a, b), 0
        for r in range(len(p.rows)):
            for c in sorted(p.rows[r]):
                if r >= 2:
                    kind = DIVISION.kind(r, p.variants[r])
                    want = scheme.kind_index(DIVISION.lines.index(kind.line), VARIANTS.index(p.variants[r]))
                else:
                    want = r
                assert text[i] == p.rows[r][c]
                assert (rows[0, i].item(), cols[0, i].item(), kinds[0, i].item()) == (r, c, want), (a, b, i)
                i += 1
        assert i == len(text)


def test_what_a_query_sees_determines_the_next_token(bundle):
    """Read the field of every query from the scheme's own layout of the tokens (its kind, its token, and the keys
    its mask lets it see), over many pages: no field is followed by two different tokens, so a one-layer model with
    this scheme can write every page. The declaration's `field_of` is checked to see no more than the mask does."""
    scheme, tok, task = bundle.model.scheme, bundle.tok, bundle.task
    rng = random.Random(3)
    seen: dict = {}
    by_declaration = defaultdict(set)
    for n in range(300):
        problem = task.sample_range(rng, 1, 5)
        text = bundle.fmt.prompt(problem) + task.answer(problem)
        ids = torch.tensor([tok.encode(text)])
        rows, cols, _, kinds = (x[0].tolist() for x in scheme.page_layout(ids))
        where = {(r, c): t for r, c, t in zip(rows, cols, text)}
        start = text.index("=")
        for i in range(start, len(text)):
            r, c, k = rows[i], cols[i], kinds[i]
            visible = tuple(
                (off, d, where.get((r + off, c + d)))
                for off in scheme.row_offsets(k)
                if off
                for d in scheme.reads(k, off)
            )
            key = (k, text[i], visible)
            nxt = text[i + 1] if i + 1 < len(text) else "<eos>"
            assert seen.setdefault(key, nxt) == nxt, (problem, i, key, seen[key], nxt)
        if n < 40:  # the declaration's field is a function of what the mask shows
            p = page(*problem.operands)
            for r in range(2, len(p.rows)):
                for c in p.rows[r]:
                    f = field_of(p, DIVISION, r, c)
                    visible = tuple(
                        (off, d, p.cell(r + off, c + d))
                        for off, cols in DIVISION.kind(r, p.variants[r]).reads
                        for d in cols
                    )
                    by_declaration[(r % 5, p.variants[r], p.rows[r][c], visible)].add(f)
    assert len(seen) > 1000
    assert all(len(fields) == 1 for fields in by_declaration.values())


def test_solve_refuses_a_zero_divisor(bundle):
    from numerate.solver.models import model_solver

    solver = model_solver(bundle)
    with pytest.raises(UsageError, match="divisor is 0"):
        solver.parse("12/0")
