"""A procedure folder: `procedure.yaml` names a registered procedure and the step-model folders it runs on.

    procedure: gcd          # numerate.procedures.PROCEDURES
    variant: euclid         # optional
    steps:
      sub: ../sub
      times: ../mul/times-digit

`numerate solve`, `verify` and the Python API read such a folder. Every step folder is loaded as commands run a
certified model (its certificate's precision), and every answer a step model writes is read through the same
written-form check `solve` uses: the format's own writing of a number, then <eos>, which is what a step's proof
certifies. Anything else stops the run, since no proof would cover a result built from it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from numerate.errors import UsageError
from numerate.procedures.base import PROCEDURES, STEP_TASKS, Procedure

PROCEDURE_FILE = "procedure.yaml"


def is_procedure(folder) -> bool:
    return (Path(folder) / PROCEDURE_FILE).is_file()


def read_spec(folder) -> tuple[Procedure, dict[str, Path]]:
    """The procedure `procedure.yaml` names and its step folders (resolved against the folder); UsageError when
    malformed."""
    import yaml

    from numerate.procedures import load_all

    load_all()
    path = Path(folder) / PROCEDURE_FILE
    try:
        spec = yaml.safe_load(path.read_text())
    except (yaml.YAMLError, UnicodeDecodeError) as e:
        raise UsageError(f"{path}: not valid YAML ({e})") from None
    known = ", ".join(PROCEDURES.names())
    if not isinstance(spec, dict) or spec.get("procedure") not in PROCEDURES.names():
        raise UsageError(f"{path}: 'procedure' must name one of: {known}")
    cls = PROCEDURES.get(spec["procedure"])
    try:
        procedure = cls(str(spec.get("variant", "default")))
    except ValueError as e:
        raise UsageError(f"{path}: {e}") from None
    steps = spec.get("steps")
    if not isinstance(steps, dict) or set(steps) != set(cls.steps):
        raise UsageError(f"{path}: 'steps' must name exactly the folders {', '.join(cls.steps)}")
    return procedure, {name: (Path(folder) / str(steps[name])).resolve() for name in cls.steps}


@dataclass
class LoadedProcedure:
    folder: Path
    procedure: Procedure
    bundles: dict[str, object]  # step name -> Bundle
    step_dirs: dict[str, Path]
    questions: int = 0  # questions asked so far, all steps
    digits_written: int = 0  # answer tokens the step models wrote before <eos>, all steps
    limits: dict[str, int | None] = field(default_factory=dict)  # longest operand each step model represents
    notes: dict = field(default_factory=dict)  # what a caller keeps between batches (e.g. capacity already checked)


def load(folder, device: str = "cpu") -> LoadedProcedure:
    from numerate.capacity import max_digits
    from numerate.checkpoint import load_certified

    procedure, dirs = read_spec(folder)
    bundles, limits = {}, {}
    for name, path in dirs.items():
        bundle = load_certified(path, device=device)
        if bundle.task.name != STEP_TASKS[name]:
            raise UsageError(
                f"{Path(folder) / PROCEDURE_FILE}: step '{name}' needs a model of {STEP_TASKS[name]}, "
                f"but {path} was trained on '{bundle.task.name}'"
            )
        bundles[name], limits[name] = bundle, max_digits(bundle)
    return LoadedProcedure(Path(folder), procedure, bundles, dirs, limits=limits)


def _question(step: str, operands: tuple[int, ...]):
    from numerate.tasks.base import Problem
    from numerate.tasks.times_digit import repdigit

    if step == "times":  # a with d written in every column (tasks/times_digit.py)
        a, d = operands
        return Problem((a, repdigit(d, len(_digits(a)))))
    return Problem(operands)


def _digits(x: int) -> str:
    from numerate.bigint import to_str

    return to_str(x)


def asker(loaded: LoadedProcedure, batch_size: int = 256):
    """The engine's `ask`: one batch of questions to one step model, each answer checked for its written form."""
    from numerate.eval.answer import answer_problems, written_exactly

    def ask(step: str, operands: list[tuple[int, ...]]):
        bundle = loaded.bundles[step]
        limit = loaded.limits.get(step)
        if limit is not None:
            longest = max(len(_digits(x)) for ops in operands for x in ops)
            if longest > limit:
                raise UsageError(
                    f"the problem needs {bundle.task.name} questions with {longest}-digit operands; the model in "
                    f"{loaded.step_dirs[step]} represents at most {limit} digits"
                )
        answers = answer_problems(bundle, [_question(step, ops) for ops in operands], batch_size=batch_size)
        digits = []
        for a in answers:
            if not written_exactly(bundle.fmt, a) or not isinstance(a.value, int):
                shown = bundle.task.expression(a.problem)
                raise UsageError(
                    f"the {bundle.task.name} model wrote {a.text[:40]!r} for {shown[:60]}: not the format's writing "
                    "of a number followed by <eos>, so a result built from it is not covered by the steps' proofs"
                )
            digits.append(len(a.text))
        loaded.questions += len(operands)
        loaded.digits_written += sum(digits)
        return [a.value for a in answers], digits

    return ask


def solve(
    loaded: LoadedProcedure, problems: list, batch_size: int = 256, keep_lines: bool = False, progress: bool = False
):
    """The procedure's answers to every problem, all problems' questions batched level by level; returns
    (answers, ledgers). With `progress`, a bar of the rounds of questions (against the most the procedure may
    need, where it declares a bound)."""
    from tqdm.auto import tqdm

    from numerate.procedures.engine import run

    bodies = [loaded.procedure.body(p) for p in problems]
    bounds = [loaded.procedure.max_rounds(p) for p in problems]
    limit = None if None in bounds or not bounds else max(bounds)
    with tqdm(total=limit, disable=not progress, unit="round", desc="rounds", leave=False) as bar:
        return run(
            bodies, asker(loaded, batch_size), keep_lines=keep_lines, max_rounds=limit, on_round=lambda: bar.update()
        )
