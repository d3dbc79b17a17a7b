"""a * b for any two non-negative integers from two step models, with a procedure that only routes digits.

    a * b = sum_j P_j * 10^j,   P_j = a * d_j,   d_j = b's digit j (least significant first)

- a *times-digit* model writes every P_j: its question is a with d_j written in every column (tasks/times_digit.py);
- an *addition* model writes every sum. The P_j are added pairwise in a tree: at each level, neighbours x (at
  offset o) and y (at offset o + w) become x + y * 10^w, at offset o. y * 10^w has zeros in x's lowest w places,
  so those digits of x are copied through and the model adds the rest: (x // 10^w) + y. After ceil(log2 m) levels
  one number is left: the product.

The procedure reads b's digits, writes one in every column, splits and joins digit strings (a shift is a string
of zeros appended) and pairs numbers up; it never adds, multiplies or carries. When both step models are proven
(`numerate verify`: every question of their task answered exactly, at every length), every P_j and every sum
is exact, so by induction over the tree the product is exact for every pair of non-negative integers.

A folder holding `procedure.yaml` (which names the two step folders) is such a model: `numerate solve` and
`numerate verify` read it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from numerate.bigint import from_str, to_str
from numerate.errors import UsageError
from numerate.tasks.base import Problem

PROCEDURE_FILE = "procedure.yaml"
STEP_TASKS = {"times": ("times-digit",), "add": ("addition",)}


@dataclass
class Multiplier:
    folder: Path
    times: object  # Bundle of a times-digit model
    add: object  # Bundle of an addition model
    step_dirs: dict[str, Path] = field(default_factory=dict)
    digits_written: int = 0  # answer digits the step models wrote so far (tokens before <eos>)
    questions: int = 0
    checked_width: int = 0  # a product width and a length of a whose step questions are known to fit
    checked_a: int = 0


def is_procedure(folder) -> bool:
    return (Path(folder) / PROCEDURE_FILE).is_file()


def read_procedure(folder) -> dict[str, Path]:
    """The step folders `procedure.yaml` names, resolved against the folder; UsageError when malformed."""
    import yaml

    path = Path(folder) / PROCEDURE_FILE
    try:
        spec = yaml.safe_load(path.read_text())
    except (yaml.YAMLError, UnicodeDecodeError) as e:
        raise UsageError(f"{path}: not valid YAML ({e})") from None
    if not isinstance(spec, dict) or spec.get("procedure") != "long-multiplication":
        raise UsageError(f"{path}: expected 'procedure: long-multiplication' (the only procedure numerate knows)")
    steps = spec.get("steps")
    if not isinstance(steps, dict) or set(steps) != set(STEP_TASKS):
        raise UsageError(f"{path}: 'steps' must name exactly the folders {', '.join(STEP_TASKS)}")
    return {name: (Path(folder) / str(steps[name])).resolve() for name in STEP_TASKS}


def load_multiplier(folder, device: str = "cpu") -> Multiplier:
    from numerate.checkpoint import load_certified

    dirs = read_procedure(folder)
    bundles = {}
    for name, path in dirs.items():
        bundle = load_certified(path, device=device)
        if bundle.task.name not in STEP_TASKS[name]:
            raise UsageError(
                f"{Path(folder) / PROCEDURE_FILE}: step '{name}' needs a model of {' or '.join(STEP_TASKS[name])}, "
                f"but {path} was trained on '{bundle.task.name}'"
            )
        bundles[name] = bundle
    return Multiplier(Path(folder), bundles["times"], bundles["add"], dirs)


def _repeat(digit: str, width: int) -> int:
    return from_str(digit * width)


def _ask(m: Multiplier, bundle, questions: list[Problem], batch_size: int) -> list[int]:
    """The step model's answers, each read through the same written-form check `solve` uses (the format's own
    writing of a value, then <eos>: what a step's proof certifies); UsageError otherwise, since no proof would
    cover a product built from it."""
    from numerate.eval.answer import answer_problems, written_exactly

    if not questions:
        return []
    answers = answer_problems(bundle, questions, batch_size=batch_size)
    for a in answers:
        if not written_exactly(bundle.fmt, a) or not isinstance(a.value, int):
            shown = bundle.task.expression(a.problem)
            raise UsageError(
                f"the {bundle.task.name} model wrote {a.text[:40]!r} for {shown[:60]}: not the format's writing of "
                "a number followed by <eos>, so the product built from it is not covered by the steps' proofs"
            )
        m.digits_written += len(a.text)
    m.questions += len(questions)
    return [a.value for a in answers]


def multiply(m: Multiplier, problems: list[Problem], batch_size: int = 256) -> list[int]:
    """a * b for every problem (a, b), all problems' steps batched together level by level."""
    # Level 0: every partial product a * d_j, as (value, offset j) per problem.
    questions, owners = [], []
    for i, p in enumerate(problems):
        a, b = p.operands
        a_text = to_str(a)
        for j, d in enumerate(reversed(to_str(b))):
            questions.append(Problem((a, _repeat(d, len(a_text)))))
            owners.append((i, j))
    values = _ask(m, m.times, questions, batch_size)
    items: list[list[tuple[int, int]]] = [[] for _ in problems]
    for (i, j), v in zip(owners, values):
        items[i].append((v, j))
    # Then pairwise sums until one number per problem is left.
    while any(len(x) > 1 for x in items):
        questions, places = [], []
        for i, level in enumerate(items):
            for k in range(0, len(level) - 1, 2):
                (x, ox), (y, oy) = level[k], level[k + 1]
                x_text = to_str(x).zfill(oy - ox + 1)
                w = oy - ox
                high, low = from_str(x_text[:-w] or "0"), x_text[-w:]  # y * 10^w has zeros below: copy x's digits
                questions.append(Problem((high, y)))
                places.append((i, k, low, ox))
        sums = _ask(m, m.add, questions, batch_size)
        merged: list[list[tuple[int, int]]] = [[] for _ in problems]
        for (i, k, low, ox), s in zip(places, sums):
            merged[i].append((from_str(to_str(s) + low), ox))
        for i, level in enumerate(items):
            if len(level) % 2:
                merged[i].append(level[-1])  # the odd one out waits for the next level
            if len(level) == 1:
                merged[i] = level
        items = merged
    return [level[0][0] for level in items]
