"""Run an iterative task in each mode over a range of dial settings and measure the answers.

Modes, all with the same trained model:

- ``one-shot``: the model writes the final answer directly, at its training depth;
- ``looped``: a looped model deepens each answer from its training depth up to 4x until the answer stops changing;
- ``external``: a proposer (``PROPOSERS``: the model by default) answers one step at a time inside the
  controller's propose-verify-refine loop;
- ``proven-steps``: a procedure folder (numerate/procedures) answers through proven step models.

The subject is a model trained here (a bundle) or a language model (iterate/subject.py), which answers one-shot
and external questions from prompts and cannot loop.

Modes are registered in ``MODES``: a mode is a function (bundle, problems, settings) -> (answers, row fields).

The test problems of a dial setting depend only on (task, setting, seed), so every model and mode is measured on
the same problems.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from numerate.errors import UsageError
from numerate.eval.adaptive import answer_until_stable, auto_depths, is_looped
from numerate.eval.answer import answer_problems
from numerate.iterate.proposers import PROPOSERS
from numerate.registry import Registry

MODES: Registry = Registry("iteration mode")


def _judge_rows(task, problems, answers) -> list[dict]:
    return [task.judge(p, a) for p, a in zip(problems, answers)]


def _direct_answers(bundle, problems, deepen: bool) -> tuple[list, dict]:
    """Answers of one decoding (deepened until stable when `deepen`); problems the model cannot represent get
    None."""
    from numerate.capacity import fits

    ok = [i for i, p in enumerate(problems) if fits(bundle, p)]
    values, extra = [None] * len(problems), {}
    todo = [problems[i] for i in ok]
    if todo and not deepen:
        answers = answer_problems(bundle, todo)
    elif todo:
        r_min, r_max = auto_depths(bundle)
        answers, depths = answer_until_stable(bundle, todo, r_min=r_min, r_max=r_max)
        extra["recurrences_mean"] = statistics.mean(depths)
    for i, a in zip(ok, answers if todo else []):
        values[i] = a.value
    extra.update(
        proposals_mean=1.0,
        parse_failure_rate=sum(v is None for v in values) / len(problems),
        unrepresentable=len(problems) - len(ok),
    )
    return values, extra


@MODES.register("one-shot", "the model writes the final answer directly, at its training depth")
def one_shot(bundle, problems, settings: "LabSettings"):
    from numerate.iterate.subject import LanguageModelSubject

    if isinstance(bundle, LanguageModelSubject):
        return bundle.final_answers(problems, settings.seed, settings.ledger)
    return _direct_answers(bundle, problems, deepen=False)


@MODES.register("looped", "a looped model deepens each answer up to 4x its training depth until it is stable")
def looped(bundle, problems, settings: "LabSettings"):
    if not hasattr(bundle, "model") or not is_looped(bundle):
        raise UsageError("mode 'looped' needs a looped model (trained with model.recurrences > 1)")
    return _direct_answers(bundle, problems, deepen=True)


@MODES.register("external", "one step at a time inside the controller's propose-verify loop")
def external(bundle, problems, settings: "LabSettings", judge=None):
    from numerate.iterate.controller import run_external

    proposer = PROPOSERS.get(settings.proposer)(bundle, settings)
    budget = settings.max_steps
    if settings.steps_per_iteration and problems:  # a budget that grows with what the problems need
        need = max(bundle.task.iterations(p) for p in problems)
        budget = min(budget, max(1, int(settings.steps_per_iteration * need)))
    mode = "self-check" if judge is not None else "external"
    outcomes = run_external(
        bundle.task, problems, proposer, budget, settings.retries, settings.ledger, judge=judge, mode=mode
    )
    proposals = sum(o.proposals for o in outcomes)
    first_tries = sum(o.steps + (o.status == "rejected") for o in outcomes)
    extra = dict(
        step_first_try=sum(o.first_try_ok for o in outcomes) / max(1, first_tries),
        proposals_mean=proposals / len(problems),
        steps_mean=statistics.mean(o.steps for o in outcomes),
        parse_failure_rate=sum(o.parse_failures for o in outcomes) / max(1, proposals),
        status={s: sum(o.status == s for o in outcomes) for s in ("done", "rejected", "budget")},
    )
    firsts = [o.first_feasible_step for o in outcomes if o.first_feasible_step is not None]
    bests = [o.best_step for o in outcomes if o.best_step is not None]
    if firsts:
        extra["first_feasible_step_mean"] = statistics.mean(firsts)
    if bests:
        extra["best_step_mean"] = statistics.mean(bests)
    if judge is not None:
        right, wrong = sum(o.judged_right for o in outcomes), sum(o.judged_wrong for o in outcomes)
        extra.update(
            judged_right=right,
            judged_wrong=wrong,
            accepts_wrong=sum(o.accepted_wrong for o in outcomes) / wrong if wrong else None,
            rejects_right=sum(o.rejected_right for o in outcomes) / right if right else None,
        )
    return [o.answer for o in outcomes], extra


@MODES.register("self-check", "the external loop, but the language model judges its own steps (no exact checker)")
def self_check(bundle, problems, settings: "LabSettings"):
    from numerate.iterate.proposers.lm import LanguageModelJudge
    from numerate.iterate.subject import LanguageModelSubject

    if not isinstance(bundle, LanguageModelSubject):
        raise UsageError(
            "mode 'self-check' needs a language model (--hf or --openai-base-url): it asks the model "
            "to judge its own steps"
        )
    judge = LanguageModelJudge(bundle.task, bundle.lm, shots=bundle.shots, seed=settings.seed)
    return external(bundle, problems, settings, judge=judge)


@MODES.register("proven-steps", "a procedure folder: every step by a proven step model, the state kept outside")
def proven_steps(bundle, problems, settings: "LabSettings"):
    from numerate.iterate.subject import ProcedureSubject
    from numerate.procedures.folder import solve

    if not isinstance(bundle, ProcedureSubject):
        raise UsageError("mode 'proven-steps' needs a procedure folder (models/gcd, models/knapsack)")
    proc = bundle.loaded.procedure
    answers, ledgers = solve(bundle.loaded, [proc.from_lab(p) for p in problems])
    extra = dict(
        questions_mean=statistics.mean(led.total_questions for led in ledgers),
        digits_mean=statistics.mean(led.total_digits for led in ledgers),
        parse_failure_rate=0.0,
    )
    return [proc.to_lab(p, a) for p, a in zip(problems, answers)], extra


class _TaggedLedger:
    """Ledger rows of one dial setting: each row also says which."""

    def __init__(self, file, k: int):
        self.file, self.k = file, k

    def write(self, line: str) -> None:
        import json

        self.file.write(json.dumps({"k": self.k, **json.loads(line)}) + "\n")


@dataclass
class LabSettings:
    samples: int = 50
    seed: int = 1234
    max_steps: int = 1000
    retries: int = 3
    proposer: str = "model"  # a name in PROPOSERS, for the external mode
    steps_per_iteration: float | None = None  # step budget as a multiple of the iterations the problems need
    ledger: object = None  # an open JSONL file for every proposal (and a language model's one-shot replies)


def measure(bundle, mode: str, k: int, settings: LabSettings) -> dict:
    """One row of the lab's table: how `mode` does on `settings.samples` problems needing k iterations."""
    from numerate.eval.evaluate import cell_problems

    from dataclasses import replace

    task = bundle.task
    problems = cell_problems(task, "uniform", (k,), settings.samples, settings.seed)
    if settings.ledger is not None:
        settings = replace(settings, ledger=_TaggedLedger(settings.ledger, k))
    row: dict = {"mode": mode, "k": k, "n": len(problems)}
    values, extra = MODES.get(mode)(bundle, problems, settings)
    row.update(extra)
    judged = _judge_rows(task, problems, values)
    row["exact"] = sum(j["exact"] for j in judged) / len(judged)
    if "feasible" in judged[0]:
        row["feasible"] = sum(bool(j["feasible"]) for j in judged) / len(judged)
        names = judged[0]["constraints"]
        row["constraints"] = {c: sum(bool(j["constraints"][c]) for j in judged) / len(judged) for c in names}
        row["constraint_satisfaction"] = statistics.mean(row["constraints"].values())
        gaps = [j["gap"] for j in judged if j["gap"] is not None]
        row["gap_mean"] = statistics.mean(gaps) if gaps else None
    return row


def run_lab(bundle, modes, dials, settings: LabSettings | None = None, ledger_path=None, progress=True):
    """Every (mode, dial) row; the external loop's proposals go to `ledger_path` as JSONL."""
    from dataclasses import replace

    from tqdm.auto import tqdm

    settings = settings or LabSettings()
    rows = []
    ledger = open(ledger_path, "w") if ledger_path else None
    try:
        run_settings = replace(settings, ledger=ledger)
        cells = [(m, k) for m in modes for k in dials]
        for mode, k in tqdm(cells, desc="iterate", unit="cell", disable=not progress):
            rows.append(measure(bundle, mode, k, run_settings))
    finally:
        if ledger:
            ledger.close()
    return rows


def _pct(row: dict, key: str, width: int) -> str:
    """A percentage, with its min-max over models when the row aggregates several."""
    if row.get(key) is None:
        return f"{'-':>{width}}"
    if key + "_range" in row and row[key + "_range"][0] != row[key + "_range"][1]:
        lo, hi = row[key + "_range"]
        return f"{100 * row[key]:.1f} [{100 * lo:.1f}-{100 * hi:.1f}]".rjust(width)
    return f"{100 * row[key]:.1f}".rjust(width)


def format_table(rows: list[dict], dial: str) -> str:
    """One line per (mode, dial setting); constraint columns only for optimization tasks."""
    optimizing = any("feasible" in r for r in rows)
    cols = [("exact %", "exact", 19)]
    if optimizing:
        cols += [
            ("feasible %", "feasible", 17),
            ("constraints %", "constraint_satisfaction", 17),
            ("gap %", "gap_mean", 15),
        ]
    cols += [("step ok 1st %", "step_first_try", 19), ("parse fail %", "parse_failure_rate", 15)]
    if any("accepts_wrong" in r or "rejects_right" in r for r in rows):  # the self-check mode's judge, scored
        cols += [("accepts wrong %", "accepts_wrong", 16), ("rejects right %", "rejects_right", 16)]
    mw = max([10] + [len(r["mode"]) for r in rows])
    head = f"{'mode':<{mw}} {dial:>12} " + " ".join(f"{t:>{w}}" for t, _, w in cols) + f" {'proposals':>9}"
    lines = [head, "-" * len(head)]
    for r in rows:
        cells = " ".join(_pct(r, key, w) for _, key, w in cols)
        lines.append(f"{r['mode']:<{mw}} {r['k']:>12} {cells} {r.get('proposals_mean', 0):9.1f}")
    return "\n".join(lines)
