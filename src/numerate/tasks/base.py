from __future__ import annotations

import random
from dataclasses import dataclass

from numerate.bigint import from_str, to_str
from numerate.errors import UsageError
from numerate.registry import Registry

TASKS: Registry = Registry("task")


@dataclass(frozen=True)
class Problem:
    """Operands of one problem, as Python integers (so answers are exact at any length).

    `mark` is the symbol that ends the prompt: "=" asks for the final answer, ">" (iterative tasks) for the next
    state of the procedure.
    """

    operands: tuple[int, ...]
    mark: str = "="


def as_tuple(value):
    """Answers of one number compare equal whether written as 7 or (7,); None stays None."""
    return value if value is None or isinstance(value, tuple) else (value,)


def random_number(rng: random.Random, n_digits: int) -> int:
    """A uniformly random integer with exactly `n_digits` digits (0–9 for one digit)."""
    if n_digits == 1:
        return rng.randrange(10)
    return rng.randrange(10 ** (n_digits - 1), 10**n_digits)


class Task:
    """The contract every task meets. Subclasses register under a name in TASKS.

    - ``answer(problem)``: the exact answer, Python integers of any size and sign (a tuple for several numbers);
    - ``answer_shape(problem, width)``: how many numbers the answer has and the digits each may need, when the
      operands have at most ``width`` digits (a bound: formats pad to it, decoders budget by it);
    - ``samplers``: named ways to draw test problems, "uniform" first, adversarial ones after, each documented;
    - ``cell_dims``: what the numbers of an evaluation cell mean (two operand lengths by default); ``cells()``
      builds the cells of a sweep or grid and ``sample(rng, sampler, cell)`` draws one problem of a cell;
    - ``sample_range(rng, lo, hi)``: the training distribution, operand lengths in [lo, hi];
    - ``operand_counts``: how many operands a problem may have (for parsing expressions like ``A-B``);
    - ``worst_case(width)``: the problem whose prompt and answer are longest at this width (capacity checks);
    - ``proof_contract()``: what `numerate verify` needs to prove a model of this task (tasks/proof.py), or None.
    """

    name: str = ""
    symbol: str = ""  # operator written between operands by formats and in expressions
    marks: str = "="  # symbols that can end a prompt
    samplers: dict[str, str] = {"uniform": "operands of exactly the cell's lengths, uniformly random"}
    cell_dims: tuple[str, ...] = ("len_a", "len_b")
    operand_counts: tuple[int, int] = (2, 2)
    expression_counts: tuple[int, int] | None = None  # operands an expression to solve may have (default as above)
    signed: bool = False  # answers may be negative
    proof_obstacle: str = ""  # why no proof contract can be declared, for tasks without one
    train_answer_tokens: int | None = None  # a bound on the answer tokens of a training problem, where it has one

    @property
    def n_operands(self) -> int:
        return self.operand_counts[1]

    def configure(self, cfg) -> None:
        """Read task-specific settings from a TaskConfig (most tasks have none)."""

    def answer_shape(self, problem: Problem, width: int) -> tuple[int, int]:
        """(how many numbers the answer has, digits each can need) when operands have at most `width` digits."""
        return 1, width + 1

    def answer(self, problem: Problem) -> int:
        raise NotImplementedError

    def sample(self, rng: random.Random, sampler: str, lengths: tuple[int, ...]) -> Problem:
        raise NotImplementedError

    def sample_range(self, rng: random.Random, lo: int, hi: int) -> Problem:
        """Each operand length drawn independently and uniformly from [lo, hi]."""
        raise NotImplementedError

    def unknown_sampler(self, sampler: str) -> UsageError:
        return UsageError(f"{self.name} has no sampler '{sampler}' (known: {', '.join(self.samplers)})")

    def cells(self, lengths: list[int], grid: bool = False, adversarial: bool = False) -> list[tuple]:
        """Evaluation cells (sampler, cell): every length on both operands (or, with `grid`, every pair), and with
        `adversarial` each adversarial sampler at every length."""
        dims = len(self.cell_dims)
        if grid and dims == 2:
            shapes = [(a, b) for a in lengths for b in lengths]
        else:
            shapes = [(n,) * dims for n in lengths]
        cells = [("uniform", shape) for shape in shapes]
        if adversarial:
            cells += [(name, (n,) * dims) for name in list(self.samplers)[1:] for n in lengths]
        return cells

    def proof_contract(self):
        """The task's proof contract (numerate.tasks.proof.ProofContract), or None: no model of it can be proven."""
        return None

    def worst_case(self, width: int) -> Problem:
        return Problem(tuple(10**width - 1 for _ in range(self.n_operands)))

    def expression(self, problem: Problem) -> str:
        """The problem as a user writes it, `A<symbol>B...`: what `parse_expression` reads back."""
        return self.symbol.join(to_str(x) for x in problem.operands)

    def parse_expression(self, text: str) -> Problem:
        """`A<symbol>B...` (non-negative decimal integers, spaces allowed around them) as a problem; ValueError with
        the reason if the text is not one."""
        parts = text.split(self.symbol) if self.symbol else [text]
        lo, hi = self.expression_counts or self.operand_counts
        if not lo <= len(parts) <= hi:
            want = f"{lo}" if lo == hi else f"{lo} to {hi}"
            raise ValueError(f"{want} non-negative integers joined by '{self.symbol}'")
        numbers = [p.strip() for p in parts]
        if not all(n.isascii() and n.isdigit() for n in numbers):
            raise ValueError(f"non-negative integers joined by '{self.symbol}'")
        return Problem(tuple(from_str(n) for n in numbers))
