"""How numbers are written for a language model: the interventions of a tokenization study.

Each representation writes a non-negative integer one way and reads back exactly that way: `parse` accepts the
whole text written as `render` writes it (a leading "-" for negatives) and nothing else, so an answer in another
representation, with prose around it, or with stray characters is *malformed*, never guessed at.

    plain          1234567          the digits, most significant first
    commas-right   1,234,567        a comma every three digits counted from the right (how people write numbers)
    commas-left    123,456,7        a comma every three digits counted from the left (the tokenizer's own chunks)
    reversed       7654321          least significant digit first (the order in which carries travel)
    spaced         1 2 3 4 5 6 7    a space between digits (one token per digit in most tokenizers)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

from numerate.bigint import from_str, to_str
from numerate.registry import Registry

REPRESENTATIONS: Registry = Registry("representation")


@dataclass(frozen=True)
class Representation:
    name: str
    example: str  # 1234567 written this way
    description: str  # what a chat model is told about how numbers are written
    write_digits: Callable[[str], str]  # decimal digits (most significant first) -> the written form
    read_digits: Callable[[str], str]  # the written form -> decimal digits
    pattern: str  # a full match of the unsigned written form
    operator_spacing: str = ""  # around + - * in expressions

    def render(self, n: int) -> str:
        return ("-" if n < 0 else "") + self.write_digits(to_str(abs(n)))

    def parse(self, text: str) -> int | None:
        """The integer `text` writes in this representation, or None if it is not exactly one."""
        m = re.fullmatch(r"(-?)(" + self.pattern + ")", text)
        if not m:
            return None
        value = from_str(self.read_digits(m.group(2)))
        return -value if m.group(1) else value


def _group(digits: str, from_right: bool) -> str:
    if from_right:
        head = len(digits) % 3 or 3
        return ",".join([digits[:head]] + [digits[i : i + 3] for i in range(head, len(digits), 3)])
    return ",".join(digits[i : i + 3] for i in range(0, len(digits), 3))


def _add(rep: Representation) -> None:
    REPRESENTATIONS.register(rep.name, f"{rep.example}: {rep.description}")(rep)


_add(Representation("plain", "1234567", "Numbers are written in the usual way.", str, str, r"[0-9]+"))
_add(
    Representation(
        "commas-right",
        "1,234,567",
        "Numbers are written with a comma every three digits, counted from the right (1,234,567).",
        lambda d: _group(d, True),
        lambda t: t.replace(",", ""),
        r"[0-9]{1,3}(?:,[0-9]{3})*",
    )
)
_add(
    Representation(
        "commas-left",
        "123,456,7",
        "Numbers are written with a comma every three digits, counted from the left (123,456,7 is 1234567).",
        lambda d: _group(d, False),
        lambda t: t.replace(",", ""),
        r"(?:[0-9]{3},)*[0-9]{1,3}",
    )
)
_add(
    Representation(
        "reversed",
        "7654321",
        "Numbers are written with their digits in reverse order, least significant digit first (7654321 is 1234567).",
        lambda d: d[::-1],
        lambda t: t[::-1],
        r"[0-9]+",
    )
)
_add(
    Representation(
        "spaced",
        "1 2 3 4 5 6 7",
        "Numbers are written with a space between digits (1 2 3 4 5 6 7).",
        " ".join,
        lambda t: t.replace(" ", ""),
        r"[0-9](?: [0-9])*",
        operator_spacing=" ",
    )
)
