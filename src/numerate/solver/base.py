"""What every solver is: a folder that parses a line, checks it, answers a batch and says what is proven.

`numerate solve` streams lines through `parse`, `check` and `answer`; the Python API's `solve` does the same on a
list. Neither knows what kind of folder it holds: that is each subclass's business (solver/models.py,
solver/procedure.py), chosen once by `numerate.solver.open_folder`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Iterable

from numerate.errors import UsageError
from numerate.verify.status import ProofStatus

MAX_DIGITS = 1_000_000  # the longest operand a line may hold unless the caller says otherwise (--max-digits)


def line_text(raw: str | bytes, number: int, allowed: str) -> str:
    """An input line as text without its line end; UsageError naming the line when it is not plain ASCII or holds
    a control character (which str.strip would quietly drop around a number). `allowed` says what a line holds."""
    try:
        text = raw.decode("ascii") if isinstance(raw, bytes) else raw.encode("ascii").decode()
    except (UnicodeDecodeError, UnicodeEncodeError):
        raise UsageError(f"line {number}: not plain text ({allowed})") from None
    text = text.rstrip("\r\n")
    bad = next((c for c in text if ord(c) < 32 or ord(c) == 127), None)
    if bad is not None:
        raise UsageError(f"line {number}: control character {bad!r} ({allowed}; a line ends with \\n or \\r\\n)")
    return text


@dataclass
class Solution:
    """One problem answered: the value, the line `solve` writes for it, and what the command should say about it."""

    problem: Any
    value: Any  # the result (None where what was written is not one)
    line: str  # what `solve` writes on stdout for it
    exact_form: bool = True  # written exactly as the format writes the value (what a proof certifies)
    refusal: str | None = None  # why no answer can be given at all (the run is refused, exit 2)
    answer: Any = None  # the model's Answer (text written, ended), where a model wrote it
    ledger: dict | None = None  # procedures: the questions asked and digits written per step model


@dataclass
class ProofReport:
    """The proof status of every model a folder runs: one for a model folder, one per step for a procedure."""

    statuses: dict[str, ProofStatus]
    labels: dict[str, str] = field(default_factory=dict)  # how each is named on stderr (a step and its folder)

    @property
    def proven(self) -> bool:
        return bool(self.statuses) and all(s.proven for s in self.statuses.values())

    @property
    def unproven(self) -> list[str]:
        return [name for name, s in self.statuses.items() if not s.proven]

    def lines(self, problems_only: bool = False) -> list[str]:
        """What `solve` says on stderr before answering (nothing for a lone model with no certificate); with
        `problems_only` (solve --quiet), nothing about the models that are proven."""
        if set(self.statuses) == {"model"}:
            status = self.statuses["model"]
            return [] if status.state == "none" or (problems_only and status.proven) else [status.text]
        out = [
            f"{self.labels.get(name, name)}: {s.text}"
            for name, s in self.statuses.items()
            if not (problems_only and s.proven)
        ]
        if self.unproven:
            out.append(
                f"warning: step(s) {', '.join(self.unproven)} not proven: these answers are not covered by a proof"
            )
        return out


class Solver:
    """A folder numerate answers from. Subclasses say how a line reads, what a model can represent, how a batch
    is answered and which models' proofs cover the answers."""

    kind: ClassVar[str] = ""
    keeps_ledger: ClassVar[bool] = False  # each Solution carries the questions asked and digits written per step
    folder: Path | None = None

    def problems_per_batch(self, batch_size: int) -> int:
        """How many problems a stream hands to `answer` at once, for a decoder batch of `batch_size` rows."""
        return 16 * batch_size

    @property
    def syntax(self) -> str:
        """How one line is written, for messages."""
        raise NotImplementedError

    def parse(self, line: str | bytes, number: int = 1, max_digits: int = MAX_DIGITS):
        """One line as a problem; UsageError naming the line and what is wrong."""
        raise NotImplementedError

    def check(self, problem, number: int = 1) -> None:
        """UsageError when the folder cannot answer `problem` (a model too small to represent it)."""

    def answer(self, problems: list, batch_size: int = 256, progress: bool = False) -> list[Solution]:
        raise NotImplementedError

    def status(self, recheck: bool = False) -> ProofReport:
        raise NotImplementedError

    def models(self) -> dict[str, tuple[Path, Any]]:
        """The models whose proofs cover this folder's answers: name -> (folder, bundle)."""
        raise NotImplementedError

    def one_model(self, command: str):
        """The folder's one model (its bundle), for commands that measure or draw a single model; UsageError
        naming `command` where the folder holds several (a procedure's steps)."""
        steps = ", ".join(str(folder) for folder, _ in self.models().values())
        raise UsageError(f"{self.folder} holds several models ({steps}): `numerate {command}` takes one model folder")

    def render_work(self, solution: Solution) -> str:
        """The work behind an answer, as on paper (page models); empty where there is none to show."""
        return ""

    def problems(self, items: Iterable) -> list:
        """Problems from lines ("12+34"), or objects the solver already takes (operand tuples, problems)."""
        out = []
        for item in items:
            if isinstance(item, str):
                out.append(self.parse(item.strip()))
            else:
                out.append(self.coerce(item))
        return out

    def coerce(self, item):
        """A problem given as an object rather than a line; UsageError when it is not one."""
        raise UsageError(f"{item!r} is not a problem: give a line such as {self.syntax}")

    def solve(self, items: Iterable, batch_size: int = 256) -> list:
        """The answers as values (None where what was written is not one), in order."""
        problems = self.problems(items)
        for p in problems:
            self.check(p)
        return [s.value for s in self.answer(problems, batch_size=batch_size)]
