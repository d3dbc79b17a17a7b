"""Operands and answer written as digit strings, optionally reversed and zero-padded.

With reverse=True, pad=True, the problem 123 + 4567 is written (prompt, then target)::

    3210+7654=   06950

i.e. 0123 + 4567 = 04690 with every number least-significant digit first. The answer always has one digit more
than the padded operands, so its length is known from the prompt.
"""

from __future__ import annotations

from numerate.formats import FORMATS
from numerate.tasks.base import Problem
from numerate.tokenizer import DIGITS


@FORMATS.register("digits", "decimal digits; options: reverse (LSD first), pad (zero-pad to a common length)")
class DigitsFormat:
    def __init__(self, symbol: str = "+", reverse: bool = True, pad: bool = True):
        self.symbol, self.reverse, self.pad = symbol, reverse, pad

    @property
    def alphabet(self) -> str:
        return DIGITS + self.symbol + "="

    def _write(self, value: int, width: int) -> str:
        text = str(value).zfill(width) if self.pad else str(value)
        return text[::-1] if self.reverse else text

    def width(self, problem: Problem) -> int:
        return max(len(str(x)) for x in problem.operands)

    def prompt(self, problem: Problem) -> str:
        width = self.width(problem)
        return self.symbol.join(self._write(x, width) for x in problem.operands) + "="

    def target(self, problem: Problem, answer: int) -> str:
        return self._write(answer, self.width(problem) + 1)

    def max_target_len(self, problem: Problem) -> int:
        """Longest answer the format can call for, for decoding budgets and capacity checks."""
        return self.width(problem) + 1  # a sum of up to ten operands gains at most one digit

    def parse(self, text: str) -> int | None:
        """The integer an answer string denotes, or None if it is not a well-formed answer."""
        if not text or any(c not in DIGITS for c in text):
            return None
        return int(text[::-1] if self.reverse else text)
