"""Formats: how a problem is written as a prompt, how its answer is written, and how an answer is read back."""

from numerate.formats.base import FORMATS
from numerate.formats import digits  # noqa: E402,F401,I001  (registers itself)

__all__ = ["FORMATS", "get_format"]


def get_format(cfg, task):
    """Build the format named in a FormatConfig for a task (its operator, prompt marks and answer shape)."""
    return FORMATS.get(cfg.name)(
        symbol=task.symbol,
        marks=task.marks,
        answer_shape=task.answer_shape,
        reverse=cfg.reverse,
        pad=cfg.pad,
        group=cfg.group,
        group_from=cfg.group_from,
        hints=cfg.hints,
        spaces=cfg.spaces,
    )
