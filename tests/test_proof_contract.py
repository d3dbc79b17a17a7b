"""The proof contract tasks declare (tasks/proof.py): the cases verify enumerates are exactly the (field, next
token) pairs real problems show — no more (false refutations), no fewer (an unsound proof) — also for rows
restricted to fewer digits; tasks without a contract are refused."""

import itertools
from dataclasses import replace
from pathlib import Path

import pytest

from numerate.tasks.base import Problem
from numerate.tasks.proof import CARRY, ProofContract
from numerate.verify import cases as cases_mod
from numerate.verify.field import structure_classes
from numerate.fieldview import depth_of
from numerate.verify.prove import NotProvable, verify

ROOT = Path(__file__).parent.parent


def _views_by_brute_force(bundle, cls, b_digits):
    """Every (field ids, next id) at the class's query over all problems of the class's width."""
    lay, q, n = cls.example, cls.query, cls.width
    tok, fmt, task = bundle.tok, bundle.fmt, bundle.task
    low = 10 ** (n - 1) if n > 1 else 0
    strings = ("".join(map(str, d)) for k in range(1, n + 1) for d in itertools.product(b_digits, repeat=k))
    b_values = [int(x) for x in strings]
    seen = set()
    for a in range(10**n):
        for b in set(b_values):
            if max(a, b) < low:
                continue  # a problem of a smaller width
            p = Problem((a, b))
            ids = tok.encode(fmt.prompt(p) + fmt.target(p, task.answer(p))) + [tok.eos_id]
            assert len(ids) == len(lay.ids)
            seen.add(tuple(ids[k] for k in cls.field) + (ids[q + 1],))
    return seen


@pytest.mark.parametrize("b_digits", [tuple(range(10)), (0, 1)], ids=["all digits", "b holds 0 and 1"])
def test_cases_are_exactly_what_problems_show(tiny_bundle, monkeypatch, b_digits):
    b = tiny_bundle("model.pos=coupling-2d", "model.col_window=[0, 1]", "model.n_layer=1")
    set_by = CARRY.set_by if b_digits == tuple(range(10)) else (((0, 0), (1, 0)), ((9, 1),))  # b's digits only
    contract = replace(CARRY, digits=(tuple(range(10)), b_digits), set_by=set_by)
    monkeypatch.setattr(type(b.task), "proof_contract", lambda self: contract)
    classes = structure_classes(b, b.model.scheme.window, depth_of(b.model))[0]
    checked = 0
    for cls in classes:
        if cls.width > (3 if b_digits == (0, 1) else 2):
            continue
        batch = cases_mod.case_batch(b, cases_mod.plan(b, cls))
        got = {tuple(row) + (t,) for row, t in zip(batch.field_ids.tolist(), batch.truth.tolist())}
        assert got == _views_by_brute_force(b, cls, b_digits), f"class at width {cls.width}"
        checked += 1
    assert checked >= 4


def test_a_task_without_a_contract_is_refused(tiny_bundle):
    b = tiny_bundle("task.name=addition-many", "model.pos=coupling-2d-answer", "model.col_window=[0, 1]")
    with pytest.raises(NotProvable, match="declares no proof contract"):
        verify(b, progress=False)


def test_contracts_check_themselves():
    with pytest.raises(ValueError, match="states"):
        ProofContract(rows=("a", "b"), states=("c0",), set_by=())
    with pytest.raises(ValueError, match="cannot"):
        ProofContract(rows=("a", "b"), states=("c0",), set_by=(((0, 7),),), digits=(tuple(range(10)), (0, 1)))
    from numerate.tasks import get_task

    assert get_task("addition").proof_contract().states == ("carry 0", "carry 1")
    assert get_task("subtraction").proof_contract().states == ("borrow 0", "borrow 1")
    assert get_task("running-sum").proof_contract() == CARRY
    assert get_task("addition-many").proof_contract() is None


def _times_digit_views(bundle, cls):
    """Every (field ids, next id) at the class's query over all a * d questions of the class's width."""
    from numerate.tasks.times_digit import TimesDigit

    lay, q, n = cls.example, cls.query, cls.width
    tok, fmt, task = bundle.tok, bundle.fmt, bundle.task
    seen = set()
    for a in range(10 ** (n - 1) if n > 1 else 0, 10**n):
        for d in range(10):
            p = TimesDigit.question(a, d)
            ids = tok.encode(fmt.prompt(p) + fmt.target(p, task.answer(p))) + [tok.eos_id]
            assert len(ids) == len(lay.ids)
            seen.add(tuple(ids[k] for k in cls.field) + (ids[q + 1],))
    return seen


def test_a_constant_row_enumerates_exactly_what_a_times_d_shows(tiny_bundle):
    """d written in every column: one variable, carries 0..d-1 only, a's top digit non-zero."""
    b = tiny_bundle("task.name=times-digit", "model.pos=coupling-2d", "model.col_window=[0, 1]", "model.n_layer=1")
    classes = structure_classes(b, b.model.scheme.window, depth_of(b.model))[0]
    checked = 0
    for cls in classes:
        if cls.width > 4:
            continue
        plan = cases_mod.plan(b, cls)
        batch = cases_mod.case_batch(b, plan)
        got = {tuple(row) + (t,) for row, t in zip(batch.field_ids.tolist(), batch.truth.tolist())}
        assert got == _times_digit_views(b, cls), f"class at width {cls.width}"
        assert [p.operands for p in cases_mod.problems(plan)] == [
            cases_mod.problem_of(d).operands for d in cases_mod.digit_table(plan)
        ]
        checked += 1
    assert checked >= 6


def test_times_digit_states_are_the_carries_that_occur():
    """Every carry into a column of a * d (a up to 4 digits) is a declared state some column with that d sets,
    and every declared (carry, d) pair occurs."""
    from numerate.tasks import get_task

    contract = get_task("times-digit").proof_contract()
    declared = {(c, alt[1]) for c, alts in enumerate(contract.set_by) for alt in alts}
    seen = set()
    for d in range(10):
        for a in range(10_000):
            carry = 0
            for digit in reversed(str(a)):
                carry = (int(digit) * d + carry) // 10
                seen.add((carry, d))
    seen.add((0, 0))
    assert seen == declared


def test_a_one_row_contract_enumerates_exactly_what_copying_shows(tiny_bundle):
    b = tiny_bundle("task.name=copy", "model.pos=coupling-2d", "model.col_window=[0, 1]", "model.n_layer=1")
    tok, fmt, task = b.tok, b.fmt, b.task
    classes = structure_classes(b, b.model.scheme.window, depth_of(b.model))[0]
    for cls in classes:
        n, q = cls.width, cls.query
        seen = set()
        for a in range(10 ** (n - 1) if n > 1 else 0, 10**n):
            p = Problem((a,))
            ids = tok.encode(fmt.prompt(p) + fmt.target(p, task.answer(p))) + [tok.eos_id]
            seen.add(tuple(ids[k] for k in cls.field) + (ids[q + 1],))
        batch = cases_mod.case_batch(b, cases_mod.plan(b, cls))
        got = {tuple(row) + (t,) for row, t in zip(batch.field_ids.tolist(), batch.truth.tolist())}
        assert got == seen, f"class at width {n}"


def test_shipped_copy_model_is_proven_and_a_near_tie_mutant_is_not():
    import torch

    from numerate.checkpoint import load_model

    bundle = load_model(ROOT / "models" / "copy")
    assert verify(bundle, progress=False).proven
    one, seven = bundle.tok.digit_ids[1], bundle.tok.digit_ids[7]
    with torch.no_grad():  # where a 7 is due, a 1 now just wins
        bundle.model.head.weight[one] = bundle.model.head.weight[seven] * 1.01
    result = verify(bundle, progress=False, max_failures=1)
    assert not result.proven and result.counterexamples and result.counterexamples[0]["value_wrong"]
