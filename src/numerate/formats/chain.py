"""One-shot multiplication with its chain of thought written before the answer, as Deng et al.'s ICoT data does.

For 2967 * 6361 (prompt, then target)::

    7692*1636=76920+020871(789081)+0010980(7801701)+00020871#78037881

every number least-significant digit first: each shifted partial product a * b_j * 10^j, after the middle ones
the running sum in parentheses, then ``#`` and the answer (tasks/multiplication.chain_of_thought). This is the
ICoT files' layout (`a * b||chain #### c`) with one character per token and no spaces, so "tokens of the chain"
count the same things: a digit, ``+``, ``(`` or ``)``.

The chain is what stepwise internalization (train/internalize.py) removes from the left, a few tokens per stage,
until the model writes ``#`` and the answer straight after the prompt. Answers are read after the last ``#``, so
a model at any stage of that schedule, with all of its chain, part of it or none, is scored on its answer alone.
"""

from __future__ import annotations

from numerate.errors import UsageError
from numerate.formats.base import FORMATS
from numerate.formats.digits import DigitsFormat
from numerate.tasks.base import Problem

ANSWER = "#"  # closes the chain of thought; the answer follows


@FORMATS.register(
    "chain", "a * b, then the long-multiplication chain of thought (ICoT's layout), '#' and the answer; reverse, pad"
)
class ChainFormat(DigitsFormat):
    ANSWER = ANSWER

    def validate(self) -> None:
        if self.symbol != "*":
            raise UsageError("format.name=chain writes the long-multiplication chain of thought: task multiplication")
        if not self.reverse or not self.pad or self.group or self.hints or self.spaces:
            raise UsageError(
                "format.name=chain writes padded, reversed plain digits (format.reverse, format.pad; no group, "
                "hints or spaces), as the ICoT data does"
            )

    @property
    def alphabet(self) -> str:
        return super().alphabet + "+()" + ANSWER

    def chain(self, problem: Problem) -> str:
        """The chain of thought alone: what internalization removes from the left."""
        from numerate.tasks.multiplication import chain_of_thought

        a, b = problem.operands
        out = []
        for mark, value, digits in chain_of_thought(a, b, self.width(problem)):
            out.append(mark + self._write(value, digits, None) + (")" if mark == "(" else ""))
        return "".join(out)

    def split_target(self, problem: Problem, answer) -> tuple[str, str]:
        """(chain of thought, '#' and the answer): the target is their concatenation."""
        return self.chain(problem), ANSWER + super().target(problem, answer)

    def target(self, problem: Problem, answer) -> str:
        return "".join(self.split_target(problem, answer))

    def writes(self, problem: Problem, answer, text: str) -> bool:
        """The answer written exactly after what is left of the chain: any end of it (internalization removes the
        chain from its left, all of it in the end), then '#' and the answer's digits."""
        chain, rest = self.split_target(problem, answer)
        return text.endswith(rest) and chain.endswith(text[: len(text) - len(rest)])

    def max_target_len(self, problem: Problem) -> int:
        return len(self.chain(problem)) + 1 + super().max_target_len(problem)

    def parse(self, text: str):
        """The answer after the last '#', whatever (if anything) of the chain came before it; None without one."""
        if ANSWER not in text:
            return None
        return super().parse(text.rsplit(ANSWER, 1)[1])
