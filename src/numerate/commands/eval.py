"""`numerate eval`: cells from arguments -> evaluate() -> table, JSON rows, plot, first mistakes."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from numerate.checkpoint import load_model
from numerate.devices import pick_device
from numerate.eval.cells import format_table, make_cells
from numerate.eval.evaluate import describe_mistake, evaluate
from numerate.iterate.stepwise import procedure_answers
from numerate.lengths import parse_lengths
from numerate.tasks import get_task
from numerate.verify.binding import certificate_status


def run_eval(args) -> list[dict]:
    bundle = load_model(args.model, device=pick_device(args.device))
    status = certificate_status(bundle, args.model)
    if status:
        print(status, file=sys.stderr)
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
