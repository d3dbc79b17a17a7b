"""The solver layer: any folder numerate answers from, opened as one object.

    >>> solver = open_folder("models/page-mul")
    >>> problem = solver.parse("12*34")       # UsageError naming what is wrong with a line
    >>> solver.check(problem)                  # UsageError when the model cannot represent it
    >>> [solution] = solver.answer([problem])  # the value, the line `solve` writes, the work behind it
    >>> solution.value, solver.status().proven
    (408, True)

What a folder is (a model, a stepwise model, a page model, a procedure of step models) is decided here and
nowhere else. `numerate.load` returns the solver; `numerate solve`, `eval`, `verify` and bench/ open folders
through `open_folder` and keep to argv, streams and exit codes.
"""

from __future__ import annotations

from pathlib import Path

from numerate.solver.base import MAX_DIGITS, ProofReport, Solution, Solver

__all__ = ["MAX_DIGITS", "ProofReport", "Solution", "Solver", "open_folder", "is_procedure"]


def is_procedure(folder) -> bool:
    """A procedure folder (procedure.yaml naming step models) rather than a model folder."""
    from numerate.procedures.folder import is_procedure as has_procedure_file

    return has_procedure_file(folder)


def open_folder(path, device: str = "cpu") -> Solver:
    """The solver for a model folder (run in the precision its certificate covers) or a procedure folder."""
    if is_procedure(path):
        from numerate.solver.procedure import procedure_solver

        return procedure_solver(path, device=device)
    from numerate.checkpoint import load_certified
    from numerate.solver.models import model_solver

    return model_solver(load_certified(path, device=device), Path(path))
