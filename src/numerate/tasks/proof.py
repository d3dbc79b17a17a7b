"""What a task declares so that `numerate verify` can prove a model of it: its proof contract.

The prover knows no task. It needs to know, from the task alone:

- the *rows* of a question: the numbers written one per row, each zero-padded to the question's width and aligned
  by column (least significant digits share a column), which digits each row can hold in a column, and which
  rows are *constant*: one digit repeated in every column (a multiplier digit d written as d * 11...1), so a
  column's digit there is the same in every column of the question;
- the *states* one column passes to the next (a carry, a borrow), and for each state the columns of digits that
  set it when every other row holds zeros below (constant rows keep their digit) — so a column below a field
  stands for everything under it. A column sets a state for the questions whose constant rows hold its digits;
  a state no declared column sets for a constant digit is one that never occurs with it. When that column is
  the top of the numbers it may not be all zeros; alternatives are tried in order;
- the rows that set the question's width: the top column has a non-zero digit in one of them (any row by default;
  only a in a * d, whose d is written as wide as a);
- the *mark* that ends a question, and the *claim*: what the statement quantifies over;
- whether the task is worked on a *page* (`page`): then the rows are the line above and the operand a line of
  work combines, each line of the page is the contract's operation on them, and verify/page.py proves every line
  of every page (any number of lines) from pages whose rows are as small as the field's columns allow. A page
  of another procedure names it (`page_procedure`): "long multiplication" is enumerated from its local rules by
  verify/page_grid.py, and "page program" from the task's declared program (tasks/page_program.py) by
  verify/page_program.py.

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
    constant: tuple[int, ...] = ()  # rows holding one digit in every column
    widest: tuple[int, ...] = ()  # rows one of which is as wide as the question (default: any row)
    mark: str = "="
    claim: str = "pair of non-negative integers"
    page: bool = False
    page_procedure: str = ""  # a page of something other than running totals: which enumeration covers it

    def __post_init__(self):
        if len(self.set_by) != len(self.states):
            raise ValueError(f"{len(self.states)} states but {len(self.set_by)} entries in set_by")
        if self.digits and len(self.digits) != len(self.rows):
            raise ValueError(f"{len(self.rows)} rows but digits declared for {len(self.digits)}")
        if any(not 0 <= r < len(self.rows) for r in self.constant):
            raise ValueError(f"constant rows {self.constant} are not rows of {self.rows}")
        if any(not 0 <= r < len(self.rows) for r in self.widest):
            raise ValueError(f"widest rows {self.widest} are not rows of {self.rows}")
        if len(self.constant) == len(self.rows):
            raise ValueError("every row is constant: no column differs from the next")
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

    @property
    def width_rows(self) -> tuple[int, ...]:
        return self.widest or tuple(range(len(self.rows)))

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


def _times_digit_set_by(carry: int) -> tuple[tuple[int, int], ...]:
    """Columns (a's digit, d) whose product carries `carry` with zeros below: a' * d // 10 == carry."""
    return tuple((a, d) for d in range(10) for a in range(10) if a * d // 10 == carry)


TIMES_DIGIT = ProofContract(
    rows=("a", "d"),
    constant=(1,),
    widest=(0,),  # d is written as wide as a, so a's top digit is not zero
    # The carry into a column of a * d is at most d - 1 (9 * d + d - 1 < 10 d), and every carry 0..d-1 is set by
    # one column with zeros below (a' = ceil(10 c / d) gives a' * d // 10 == c): the states are exactly these.
    states=tuple(f"carry {c}" for c in range(9)),
    set_by=tuple(_times_digit_set_by(c) for c in range(9)),
    claim="non-negative integer a and digit d",
)


COPY = ProofContract(
    rows=("a",),
    states=("nothing",),  # an answer digit is its own column's digit: nothing passes between columns
    set_by=(((0,), (1,)),),
    claim="non-negative integer",
)


PAGE_SUM = ProofContract(
    rows=("line above", "operand"),
    states=CARRY.states,
    set_by=CARRY.set_by,  # a line is the line above plus the operand: addition's carries, column by column
    claim="list of one or more non-negative integers, written as a page of running totals",
    page=True,
)


PAGE_MUL = ProofContract(
    rows=("a", "b"),
    states=tuple(f"carry {c}" for c in range(9)),  # the carries of a * d, written as a line of the page
    set_by=TIMES_DIGIT.set_by,
    claim="pair of non-negative integers, multiplied as long multiplication written out on a page",
    page=True,
    page_procedure="long multiplication",
)


PAGE_DIV = ProofContract(
    rows=("a", "b"),
    states=("borrow 0", "borrow 1"),  # the borrows of R - S, written as a line of the page
    set_by=(((0, 0),), ((0, 1),)),
    claim="pair of a non-negative integer a and a positive integer b, divided (a // b and a mod b) as long "
    "division written out on a page, every decision the model's",
    page=True,
    page_procedure="page program",
)


PAGE_GCD = ProofContract(
    rows=("a", "b"),
    states=("borrow 0", "borrow 1"),  # the borrows of R - S, written as a line of the page
    set_by=(((0, 0),), ((0, 1),)),
    claim="pair of non-negative integers a and b, not both 0, whose gcd is found by Euclid's algorithm written "
    "out on a page, every division, swap and stop the model's",
    page=True,
    page_procedure="page program",
)


PAGE_MODMUL = ProofContract(
    rows=("a", "b", "p"),
    states=("borrow 0", "borrow 1"),  # the division's borrows; the multiplication's carries are a line too
    set_by=(((0, 0, 0),), ((0, 1, 0),)),
    claim="triple of non-negative integers a and b and a positive integer p, multiplied and reduced ((a * b) mod p) "
    "as long multiplication then long division written out on a page, every decision the model's",
    page=True,
    page_procedure="page program",
)
