"""Model folders as solvers: a model that writes the answer, one that runs its task's procedure a step at a time,
and one that writes a whole page of work. `numerate.load` returns these, so they also carry the Python API's
`evaluate`, `verify`, `explain`, `iterate` and `save` (each a thin call into the library).

    >>> adder = numerate.load("models/add-proof")
    >>> adder.solve(["12+34", "999+1"])
    [46, 1000]
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable, Sequence

from numerate.bigint import to_str
from numerate.errors import UsageError
from numerate.solver.base import MAX_DIGITS, ProofReport, Solution, Solver, line_text


def parse_line(raw: str | bytes, number: int, task, max_digits: int = MAX_DIGITS):
    """One input line as a problem of `task` (e.g. `A+B`, `A-B`); UsageError naming the line and what is wrong."""
    symbol = task.symbol
    text = line_text(raw, number, f"only digits, '{symbol}' and spaces are allowed")
    parts = [p.strip() for p in text.split(symbol)] if symbol else [text.strip()]
    if all(p.isdigit() for p in parts):  # check the length before converting a huge number
        longest = max(len(p) for p in parts)
        if longest > max_digits:
            raise UsageError(f"line {number}: a {longest}-digit operand is longer than --max-digits {max_digits}")
    try:
        return task.parse_expression(text)
    except ValueError as exc:
        shown = text if len(text) <= 60 else text[:57] + "..."
        raise UsageError(f"line {number}: {shown!r} is not {exc}") from None


class Model(Solver):
    """A model folder, loaded to run as the command line runs it (in the precision its certificate covers)."""

    kind = "model"

    def __init__(self, bundle, folder: Path | None = None):
        self.bundle, self.folder = bundle, None if folder is None else Path(folder)

    @property
    def task(self) -> str:
        return self.bundle.task.name

    def __repr__(self) -> str:
        where = f" from {self.folder}" if self.folder else ""
        return f"<numerate.Model {self.task}{where}>"

    @property
    def syntax(self) -> str:
        symbol = self.bundle.task.symbol
        return f"'12{symbol}34'" if symbol else "'1234'"

    # ---------------------------------------------------------------- lines in, answers out

    def parse(self, line, number: int = 1, max_digits: int = MAX_DIGITS):
        if not self.bundle.task.symbol:
            raise UsageError(
                f"{self.folder or 'this model'} was trained on '{self.task}', whose problems are not written as "
                "expressions"
            )
        return parse_line(line, number, self.bundle.task, max_digits)

    def coerce(self, item):
        from numerate.tasks.base import Problem

        if isinstance(item, Problem):
            return item
        if isinstance(item, (tuple, list)) and all(isinstance(x, int) and x >= 0 for x in item):
            return Problem(tuple(item))
        raise UsageError(f"{item!r} is not a problem: give an expression such as '12+34' or operands (12, 34)")

    def check(self, problem, number: int = 1) -> None:
        from numerate.capacity import fits, max_digits

        if not fits(self.bundle, problem) or not fits(self.bundle, self._widest_question(problem)):
            longest = max(len(to_str(x)) for x in problem.operands)
            raise UsageError(
                f"line {number}: a {longest}-digit operand is longer than this model can represent (at most "
                f"{max_digits(self.bundle)} digits)"
            )

    def _widest_question(self, problem):
        return problem

    def answers(self, problems: Iterable, batch_size: int = 256, progress: bool = False) -> list:
        """Each problem's Answer (the text written, the value read back, whether it is right)."""
        from numerate.eval.answer import answer_problems

        problems = self.problems(problems)
        return answer_problems(self.bundle, problems, batch_size=batch_size, progress=progress)

    def answer(self, problems: list, batch_size: int = 256, progress: bool = False) -> list[Solution]:
        from numerate.eval.answer import written_exactly

        fmt = self.bundle.fmt
        out = []
        for a in self.answers(problems, batch_size, progress=progress and len(problems) == 1):
            if a.value is None:
                raw = a.text[::-1] if fmt.reverse else a.text
                out.append(Solution(a.problem, None, raw, exact_form=False, answer=a))
            else:
                out.append(Solution(a.problem, a.value, to_str(a.value), written_exactly(fmt, a), answer=a))
        return out

    def status(self, recheck: bool = False) -> ProofReport:
        from numerate.verify.binding import certificate_status

        if recheck:
            from numerate.verify.recheck import recheck_folder

            return ProofReport({"model": recheck_folder(self.bundle, self.folder)})
        if self.folder is None:
            from numerate.verify.status import NO_CERTIFICATE

            return ProofReport({"model": NO_CERTIFICATE})
        return ProofReport({"model": certificate_status(self.bundle, self.folder)})

    def models(self) -> dict:
        return {"model": (self.folder, self.bundle)}

    def one_model(self, command: str):
        return self.bundle

    # ---------------------------------------------------------------- the rest of the Python API

    def evaluate(
        self,
        lengths: str | Sequence[int] = "1-10",
        samples: int = 100,
        adversarial: bool = False,
        grid: bool = False,
        seed: int = 1234,
        batch_size: int = 512,
    ):
        """Exact match on fresh problems per operand length (as `numerate eval`): uniform operands, and with
        `adversarial` the task's hard samplers (carry chains for addition); `grid` pairs every two lengths.

        >>> numerate.load("models/add-proof").evaluate(lengths="5,40", samples=20).exact_match
        100.0
        """
        from numerate.eval.cells import make_cells
        from numerate.eval.evaluate import Evaluation, evaluate
        from numerate.lengths import parse_lengths

        spec = lengths if isinstance(lengths, str) else ",".join(str(int(n)) for n in lengths)
        task = self.bundle.task
        cells = make_cells(parse_lengths(spec), grid, adversarial, task=task)
        answerer = self._answerer()
        rows, mistakes = evaluate(
            self.bundle, cells, samples=samples, seed=seed, batch_size=batch_size, task=task, answerer=answerer
        )
        return Evaluation(rows, mistakes, tuple(task.cell_dims), self.bundle.cfg.task.train_lengths[1])

    def _answerer(self):
        return None

    def verify(self, precision: str = "float64", progress: bool = False):
        """Prove the model right on every problem of every length, or refute it (docs/verification.md).

        >>> numerate.load("models/add-tiny").verify().proven
        True
        """
        from numerate.certificate_json import Certificate
        from numerate.verify.certificate import certificate
        from numerate.verify.prove import verify

        result = verify(self.bundle, progress=progress, precision=precision)
        return Certificate(certificate(self.bundle, self.folder or Path("."), result))

    def explain(self) -> str:
        """The automaton a proven model computes, read off its checked cases (`numerate explain`'s table)."""
        from numerate.verify.automaton import NotATransducer, explain

        if not self.verify().proven:
            raise UsageError(f"{self.folder or 'this model'} does not verify: no automaton is claimed for it")
        try:
            found = explain(self.bundle, self.task)
        except NotATransducer as exc:
            raise UsageError(f"{self.folder or 'this model'} is proven, but not a column transducer: {exc}") from None
        return f"{found.machine.n_states} states: {found.statement}\n{found.table()}"

    def iterate(
        self,
        modes: Sequence[str] = ("one-shot", "external"),
        dial: Sequence[int] = (8,),
        samples: int = 50,
        retries: int = 3,
        seed: int = 1234,
    ) -> list[dict]:
        """The iteration lab (`numerate iterate`) on this model: for each mode and number of iterations, a row with
        the fraction of exact answers, of steps right first time and the proposals made (one-shot, looped, or the
        external propose-verify loop with the exact checker).

        >>> rows = numerate.load("models/iter-sum-step").iterate(modes=["external"], dial=[5], samples=5)
        >>> rows[0]["exact"], rows[0]["step_first_try"]
        (1.0, 1.0)
        """
        from numerate.iterate.lab import MODES, LabSettings, run_lab

        chosen = list(modes)
        for mode in chosen:
            MODES.get(mode)  # a clear error naming the modes, before any work
        settings = LabSettings(samples=samples, seed=seed, retries=retries)
        return run_lab(self.bundle, chosen, [int(k) for k in dial], settings, progress=False)

    def save(self, folder: str | Path) -> Path:
        """Write the model folder (weights and config.json) to `folder`, atomically (float32 tensors, whatever
        precision it runs in)."""
        from numerate.checkpoint import save_model

        folder = Path(folder)
        save_model(folder, self.bundle, dict(self.bundle.meta))
        return folder


class StepwiseModel(Model):
    """A model of an iterative task (long multiplication by lines, running sums): `solve` runs the task's
    procedure one model step at a time, each step's answer taken as the model wrote it."""

    kind = "stepwise"

    def _widest_question(self, problem):
        return self.bundle.task.widest_query(problem)

    def _answerer(self):
        from numerate.iterate.stepwise import procedure_answers

        return procedure_answers

    def answers(self, problems: Iterable, batch_size: int = 256, progress: bool = False) -> list:
        from numerate.iterate.stepwise import procedure_answers

        return procedure_answers(self.bundle, self.problems(problems), batch_size)

    def answer(self, problems: list, batch_size: int = 256, progress: bool = False) -> list[Solution]:
        return [
            Solution(a.problem, a.value, a.text, exact_form=True, answer=a)
            for a in self.answers(problems, batch_size, progress)
        ]


class PageModel(Model):
    """A model that writes a whole page of work (format page or page-grid); the answer is what the page's last
    lines stand for, and a page that does not end within its budget is refused."""

    kind = "page"

    def answer(self, problems: list, batch_size: int = 256, progress: bool = False) -> list[Solution]:
        task, fmt = self.bundle.task, self.bundle.fmt
        out = []
        for s in super().answer(problems, batch_size, progress):
            a = s.answer
            if not a.ended:
                s.refusal = self._unended(a)
            elif a.value is not None:
                s.value = task.final(a.value)
            if s.value is None:
                s.line = a.text[::-1] if fmt.reverse else a.text
            elif isinstance(s.value, tuple):  # several numbers (a quotient and a remainder): space-separated
                s.line = " ".join(to_str(x) for x in s.value)
            else:
                s.line = to_str(s.value)
            out.append(s)
        return out

    def _unended(self, a) -> str:
        fmt = self.bundle.fmt
        budget = fmt.max_target_len(a.problem) + 1
        line = fmt.count_lines(a.text) + 1 if hasattr(fmt, "count_lines") else a.text.count(fmt.LINE + fmt.OPEN) + 1
        return (
            f"the model did not end its page within the {budget:,} tokens its format allows for this question "
            f"(line {line} of the page never closes, or the page holds too many lines); no answer is given "
            "(a model off its procedure: `numerate verify` says where)"
        )

    def solve(self, items: Iterable, batch_size: int = 256) -> list:
        """The result each page stands for (None where the page cannot be read).

        >>> numerate.load("models/page-add").solve(["12+345+9"])  # the last line of its page
        [366]
        """
        problems = self.problems(items)
        for p in problems:
            self.check(p)
        solutions = self.answer(problems, batch_size=batch_size)
        refused = next((s for s in solutions if s.refusal), None)
        if refused is not None:
            raise UsageError(f"{self.bundle.task.expression(refused.problem)[:60]}: {refused.refusal}")
        return [s.value for s in solutions]

    def render_work(self, solution: Solution) -> str:
        """The page as on paper: the operands, then each line of work as written (most significant digit first),
        right-aligned, one per line and named."""
        bundle, a = self.bundle, solution.answer
        fmt = bundle.fmt
        numbers = [to_str(x) for x in a.problem.operands]
        if hasattr(fmt, "split"):  # lines the model opened with the variant it chose, shown with it
            written = [cells[::-1] + " " + variant for variant, cells, _ in fmt.split(a.text)[:-1]]
        else:
            written = [line[::-1] for line in a.text.replace(fmt.OPEN, "").split(fmt.LINE) if line]
        width = max(map(len, numbers + written)) + 2
        symbol = bundle.task.symbol
        out = [f"{symbol + ' ' if i else '  '}{n:>{width - 2}}" for i, n in enumerate(numbers)]
        out.append("-" * width)
        names = bundle.task.line_names(len(numbers), len(written))
        out += [f"{w:>{width}}   {name}" for w, name in zip(written, names)]
        return "\n".join(out) + "\n"


def model_solver(bundle, folder: Path | None = None) -> Model:
    """The solver for a loaded model: the task says whether its answers are pages or a procedure of steps."""
    from numerate.tasks.iterative import is_stepwise

    if getattr(bundle.task, "page", False):
        return PageModel(bundle, folder)
    if is_stepwise(bundle.task):
        return StepwiseModel(bundle, folder)
    return Model(bundle, folder)
