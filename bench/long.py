"""Long-number decoding: time per digit from 1,000 to 100,000 digits, old decoder against new, in one run.

    python bench/long.py --model models/add-proof --threads 2

For each length: one uniform random problem and one carry chain (99...9 + 1), each answered by
- general:  the decoder every model can use (a KV cache over all keys; masks and position ids over the whole
            sequence each step), run only up to --general-max digits (it grows quadratically);
- windowed: a cache indexed by column, each step reads only the keys the column window allows;
- parallel: ten teacher-forced passes tabulate each answer digit's successor, composed into the greedy answer
            (models whose answer tokens see no earlier answer token, e.g. a [0, +1] window).
Every answer is checked exact. Then throughput (problems/s) with batch 256 at 20, 100 and 1,000 digits.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import write_results  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default="models/add-proof")
    p.add_argument("--lengths", default="1000,10000,100000")
    p.add_argument("--general-max", type=int, default=4000, help="longest problem for the general decoder")
    p.add_argument("--batch-lengths", default="20,100,1000")
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--device", default="cpu")
    p.add_argument(
        "--precision",
        choices=("certified", "float32", "float64"),
        default="certified",
        help="certified (default): as `solve` runs the folder (float64 under a numerate certificate); or force one",
    )
    args = p.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    from numerate.bigint import unlimited_digits
    from numerate.checkpoint import load_certified, load_model
    from numerate.eval.answer import answer_problems
    from numerate.tasks.base import Problem
    from numerate.devices import pick_device

    device = pick_device(args.device)
    bundle = load_certified(args.model, device) if args.precision == "certified" else load_model(args.model, device)
    if args.precision == "float64":
        bundle.model.double()
    dtype = str(next(bundle.model.parameters()).dtype).replace("torch.", "")
    decoders = ["general", "windowed", "parallel"]
    rng = random.Random(0)
    rows, lines = [], []
    lengths = [int(x) for x in args.lengths.split(",")]
    with unlimited_digits():
        extra = [args.general_max] if args.general_max not in lengths else []  # where the general path is slow
        for n in sorted(extra + lengths):
            problems = {
                "uniform": Problem((rng.randrange(10 ** (n - 1), 10**n), rng.randrange(10 ** (n - 1), 10**n))),
                "carry": Problem((10**n - 1, 1)),
            }
            for kind, problem in problems.items():
                for dec in decoders:
                    if dec == "general" and n > args.general_max:
                        continue
                    t = time.perf_counter()
                    a = answer_problems(bundle, [problem], decoder=dec)[0]
                    s = time.perf_counter() - t
                    rows.append(
                        {
                            "digits": n,
                            "kind": kind,
                            "decoder": dec,
                            "seconds": s,
                            "ms_per_digit": 1000 * s / n,
                            "exact": a.correct,
                        }  # fmt: skip
                    )
                    print(f"{n:>7} {kind:<8} {dec:<9} {s:8.2f} s {1000 * s / n:8.3f} ms/digit exact={a.correct}")
    lines.append(f"model {args.model} in {dtype}; {args.threads} threads on {args.device}; one problem at a time")
    lines.append(f"{'digits':>7} {'problem':<8} " + " ".join(f"{d + ' ms/digit':>20}" for d in decoders) + "  exact")
    for n in sorted({r["digits"] for r in rows}):
        for kind in ("uniform", "carry"):
            cells, exact = [], True
            for dec in decoders:
                r = next((r for r in rows if r["digits"] == n and r["kind"] == kind and r["decoder"] == dec), None)
                cells.append(f"{r['ms_per_digit']:>20.3f}" if r else f"{'-':>20}")
                exact &= r is None or r["exact"]
            lines.append(f"{n:>7} {kind:<8} " + " ".join(cells) + f"  {exact}")
    new = [r for r in rows if r["decoder"] == "parallel" and r["kind"] == "uniform"]
    if len(new) >= 2:
        lo, hi = min(new, key=lambda r: r["digits"]), max(new, key=lambda r: r["digits"])
        lines.append(
            f"parallel: {hi['ms_per_digit'] / lo['ms_per_digit']:.2f}x the time per digit at {hi['digits']:,} "
            f"digits as at {lo['digits']:,}"
        )

    lines += ["", f"throughput, batch {args.batch}: problems/s (all exact?)"]
    lines.append(f"{'digits':>7} " + " ".join(f"{d:>18}" for d in decoders))
    batch_rows = []
    for n in [int(x) for x in args.batch_lengths.split(",")]:
        problems = [
            Problem((rng.randrange(10 ** (n - 1), 10**n), rng.randrange(10 ** (n - 1), 10**n)))
            for _ in range(args.batch)
        ]
        cells = []
        for dec in decoders:
            t = time.perf_counter()
            answers = answer_problems(bundle, problems, batch_size=args.batch, decoder=dec)
            s = time.perf_counter() - t
            ok = all(a.correct for a in answers)
            batch_rows.append({"digits": n, "decoder": dec, "problems_per_s": len(problems) / s, "exact": ok})
            cells.append(f"{len(problems) / s:>12.1f} ({'yes' if ok else 'NO'})")
        lines.append(f"{n:>7} " + " ".join(cells))
    name = "long" if args.precision == "certified" else f"long-{args.precision}"
    write_results(name, "\n".join(lines), {"precision": dtype, "single": rows, "batched": batch_rows})


if __name__ == "__main__":
    main()
