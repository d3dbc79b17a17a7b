"""`numerate solve models/mul` on k x k products: exact?, seconds per product, digits the step models write.

    python bench/multiply.py [--model models/mul] [--sizes 20:100,100:10,1000:1] [--threads 2]

Each size k:N draws N products of two k-digit numbers (seeded by k) plus, for each size, the all-nines product
99...9 x 99...9 (the largest carries everywhere), runs the whole `numerate solve` command on them (a fresh process:
loading included) and times it, then reruns them in process to count the answer digits the step models wrote
(a one-shot answer would be 2k digits).
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import write_results  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", default="models/mul")
    p.add_argument("--sizes", default="20:100,100:10,1000:1", help="k:N pairs: N products of two k-digit numbers")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--name", default="multiply")
    args = p.parse_args()

    import torch

    from numerate.bigint import from_str, to_str, unlimited_digits
    from numerate.solver import open_folder

    torch.set_num_threads(args.threads)
    solver = open_folder(args.model)
    m = solver.loaded
    rows = []
    for item in args.sizes.split(","):
        k, n = (int(x) for x in item.split(":"))
        rng = random.Random(f"multiply/{k}")
        pairs = [(rng.randrange(10 ** (k - 1), 10**k), rng.randrange(10 ** (k - 1), 10**k)) for _ in range(n)]
        pairs.append((10**k - 1, 10**k - 1))
        with unlimited_digits():
            text = "".join(f"{a}*{b}\n" for a, b in pairs)
        t0 = time.perf_counter()
        done = subprocess.run(
            ["numerate", "solve", args.model], input=text, capture_output=True, text=True, env=_env(args.threads)
        )
        wall = time.perf_counter() - t0
        if done.returncode:
            raise SystemExit(f"numerate solve failed on {k} x {k}:\n{done.stderr}")
        got = [from_str(line) for line in done.stdout.split()]
        exact = sum(g == a * b for g, (a, b) in zip(got, pairs))
        m.digits_written = 0
        t1 = time.perf_counter()
        inproc = solver.solve(pairs)
        steps = time.perf_counter() - t1
        assert [to_str(v) for v in inproc] == done.stdout.split(), "in-process answers differ from solve's"
        rows.append(
            {
                "k": k,
                "products": len(pairs),
                "exact": exact,
                "solve_s": round(wall, 2),
                "steps_s_per_product": round(steps / len(pairs), 3),
                "digits_per_product": round(m.digits_written / len(pairs)),
                "one_shot_digits": 2 * k,
            }
        )
        print(rows[-1], flush=True)
    head = (
        f"{'k x k':>11} {'products':>9} {'exact':>6} {'solve s':>8} {'s/product':>10} {'digits/product':>15} {'2k':>6}"
    )
    lines = [head, "-" * len(head)]
    for r in rows:
        lines.append(
            f"{str(r['k']) + ' x ' + str(r['k']):>11} {r['products']:>9} {r['exact']:>6} {r['solve_s']:>8} "
            f"{r['steps_s_per_product']:>10} {r['digits_per_product']:>15} {r['one_shot_digits']:>6}"
        )
    note = (
        f"\nmodel {args.model}; `numerate solve` timed as a whole command (loading included) on {args.threads} CPU "
        "threads; s/product: the step models' work in process; digits: answer digits the two step models wrote "
        "(each products' N random products plus 99...9 x 99...9)"
    )
    write_results(args.name, "\n".join(lines) + note, {"rows": rows, "model": args.model, "threads": args.threads})


def _env(threads: int) -> dict:
    import os

    return {**os.environ, "OMP_NUM_THREADS": str(threads)}


if __name__ == "__main__":
    main()
