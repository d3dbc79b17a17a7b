"""One evaluate(): exact match of greedy answers over cells of (sampler, operand lengths), and where errors sit."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from numerate.bigint import to_str
from numerate.errors import UsageError
from numerate.eval.adaptive import answer_until_stable, auto_depths
from numerate.eval.answer import Answer, answer_problems


def wrong_digit_tenths(answers: list[Answer]) -> list[int]:
    """Where in the number the wrong digits sit: counts per tenth of the answer's length, least significant first.

    Digit i of an n-digit true answer (i = 0 least significant) falls in tenth floor(10 i / n); a missing or extra
    digit counts as wrong at its place. Unparseable answers are not counted.
    """
    tenths = [0] * 10
    for a in answers:
        if a.value is None or a.correct or isinstance(a.truth, tuple) or isinstance(a.value, tuple):
            continue
        truth, said = to_str(a.truth)[::-1], to_str(a.value)[::-1]
        n = len(truth)
        for i in range(max(n, len(said))):
            if i >= n or i >= len(said) or truth[i] != said[i]:
                tenths[min(9, 10 * i // n)] += 1
    return tenths


def cell_problems(task, sampler: str, lengths: tuple[int, ...], samples: int, seed: int):
    """The test problems of one cell: fixed by (seed, sampler, lengths), independent of everything else."""
    rng = random.Random(f"eval/{seed}/{sampler}/{'x'.join(map(str, lengths))}")
    return [task.sample(rng, sampler, lengths) for _ in range(samples)]


def evaluate(
    bundle,
    cells,
    samples: int = 100,
    seed: int = 1234,
    batch_size: int = 512,
    use_cache: bool = True,
    recurrences: int | str | None = None,
    progress: bool = False,
    task=None,
    answerer=None,
):
    """Exact match for each cell (sampler, lengths). Returns (rows, mistakes).

    `task` (default the model's own) is where the cells and their problems come from: another task's problems are
    posed to the model as expressions its task reads (`pose`), and judged by the cells' task. `answerer`
    (bundle, problems, batch_size) -> answers replaces one-shot decoding: `numerate.iterate.stepwise.
    procedure_answers` answers with the model's task's procedure, one model step at a time (a step model).

    A row: {"sampler", <the task's cell_dims, e.g. "len_a", "len_b">, "n", "correct", "exact_match"}; cells the
    model cannot represent get
    "exact_match": None and a "note". All cells are decoded together, grouped by prompt length, so a grid costs
    little more than its longest row. `mistakes` holds up to three wrong answers per cell.

    recurrences="auto" (looped models) raises the depth from the training depth up to 4x it until each answer
    stops changing, and records the mean depth used per cell as "recurrences".
    """
    from numerate.capacity import fits
    from numerate.tasks.iterative import is_stepwise

    source = task or bundle.task
    stepwise = answerer is not None
    if stepwise:
        if not is_stepwise(bundle.task):
            raise UsageError(f"--stepwise needs an iterative task's model; this one's task is {bundle.task.name}")
        if recurrences is not None:
            raise UsageError("--recurrences applies to one-shot answers, not to --stepwise")
    rows, pending = [], []
    for sampler, lengths in cells:
        originals = cell_problems(source, sampler, lengths, samples, seed)
        problems = [pose(p, source, bundle.task) for p in originals]
        row = {"sampler": sampler, **dict(zip(source.cell_dims, lengths)), "n": len(problems)}
        asked = [bundle.task.widest_query(p) for p in problems] if stepwise else problems
        longest = max(asked, key=lambda p: len(bundle.fmt.prompt(p)))
        if not fits(bundle, longest):
            row.update(correct=None, exact_match=None, note="longer than the model can represent")
        else:
            pending.append((row, problems, originals))
        rows.append(row)
    flat = [p for _, problems, _ in pending for p in problems]
    depths = None
    if stepwise:
        answers = answerer(bundle, flat, batch_size)
    elif recurrences == "auto":
        r_min, r_max = auto_depths(bundle)
        answers, depths = answer_until_stable(
            bundle, flat, r_min=r_min, r_max=r_max, batch_size=batch_size, use_cache=use_cache
        )
    else:
        answers = answer_problems(bundle, flat, batch_size, use_cache, recurrences, progress=progress)
    if source.name != bundle.task.name:  # judged by the task the problems come from
        originals = [p for _, _, ps in pending for p in ps]
        answers = [Answer(p, source.answer(p), a.text, a.value) for p, a in zip(originals, answers)]
    mistakes, at = [], 0
    for row, problems, _ in pending:
        mine, at = answers[at : at + len(problems)], at + len(problems)
        correct = sum(a.correct for a in mine)
        row.update(correct=correct, exact_match=correct / len(mine), wrong_digit_tenths=wrong_digit_tenths(mine))
        if depths is not None:
            row["recurrences"] = sum(depths[at - len(problems) : at]) / len(problems)
        mistakes.extend([a for a in mine if not a.correct][:3])
    return rows, mistakes


def pose(problem, source, target):
    """A problem of task `source` as one of task `target`: written as `source`'s expression and read by `target`
    (a running-sum model takes addition-many's operands). UsageError if `target` cannot read it."""
    if source is target or source.name == target.name:
        return problem
    text = source.expression(problem)
    try:
        return target.parse_expression(text)
    except ValueError as e:
        raise UsageError(
            f"a {target.name} model cannot take {source.name}'s problems: it reads {e}, and they are written "
            f"like {text[:40]!r}"
        ) from None


def describe_mistake(bundle, a: Answer) -> str:
    expr = bundle.task.expression(a.problem)
    said = (
        to_str(a.value) if isinstance(a.value, int) else a.value if a.value is not None else f"unparseable {a.text!r}"
    )
    truth = to_str(a.truth) if isinstance(a.truth, int) else a.truth
    return f"model says {expr} = {said}, truth {truth}"


def split_accuracy(bundle, lengths: tuple[int, int], samples: int, seed: int, batch_size: int = 256) -> float:
    """Exact match on problems whose operand lengths are drawn independently from [lo, hi]."""
    rng = random.Random(f"split/{seed}/{lengths[0]}-{lengths[1]}")
    problems = [bundle.task.sample_range(rng, *lengths) for _ in range(samples)]
    answers = answer_problems(bundle, problems, batch_size)
    return sum(a.correct for a in answers) / len(answers)


@dataclass
class Evaluation:
    """Exact match per cell (rows as `numerate eval --json` writes them) and the first wrong answers."""

    rows: list[dict]
    mistakes: list[Any] = field(default_factory=list)
    dims: tuple = ("len_a", "len_b")
    train_max: int | None = None

    def table(self) -> str:
        """The table `numerate eval` prints.

        >>> print(numerate.load("models/add-tiny").evaluate(lengths="3", samples=10).table())  # doctest: +SKIP
        """
        from numerate.eval.cells import format_table

        return format_table(self.rows, dims=self.dims)

    def plot(self, path: str | Path, title: str = "exact match by operand length") -> Path:
        """Exact match against length (a line per sampler), written to `path` (needs the `plot` extra)."""
        from numerate import plots

        plots.sweep({"model": self.rows}, str(path), title, self.train_max, dim=self.dims[-1])
        return Path(path)

    @property
    def exact_match(self) -> float:
        """Problems answered exactly, over every cell the model can represent (%)."""
        rows = [r for r in self.rows if r.get("exact_match") is not None]
        n = sum(r["n"] for r in rows)
        return 100.0 * sum(r["correct"] for r in rows) / n if n else float("nan")
