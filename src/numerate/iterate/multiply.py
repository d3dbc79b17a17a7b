"""a * b for any two non-negative integers from two step models: models/mul, the long-multiplication procedure.

    a * b = sum_j P_j * 10^j,   P_j = a * d_j,   d_j = b's digit j (least significant first)

A times-digit model writes every P_j and an addition model every sum of a tree of pairwise sums
(numerate/procedures/arith.py, `multiply`; docs/verification.md, "Multiplication"). This module keeps the names
`solve`, `verify` and the benchmarks use for it; the procedure layer (numerate/procedures) runs it.
"""

from __future__ import annotations

from pathlib import Path

from numerate.errors import UsageError
from numerate.procedures.folder import PROCEDURE_FILE, LoadedProcedure, is_procedure, load, solve
from numerate.tasks.base import Problem

__all__ = ["PROCEDURE_FILE", "is_procedure", "load_multiplier", "multiply"]


def load_multiplier(folder, device: str = "cpu") -> LoadedProcedure:
    """A long-multiplication folder (its step models loaded and their tasks checked)."""
    m = load(folder, device=device)
    if m.procedure.name != "long-multiplication":
        raise UsageError(f"{Path(folder) / PROCEDURE_FILE}: expected 'procedure: long-multiplication'")
    return m


def multiply(m: LoadedProcedure, problems: list[Problem], batch_size: int = 256) -> list[int]:
    """a * b for every problem (a, b), all problems' steps batched together level by level."""
    answers, _ = solve(m, [tuple(p.operands) for p in problems], batch_size=batch_size)
    return answers
