"""The iteration lab's own gcd problems through the Euclid page (models/page-gcd: one model divides, swaps and
stops by itself), by dial: the row beside one-shot, looped, learned-step and proven-step rows in
docs/iteration.md.

    python bench/page_lab.py [--dial 2,4,8,16,32,64,80] [--samples 100] [--threads 1]

The problems are the lab's (the task `gcd`, seed 1234, the first `--samples` of each dial setting: the number of
subtractions the lab's procedure needs), asked through `numerate solve`'s own code path (solve_stream) and
compared with Python's math.gcd.
"""

from __future__ import annotations

import argparse
import io
import math
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import write_results  # noqa: E402

DIALS = "2,4,8,16,32,64,80"


def run(dials: list[int], samples: int, threads: int) -> list[dict]:
    import torch

    from numerate.commands.solve import solve_stream
    from numerate.eval.evaluate import cell_problems
    from numerate.tasks import get_task

    torch.set_num_threads(threads)
    task, rows = get_task("gcd"), []
    for k in dials:
        problems = [tuple(p.operands) for p in cell_problems(task, "uniform", (k,), samples, 1234)]
        text = "".join(f"{a},{b}\n" for a, b in problems)
        out, err = io.StringIO(), io.StringIO()
        t0 = time.perf_counter()
        solve_stream("models/page-gcd", io.BytesIO(text.encode()), out, err, batch_size=16)
        answers = out.getvalue().split("\n")
        exact = sum(x.strip() == str(math.gcd(a, b)) for x, (a, b) in zip(answers, problems))
        rows.append(
            {"dial": k, "problems": len(problems), "exact": exact, "seconds": round(time.perf_counter() - t0, 1)}
        )
        print(rows[-1], flush=True)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dial", default=DIALS)
    ap.add_argument("--samples", type=int, default=100)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    dials = [int(x) for x in args.dial.split(",")]
    rows = run(dials, args.samples, args.threads)
    head = f"{'model':<16} " + " ".join(f"{k:>6}" for k in dials)
    lines = ["exact % of the iteration lab's gcd problems (seed 1234) through models/page-gcd, by dial", head]
    lines.append("-" * len(head))
    lines.append(f"{'page-gcd':<16} " + " ".join(f"{100 * r['exact'] / r['problems']:>6.0f}" for r in rows))
    lines.append(f"{'seconds':<16} " + " ".join(f"{r['seconds']:>6}" for r in rows))
    lines.append(f"{args.samples} problems per setting, {args.threads} thread(s)")
    write_results("page-lab", "\n".join(lines), {"command": " ".join(sys.argv), "rows": rows})


if __name__ == "__main__":
    main()
