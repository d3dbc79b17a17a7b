"""Running procedures over step models: every problem's questions batched together, level by level.

A procedure body is a generator. It yields an `Ask` (one question to one step model) or a list of them (questions
that do not depend on each other), and is sent back the step model's answer (an int) or the list of answers. It
returns its result. `run` drives many bodies at once: in each round it gathers the questions every unfinished body
is waiting on, asks each step model all of its questions in one batch, and sends the answers back. A body never
sees a number that no step model wrote, apart from the question's own digits and the constants its routing writes
(a shift's zeros, a digit read off a number); docs/verification.md says, procedure by procedure, why that makes
the result exact when every step model is proven.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import Any

from numerate.errors import UsageError


@dataclass(frozen=True)
class Ask:
    """One question to one step model: `step` names it ("add", "sub", "times"), `operands` are its problem's."""

    step: str
    operands: tuple[int, ...]


Body = Generator[Any, Any, Any]  # yields Ask | list[Ask], is sent int | list[int], returns the result


@dataclass
class Ledger:
    """What one problem's run cost: questions and digits written per step model, and rounds (sequential levels).
    With `keep`, every question and answer too, in order (the written-out work)."""

    questions: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    digits: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    rounds: int = 0
    lines: list[tuple[str, tuple[int, ...], int]] | None = None

    @property
    def total_questions(self) -> int:
        return sum(self.questions.values())

    @property
    def total_digits(self) -> int:
        return sum(self.digits.values())


def resume(body: Body, value):
    """Send `value` into a body and run it to its next questions (an empty list of questions is answered at
    once). Returns (True, its result, None, False) when it has ended, else (False, None, its questions, whether
    it yielded a list)."""
    while True:
        try:
            request = body.send(value)
        except StopIteration as stop:
            return True, stop.value, None, False
        many = isinstance(request, list)
        if many and not request:
            value = []
            continue
        return False, None, (request if many else [request]), many


# ask(step, list of operand tuples) -> (answers, digits written per answer)
Asker = Callable[[str, list[tuple[int, ...]]], tuple[list[int], list[int]]]


def run(
    bodies: list[Body],
    ask: Asker,
    keep_lines: bool = False,
    max_rounds: int | None = None,
    on_round: Callable[[], None] | None = None,
):
    """Drive every body to its end; returns (results, ledgers), in input order. `max_rounds` stops a run that
    would not end (a procedure on step models that are wrong may loop): UsageError. `on_round` is called after
    each round of questions (a progress bar)."""
    n = len(bodies)
    results: list[Any] = [None] * n
    ledgers = [Ledger(lines=[] if keep_lines else None) for _ in range(n)]
    waiting: dict[int, tuple[list[Ask], bool]] = {}  # body -> (its questions, whether it yielded a list)

    def advance(i: int, value) -> None:
        done, result, asks, many = resume(bodies[i], value)
        if done:
            results[i] = result
        else:
            waiting[i] = (asks, many)

    for i in range(n):
        advance(i, None)
    rounds = 0
    while waiting:
        rounds += 1
        if max_rounds is not None and rounds > max_rounds:
            raise UsageError(
                f"the procedure did not end within {max_rounds:,} rounds of questions, more than exact steps ever "
                "need: a step model is wrong"
            )
        by_step: dict[str, list[tuple[int, int]]] = defaultdict(list)
        for i, (asks, _) in waiting.items():
            for k, a in enumerate(asks):
                by_step[a.step].append((i, k))
        answers = {i: [0] * len(asks) for i, (asks, _) in waiting.items()}
        for step, places in by_step.items():
            values, digits = ask(step, [waiting[i][0][k].operands for i, k in places])
            for (i, k), v, d in zip(places, values, digits):
                answers[i][k] = v
                ledgers[i].questions[step] += 1
                ledgers[i].digits[step] += d
                if keep_lines:
                    ledgers[i].lines.append((step, waiting[i][0][k].operands, v))
        current = list(waiting.items())
        waiting.clear()
        for i, (asks, many) in current:
            ledgers[i].rounds += 1
            advance(i, answers[i] if many else answers[i][0])
        if on_round is not None:
            on_round()
    return results, ledgers
