"""What a task declares so that `numerate verify` can prove a model of it: its proof contract.

The prover knows no task. It needs to know, from the task alone:

- the *rows* of a question: the numbers written one per row, each zero-padded to the question's width and aligned
  by column (least significant digits share a column), and which digits each row can hold in a column;
- the *states* one column passes to the next (a carry, a borrow), and for each state the columns of digits that
  set it whatever lies below — so a column below a field stands for everything under it. When that column is the
  top of the numbers it may not be all zeros; alternatives are tried in order;
- the *mark* that ends a question, and the *claim*: what the statement quantifies over.

Everything else (which columns a query sees, which digits decide the truth, the cases) the prover derives from
the model and these declarations. docs/verification.md, "How a task becomes provable", walks through one.
"""

from __future__ import annotations

from dataclasses import dataclass

DIGITS = tuple(range(10))


@dataclass(frozen=True)
class ProofContract:
    rows: tuple[str, ...]  # the question's numbers, in the order they are written
    states: tuple[str, ...]  # what a column passes to the next, e.g. ("carry 0", "carry 1")
    set_by: tuple[tuple[tuple[int, ...], ...], ...]  # per state: columns (one digit per row) that set it
    digits: tuple[tuple[int, ...], ...] = ()  # per row, the digits a column can hold (default 0-9 for every row)
    mark: str = "="
    claim: str = "pair of non-negative integers"

    def __post_init__(self):
        if len(self.set_by) != len(self.states):
            raise ValueError(f"{len(self.states)} states but {len(self.set_by)} entries in set_by")
        if self.digits and len(self.digits) != len(self.rows):
            raise ValueError(f"{len(self.rows)} rows but digits declared for {len(self.digits)}")
        for state, alternatives in zip(self.states, self.set_by):
            if not alternatives:
                raise ValueError(f"state {state!r}: no column sets it")
            for column in alternatives:
                if len(column) != len(self.rows):
                    raise ValueError(f"state {state!r}: column {column} has a digit count other than the rows'")
                bad = [d for r, d in enumerate(column) if d not in self.alphabet(r)]
                if bad:
                    raise ValueError(f"state {state!r}: column {column} holds digits a row cannot ({bad})")

    @property
    def n_rows(self) -> int:
        return len(self.rows)

    def alphabet(self, row: int) -> tuple[int, ...]:
        return self.digits[row] if self.digits else DIGITS


CARRY = ProofContract(
    rows=("a", "b"),
    states=("carry 0", "carry 1"),
    # 0 + 0 (+ any carry) < 10 sets carry 0; 9 + 1 >= 10 sets carry 1; at the top, 1 + 0 and 5 + 5 (not all zero)
    set_by=(((0, 0), (1, 0)), ((9, 1), (5, 5))),
)

BORROW = ProofContract(
    rows=("a", "b"),
    states=("borrow 0", "borrow 1"),
    # 9 - 0 (- any borrow) >= 0 sets borrow 0; 0 - 1 < 0 sets borrow 1; at the top 9 - 1 and 1 - 2
    set_by=(((9, 0), (9, 1)), ((0, 1), (1, 2))),
)
