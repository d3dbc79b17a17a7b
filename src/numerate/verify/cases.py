"""The finite set of cases a proof checks: every field a query can see, with the token it must produce.

For one field class (see field.py) the digits that matter are those in the field and every operand digit that
can change the truth — the next answer digit and the answer digits inside the field — which are the digits of the
columns from the lowest one in the field up to the highest answer column involved. Everything below enters only
through the carry into that lowest column, which one column of digits sets (the task's proof contract,
tasks/proof.py: its states and `set_by`). Each row's digits range over the contract's alphabet for that row; a
constant row (one digit in every column) is one variable, and a state is only enumerated with the constant digits
some column that sets it holds.
Enumerating those digits and carries yields every (field contents, truth) pair the class can have, each realised
as a real problem of the class's narrowest width.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import torch

from numerate.tasks.base import Problem
from numerate.verify.field import FieldClass


@dataclass
class CasePlan:
    """How to enumerate one class: which operand digits vary, which carries, and what the rest is fixed to."""

    cls: FieldClass
    varied: list[tuple[int, int]]  # (operand row, column) pairs, each over its row's alphabet; column 0: every column
    prefix_col: int | None  # column whose digits set the carry into the lowest column, or None
    prefixes: tuple  # the contract's set_by, or () when no column lies below
    n_ops: int
    alphabets: tuple  # per row, the digits a column can hold
    constant: tuple = ()  # rows holding one digit in every column (varied as (row, 0))
    width_rows: tuple = (0, 1)  # one of these rows has a non-zero top digit

    @property
    def count(self) -> int:
        """Cases before the few unreachable ones (all-zero top column) are dropped."""
        n = 1
        for r, c in self.varied:
            n *= len(self.alphabets[r]) if c else 1
        fixed = [r for r, c in self.varied if not c]
        if not fixed:
            return n * max(1, len(self.prefixes))
        total = 0
        for digits in itertools.product(*(self.alphabets[r] for r in fixed)):
            held = dict(zip(fixed, digits))
            states = [s for s in self.prefixes if any(all(alt[r] == d for r, d in held.items()) for alt in s)]
            total += max(1, len(states)) if self.prefixes else 1
        return n * total


def plan(bundle, cls: FieldClass) -> CasePlan:
    lay, q = cls.example, cls.query
    contract = bundle.task.proof_contract()
    n, n_ops = lay.width, contract.n_rows
    answer_row = lay.rows[lay.queries[-1]]
    field_digits = [k for k in cls.field if lay.is_digit[k]]
    cols = [lay.cols[k] for k in field_digits]
    truth_cols = [lay.cols[k] for k in field_digits if lay.rows[k] == answer_row]
    if lay.is_digit[q + 1]:
        cols.append(lay.cols[q + 1])
        truth_cols.append(lay.cols[q + 1])
    varied = {(lay.rows[k], lay.cols[k]) for k in field_digits if lay.rows[k] < n_ops}
    if cols:
        lowest, highest = min(cols), min(n, max(truth_cols, default=0))
        varied |= {(r, c) for r in range(n_ops) for c in range(lowest, highest + 1)}
    constant = tuple(contract.constant)
    varied = {(r, 0 if r in constant else c) for r, c in varied}
    prefix_col = min(cols) - 1 if cols and 1 <= min(cols) - 1 <= n else None
    alphabets = tuple(contract.alphabet(r) for r in range(n_ops))
    prefixes = contract.set_by if prefix_col else ()
    return CasePlan(cls, sorted(varied), prefix_col, prefixes, n_ops, alphabets, constant, contract.width_rows)


def _prefix_choice(p: CasePlan, state, held: dict) -> tuple | None:
    """The first column of `state` whose constant rows hold `held`'s digits (and, at the top, not all zeros)."""
    n = p.cls.width
    for alt in state:
        if p.prefix_col == n and n > 1 and not any(alt[r] for r in p.width_rows):
            continue
        if all(alt[r] == d for r, d in held.items()):
            return alt
    return None


def problems(p: CasePlan):
    """Yield every problem of the plan (operand digits by column; column 1 is the least significant).

    A plain, one-problem-at-a-time statement of the enumeration; `digit_table` builds the same rows as arrays."""
    n = p.cls.width
    top_fixed = [r for r in p.width_rows if r not in p.constant and (r, n) not in p.varied]
    states = p.prefixes or ((None,),)
    for state in states:
        for values in itertools.product(*(p.alphabets[r] for r, _ in p.varied)):
            digits = {(r, c): 0 for r in range(p.n_ops) for c in range(1, n + 1)}
            held = {}
            for (r, c), v in zip(p.varied, values):
                if c:
                    digits[(r, c)] = v
                else:
                    held[r] = v
                    digits.update({(r, col): v for col in range(1, n + 1)})
            if p.prefix_col is not None:
                choice = _prefix_choice(p, state, held)
                if choice is None:
                    continue  # this state never occurs with these constant digits
                for r, d in enumerate(choice):
                    digits[(r, p.prefix_col)] = d
            if n > 1 and not any(digits[(r, n)] for r in p.width_rows):
                if not top_fixed or p.prefix_col == n:
                    continue  # every top digit is enumerated (or set) and zero: not a problem of this width
                digits[(top_fixed[0], n)] = 1  # outside the field and the truth: any non-zero digit will do
            yield Problem(tuple(sum(digits[(r, c)] * 10 ** (c - 1) for c in range(1, n + 1)) for r in range(p.n_ops)))


def digit_table(p: CasePlan) -> np.ndarray:
    """Every problem `problems(p)` yields, in the same order, as operand digits (N, n_ops, width): [k, r, c - 1]
    is operand r's digit in column c (1 = least significant)."""
    n, n_ops = p.cls.width, p.n_ops
    top_fixed = [r for r in p.width_rows if r not in p.constant and (r, n) not in p.varied]
    k = len(p.varied)
    sizes = tuple(len(p.alphabets[r]) for r, _ in p.varied)
    index = np.indices(sizes).reshape(k, -1).T if k else np.zeros((1, 0), dtype=np.int64)
    columns = [np.asarray(p.alphabets[r])[index[:, i]] for i, (r, _) in enumerate(p.varied)]
    values = np.stack(columns, axis=1) if k else index
    held_rows = [(i, r) for i, (r, c) in enumerate(p.varied) if not c]
    blocks = []
    for state in p.prefixes or ((None,),):
        d = np.zeros((len(values), n_ops, n), dtype=np.int64)
        for i, (r, c) in enumerate(p.varied):
            if c:
                d[:, r, c - 1] = values[:, i]
            else:
                d[:, r, :] = values[:, i, None]
        if p.prefix_col is not None:
            chosen = np.zeros(len(d), dtype=bool)
            for alt in state:
                if p.prefix_col == n and n > 1 and not any(alt[r] for r in p.width_rows):
                    continue
                match = ~chosen
                for i, r in held_rows:
                    match &= values[:, i] == alt[r]
                for r, digit in enumerate(alt):
                    d[match, r, p.prefix_col - 1] = digit
                chosen |= match
            d = d[chosen]  # the rest: this state never occurs with those constant digits
        if n > 1:
            top = d[:, list(p.width_rows), n - 1].any(axis=1)
            if not top_fixed or p.prefix_col == n:
                d = d[top]  # an all-zero top column is a problem of a smaller width
            else:
                d[~top, top_fixed[0], n - 1] = 1
        blocks.append(d)
    return np.concatenate(blocks) if blocks else np.zeros((0, n_ops, n), dtype=np.int64)


def problem_of(digits: np.ndarray) -> Problem:
    """One row of a digit table as a problem."""
    return Problem(tuple(int("".join(map(str, row[::-1]))) for row in digits))


@dataclass
class CaseBatch:
    """The cases of one class as tensors: the field's token ids (N, F), the right next token (N,), the field's
    position ids (F, ...), and each case's operand digits (N, n_ops, width) to name it as a problem."""

    field_ids: torch.Tensor
    truth: torch.Tensor
    pos: torch.Tensor
    digits: np.ndarray | None
    problems: list | None = None  # the cases as problems, where they are not digit tables (pages)

    def problem(self, i: int) -> Problem:
        return self.problems[i] if self.problems is not None else problem_of(self.digits[i])


def case_batch(bundle, p: CasePlan, shard: tuple[int, int] | None = None, check: int = 256) -> CaseBatch:
    """Every distinct (field contents, right next token) of a class, built with array arithmetic instead of
    writing each problem out. `check` cases, spread over the class, are written out by the format and tokenizer
    themselves and must match token for token (a wrong builder stops the proof, it never weakens it)."""
    lay, cls, tok = p.cls.example, p.cls, bundle.tok
    digits = digit_table(p)
    if shard is not None:
        digits = digits[shard[0] :: shard[1]]
    n = cls.width
    ids = np.tile(np.asarray(lay.ids, dtype=np.int64), (len(digits), 1))
    digit_ids = np.asarray(tok.digit_ids, dtype=np.int64)
    answer_row = lay.rows[lay.queries[-1]]
    answer_places = [k for k in range(len(lay.ids)) if lay.is_digit[k] and lay.rows[k] == answer_row]
    for k in range(len(lay.ids)):
        if lay.is_digit[k] and lay.rows[k] < p.n_ops:
            ids[:, k] = digit_ids[digits[:, lay.rows[k], lay.cols[k] - 1]]
    if answer_places:
        width = len(answer_places)
        values = _answers(bundle, digits, n)
        if bundle.cfg.format.negatives == "complement":
            values = np.where(values < 0, values + 10**width, values)
        for k in answer_places:
            ids[:, k] = digit_ids[(values // 10 ** (lay.cols[k] - 1)) % 10]
    for i in np.unique(np.linspace(0, len(digits) - 1, min(check, len(digits))).astype(np.int64)):
        problem = problem_of(digits[i])
        want = tok.encode(bundle.fmt.prompt(problem) + bundle.fmt.target(problem, bundle.task.answer(problem)))
        if want + [tok.eos_id] != ids[i].tolist():
            raise AssertionError(f"case builder disagrees with the format on {problem.operands}: a bug in cases.py")
    view = np.concatenate([ids[:, cls.field], ids[:, [cls.query + 1]]], axis=1)
    _, first = np.unique(view, axis=0, return_index=True)
    first = np.sort(first)  # first occurrence of each distinct case, in enumeration order
    t = torch.as_tensor(ids[first])
    pos = bundle.model.positions(torch.tensor([lay.ids]))[0]
    return CaseBatch(t[:, cls.field], t[:, cls.query + 1], pos[cls.field], digits[first])


def _answers(bundle, digits: np.ndarray, n: int) -> np.ndarray:
    """The task's answer to every row, as int64 (operands of at most 17 digits, so no sum or difference of two
    overflows). Tasks whose `answer` is plain arithmetic answer all rows at once on arrays; others row by row."""
    if n > 17:
        raise ValueError("case tables hold operands of at most 17 digits")
    place = 10 ** np.arange(n, dtype=np.int64)
    operands = (digits * place).sum(axis=2)  # (N, n_ops)
    try:
        values = bundle.task.answer(Problem(tuple(operands[:, r] for r in range(operands.shape[1]))))
        if isinstance(values, np.ndarray) and values.shape == (len(digits),) and values.dtype == np.int64:
            return values
    except Exception:  # noqa: BLE001  (not array arithmetic: answer row by row below)
        pass
    answers = [bundle.task.answer(Problem(tuple(int(x) for x in row))) for row in operands.tolist()]
    return np.asarray(answers, dtype=np.int64)
