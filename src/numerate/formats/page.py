"""A page of work: the question's numbers, then one line per step of the procedure, each a number.

For 12 + 345 + 9 the page is (prompt, then target)::

    21+543+9+=21;|753;|663;|

every number least-significant digit first and as long as it is (no padding), each closed by a mark in the
column after its top digit: the operands, each closed by ``+``; then the lines of work, each opened by a mark in
column 0 (the prompt's ``=`` for the first, ``|`` for the others) and closed by ``;``. The page ends with an
opening mark that opens no line. A closing mark shows, in the row of its number, where that number ends; an
opening mark starts a row. The task says what the lines are (tasks/addition_page.py: the running totals). Where a
line ends is decided locally: after the column where both the line above and the operand have ended, unless a
carry is left. The answer read back is the tuple of lines; the task's `final` turns it into the result.
"""

from __future__ import annotations

from numerate.bigint import to_str
from numerate.errors import UsageError
from numerate.formats.base import FORMATS
from numerate.formats.digits import DigitsFormat
from numerate.tasks.base import Problem

LINE = ";"  # closes a line of work
OPEN = "|"  # opens every line of work after the first (the prompt's mark opens the first)


@FORMATS.register("page", "a page: the operands, then one line of work per step (`;` between lines); reverse, pad")
class PageFormat(DigitsFormat):
    LINE, OPEN = LINE, OPEN

    def validate(self) -> None:
        if not self.reverse or self.group or self.hints or self.spaces or self.negatives != "sign":
            raise UsageError(
                "format.name=page writes reversed plain digits (format.reverse; no group, hints or spaces)"
            )

    @property
    def alphabet(self) -> str:
        return super().alphabet + LINE + OPEN

    def number(self, x: int) -> str:
        return to_str(x)[::-1]

    def prompt(self, problem: Problem) -> str:
        return "".join(self.number(x) + self.symbol for x in problem.operands) + problem.mark

    def lines(self, problem: Problem, answer) -> list[str]:
        return [self.number(x) for x in answer]

    def target(self, problem: Problem, answer) -> str:
        return "".join(line + LINE + OPEN for line in self.lines(problem, answer))

    def max_target_len(self, problem: Problem) -> int:
        count, digits = self.answer_shape(problem, self.width(problem))
        return count * (digits + 2)  # every line at most as long as the sum, and its two marks

    def parse(self, text: str):
        """The lines as a tuple of integers, or None if the text is not a page of well-formed lines."""
        if not text.endswith(LINE + OPEN):
            return None
        parts = text[: -len(LINE + OPEN)].split(LINE + OPEN)
        if any(t != "0" and t.endswith("0") for t in parts):
            return None  # a leading zero: not a line this format writes
        lines = [self._parse_digits(t) for t in parts]
        return None if None in lines else tuple(lines)


FILL = "."  # a blank cell of a line: the columns a shifted copy leaves empty


@FORMATS.register(
    "page-grid",
    "a page of lines of cells: the operands, then the task's lines of digits and blanks ('.'), `;|` between lines",
)
class PageGridFormat(PageFormat):
    """A page whose lines are rows of cells rather than numbers (tasks/multiplication_page.py): each line a tuple
    of digits and None (a blank, written '.') for columns 1, 2, ...; lines are closed by ';' and opened by '|'. The
    task's last line is left open: the page ends inside it, with <eos> where its next cell would be."""

    FILL = FILL

    @property
    def alphabet(self) -> str:
        return super().alphabet + FILL

    def lines(self, problem: Problem, answer) -> list[str]:
        return ["".join(FILL if c is None else str(c) for c in line) for line in answer]

    def target(self, problem: Problem, answer) -> str:
        return (LINE + OPEN).join(self.lines(problem, answer))

    def max_target_len(self, problem: Problem) -> int:
        count, digits = self.answer_shape(problem, self.width(problem))
        return count * (digits + 2)  # the task bounds its lines' count and length

    def parse(self, text: str):
        """The lines as a tuple of cell tuples, or None if the text is not a page of such lines."""
        if any(ch not in "0123456789" + FILL + LINE + OPEN for ch in text):
            return None
        parts = text.split(LINE + OPEN)
        if (
            any(not part for part in parts[:-1])
            or LINE in text.replace(LINE + OPEN, "")
            or OPEN in text.replace(LINE + OPEN, "")
        ):
            return None
        return tuple(tuple(None if ch == FILL else int(ch) for ch in part) for part in parts)


@FORMATS.register(
    "page-program",
    "a page whose lines the model opens with the variant it chose (tasks/page_program.py): `a/b/=` then the work",
)
class PageProgramFormat(DigitsFormat):
    """The question's numbers reversed, each closed by the task's symbol, then the prompt's mark; the answer is
    the page's text as the task's declaration writes it (tasks/division_page.py), read back as its lines. The
    task's marks are the variants' opening marks, the prompt's first."""

    LINE, FILL = LINE, FILL

    def validate(self) -> None:
        if not self.reverse or self.group or self.hints or self.spaces or self.negatives != "sign":
            raise UsageError(
                "format.name=page-program writes reversed plain digits (format.reverse; no group, hints or spaces)"
            )

    @property
    def alphabet(self) -> str:
        return super().alphabet + LINE + FILL

    def number(self, x: int) -> str:
        return to_str(x)[::-1]

    def prompt(self, problem: Problem) -> str:
        return "".join(self.number(x) + self.symbol for x in problem.operands) + self.marks[0]

    def target(self, problem: Problem, answer) -> str:
        return answer

    def lines(self, problem: Problem, answer) -> list[str]:
        return [cells for _, cells, _ in self.split(answer) if cells]

    def split(self, text: str):
        from numerate.tasks.page_program import read_lines

        return read_lines(text, self.marks) or []

    def count_lines(self, text: str) -> int:
        """How many lines a (perhaps unfinished) page has closed."""
        return sum(1 for i in range(1, len(text)) if text[i - 1] in "0123456789" and not text[i].isdigit())

    def max_target_len(self, problem: Problem) -> int:
        count, digits = self.answer_shape(problem, self.width(problem))
        return count * (digits + 2)

    def parse(self, text: str):
        """The page's text, if it is a page of well-formed lines; else None."""
        return text if self.split(text) else None
