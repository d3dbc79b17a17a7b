"""`numerate eval`: cells from arguments -> evaluate() -> table, JSON rows, plot, first mistakes."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from numerate.devices import pick_device
from numerate.eval.cells import format_table, make_cells
from numerate.eval.evaluate import describe_mistake, evaluate
from numerate.iterate.stepwise import procedure_answers
from numerate.lengths import parse_lengths
from numerate.tasks import get_task
from numerate.solver import open_folder


def run_eval(args) -> list[dict]:
    if args.plot:
        from numerate import plots

        plots.require("eval --plot")  # before any work: the picture was asked for
    solver = open_folder(args.model, device=pick_device(args.device))
    bundle = solver.one_model("eval")
    for line in solver.status().lines():
        print(line, file=sys.stderr)
    task = get_task(args.task) if args.task else bundle.task
    cells = make_cells(parse_lengths(args.lengths), args.grid, args.carry, task=task)
    t0 = time.perf_counter()
    rows, mistakes = evaluate(
        bundle,
        cells,
        samples=args.samples,
        seed=args.seed,
        batch_size=args.batch_size,
        use_cache=not args.no_cache,
        recurrences=args.recurrences,
        progress=not args.quiet and sys.stderr.isatty(),
        task=task,
        answerer=procedure_answers if args.stepwise else None,
    )
    seconds = time.perf_counter() - t0
    print(format_table(rows, dims=task.cell_dims))
    if task is bundle.task:
        from numerate.comparison import did_not_fit_lines, fit_report

        train_max = bundle.cfg.task.train_lengths[1]
        fit = fit_report({str(args.model): {0: rows}}, train_max, task)
        for line in did_not_fit_lines(fit, train_max, seeds=False):
            print(line)
    solved = sum(r["n"] for r in rows if r["exact_match"] is not None)
    rate = solved / max(seconds, 1e-9)
    print(
        f"\n{solved} problems in {seconds:.1f} s ({rate:.1f} problems/s)"
        if rate < 10
        else f"\n{solved} problems in {seconds:.1f} s ({rate:.0f} problems/s)"
    )
    tenths = [sum(t) for t in zip(*(r["wrong_digit_tenths"] for r in rows if "wrong_digit_tenths" in r))]
    if any(tenths):
        share = " ".join(f"{100 * t / sum(tenths):.0f}%" for t in tenths)
        print(f"wrong digits by tenth of the answer, least significant first: {share}")
    if mistakes and args.mistakes:
        print("first mistakes:")
        for a in mistakes[: args.mistakes]:
            print("  " + describe_mistake(bundle, a))
    if args.json:
        Path(args.json).write_text(
            json.dumps({"model": str(args.model), "samples": args.samples, "seed": args.seed, "rows": rows}, indent=1)
        )
        print(f"rows written to {args.json}")
    if args.plot:
        from numerate import plots

        train_max = bundle.cfg.task.train_lengths[1]
        if args.grid:
            plots.heatmap(rows, args.plot, f"{args.model}: exact match (%)", train_max, dims=task.cell_dims)
        else:
            dim = task.cell_dims[-1]
            plots.sweep({str(args.model): rows}, args.plot, "exact match by operand length", train_max, dim=dim)
        print(f"plot written to {args.plot}")
    return rows


# ---------------------------------------------------------------- the command line (cli.py lists the verb)


def add_parser(sub, help: str) -> None:
    """Declare `numerate eval` and its arguments."""
    from numerate.commands.args import non_negative_int, output_file, positive_int, recurrences_arg

    e = sub.add_parser(
        "eval",
        help=help,
        description="Evaluate a model folder on fresh problems: a 1-D sweep (both operands of each "
        "length) or, with --grid, every (len a, len b) pair.",
    )
    e.add_argument("model", metavar="MODEL_DIR")
    e.add_argument(
        "--lengths", default="1-40", help="operand lengths: 1-40, 5,10,20, 1-10,20 or 5-100:5 (default 1-40)"
    )
    e.add_argument("--grid", action="store_true", help="all (len a, len b) pairs instead of equal lengths")
    e.add_argument(
        "--carry",
        "--adversarial",
        dest="carry",
        action="store_true",
        help="also test the task's adversarial samplers at each length (addition: carry chains; subtraction: "
        "borrow chains and negative answers)",
    )
    e.add_argument("--samples", type=positive_int, default=100, help="problems per cell (default 100)")
    e.add_argument("--seed", type=int, default=1234, help="seed of the test problems (default 1234)")
    e.add_argument("--json", type=output_file, help="write the rows to this JSON file")
    e.add_argument("--plot", type=output_file, help="write a PNG: heatmap with --grid, else accuracy against length")
    e.add_argument(
        "--recurrences",
        type=recurrences_arg,
        metavar="R|auto",
        help="recurrences for looped models; 'auto' deepens each problem until its answer stops changing",
    )
    e.add_argument(
        "--task",
        metavar="TASK",
        help="cells and problems of another task, posed as expressions the model's task reads (e.g. a running-sum "
        "model on addition-many's operands x digits grid); default the model's own task",
    )
    e.add_argument(
        "--stepwise",
        action="store_true",
        help="iterative models: answer by running the procedure one model step at a time, each step taken as "
        "written (as `numerate solve` does), instead of asking for the whole answer at once",
    )
    e.add_argument("--no-cache", action="store_true", help="decode without the KV cache (slower; same answers)")
    e.add_argument("--batch-size", type=positive_int, default=512)
    e.add_argument("--mistakes", type=non_negative_int, default=5, help="wrong answers to print (default 5)")
    e.add_argument("--device", default="auto", help="auto (CUDA if present), cpu, cuda or cuda:N")
    e.add_argument("--quiet", action="store_true", help="no progress bar")
    e.set_defaults(func=command)


def command(args) -> int:

    run_eval(args)
    return 0
