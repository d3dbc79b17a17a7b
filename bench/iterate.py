"""The iteration lab over training seeds: one-shot vs looped vs external loop, by iterations required.

    python bench/iterate.py --tasks sum,gcd,knapsack --seeds 0,1,2 --samples 100 --retries 10

For each task it trains the preset iter-<task> at every seed (runs/iter/<task>-s<seed>, resumed or skipped if
already trained; --jobs at once, one thread each, or --ray), then runs `numerate iterate` on all seeds' models over dial
settings from 1 to 10x the training range, and writes bench/results/iterate/<task>/ (table, rows, plot, ledgers)
and bench/results/iterate.md/.json/.png (all tasks, one panel each).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import RESULTS, run_sweep, write_results  # noqa: E402

from numerate.cli import main as numerate_main  # noqa: E402
from numerate.commands.args import add_engine_args, engine_from_args  # noqa: E402
from numerate.comparison import training_units  # noqa: E402
from numerate.plots import plot_modes  # noqa: E402
from numerate.iterate.summary import render, series  # noqa: E402
from numerate.tasks import get_task  # noqa: E402

DIALS = {
    "sum": "2,4,8,12,16,24,32,48,64,80",
    "gcd": "1,2,4,8,12,16,24,32,48,64,80",
    "knapsack": "1,2,4,8,12,16,24,32,48,64,80",
    "mul": "1,2,4,6,8,10,12,16,20",  # digits of a and of b: k x k products, k lines of scratchpad
    "mul-lines": "1,2,4,6,8,10,12,16,20",
}

# The knapsack model's steps are often rejected, and every retry is another decoding pass over a 60-token row:
# fewer problems and retries keep its measurement to minutes. The later flag wins.
LIGHTER = {
    "knapsack": ["--samples", "50", "--retries", "3"],
    "mul": ["--retries", "0"],
    # a step model only: the one-shot and looped modes would ask it a question it never trained on
    "mul-lines": ["--retries", "0", "--modes", "external"],
}
# Multiplication's external loop gets no retries: its checker knows each line's exact value, so a retry would
# borrow the answer's correctness from the checker. With none, a product is exact only if the model wrote every
# line right on its first try.


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--tasks", default="sum,gcd,knapsack")
    p.add_argument("--seeds", default="0,1,2")
    p.add_argument("--samples", type=int, default=100)
    p.add_argument("--retries", type=int, default=10, help="external loop: proposals asked again after a rejection")
    add_engine_args(p)
    p.add_argument("--set", nargs="*", default=[], help="extra config overrides for every run")
    p.add_argument("--runs", default="runs/iter", help="where the trained models live")
    p.add_argument("--name", default="iterate", help="results go to bench/results/NAME.md/.json/.png and NAME/")
    args = p.parse_args()
    tasks, seeds = args.tasks.split(","), [int(s) for s in args.seeds.split(",")]
    unknown = [t for t in tasks if t not in DIALS]
    if unknown:
        p.error(f"unknown tasks {unknown} (known: {', '.join(DIALS)})")
    runs = [(t, s, Path(args.runs) / f"{t}-s{s}") for t in tasks for s in seeds]
    units = [u for t in tasks for u in training_units(f"iter-{t}", {s: f for tt, s, f in runs if tt == t}, args.set)]
    run_sweep(units, engine_from_args(args))

    tables, data = [], {}
    for task in tasks:
        out = RESULTS / args.name / task
        if out.is_relative_to(Path.cwd()):
            out = out.relative_to(Path.cwd())  # so the recorded command reads the same on any machine
        models = [str(folder) for t, _, folder in runs if t == task]
        argv = ["iterate", *models, "--dial", DIALS[task], "--samples", str(args.samples), "--out", str(out)]
        argv += ["--retries", str(args.retries)] + LIGHTER.get(task, [])
        done = out / "results.json"
        # A task already measured with exactly this command is not measured again (resumable benchmark).
        if not (done.exists() and json.loads(done.read_text())["command"] == "numerate " + " ".join(argv)):
            if numerate_main(argv):
                raise SystemExit(f"numerate {' '.join(argv)} failed")
        result = json.loads(done.read_text())
        data[task] = result
        table = render(result["summary"], get_task(result["task"]).dial, len(models))
        (out / "results.md").write_text(f"# {result['task']}\n\n`{result['command']}`\n\n```\n{table}\n```\n")
        tables.append(f"## {result['task']}\n\n`{result['command']}`\n\n{table}")
    write_results(args.name, "\n\n".join(tables), {"results": data})
    plot_all(data, RESULTS / f"{args.name}.png")


def plot_all(data: dict, path: Path) -> None:
    from numerate.config import load
    from numerate.plots import _pyplot

    plt = _pyplot()
    fig, axes = plt.subplots(1, len(data), figsize=(5 * len(data), 4), squeeze=False)
    for ax, (task, result) in zip(axes[0], data.items()):
        cfg = load(f"iter-{task}", [])
        modes = list(dict.fromkeys(r["mode"] for r in result["summary"]))
        dial = get_task(result["task"]).dial
        plot_modes(series(result["summary"], modes), cfg.task.train_lengths[1], dial, result["task"], path, ax=ax)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    print(f"plot {path}")


if __name__ == "__main__":
    main()
