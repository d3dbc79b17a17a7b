"""Divisions through the division page (models/page-div: one model writes the whole long division and decides
every step of it): exact quotient and remainder, tokens written and seconds, at sizes far beyond training.

    python bench/page_div.py [--cells 20/10,100/50,300/100,300/100:near,1000/500] [--samples 3] [--threads 2]
                             [--force]

A cell N/M[:SAMPLER] is an N-digit a over an M-digit b: uniform random, `near` (a = q * b + r with r in
{0, 1, b - 1}: remainders at the edges) or `nines` (99...9 / 99...9). Problems come from a generator seeded by
the cell. Each is answered through `numerate solve`'s own code path (solve_stream) and compared with Python's
divmod. Finished cells are kept in bench/results/page-div/ and not re-run unless --force; the table is rebuilt
from every kept cell. Seconds per thousand tokens written is flat when decoding is linear in the page.
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

CELLS = "20/10,100/50,100/5:near,300/100,300/100:nines,1000/500"  # each cell's problems share one seed


def problems_of(cell: str, samples: int) -> list[tuple[int, int]]:
    size, _, sampler = cell.partition(":")
    n, m = map(int, size.split("/"))
    rng = random.Random(f"page-div/{cell}")
    if sampler == "nines":
        return [(10**n - 1, 10**m - 1)]
    out = []
    for _ in range(samples):
        b = rng.randrange(10 ** (m - 1), 10**m)
        if sampler == "near":
            q = rng.randrange(10 ** (n - m - 1), 10 ** (n - m))
            out.append((q * b + rng.choice((0, 1, b - 1)), b))
        else:
            out.append((rng.randrange(10 ** (n - 1), 10**n), b))
    return out


def measure(problems: list[tuple[int, int]], threads: int) -> dict:
    import torch

    from numerate.commands.solve import solve_stream
    from numerate.tasks.division_page import page_text

    torch.set_num_threads(threads)
    text = "".join(f"{a}/{b}\n" for a, b in problems)
    out, err = io.StringIO(), io.StringIO()
    t0 = time.perf_counter()
    solve_stream("models/page-div", io.BytesIO(text.encode()), out, err, batch_size=1)
    seconds = time.perf_counter() - t0
    answers = out.getvalue().splitlines()
    return {
        "problems": len(problems),
        "exact": sum(x == f"{a // b} {a % b}" for x, (a, b) in zip(answers, problems)),
        "tokens_written": sum(len(page_text(a, b)) + 1 for a, b in problems),
        "seconds": round(seconds, 1),
        "threads": threads,
        "status": err.getvalue().strip().splitlines()[:1],
        "measured_at": subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True
        ).stdout.strip(),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cells", default=CELLS)
    ap.add_argument("--samples", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--force", action="store_true")
    args = ap.parse_args()
    keep = RESULTS / "page-div"
    keep.mkdir(parents=True, exist_ok=True)
    for cell in args.cells.split(","):
        path = keep / f"{cell.replace(':', '-').replace('/', '-over-')}.json"
        if path.exists() and not args.force:
            continue
        row = {"cell": cell, **measure(problems_of(cell, args.samples), args.threads)}
        path.write_text(json.dumps(row, indent=1))
        print(f"{cell:<16} exact {row['exact']}/{row['problems']}  {row['seconds']} s", flush=True)
    order = {c: i for i, c in enumerate(dict.fromkeys(CELLS.split(",") + args.cells.split(",")))}
    rows = sorted((json.loads(p.read_text()) for p in keep.glob("*.json")), key=lambda r: order.get(r["cell"], 99))
    head = (
        f"{'cell (digits a/b)':<18} {'exact':>6} {'tokens written':>15} {'seconds':>8} {'s/1k tok':>9} "
        f"{'threads':>7}  proof"
    )
    lines = [head, "-" * len(head)]
    for r in rows:
        tok = r["tokens_written"]
        lines.append(
            f"{r['cell']:<18} {r['exact']:>3}/{r['problems']:<2} {tok:>15,} {r['seconds']:>8} "
            f"{1000 * r['seconds'] / tok:>9.4f} {r.get('threads', '?'):>7}  proven (the whole page, every decision)"
        )
    write_results("page-div", "\n".join(lines), {"command": " ".join(sys.argv), "rows": rows})


if __name__ == "__main__":
    main()
