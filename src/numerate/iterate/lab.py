"""Run an iterative task in each mode over a range of dial settings and measure the answers.

Modes, all with the same trained model:

- ``one-shot``: the model writes the final answer directly, at its training depth;
- ``looped``: a looped model deepens each answer from its training depth up to 4x until the answer stops changing;
- ``external``: the model answers one step at a time inside the controller's propose-verify-refine loop.

The test problems of a dial setting depend only on (task, setting, seed), so every model and mode is measured on
the same problems.
"""

from __future__ import annotations

import statistics
from pathlib import Path

from numerate.errors import UsageError

MODES = ("one-shot", "looped", "external")


def _judge_rows(task, problems, answers) -> list[dict]:
    return [task.judge(p, a) for p, a in zip(problems, answers)]


def _direct_answers(bundle, problems, mode: str):
    """Answers of one-shot or looped decoding; problems the model cannot represent get None."""
    from numerate.capacity import fits
    from numerate.eval.adaptive import answer_until_stable
    from numerate.eval.evaluate import answer_problems

    ok = [i for i, p in enumerate(problems) if fits(bundle, p)]
    values, depths = [None] * len(problems), []
    todo = [problems[i] for i in ok]
    if todo and mode == "one-shot":
        answers = answer_problems(bundle, todo)
    elif todo:
        trained = bundle.cfg.model.recurrences
        answers, depths = answer_until_stable(bundle, todo, r_min=trained, r_max=4 * trained)
    for i, a in zip(ok, answers if todo else []):
        values[i] = a.value
    return values, len(ok), depths


def measure(bundle, mode: str, k: int, samples: int, seed: int, max_steps: int, retries: int, ledger=None) -> dict:
    """One row of the lab's table: how `mode` does on `samples` problems needing k iterations."""
    from numerate.eval.evaluate import cell_problems
    from numerate.iterate.controller import run_external
    from numerate.iterate.proposer import ModelProposer

    task = bundle.task
    problems = cell_problems(task, "uniform", (k,), samples, seed)
    row: dict = {"mode": mode, "k": k, "n": len(problems)}
    if mode == "external":
        outcomes = run_external(task, problems, ModelProposer(bundle, seed=seed), max_steps, retries, ledger)
        values = [o.answer for o in outcomes]
        proposals = sum(o.proposals for o in outcomes)
        first_tries = sum(o.steps + (o.status == "rejected") for o in outcomes)
        row.update(
            step_first_try=sum(o.first_try_ok for o in outcomes) / max(1, first_tries),
            proposals_mean=proposals / len(problems),
            steps_mean=statistics.mean(o.steps for o in outcomes),
            parse_failure_rate=sum(o.parse_failures for o in outcomes) / max(1, proposals),
            status={s: sum(o.status == s for o in outcomes) for s in ("done", "rejected", "budget")},
        )
        firsts = [o.first_feasible_step for o in outcomes if o.first_feasible_step is not None]
        bests = [o.best_step for o in outcomes if o.best_step is not None]
        if firsts:
            row["first_feasible_step_mean"] = statistics.mean(firsts)
        if bests:
            row["best_step_mean"] = statistics.mean(bests)
    else:
        if mode == "looped" and bundle.cfg.model.recurrences == 1:
            raise UsageError("mode 'looped' needs a looped model (trained with model.recurrences > 1)")
        values, fitting, depths = _direct_answers(bundle, problems, mode)
        row.update(
            proposals_mean=1.0,
            parse_failure_rate=sum(v is None for v in values) / len(problems),
            unrepresentable=len(problems) - fitting,
        )
        if depths:
            row["recurrences_mean"] = statistics.mean(depths)
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


def run_lab(bundle, modes, dials, samples=50, seed=1234, max_steps=1000, retries=3, ledger_path=None, progress=True):
    """Every (mode, dial) row; the external loop's proposals go to `ledger_path` as JSONL."""
    from tqdm.auto import tqdm

    rows = []
    ledger = open(ledger_path, "w") if ledger_path else None
    try:
        cells = [(m, k) for m in modes for k in dials]
        for mode, k in tqdm(cells, desc="iterate", unit="cell", disable=not progress):
            rows.append(measure(bundle, mode, k, samples, seed, max_steps, retries, ledger))
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
    head = f"{'mode':<10} {dial:>12} " + " ".join(f"{t:>{w}}" for t, _, w in cols) + f" {'proposals':>9}"
    lines = [head, "-" * len(head)]
    for r in rows:
        cells = " ".join(_pct(r, key, w) for _, key, w in cols)
        lines.append(f"{r['mode']:<10} {r['k']:>12} {cells} {r.get('proposals_mean', 0):9.1f}")
    return "\n".join(lines)


def plot_modes(series: dict, train_max: int, dial: str, title: str, path: Path, ax=None) -> None:
    """Exact match against the dial, one curve per mode. `series[mode]` = list of (k, median, lo, hi) in %."""
    from numerate.plots import _pyplot

    plt = _pyplot()
    own = ax is None
    if own:
        fig, ax = plt.subplots(figsize=(6, 4))
    for mode, points in series.items():
        ks = [p[0] for p in points]
        (line,) = ax.plot(ks, [p[1] for p in points], marker="o", ms=3, label=mode)
        ax.fill_between(ks, [p[2] for p in points], [p[3] for p in points], color=line.get_color(), alpha=0.15)
    ax.axvspan(0, train_max + 0.5, color="grey", alpha=0.12, label="training range")
    ax.set_xlabel(f"{dial} (iterations the procedure needs)")
    ax.set_ylabel("exact answers (%)")
    ax.set_ylim(-2, 102)
    ax.set_title(title)
    ax.legend(fontsize=8)
    if own:
        fig.tight_layout()
        fig.savefig(path, dpi=120)
        plt.close(fig)
