"""The finite set of cases a proof checks: every field a query can see, with the token it must produce.

For one field class (see field.py) the digits that matter are those in the field and every operand digit that
can change the truth — the next answer digit and the answer digits inside the field — which are the digits of the
columns from the lowest one in the field up to the highest answer column involved. Everything below enters only
through the carry into that lowest column, which the task sets with one column of digits (`column_prefixes`).
Enumerating those digits and carries yields every (field contents, truth) pair the class can have, each realised
as a real problem of the class's narrowest width.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from numerate.tasks.base import Problem
from numerate.verify.field import FieldClass


@dataclass
class CasePlan:
    """How to enumerate one class: which operand digits vary, which carries, and what the rest is fixed to."""

    cls: FieldClass
    varied: list[tuple[int, int]]  # (operand row, column) pairs, each 0-9
    prefix_col: int | None  # column whose digits set the carry into the lowest column, or None
    prefixes: tuple  # task.column_prefixes, or () when no column lies below
    n_ops: int

    @property
    def count(self) -> int:
        """Cases before the few unreachable ones (all-zero top column) are dropped."""
        return 10 ** len(self.varied) * max(1, len(self.prefixes))


def plan(bundle, cls: FieldClass) -> CasePlan:
    lay, q = cls.example, cls.query
    n, n_ops = lay.width, getattr(bundle.task, "n_operands", 2)
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
    prefix_col = min(cols) - 1 if cols and 1 <= min(cols) - 1 <= n else None
    return CasePlan(cls, sorted(varied), prefix_col, bundle.task.column_prefixes if prefix_col else (), n_ops)


def problems(p: CasePlan):
    """Yield every problem of the plan (operand digits by column; column 1 is the least significant)."""
    n = p.cls.width
    top_fixed = [r for r in range(p.n_ops) if (r, n) not in p.varied]
    states = p.prefixes or ((None,),)
    for state in states:
        for values in itertools.product(range(10), repeat=len(p.varied)):
            digits = {(r, c): 0 for r in range(p.n_ops) for c in range(1, n + 1)}
            digits.update(zip(p.varied, values))
            if p.prefix_col is not None:
                choice = next((alt for alt in state if not (p.prefix_col == n and n > 1 and not any(alt))), None)
                if choice is None:
                    continue
                for r, d in enumerate(choice):
                    digits[(r, p.prefix_col)] = d
            if n > 1 and not any(digits[(r, n)] for r in range(p.n_ops)):
                if not top_fixed or p.prefix_col == n:
                    continue  # every top digit is enumerated (or set) and zero: not a problem of this width
                digits[(top_fixed[0], n)] = 1  # outside the field and the truth: any non-zero digit will do
            yield Problem(tuple(sum(digits[(r, c)] * 10 ** (c - 1) for c in range(1, n + 1)) for r in range(p.n_ops)))
