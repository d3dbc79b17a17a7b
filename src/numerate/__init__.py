"""numerate: train, evaluate and verify small transformers that do exact arithmetic.

    >>> import numerate
    >>> numerate.load("models/add-proof").solve(["12+34"])
    [46]

Importing the package is cheap: torch and the rest load only when a name below is first used (numerate/api.py).
"""

from numerate.version import __version__  # noqa: F401  (numerate.__version__)

_API = (
    "load",
    "train",
    "iterate",
    "compare",
    "probe",
    "language_models",
    "presets",
    "tasks",
    "schemes",
    "Model",
    "Procedure",
    "Evaluation",
    "Certificate",
    "Comparison",
)
__all__ = list(_API)


def __getattr__(name: str):
    if name in _API:
        from numerate import api

        return getattr(api, name)
    raise AttributeError(f"module 'numerate' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + list(_API))
