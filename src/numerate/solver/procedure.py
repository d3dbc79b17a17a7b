"""A procedure folder as a solver: `procedure.yaml` names a registered procedure (numerate/procedures) and the
step models it runs on; the procedure only routes digits, every digit of an answer is written by a step model.

    >>> numerate.load("models/mul").solve(["36*4"])
    [144]
    >>> numerate.load("models/gcd").solve(["462,1071"])
    [21]
"""

from __future__ import annotations

import re
from pathlib import Path

from numerate.errors import UsageError
from numerate.solver.base import MAX_DIGITS, ProofReport, Solution, Solver, line_text


class Procedure(Solver):
    """A procedure folder (`models/mul`, `models/gcd`, ...), its step models loaded as commands run them."""

    kind = "procedure"
    keeps_ledger = True

    def problems_per_batch(self, batch_size: int) -> int:
        return 64  # their questions are batched level by level; a smaller batch shows its answers sooner

    def __init__(self, loaded, folder: Path):
        self.loaded, self.folder = loaded, Path(folder)
        self._fits: dict[str, int] = {}  # per step, the widest question known to fit its model

    @property
    def task(self) -> str:
        return self.loaded.procedure.name

    def __repr__(self) -> str:
        return f"<numerate.Procedure {self.task} from {self.folder}>"

    @property
    def syntax(self) -> str:
        return self.loaded.procedure.syntax

    def parse(self, line, number: int = 1, max_digits: int = MAX_DIGITS):
        """One line as the procedure's problem: UsageError naming the line and what is wrong (a number longer than
        `max_digits` digits among them, checked before any number is converted)."""
        procedure = self.loaded.procedure
        text = line_text(line, number, procedure.syntax)
        longest = max((len(run) for run in re.findall(r"[0-9]+", text)), default=0)
        if longest > max_digits:
            raise UsageError(f"line {number}: a {longest:,}-digit number is longer than --max-digits {max_digits:,}")
        try:
            return procedure.parse(text)
        except ValueError as e:
            shown = text if len(text) <= 60 else text[:57] + "..."
            raise UsageError(f"line {number}: {shown!r}: {e}") from None

    def coerce(self, item):
        return item  # a problem as the procedure holds it (a tuple): its body checks what it needs

    def check(self, problem, number: int = 1) -> None:
        """Every step model must represent the widest question the problem leads to, where the procedure says
        how wide that is (`widest_questions`); otherwise a question too wide is refused when it is asked."""
        from numerate.capacity import fits, max_digits

        for step, width in self.loaded.procedure.widest_questions(problem).items():
            if width <= self._fits.get(step, 0):
                continue  # a wider question of this step already fitted
            bundle = self.loaded.bundles[step]
            if not fits(bundle, bundle.task.worst_case(width)):
                raise UsageError(
                    f"line {number}: {self.loaded.procedure.expression(problem)[:40]} needs {bundle.task.name} "
                    f"questions with {width}-digit operands, longer than its model in {self.loaded.step_dirs[step]} "
                    f"can represent (at most {max_digits(bundle)} digits)"
                )
            self._fits[step] = width

    def answer(self, problems: list, batch_size: int = 256, progress: bool = False) -> list[Solution]:
        from numerate.procedures.folder import solve

        procedure = self.loaded.procedure
        answers, ledgers = solve(self.loaded, problems, batch_size=batch_size, progress=progress)
        return [
            Solution(
                p,
                a,
                procedure.write(p, a),
                ledger={
                    "problem": procedure.expression(p),
                    "answer": procedure.write(p, a),
                    "questions": dict(led.questions),
                    "digits_written": dict(led.digits),
                    "rounds": led.rounds,
                },
            )
            for p, a, led in zip(problems, answers, ledgers)
        ]

    def status(self, recheck: bool = False) -> ProofReport:
        from numerate.verify.binding import certificate_status

        statuses, labels = {}, {}
        for name, bundle in self.loaded.bundles.items():
            folder = self.loaded.step_dirs[name]
            if recheck:
                from numerate.verify.recheck import recheck_folder

                statuses[name] = recheck_folder(bundle, folder)
            else:
                statuses[name] = certificate_status(bundle, folder)
            labels[name] = f"{name} step ({folder.name})"
        return ProofReport(statuses, labels)

    def models(self) -> dict:
        return {name: (self.loaded.step_dirs[name], b) for name, b in self.loaded.bundles.items()}

    def proof_claim(self, proven: dict[str, bool], precision: str) -> str:
        """What `numerate verify` concludes for the folder from each step's verdict."""
        from numerate.procedures.folder import PROCEDURE_FILE

        procedure = self.loaded.procedure
        if all(proven.values()):
            return (
                f"PROVEN: `numerate solve {self.folder}` ({procedure.name}): {procedure.claim} (its steps evaluated "
                f"in {precision}). Every step model of {self.folder / PROCEDURE_FILE} is proven above, and the "
                f"procedure around them only routes digits (numerate/procedures/{procedure.name.replace('-', '_')}"
                ".py; docs/verification.md, 'Procedures')."
            )
        failed = ", ".join(name for name, ok in proven.items() if not ok)
        return f"NOT PROVEN: step(s) {failed} not proven, so no claim is made about the answers of {self.folder}"

    def verify(self, precision: str = "float64") -> dict:
        """Each step's certificate; the procedure's answers are proven when every one is (docs/verification.md)."""
        from numerate.solver.models import Model

        return {name: Model(bundle, folder).verify(precision) for name, (folder, bundle) in self.models().items()}


def procedure_solver(folder, device: str = "cpu") -> Procedure:
    from numerate.procedures.folder import load

    return Procedure(load(folder, device=device), Path(folder))
