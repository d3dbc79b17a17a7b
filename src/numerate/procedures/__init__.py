"""Procedures: small registered programs over proven step models (add, sub, times-digit) that only route digits.

A procedure keeps its state, asks step models every question whose answer it needs, batched across problems level
by level (engine.py), and writes a ledger of what it asked. Its primitives (arith.py) are long multiplication,
long division, halving, comparison and signed sums, each built from step-model answers and routing alone; the
procedures are gcd, the 0/1 knapsack, Newton's integer square root, fixed-point gradient descent and long
multiplication itself. A folder holding `procedure.yaml` is such a model (folder.py).
"""

from __future__ import annotations


def load_all() -> None:
    """Import every procedure module, so each registers itself."""
    from numerate.registry import import_submodules

    import_submodules(__name__, __path__)
