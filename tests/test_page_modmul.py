"""The modular-multiplication page: its declaration writes pages whose last remainder is (a * b) mod p, the blocks
are the model's choices (the digit of b each multiplies by, when to divide), the proof's forms hold every field of
real pages, the independent checker's templates give the same classes, and form pages are laid out as the proof
reads them."""

import random
import sys
from pathlib import Path

import pytest
from page_forms import assert_form_pages_laid_out

from numerate import config
from numerate.checkpoint import build
from numerate.tasks.base import Problem
from numerate.tasks.modmul_page import MODMUL, ModmulPage, page, page_text
from numerate.tasks.page_program import Program

ROOT = Path(__file__).parent.parent


@pytest.fixture(scope="module")
def bundle():
    return build(config.load("page-modmul"))


def test_every_small_product_is_reduced_right():
    task = ModmulPage()
    for a in range(0, 41):
        for b in range(0, 41):
            for p in (1, 2, 3, 7, 10, 11, 97, 100, 1009):
                assert task.final(page_text(a, b, p)) == a * b % p, (a, b, p)


def test_long_and_adversarial_products():
    task, rng = ModmulPage(), random.Random(11)
    cases = [(0, 0, 1), (10**30 - 1, 10**30 - 1, 10**30 + 57), (2**100, 2**90, 2**61 - 1), (1, 10**25, 3)]
    cases += [(10**20, 10**20, 10**40), (10**20, 10**20, 10**40 + 1), (999, 1, 10**18)]
    cases += [(9, 9999, 7), (1, 99999999, 3), (9, 10**12 - 1, 2)]  # nine additions a digit: the longest products
    cases += [
        task.sample(rng, s, tuple(rng.randint(1, 20) for _ in range(3))).operands
        for s in task.samplers
        for _ in range(10)
    ]
    for a, b, p in cases:
        assert task.final(page_text(a, b, p)) == a * b % p, (a, b, p)


def test_the_page_counts_adds_shifts_and_then_divides():
    """12 * 34 mod 7: b's top digit 3 is shift-and-add then two adds, next digit; 4 is shift-and-add then three
    adds; b is spent, and the division of 408 by 7 begins."""
    pg = page(12, 34, 7)
    blocks = [pg.variants[r] for r in range(3, len(pg.rows), 5)]
    assert blocks[:11] == ["@", "^", "+", "+", "!", "^", "+", "+", "+", "!", "="]
    assert set(blocks[11:]) <= {">", "-", "<"}
    assert [pg.line(3 + 5 * k + 4) for k in range(1, 4)] == ["^42+", "+41+", "+40!"]  # B's top counts down
    assert pg.line(3 + 5 * 8 + 3) == "+8040;"  # N after the last addition: 408, reversed
    assert ModmulPage().final(page_text(12, 34, 7)) == 408 % 7


def test_zero_digits_shift_without_adding():
    pg = page(7, 205, 1000)  # b's digits 2, 0, 5: the 0 is a shift, then the next digit
    blocks = [pg.variants[r] for r in range(3, len(pg.rows), 5)]
    assert blocks[:8] == ["@", "^", "+", "!", "~", "!", "^", "+"]
    assert ModmulPage().final(page_text(7, 205, 1000)) == 1435 % 1000


def test_bad_questions_and_pages_are_refused():
    task = ModmulPage()
    for bad, why in (("12*34%0", "p is 0"), ("12*34", "A\\*B%P"), ("1*2*3%5", "A\\*B%P"), ("1*-2%5", "A\\*B%P")):
        with pytest.raises(ValueError, match=why):
            task.parse_expression(bad)
    assert task.parse_expression(" 12 * 34 % 7 ").operands == (12, 34, 7)
    good = page_text(12, 34, 7)
    assert task.final(good) == 2
    multiplied = good[: good.index("=")]  # the page cut before its division
    for bad in ("", "12", good[:-1], good + ";", good.replace("-", "<", 1), multiplied):
        assert task.final(bad) is None, bad


def test_marks_that_clash_with_cells_or_placeholders_are_refused():
    for mark in ("d", "b", "q", "5", ";", "."):
        with pytest.raises(ValueError, match="opening marks"):
            Program("x", ("a",), ("S",), ("=", mark), {}, "")


@pytest.fixture(scope="module")
def enumerated(bundle):
    from numerate.verify.page_program import form_cases

    return form_cases(bundle)


def test_every_field_of_real_pages_is_enumerated(bundle, enumerated):
    from numerate.verify.page_program import fields_of

    have = {k: set(map(tuple, v[0].tolist())) for k, v in enumerated.items()}
    rng, task = random.Random(3), bundle.task
    problems = [Problem((0, 0, 1)), Problem((1, 1, 1)), Problem((0, 7, 5)), Problem((10**9, 10**9 - 1, 997))]
    problems += [Problem((999, 999, 10**7 + 19)), Problem((5, 10**6, 3))]
    problems += [
        task.sample(rng, s, tuple(rng.randint(1, 8) for _ in range(3))) for s in task.samplers for _ in range(4)
    ]
    seen, after = 0, {}
    for p in problems:
        for key, row in fields_of(bundle, p):
            assert key in have and row in have[key], (p, [bundle.tok.vocab[i] for i in row])
            assert after.setdefault((key, row[:-1]), row[-1]) == row[-1]  # one next token per field
            seen += 1
    assert seen > 30_000


def test_the_checkers_own_templates_give_the_same_cases(bundle, enumerated):
    """tools/check_certificate.py restates Horner's rule and long division in its own code: shape by shape, the
    same cases with the same right tokens as numerate's enumeration."""
    from collections import defaultdict

    sys.path.insert(0, str(ROOT / "tools"))
    import check_certificate as checker

    mine, theirs = defaultdict(set), defaultdict(set)
    for view, rel, desc, _ in enumerated.values():
        mine[(desc, tuple(map(tuple, rel[:, [0, 1, 3]].tolist())))] |= set(map(tuple, view.tolist()))
    for (desc, shape), rows in checker.program_cases(checker.MODMUL_PROC, list(bundle.tok.vocab)).items():
        theirs[(desc, tuple(shape))] |= set(rows)
    assert mine.keys() == theirs.keys()
    assert all(mine[k] == theirs[k] for k in mine)
    assert sum(map(len, mine.values())) > 100_000


def test_form_pages_are_laid_out_as_the_proof_reads_them(bundle):
    assert_form_pages_laid_out(bundle, MODMUL)
