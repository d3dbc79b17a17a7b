"""Formats: how a problem is written as a prompt, how its answer is written, and how an answer is read back."""

import dataclasses

from numerate.formats.base import FORMATS
from numerate.registry import import_submodules

import_submodules(__name__, __path__)  # every module here registers its formats

__all__ = ["FORMATS", "get_format"]


def get_format(cfg, task):
    """Build the format named in a FormatConfig for a task (its operator, prompt marks and answer shape). Every
    option of the config is passed through by name, so an option is declared once, in FormatConfig."""
    options = {f.name: getattr(cfg, f.name) for f in dataclasses.fields(cfg) if f.name != "name"}
    return FORMATS.get(cfg.name)(
        symbol=task.symbol, marks=task.marks, answer_shape=task.answer_shape, signed=task.signed, **options
    )
