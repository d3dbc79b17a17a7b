"""numerate: train, evaluate and verify small transformers that do exact arithmetic.

Importing the package is cheap: torch and the rest load only when a submodule needs them.
"""

__version__ = "0.1.0"
