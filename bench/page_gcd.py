"""gcd through the Euclid page (models/page-gcd: one model divides, swaps and stops by itself) beside models/gcd
(proven step models, with Python choosing each step), on the same problems: exact answers, tokens written on the
page and seconds.

    python bench/page_gcd.py [--cells 10,30,100,100:fibonacci] [--samples 3] [--models page-gcd,gcd]
                             [--threads 1] [--force]

A cell K[:SAMPLER] is a pair of K-digit numbers: uniform random, or `fibonacci` (consecutive Fibonacci numbers:
every quotient 1, the most divisions). Problems come from a generator seeded by the cell, so both folders get the
same ones, through `numerate solve`'s own code path (solve_stream), compared with Python's math.gcd. Finished
(cell, model) pairs are kept in bench/results/page-gcd/ and not re-run unless --force.
"""

from __future__ import annotations

import argparse
import io
import json
import math
import random
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import RESULTS, write_results  # noqa: E402

CELLS = "10,30,100,100:fibonacci"
MODELS = "page-gcd,gcd"
PROOF = {"page-gcd": "proven (the whole page, every decision)", "gcd": "proven steps; Python decides"}


def problems_of(cell: str, samples: int) -> list[tuple[int, int]]:
    size, _, sampler = cell.partition(":")
    k = int(size)
    if sampler == "fibonacci":
        x, y = 1, 1
        while len(str(y)) < k:
            x, y = y, x + y
        return [(y, x)]
    rng = random.Random(f"page-gcd/{cell}")
    return [(rng.randrange(10 ** (k - 1), 10**k), rng.randrange(10 ** (k - 1), 10**k)) for _ in range(samples)]


def measure(model: str, problems: list[tuple[int, int]], threads: int) -> dict:
    import torch

    from numerate.commands.solve import solve_stream
    from numerate.tasks.gcd_page import page_text

    torch.set_num_threads(threads)
    text = "".join(f"{a},{b}\n" for a, b in problems)
    out, err = io.StringIO(), io.StringIO()
    t0 = time.perf_counter()
    solve_stream(f"models/{model}", io.BytesIO(text.encode()), out, err, batch_size=1)
    seconds = time.perf_counter() - t0
    answers = out.getvalue().split()
    return {
        "model": model,
        "problems": len(problems),
        "exact": sum(x == str(math.gcd(a, b)) for x, (a, b) in zip(answers, problems)),
        "tokens_written": sum(len(page_text(a, b)) + 1 for a, b in problems) if model == "page-gcd" else None,
        "seconds": round(seconds, 1),
        "threads": threads,
        "proof": PROOF.get(model, "?"),
        "status": err.getvalue().strip().splitlines()[:1],
        "measured_at": subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True
        ).stdout.strip(),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cells", default=CELLS)
    ap.add_argument("--models", default=MODELS)
    ap.add_argument("--samples", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--force", action="store_true")
    args = ap.parse_args()
    keep = RESULTS / "page-gcd"
    keep.mkdir(parents=True, exist_ok=True)
    for cell in args.cells.split(","):
        for model in args.models.split(","):
            path = keep / f"{cell.replace(':', '-')}--{model}.json"
            if path.exists() and not args.force:
                continue
            if not Path(f"models/{model}").is_dir():
                print(f"{cell:<14} {model:<9} skipped: no folder models/{model}", flush=True)
                continue
            row = {"cell": cell, **measure(model, problems_of(cell, args.samples), args.threads)}
            path.write_text(json.dumps(row, indent=1))
            print(f"{cell:<14} {model:<9} exact {row['exact']}/{row['problems']}  {row['seconds']} s", flush=True)
    order = {c: i for i, c in enumerate(dict.fromkeys(CELLS.split(",") + args.cells.split(",")))}
    models = MODELS.split(",")
    rows = sorted(
        (json.loads(p.read_text()) for p in keep.glob("*.json")),
        key=lambda r: (order.get(r["cell"], 99), models.index(r["model"]) if r["model"] in models else 9),
    )
    head = (
        f"{'cell (digits)':<16} {'model':<9} {'exact':>6} {'tokens written':>15} {'seconds':>8} {'threads':>7}  proof"
    )
    lines = [head, "-" * len(head)]
    for r in rows:
        tok = r["tokens_written"]
        lines.append(
            f"{r['cell']:<16} {r['model']:<9} {r['exact']:>3}/{r['problems']:<2} {tok or 0:>15,} {r['seconds']:>8} "
            f"{r['threads']:>7}  {r['proof']}"
        )
    write_results("page-gcd", "\n".join(lines), {"command": " ".join(sys.argv), "rows": rows})


if __name__ == "__main__":
    main()
