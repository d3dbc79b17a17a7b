"""Which shipped models a float32 proof covers today, and what float32 would buy: the proof's rounding radii in
float32 against float64 for every certified model, and a long sum through the same model in both precisions.

    python bench/float32.py --digits 100000

For each model `numerate verify --precision P` runs the same argument (field classes, every case, ball arithmetic)
with the unit roundoff of P; the table gives the verdict, the largest radius of a lead and the smallest lead minus
its radius (negative or -inf: some case is undecided by rounding). The timing decodes one uniform DIGITS-digit sum
with models/add-proof's weights run in float64 (as `solve` runs it, certified) and in float32, in one process.
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import write_results  # noqa: E402

MODELS = ["add-tiny", "add-proof", "sub", "copy", "iter-sum-step", "mul/times-digit", "page-add", "page-mul"]


def proof_row(name: str, precision: str) -> dict:
    from numerate.checkpoint import load_model
    from numerate.verify.prove import verify

    bundle = load_model(Path("models") / name)
    t0 = time.perf_counter()
    result = verify(bundle, progress=False, precision=precision)
    slack = min((c.min_slack for c in result.classes), default=math.nan)
    radius = max((c.max_bound for c in result.classes), default=math.nan)
    undecided = sum(c.undecided for c in result.classes)
    return {
        "model": name,
        "precision": precision,
        "verdict": result.verdict,
        "cases": result.cases,
        "undecided_cases": undecided,
        "max_radius": radius,
        "min_lead_minus_radius": slack,
        "min_lead": result.min_margin,
        "seconds": round(time.perf_counter() - t0, 1),
    }


def sum_seconds(digits: int) -> dict:
    import torch

    from numerate.checkpoint import load_model
    from numerate.eval.answer import answer_problems
    from numerate.tasks.base import Problem

    rng = random.Random(f"float32/{digits}")
    a, b = (int("".join(rng.choice("0123456789") for _ in range(digits))) for _ in range(2))
    out = {}
    for precision, dtype in (("float64", torch.float64), ("float32", torch.float32)):
        bundle = load_model("models/add-proof")
        bundle.model.to(dtype)
        t0 = time.perf_counter()
        [answer] = answer_problems(bundle, [Problem((a, b))])
        out[precision] = {"seconds": round(time.perf_counter() - t0, 2), "exact": answer.value == a + b}
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--digits", type=int, default=100_000, help="length of the timed sum (0: no timing)")
    p.add_argument("--models", default=",".join(MODELS))
    args = p.parse_args()
    sys.set_int_max_str_digits(0)
    rows = []
    for name in args.models.split(","):
        for precision in ("float64", "float32"):
            rows.append(proof_row(name, precision))
            print(rows[-1], flush=True)
    timing = sum_seconds(args.digits) if args.digits else {}
    head = f"{'model':<16} {'precision':<9} {'verdict':<10} {'cases':>8} {'undecided':>9} {'max radius':>11} "
    head += f"{'min lead':>9} {'lead-radius':>12}"
    lines = [head, "-" * len(head)]
    for r in rows:
        lines.append(
            f"{r['model']:<16} {r['precision']:<9} {r['verdict']:<10} {r['cases']:>8} {r['undecided_cases']:>9} "
            f"{r['max_radius']:>11.3g} {r['min_lead']:>9.3f} {r['min_lead_minus_radius']:>12.3g}"
        )
    if timing:
        lines += ["", f"one uniform {args.digits:,}-digit sum through models/add-proof's weights, one process:"]
        for precision, t in timing.items():
            lines.append(f"  {precision}: {t['seconds']:.2f} s, exact {t['exact']}")
        ratio = timing["float32"]["seconds"] / timing["float64"]["seconds"]
        lines.append(f"  float32 / float64 time: {ratio:.2f}")
    write_results("float32", "\n".join(lines), {"rows": rows, "timing": timing, "digits": args.digits})


if __name__ == "__main__":
    main()
