"""(a * b) mod p through the modular-multiplication page (models/page-modmul: one model multiplies, divides and
decides every step by itself) on the tier geometry of the SAIR modular-arithmetic challenge: exact match per tier
and seconds per problem.

    python bench/page_modmul.py [--tiers 1-7] [--samples 100] [--threads 1] [--force]

Tiers 1-10 take p of 1-3, 4-8, 9-16, 17-32, 33-64, 65-128, 129-256, 257-512, 513-1024 and 1025-2048 bits and
operands below 2^32, 2^48, 2^64, 2^96, 2^128, 2^256, 2^512, 2^1024, 2^2048 and 2^4096. Each tier draws five primes
(as many as there are where the range holds fewer: tier 1 has four) and `--samples` problems, the first eight
with a, b in {0, 1} (0*0, 0*1, 1*0, 1*1, then 0 or 1 beside a random operand), the rest uniform; the generator is
seeded by the tier, so a rerun draws the same problems. The problems are the challenge's geometry, not its
files (which are not published here). Every problem goes through `numerate solve`'s own code path (solve_stream)
and is compared with Python's (a * b) % p. Finished tiers are kept in bench/results/page-modmul/ and not re-run
unless --force; a tier whose problems take long can be cut with --samples (the table says how many ran).
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

from numerate.certificate_json import Certificate  # noqa: E402

# (p's fewest bits, p's most bits, operands' bits), tiers 1-10
TIERS = [
    (1, 3, 32),
    (4, 8, 48),
    (9, 16, 64),
    (17, 32, 96),
    (33, 64, 128),
    (65, 128, 256),
    (129, 256, 512),
    (257, 512, 1024),
    (513, 1024, 2048),
    (1025, 2048, 4096),
]
MODEL = "models/page-modmul"
PUBLISHED = (
    "published entries (self-reported, sampled, all tiers together): best 0.997 (a step network iterated by a "
    "Python loop), 0.902 (not exact on structured inputs by its own card); baselines 0.079-0.103"
)


def primes_of(tier: int, rng: random.Random) -> list[int]:
    import sympy

    lo, hi, _ = TIERS[tier - 1]
    every = list(sympy.primerange(2 ** max(lo - 1, 1), 2**hi)) if hi <= 16 else None
    if every is not None and len(every) <= 5:
        return every
    found: set[int] = set()
    while len(found) < 5:
        bits = rng.randint(max(lo, 2), hi)
        found.add(every[rng.randrange(len(every))] if every else sympy.randprime(2 ** (bits - 1), 2**bits))
    return sorted(found)


def problems_of(tier: int, samples: int) -> list[tuple[int, int, int]]:
    rng = random.Random(f"page-modmul/tier-{tier}")
    primes = primes_of(tier, rng)
    top = 2 ** TIERS[tier - 1][2]
    out = []
    for i in range(samples):
        p = primes[i % len(primes)]
        r = rng.randrange(top)
        edges = [(0, 0), (0, 1), (1, 0), (1, 1), (0, r), (r, 1), (1, r), (r, 0)]
        a, b = edges[i] if i < len(edges) else (rng.randrange(top), rng.randrange(top))
        out.append((a, b, p))
    return out


def measure(model: str, problems: list[tuple[int, int, int]], threads: int) -> dict:
    import torch

    from numerate.commands.solve import solve_stream

    torch.set_num_threads(threads)
    answers, seconds = [], []
    for a, b, p in problems:  # one at a time: seconds per problem
        out, err = io.StringIO(), io.StringIO()
        t0 = time.perf_counter()
        solve_stream(model, io.BytesIO(f"{a}*{b}%{p}\n".encode()), out, err, batch_size=1)
        seconds.append(time.perf_counter() - t0)
        answers.append((out.getvalue().split() or ["?"])[0])
    return {
        "problems": len(problems),
        "exact": sum(x == str(a * b % p) for x, (a, b, p) in zip(answers, problems)),
        "seconds_per_problem": round(sum(seconds) / len(seconds), 3),
        "slowest_s": round(max(seconds), 2),
        "threads": threads,
        "measured_at": subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True
        ).stdout.strip(),
    }


def _tiers(spec: str) -> list[int]:
    out = []
    for part in spec.split(","):
        lo, _, hi = part.partition("-")
        out += list(range(int(lo), int(hi or lo) + 1))
    if not all(1 <= t <= len(TIERS) for t in out):
        raise SystemExit(f"page_modmul.py: tiers are 1-{len(TIERS)} ({spec!r})")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tiers", default="1-7", help="tiers to run, e.g. 1-7 or 8,9 (default 1-7)")
    ap.add_argument("--samples", type=int, default=100, help="problems a tier (default 100)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--force", action="store_true", help="run tiers again that have results")
    ap.add_argument("--model", default=MODEL, help=f"the folder (default {MODEL}); results are kept per folder")
    args = ap.parse_args()
    if not Path(args.model).is_dir():
        raise SystemExit(f"page_modmul.py: no folder {args.model}")
    keep = RESULTS / "page-modmul" if args.model == MODEL else Path("runs") / "bench-page-modmul"
    keep.mkdir(parents=True, exist_ok=True)
    for tier in _tiers(args.tiers):
        path = keep / f"tier-{tier}.json"
        if path.exists() and not args.force:
            continue
        from numerate.tasks.modmul_page import page_text

        problems = problems_of(tier, args.samples)
        row = {"tier": tier, **measure(args.model, problems, args.threads)}
        row["tokens_per_problem"] = round(sum(len(page_text(*x)) + 1 for x in problems) / len(problems))
        path.write_text(json.dumps(row, indent=1))
        print(f"tier {tier:>2}  exact {row['exact']}/{row['problems']}  {row['seconds_per_problem']} s a problem")
    rows = sorted((json.loads(p.read_text()) for p in keep.glob("tier-*.json")), key=lambda r: r["tier"])
    head = (
        f"{'tier':>4} {'p bits':>10} {'operand bits':>12} {'exact':>9} {'s / problem':>11} {'slowest s':>9} "
        f"{'tokens / problem':>16} {'threads':>7}"
    )
    lines = [head, "-" * len(head)]
    for r in rows:
        lo, hi, ob = TIERS[r["tier"] - 1]
        lines.append(
            f"{r['tier']:>4} {f'{lo}-{hi}':>10} {ob:>12} {r['exact']:>5}/{r['problems']:<3} "
            f"{r['seconds_per_problem']:>11} {r['slowest_s']:>9} {r['tokens_per_problem']:>16,} {r['threads']:>7}"
        )
    lines.append("")
    cert = Certificate.of_folder(args.model)
    verdict = cert.verdict if cert else "none"
    lines.append(f"{args.model}: certificate verdict {verdict!r} (proven covers every page: every digit and decision)")
    lines.append(PUBLISHED)
    if args.model == MODEL:
        write_results("page-modmul", "\n".join(lines), {"command": " ".join(sys.argv), "rows": rows})
    else:
        print("\n".join(lines))


if __name__ == "__main__":
    main()
