"""A task's grid over training seeds: train a preset (resumable), then exact match on every cell of the task's own
grid — (operands, digits) for many-operand addition, (len a, len b) for two-operand tasks — median [min-max].

    python bench/task_grid.py --preset add-many-baseline --seeds 0 --rows 2,5,10,15,20,30 --cols 5,10,20,30 --samples 50
    python bench/task_grid.py --preset add-many-baseline --set model.pos=coupling-2d-answer --name add-many-answer ...
    python bench/task_grid.py --preset add-many --seeds 0,1,2 --rows 2,5,8,10,15,20,30 --cols 5,10,20,30
    python bench/task_grid.py --preset mul-baseline --rows 1-8 --cols 1-8 --samples 50
    python bench/task_grid.py --preset iter-sum-proof --task addition-many --stepwise --seeds 0,1,2 \
        --models models/iter-sum-proof,runs/iter-sum-proof-s1,runs/iter-sum-proof-s2 \
        --rows 2,5,10,15,20,30,50 --cols 5,10,20,30 --samples 50 --name sum-steps-many

With --task the cells and problems are another task's (posed to the model as expressions its task reads); with
--stepwise an iterative model answers by running its procedure, one model step at a time (`numerate eval
--stepwise`), and the table counts the answer digits it writes.

Runs go to runs/grid/<name>-s<seed> (or are the folders --models names, one per seed, trained by
`numerate train PRESET --set train.seed=S`) and are resumed or skipped when finished, so the benchmark can be
spread over several sittings; `--jobs` trains that many seeds at once, one thread each.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from numerate.commands.args import add_engine_args, engine_from_args  # noqa: E402
from common import train_seeds, write_results  # noqa: E402

from numerate import config  # noqa: E402
from numerate.checkpoint import load_model  # noqa: E402
from numerate.eval.evaluate import evaluate  # noqa: E402
from numerate.iterate.stepwise import procedure_answers  # noqa: E402
from numerate.lengths import parse_lengths  # noqa: E402
from numerate.tasks import get_task  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--preset", required=True)
    p.add_argument("--name", help="results and run name (default: the preset)")
    p.add_argument("--seeds", default="0")
    p.add_argument("--rows", default="2,5,10,20,30", help="first cell number: operands (or len a)")
    p.add_argument("--cols", default="5,10,20,30", help="second cell number: digits (or len b)")
    p.add_argument("--samples", type=int, default=50)
    add_engine_args(p)
    p.add_argument("--set", nargs="*", default=[], help="extra config overrides for every seed")
    p.add_argument("--models", help="comma-separated model folders, one per seed, instead of training the preset")
    p.add_argument("--task", help="cells and problems of this task (default the preset's)")
    p.add_argument("--stepwise", action="store_true", help="answer by the model's procedure, step by step")
    args = p.parse_args()
    name = args.name or args.preset
    seeds = [int(s) for s in args.seeds.split(",")]
    if args.models:
        folders = args.models.split(",")
        if len(folders) != len(seeds):
            p.error(f"--models names {len(folders)} folders for {len(seeds)} seeds")
        runs = dict(zip(seeds, map(Path, folders)))
        for seed, folder in runs.items():
            trained, wanted = load_model(folder).cfg, config.load(args.preset, [f"train.seed={seed}", *args.set])
            same = [getattr(trained, k) == getattr(wanted, k) for k in ("task", "format", "model")]
            if not all(same) or (trained.train.seed, trained.train.max_steps) != (seed, wanted.train.max_steps):
                p.error(f"{folder} was not trained as {args.preset} {' '.join(args.set)} at seed {seed}")
    else:
        runs = {s: Path("runs/grid") / f"{name}-s{s}" for s in seeds}
        train_seeds(args.preset, runs, args.set, engine_from_args(args))
    rows_, cols = parse_lengths(args.rows), parse_lengths(args.cols)
    cells = [("uniform", (r, c)) for r in rows_ for c in cols]
    per_seed = {}
    for s, folder in runs.items():
        bundle = load_model(folder)
        task = get_task(args.task) if args.task else bundle.task
        dims = task.cell_dims
        answerer = procedure_answers if args.stepwise else None
        results, _ = evaluate(bundle, cells, samples=args.samples, task=task, answerer=answerer)
        per_seed[s] = results
    table = render(name, args, dims, rows_, cols, per_seed, seeds)
    if args.stepwise:
        table += "\n\n" + written_digits(bundle, task, rows_, cols, args.samples, dims)
    write_results(f"grid-{name}", table, {"seeds": seeds, "dims": dims, "rows": per_seed})


def written_digits(bundle, task, rows_, cols, samples, dims) -> str:
    """Mean answer digits a step model writes per problem (every step's answer, as the exact procedure has them),
    against the final answer's digits a one-shot model writes: the work the scratchpad costs."""
    from numerate.bigint import to_str
    from numerate.eval.evaluate import cell_problems, pose

    steps_task = bundle.task
    lines = [f"answer digits written per problem, step by step / one-shot; rows = {dims[0]}, columns = {dims[1]}"]
    for r in rows_:
        cells = []
        for c in cols:
            stepped = final = 0
            for original in cell_problems(task, "uniform", (r, c), samples, 1234):
                problem = pose(original, task, steps_task)
                state = steps_task.start(problem)
                while not steps_task.done(problem, state):
                    value = steps_task.step_answer(steps_task.query(problem, state))
                    stepped += len(to_str(value))
                    state = steps_task.advance(problem, state, value)
                final += len(to_str(task.answer(original)))
            cells.append(f"{stepped / samples:.0f} / {final / samples:.0f}".rjust(18))
        lines.append(f"{r:>9} " + " ".join(cells))
    return "\n".join(lines)


def render(name, args, dims, rows_, cols, per_seed, seeds) -> str:
    how = f"{args.task or 'its own task'}'s problems" + (", answered step by step" if args.stepwise else "")
    lines = [
        f"{name} (preset {args.preset} {' '.join(args.set)}; {how}), seeds {seeds}, {args.samples} problems per cell;"
        f" exact match %, median [min-max] over seeds; rows = {dims[0]}, columns = {dims[1]}",
        f"{dims[0]:>9} " + " ".join(f"{c:>18}" for c in cols),
    ]
    for r in rows_:
        cells = []
        for c in cols:
            vals = [
                100 * next(x for x in per_seed[s] if (x[dims[0]], x[dims[1]]) == (r, c))["exact_match"]
                for s in seeds
                if next(x for x in per_seed[s] if (x[dims[0]], x[dims[1]]) == (r, c))["exact_match"] is not None
            ]
            if not vals:
                cells.append(f"{'n/a':>18}")
            elif len(vals) == 1:
                cells.append(f"{vals[0]:>18.1f}")
            else:
                cells.append(f"{statistics.median(vals):6.1f} [{min(vals):4.1f}-{max(vals):5.1f}]".rjust(18))
        lines.append(f"{r:>9} " + " ".join(cells))
    return "\n".join(lines)


if __name__ == "__main__":
    main()
