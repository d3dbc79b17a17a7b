"""Procedures on proven steps (models/gcd, knapsack, isqrt, descent, mul): exact answers at sizes far beyond the
iteration lab's, with the questions asked, digits written, rounds and seconds per problem.

    python bench/procedures.py [--cells gcd:100:4,knapsack:50:2,isqrt:100:2,isqrt:1000:1,descent:22:4] [--force]

A cell PROC:SIZE:N draws N problems of that size from the procedure's sampler (seeded by the cell) plus one from
its adversarial sampler (gcd: consecutive Fibonacci numbers, the most Euclid steps for their size; isqrt: a
perfect square or one less; knapsack: equally dense items and all-nines values; descent: strongly coupled
variables), answers them all in one batch through the procedure folder (all problems' questions asked together,
level by level), and checks each against the procedure's oracle (knapsack: feasible and optimal). SIZE is digits
(gcd, isqrt, mul), items (knapsack, 6-digit values) or the scale in decimal places (descent). Each finished cell is
kept in bench/results/procedures/ and not re-run (so a long grid can be spread over several sittings) unless
--force; the table is rebuilt from every kept cell of the grid.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import RESULTS, write_results  # noqa: E402

DEFAULT = "gcd:100:4,knapsack:50:2,isqrt:100:2,isqrt:300:1,isqrt:1000:0,descent:22:4,mul:100:2"
FOLDERS = {"mul": "models/mul"}
UNITS = {"gcd": "digits", "isqrt": "digits", "mul": "digits", "knapsack": "items", "descent": "places"}


def run_cell(name: str, size: int, count: int, threads: int) -> dict:
    import torch

    from numerate.procedures.folder import load, solve

    torch.set_num_threads(threads)
    loaded = load(FOLDERS.get(name, f"models/{name}"))
    proc = loaded.procedure
    rng = random.Random(f"procedures/{name}/{size}")
    problems = [proc.sample(rng, size) for _ in range(count)] + [proc.adversarial(rng, size)]
    t0 = time.perf_counter()
    answers, ledgers = solve(loaded, problems)
    seconds = time.perf_counter() - t0
    row = {
        "measured_at": _commit(),
        "procedure": name,
        "size": size,
        "unit": UNITS[name],
        "problems": len(problems),
        "exact": sum(proc.correct(p, a) for p, a in zip(problems, answers)),
        "questions_per_problem": round(sum(led.total_questions for led in ledgers) / len(problems)),
        "digits_per_problem": round(sum(led.total_digits for led in ledgers) / len(problems)),
        "rounds": max(led.rounds for led in ledgers),
        "seconds": round(seconds, 1),
        "problems_shown": [proc.expression(p)[:80] for p in problems[:2]],
    }
    if name == "knapsack":
        judged = [proc.judge(p, a) for p, a in zip(problems, answers)]
        row["feasible"] = sum(j["feasible"] for j in judged)
        row["optimal"] = sum(j["optimal"] for j in judged)
    if name == "descent":
        # how many significant digits of the exact minimizer the fixed point gets right (the worst coordinate)
        row["digits_right"] = min(_digits_right(proc, p, a) for p, a in zip(problems, answers))
    return row


LAB_DIALS = "2,4,8,16,32,64,80"


def run_lab_rows(dials: list[int], samples: int, threads: int) -> list[dict]:
    """The iteration lab's own gcd and knapsack problems (the same seed, so the first `samples` of each dial
    setting's problems in docs/iteration.md), answered through the procedure folders."""
    import torch

    from numerate.eval.evaluate import cell_problems
    from numerate.procedures.folder import load, solve
    from numerate.tasks import get_task

    torch.set_num_threads(threads)
    rows = []
    for task_name in ("gcd", "knapsack"):
        task, loaded = get_task(task_name), load(f"models/{task_name}")
        proc = loaded.procedure
        for k in dials:
            lab = cell_problems(task, "uniform", (k,), samples, 1234)
            if task_name == "gcd":
                problems = [tuple(p.operands) for p in lab]
            else:  # the lab writes item (w, v) as 10 w + v, capacity 9
                problems = [(9, tuple(divmod(item, 10) for item in p.operands)) for p in lab]
            t0 = time.perf_counter()
            answers, ledgers = solve(loaded, problems)
            row = {
                "task": task_name,
                "dial": k,
                "problems": len(problems),
                "exact": sum(proc.correct(p, a) for p, a in zip(problems, answers)),
                "questions_per_problem": round(sum(led.total_questions for led in ledgers) / len(problems)),
                "seconds": round(time.perf_counter() - t0, 1),
            }
            if task_name == "knapsack":
                row["feasible"] = sum(proc.judge(p, a)["feasible"] for p, a in zip(problems, answers))
            rows.append(row)
            print(row, flush=True)
    return rows


def _digits_right(proc, problem, answer) -> int:
    from fractions import Fraction

    scale = problem[6]
    worst = None
    for x, exact in zip(answer, proc.minimizer(problem)):
        err = abs(Fraction(x, 10**scale) - exact)
        if err == 0:
            continue
        # significant digits: log10(|exact| / err), floored
        ratio = (abs(exact) if exact else Fraction(1)) / err
        k = len(str(int(ratio))) - 1
        worst = k if worst is None else min(worst, k)
    return worst if worst is not None else scale


def _commit() -> str:
    from common import provenance

    prov = provenance()
    return f"{prov['commit']} {prov['date']}"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--cells", default=DEFAULT, help=f"PROC:SIZE:N,... (default {DEFAULT})")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--force", action="store_true", help="re-run cells already kept")
    p.add_argument("--name", default="procedures")
    p.add_argument("--lab", action="store_true", help="instead: the iteration lab's gcd and knapsack problems")
    p.add_argument("--dial", default=LAB_DIALS, help=f"with --lab: dial settings (default {LAB_DIALS})")
    p.add_argument("--samples", type=int, default=20, help="with --lab: problems per dial setting (default 20)")
    args = p.parse_args()
    import torch

    torch.set_num_threads(args.threads)  # also what the results' machine line reports
    if args.lab:
        return lab_main(args)
    keep = RESULTS / "procedures"
    keep.mkdir(parents=True, exist_ok=True)
    rows = []
    for cell in args.cells.split(","):
        name, size, count = cell.split(":")
        if name not in UNITS:
            raise SystemExit(f"unknown procedure {name!r} in --cells (known: {', '.join(UNITS)})")
        path = keep / f"{name}-{size}-{count}.json"
        if path.is_file() and not args.force:
            row = json.loads(path.read_text())
        else:
            print(f"running {cell} ...", flush=True)
            row = run_cell(name, int(size), int(count), args.threads)
            tmp = path.with_suffix(".tmp")
            tmp.write_text(json.dumps(row, indent=1))
            tmp.replace(path)
        rows.append(row)
        print(row, flush=True)
    head = (
        f"{'procedure':<10} {'size':>12} {'problems':>8} {'exact':>6} {'questions':>10} {'digits':>10} "
        f"{'rounds':>7} {'seconds':>8}  notes"
    )
    lines = [head, "-" * len(head)]
    for r in rows:
        notes = ""
        if "optimal" in r:
            notes = f"feasible {r['feasible']}/{r['problems']}, optimal {r['optimal']}/{r['problems']}"
        if "digits_right" in r:
            notes = f"minimizer right to {r['digits_right']} significant digits (worst coordinate)"
        lines.append(
            f"{r['procedure']:<10} {str(r['size']) + ' ' + r['unit']:>12} {r['problems']:>8} {r['exact']:>6} "
            f"{r['questions_per_problem']:>10,} {r['digits_per_problem']:>10,} {r['rounds']:>7,} {r['seconds']:>8}  "
            f"{notes}"
        )
    lines.append(
        "questions and digits: per problem, over all step models; rounds: sequential levels of questions for the "
        f"whole batch (the slowest problem); seconds: the whole batch, {args.threads} CPU thread(s) (beside other "
        "jobs when run so); one adversarial problem per cell"
    )
    write_results(args.name, "\n".join(lines), {"rows": rows})


def lab_main(args) -> None:
    dials = [int(x) for x in args.dial.split(",")]
    rows = run_lab_rows(dials, args.samples, args.threads)
    head = f"{'task':<9} " + " ".join(f"{k:>6}" for k in dials)
    lines = ["exact % of the iteration lab's problems (seed 1234) through the procedure folders, by dial", head]
    lines.append("-" * len(head))
    for task in ("gcd", "knapsack"):
        cells = {r["dial"]: r for r in rows if r["task"] == task}
        lines.append(f"{task:<9} " + " ".join(f"{100 * cells[k]['exact'] / cells[k]['problems']:>6.0f}" for k in dials))
    lines.append(
        f"{args.samples} problems per setting; knapsack: feasible and optimal (feasible "
        f"{sum(r.get('feasible', 0) for r in rows)}/{sum(r['problems'] for r in rows if r['task'] == 'knapsack')})"
    )
    write_results(args.name + "-lab", "\n".join(lines), {"rows": rows})


if __name__ == "__main__":
    main()
