"""Many-operand sums through the page model (models/page-add) beside the controller on a proven step
(models/iter-sum-step, one `numerate solve` step per operand) and the one-shot model (models/add-many), on the
same problems: exact answers, digits written and seconds.

    python bench/page.py [--cells 10x10,30x30,100x100,100x100:unequal,100x100:carry,100x100:nines] [--samples 5]
                         [--models page-add,iter-sum-step,add-many] [--threads 1] [--force]

A cell KxN[:SAMPLER] is K operands of N digits: uniform; `unequal`, each operand 1..N digits; `carry`, column
digit sums of 9 above a lowest column of 10 or more (addition-many's sampler: a carry through every column of the
running totals' sum); `nines`, every operand 99...9. Problems are drawn from a generator seeded by the cell, so
every model gets the same ones. Each model answers through `numerate solve`'s own code path (solve_stream), with
its certificate status, and its answers are compared with Python's sum. Finished (cell, model) pairs are kept in
bench/results/page/ and not re-run unless --force; the table is rebuilt from every kept pair.
The controller's 100 x 100 cells are slow (a step per operand, about 15 s each here) and are not in the default.
"""

from __future__ import annotations

import argparse
import io
import json
import random
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import RESULTS, write_results  # noqa: E402

CELLS = "10x10,30x30,100x100,100x100:unequal,100x100:carry,100x100:nines"
MODELS = "page-add,iter-sum-step,add-many"
PROOF = {"page-add": "proven (the whole page)", "iter-sum-step": "proven (each step)", "add-many": "sampled"}


def problems_of(cell: str, samples: int) -> list[tuple[int, ...]]:
    from numerate.tasks.addition_many import AdditionMany

    shape, _, sampler = cell.partition(":")
    k, n = (int(x) for x in shape.split("x"))
    rng = random.Random(f"page/{cell}")
    out = []
    for _ in range(samples):
        if sampler == "unequal":
            out.append(tuple(rng.randrange(10 ** rng.randint(1, n)) for _ in range(k)))
        else:
            out.append(AdditionMany().sample(rng, sampler or "uniform", (k, n)).operands)
    return out


def run(model: str, cell: str, samples: int, threads: int) -> dict:
    return {"cell": cell, **measure(model, problems_of(cell, samples), threads)}


def measure(model: str, problems: list[tuple[int, ...]], threads: int) -> dict:
    """models/MODEL's answers to these sums through `numerate solve`'s code path: exact, digits, seconds."""
    import torch

    from numerate.commands.solve import solve_stream

    torch.set_num_threads(threads)
    text = "".join("+".join(map(str, p)) + "\n" for p in problems)
    out, err = io.StringIO(), io.StringIO()
    t0 = time.perf_counter()
    solve_stream(f"models/{model}", io.BytesIO(text.encode()), out, err, batch_size=max(1, len(problems)))
    seconds = time.perf_counter() - t0
    answers = out.getvalue().split()
    exact = sum(a == str(sum(p)) for a, p in zip(answers, problems))
    return {
        "model": model,
        "problems": len(problems),
        "exact": exact,
        "digits_written": _digits_written(model, problems),
        "seconds": round(seconds, 1),
        "proof": PROOF.get(model, "?"),
        "status": err.getvalue().strip().splitlines()[:1],
        "measured_at": _commit(),
    }


def _commit() -> str:
    done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    return done.stdout.strip()


def _digits_written(model: str, problems) -> int:
    """Answer digits a model writes per problem (mean): every line of the page; every step's sum; one sum."""
    total = 0
    for p in problems:
        running, lines = 0, []
        for x in p:
            running += x
            lines.append(len(str(running)))
        if model == "page-add":
            total += sum(lines)
        elif model == "iter-sum-step":
            total += sum(lines[1:])  # k - 1 steps, each writing the new running total
        else:
            total += lines[-1]
    return round(total / len(problems))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cells", default=CELLS)
    ap.add_argument("--models", default=MODELS)
    ap.add_argument("--samples", type=int, default=5)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--force", action="store_true")
    args = ap.parse_args()
    keep = RESULTS / "page"
    keep.mkdir(parents=True, exist_ok=True)
    rows = []
    for cell in args.cells.split(","):
        for model in args.models.split(","):
            path = keep / f"{cell.replace(':', '-')}--{model}.json"
            if path.exists() and not args.force:
                rows.append(json.loads(path.read_text()))
                continue
            row = run(model, cell, args.samples, args.threads)
            path.write_text(json.dumps(row, indent=1))
            rows.append(row)
            print(f"{cell:<18} {model:<14} exact {row['exact']}/{row['problems']}  {row['seconds']} s", flush=True)
    order = {}
    for c in CELLS.split(",") + args.cells.split(","):
        order.setdefault(c, len(order))
    rows = sorted(
        (json.loads(p.read_text()) for p in keep.glob("*.json")),  # every kept cell, not only this run's
        key=lambda r: (order.get(r["cell"], 99), MODELS.split(",").index(r["model"]) if r["model"] in MODELS else 9),
    )
    head = f"{'cell (operands x digits)':<26} {'model':<14} {'exact':>6} {'digits written':>15} {'seconds':>8}  proof"
    lines = [head, "-" * len(head)]
    for r in rows:
        lines.append(
            f"{r['cell']:<26} {r['model']:<14} {r['exact']:>3}/{r['problems']:<2} {r['digits_written']:>15,} "
            f"{r['seconds']:>8}  {r['proof']}"
        )
    write_results("page", "\n".join(lines), {"command": " ".join(sys.argv), "rows": rows})


if __name__ == "__main__":
    main()
