"""Products through the page multiplier (models/page-mul: one model writes the whole long multiplication) beside
models/mul (two proven step models and digit routing outside them), on the same problems: exact answers, tokens
written and seconds.

    python bench/page_mul.py [--cells 20,100,200,200:nines,1000] [--samples 3] [--models page-mul,mul]
                             [--threads 2] [--force]

A cell K[:SAMPLER] is K x K digits: uniform random, or `nines` (99...9 x 99...9, the largest carries). Problems
come from a generator seeded by the cell, so both models get the same ones. Each answers through `numerate
solve`'s own code path (solve_stream), and its answers are compared with Python's product. Finished (cell, model)
pairs are kept in bench/results/page-mul/ and not re-run unless --force; the table is rebuilt from every kept
pair. For the page model the table also gives seconds per thousand tokens written, which is flat when decoding
is linear in the page.
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

CELLS = "20,100,200,200:nines,1000"
MODELS = "page-mul,mul"
PROOF = {"page-mul": "proven (the whole page)", "mul": "proven (each step; routing outside)"}


def problems_of(cell: str, samples: int) -> list[tuple[int, int]]:
    size, _, sampler = cell.partition(":")
    k = int(size)
    rng = random.Random(f"page-mul/{cell}")
    if sampler == "nines":
        return [(10**k - 1, 10**k - 1)]
    return [(rng.randrange(10 ** (k - 1), 10**k), rng.randrange(10 ** (k - 1), 10**k)) for _ in range(samples)]


def page_tokens(a: int, b: int) -> int:
    """Tokens the page model writes for a * b (its format's target and <eos>)."""
    from numerate.formats.page import PageGridFormat
    from numerate.tasks.base import Problem
    from numerate.tasks.multiplication_page import page_lines

    fmt = PageGridFormat(symbol="*", marks="=", reverse=True)
    return len(fmt.target(Problem((a, b)), page_lines(a, b))) + 1


def run(model: str, cell: str, samples: int, threads: int) -> dict:
    return {"cell": cell, **measure(model, problems_of(cell, samples), threads)}


def measure(model: str, problems: list[tuple[int, int]], threads: int) -> dict:
    """models/MODEL's answers to these products through `numerate solve`'s code path: exact, tokens, seconds."""
    import torch

    from numerate.commands.solve import solve_stream

    torch.set_num_threads(threads)
    text = "".join(f"{a}*{b}\n" for a, b in problems)
    out, err = io.StringIO(), io.StringIO()
    t0 = time.perf_counter()
    solve_stream(f"models/{model}", io.BytesIO(text.encode()), out, err, batch_size=1)
    seconds = time.perf_counter() - t0
    answers = out.getvalue().split()
    tokens = sum(page_tokens(a, b) for a, b in problems) if model == "page-mul" else None
    return {
        "model": model,
        "problems": len(problems),
        "exact": sum(x == str(a * b) for x, (a, b) in zip(answers, problems)),
        "tokens_written": tokens,
        "seconds": round(seconds, 1),
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
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--force", action="store_true")
    args = ap.parse_args()
    keep = RESULTS / "page-mul"
    keep.mkdir(parents=True, exist_ok=True)
    for cell in args.cells.split(","):
        for model in args.models.split(","):
            path = keep / f"{cell.replace(':', '-')}--{model}.json"
            if path.exists() and not args.force:
                continue
            row = run(model, cell, args.samples, args.threads)
            path.write_text(json.dumps(row, indent=1))
            print(f"{cell:<12} {model:<10} exact {row['exact']}/{row['problems']}  {row['seconds']} s", flush=True)
    order = {c: i for i, c in enumerate(dict.fromkeys(CELLS.split(",") + args.cells.split(",")))}
    rows = sorted(
        (json.loads(p.read_text()) for p in keep.glob("*.json")),
        key=lambda r: (order.get(r["cell"], 99), MODELS.split(",").index(r["model"]) if r["model"] in MODELS else 9),
    )
    head = (
        f"{'cell (k x k)':<14} {'model':<10} {'exact':>6} {'tokens written':>15} {'seconds':>8} {'s/1k tok':>9}  proof"
    )
    lines = [head, "-" * len(head)]
    for r in rows:
        tok = r["tokens_written"]
        per = f"{1000 * r['seconds'] / tok:.3f}" if tok else "-"
        lines.append(
            f"{r['cell']:<14} {r['model']:<10} {r['exact']:>3}/{r['problems']:<2} {tok or 0:>15,} "
            f"{r['seconds']:>8} {per:>9}  {r['proof']}"
        )
    write_results("page-mul", "\n".join(lines), {"command": " ".join(sys.argv), "rows": rows})


if __name__ == "__main__":
    main()
