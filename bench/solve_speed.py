"""Every shipped folder through `numerate solve` on one thread: seconds for one long problem of its own syntax,
per digit of its operands, beside the start-up of an empty run.

    python bench/solve_speed.py

Each row runs `numerate solve FOLDER --quiet --threads 1` in a fresh process on one line (the time includes the
start-up, given on its own in the first row: the same command on no input), checks the answer with Python's
arithmetic, and says which decoder the model takes (eval/decoders.py).
"""

from __future__ import annotations

import argparse
import math
import random
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import write_results  # noqa: E402


def digits(rng: random.Random, n: int) -> str:
    return str(rng.randint(1, 9)) + "".join(rng.choice("0123456789") for _ in range(n - 1))


def cases(rng: random.Random) -> list[tuple[str, str, int, object]]:
    """(folder, line, operand digits, expected answer line)."""
    a, b = digits(rng, 10_000), digits(rng, 10_000)
    s100 = [digits(rng, 100) for _ in range(100)]
    p1, p2 = digits(rng, 200), digits(rng, 200)
    g1, g2 = digits(rng, 100), digits(rng, 100)
    n = digits(rng, 100)
    return [
        ("add-tiny", f"{a}+{b}", 20_000, int(a) + int(b)),
        ("add-proof", f"{a}+{b}", 20_000, int(a) + int(b)),
        ("add-small", f"{a}+{b}", 20_000, int(a) + int(b)),
        ("add-long", f"{a}+{b}", 20_000, int(a) + int(b)),
        ("sub", f"{a}-{b}", 20_000, int(a) - int(b)),
        ("copy", a, 10_000, int(a)),
        ("mul/times-digit", f"{a}*{'7' * len(a)}", 10_000, int(a) * 7),
        ("add-many", "+".join(s100[:10]), 1_000, sum(int(x) for x in s100[:10])),
        ("iter-sum-step", "+".join(s100[:20]), 2_000, sum(int(x) for x in s100[:20])),
        ("page-add", "+".join(s100), 10_000, sum(int(x) for x in s100)),
        ("page-mul", f"{p1}*{p2}", 400, int(p1) * int(p2)),
        ("mul", f"{p1}*{p2}", 400, int(p1) * int(p2)),
        ("gcd", f"{g1},{g2}", 200, math.gcd(int(g1), int(g2))),
        ("isqrt", n, 100, math.isqrt(int(n))),
    ]


def run(folder: str, text: str) -> tuple[float, str]:
    cmd = ["numerate", "solve", f"models/{folder}", "--quiet", "--threads", "1"]
    t0 = time.perf_counter()
    done = subprocess.run(cmd, input=text, capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    if done.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{done.stderr[-2000:]}")
    return seconds, done.stdout.strip()


def decoder_of(folder: str) -> str:
    from numerate.solver import open_folder

    solver = open_folder(f"models/{folder}")
    if solver.kind == "procedure":
        return "steps: " + ", ".join(f"{name} {decoder_of_bundle(b)}" for name, (_, b) in solver.models().items())
    return decoder_of_bundle(solver.bundle)


def decoder_of_bundle(bundle) -> str:
    from numerate.eval.answer import answers_independent_cached
    from numerate.eval.decoders import Options, plan

    o = Options(digit_ids=tuple(bundle.tok.digit_ids), independent=lambda: answers_independent_cached(bundle))
    return plan(bundle.model, 1, o)[0].name


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--only", help="comma-separated folders (default: all)")
    args = p.parse_args()
    sys.set_int_max_str_digits(0)
    rng = random.Random("solve-speed")
    start, _ = run("add-tiny", "")
    rows = [{"folder": "(start-up: add-tiny, no input)", "digits": 0, "seconds": round(start, 2)}]
    for folder, line, n, want in cases(rng):
        if args.only and folder not in args.only.split(","):
            continue
        seconds, got = run(folder, line + "\n")
        exact = got.split(":")[0].strip() == str(want)
        rows.append(
            {
                "folder": folder,
                "digits": n,
                "seconds": round(seconds, 2),
                "ms_per_digit": round(1000 * (seconds - start) / n, 3),
                "exact": exact,
                "decoder": decoder_of(folder),
            }
        )
        print(rows[-1], flush=True)
    lines = [f"{'folder':<32} {'digits':>7} {'s':>7} {'ms/digit':>9} {'exact':>6}  decoder"]
    for r in rows:
        if r["digits"] == 0:
            lines.append(f"{r['folder']:<32} {'':>7} {r['seconds']:>7.2f}")
            continue
        lines.append(
            f"{r['folder']:<32} {r['digits']:>7} {r['seconds']:>7.2f} {r['ms_per_digit']:>9.3f} "
            f"{str(r['exact']):>6}  {r['decoder']}"
        )
    lines.append("")
    lines.append("ms/digit: (seconds - start-up) / operand digits, one thread")
    write_results("solve-speed", "\n".join(lines), {"rows": rows})


if __name__ == "__main__":
    main()
