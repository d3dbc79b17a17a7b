"""numerate: train, evaluate and verify small transformers that do exact arithmetic.

    >>> import numerate
    >>> numerate.load("models/add-proof").solve(["12+34"])
    [46]

Importing the package is cheap: torch and the rest load only when a name below is first used (numerate/api.py).
"""

from numerate.version import __version__  # noqa: F401  (numerate.__version__)

# Each public name and the module that defines it (one address per name); loaded on first use.
_API = {
    "load": "numerate.api",
    "train": "numerate.api",
    "iterate": "numerate.api",
    "compare": "numerate.api",
    "probe": "numerate.api",
    "language_models": "numerate.api",
    "presets": "numerate.api",
    "tasks": "numerate.api",
    "schemes": "numerate.api",
    "Comparison": "numerate.api",
    "Model": "numerate.solver.models",
    "Procedure": "numerate.solver.procedure",
    "Evaluation": "numerate.eval.evaluate",
    "Certificate": "numerate.verify.certificate",
}
__all__ = list(_API)


def __getattr__(name: str):
    if name in _API:
        import importlib

        return getattr(importlib.import_module(_API[name]), name)
    raise AttributeError(f"module 'numerate' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + list(_API))
