"""Operands and answer written as digit strings, with the representation options the literature compares.

With reverse=True, pad=True (the default), 123 + 4567 is written (prompt, then target)::

    3210+7654=   09640

i.e. 0123 + 4567 = 04690 with every number least-significant digit first. The answer has one digit more than
the padded operands, so its length is known from the prompt. Options, each one switch:

- ``reverse``: least-significant digit first (Lee et al. 2023);
- ``pad``: zero-pad operands to a common length and the answer to that length + 1;
- ``group``/``group_from``: a comma every `group` digits, counted from the right as in 1,234,567 or from the
  left as in 123,456,7 (Singh & Strouse 2024);
- ``hints``: each digit preceded by a letter naming its significance, a, b, c, … (cycling after 52), shared by
  operands and answer (Zhou et al. 2024);
- ``spaces``: after each digit a space with this probability, drawn from a generator seeded by the problem, so
  a problem is always written the same way;
- ``negatives`` (tasks whose answers may be negative): ``sign`` writes a minus at the most significant end
  ("-42", reversed "24-"); ``complement`` writes the ten's complement in the padded width, so a top digit 9 marks
  a negative number (3 - 5 = -2 is "98" natural, "89" reversed) — what a borrow leaves behind, so a local model
  never needs to know the sign before the digits.

Iterative tasks ask for answers made of several numbers (the next state of a procedure, a 0/1 choice per item):
those are written one after another, separated by the task's symbol, each padded to the digits the task's
`answer_shape` allows. A prompt ends with the problem's mark ("=" for a final answer, ">" for the next state).
"""

from __future__ import annotations

import random
import string

from numerate.bigint import from_str, to_str
from numerate.errors import UsageError
from numerate.formats.base import FORMATS
from numerate.tasks.base import Problem
from numerate.tokenizer import DIGITS

HINTS = string.ascii_lowercase + string.ascii_uppercase


@FORMATS.register("digits", "decimal digits; options: reverse, pad, group/group_from, hints, spaces")
class DigitsFormat:
    def __init__(
        self,
        symbol: str = "+",
        reverse: bool = True,
        pad: bool = True,
        group: int = 0,
        group_from: str = "right",
        hints: bool = False,
        spaces: float = 0.0,
        negatives: str = "sign",
        *,
        marks: str = "=",
        answer_shape=None,
        signed: bool = False,
    ):
        if negatives == "complement" and not pad:
            raise UsageError("format.negatives=complement needs format.pad=true (a fixed width marks the sign)")
        self.symbol, self.reverse, self.pad = symbol, reverse, pad
        self.negatives, self.signed = negatives, signed
        self.group, self.group_from, self.hints, self.spaces = group, group_from, hints, spaces
        self.marks = marks
        self.answer_shape = answer_shape or (lambda problem, width: (1, width + 1))
        self.validate()

    def validate(self) -> None:
        """Refuse options this format cannot write (UsageError); a format built on this one narrows them."""

    @property
    def alphabet(self) -> str:
        extra = ("," if self.group else "") + (HINTS if self.hints else "") + (" " if self.spaces else "")
        minus = "-" if self.signed and self.negatives == "sign" and self.symbol != "-" else ""
        return DIGITS + self.symbol + self.marks + extra + minus

    def _write(self, value: int, width: int, rng: random.Random | None) -> str:
        sign = ""
        if value < 0:
            if self.negatives == "complement":
                value += 10**width  # ten's complement in `width` digits: a top digit 9 marks a negative number
            else:
                sign, value = "-", -value
        natural = to_str(value).zfill(width) if self.pad else to_str(value)
        n = len(natural)
        out = []
        for i in range(n):
            place = n - 1 - i if self.reverse else i  # index into `natural` of the i-th digit written
            significance = n - 1 - place
            if i and self.group:
                # The comma sits between natural places q - 1 and q; it belongs there if the digits to its
                # right (counting from the right) or to its left (from the left) fill whole groups.
                q = place + 1 if self.reverse else place
                if (n - q if self.group_from == "right" else q) % self.group == 0:
                    out.append(",")
            if self.hints:
                out.append(HINTS[significance % len(HINTS)])
            out.append(natural[place])
            if rng is not None and rng.random() < self.spaces:
                out.append(" ")
        if sign:  # the sign sits at the most significant end: "-42" or, reversed, "24-"
            out = out + [sign] if self.reverse else [sign] + out
        return "".join(out)

    def _rng(self, problem: Problem, part: str) -> random.Random | None:
        return random.Random(f"{part}/{problem.operands}") if self.spaces else None

    def width(self, problem: Problem) -> int:
        return max(len(to_str(x)) for x in problem.operands)

    def prompt(self, problem: Problem) -> str:
        width, rng = self.width(problem), self._rng(problem, "prompt")
        return self.symbol.join(self._write(x, width, rng) for x in problem.operands) + problem.mark

    def target(self, problem: Problem, answer: int | tuple[int, ...]) -> str:
        _, digits = self.answer_shape(problem, self.width(problem))
        rng = self._rng(problem, "target")
        if isinstance(answer, tuple):
            return self.symbol.join(self._write(x, digits, rng) for x in answer)
        return self._write(answer, digits, rng)

    def writes(self, problem: Problem, answer, text: str) -> bool:
        """Whether `text` is this format's own writing of `answer` (what a proof certifies the model writes)."""
        return text == self.target(problem, answer)

    def max_target_len(self, problem: Problem) -> int:
        """Longest answer the format can call for, for decoding budgets and capacity checks."""
        count, digits = self.answer_shape(problem, self.width(problem))
        per_digit = 1 + self.hints + (1 if self.spaces else 0)
        sign = 1 if self.signed and self.negatives == "sign" else 0
        return count * (digits * per_digit + (digits // self.group if self.group else 0) + sign) + count - 1

    def parse(self, text: str) -> int | tuple[int, ...] | None:
        """The integer an answer string denotes (a tuple if it holds several numbers), or None if it is not a
        well-formed answer."""
        # "," also separates digit groups; "-" of a signed task is a minus sign, and its answers are one number
        if self.symbol in text and not (self.symbol == "," and self.group) and not self.signed:
            parts = [self._parse_one(t) for t in text.split(self.symbol)]
            return None if None in parts else tuple(parts)
        return self._parse_one(text)

    def _parse_one(self, text: str) -> int | None:
        negative = False
        if self.signed and self.negatives == "sign" and text:
            end = text[-1] if self.reverse else text[0]
            if end == "-":
                negative, text = True, (text[:-1] if self.reverse else text[1:])
        value = self._parse_digits(text)
        if value is None:
            return None
        if negative:
            return -value if value else None  # "-0" is not a well-formed answer
        return value

    def _parse_digits(self, text: str) -> int | None:
        if self.spaces:
            text = text.replace(" ", "")
        if self.group:
            text = text.replace(",", "")
        if self.hints:
            if len(text) % 2 or any(c not in HINTS for c in text[0::2]):
                return None
            text = text[1::2]
        if not text or any(c not in DIGITS for c in text):
            return None
        natural = text[::-1] if self.reverse else text
        value = from_str(natural)
        if self.signed and self.negatives == "complement" and natural[0] == "9":
            value -= 10 ** len(natural)
        return value
