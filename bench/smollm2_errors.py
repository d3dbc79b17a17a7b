"""Where SmolLM2's wrong digits sit: per representation, wrong digits in each tenth of the answer (least
significant first) per 100 replies read as numbers, from the committed probe folders (no model is run).

    python bench/smollm2_errors.py [--length 8]
    python bench/smollm2_errors.py --grid smollm2-grid --shots 3 --length 20     # read bench/smollm2_grid.py's cells
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import RESULTS, write_results  # noqa: E402

FOLDERS = {
    "plain": "smollm2-addition-chat-3shot",
    "reversed": "smollm2-addition-chat-3shot-reversed",
    "spaced": "smollm2-addition-chat-3shot-spaced",
    "commas-right": "smollm2-addition-chat-3shot-commas-right",
    "commas-left": "smollm2-addition-chat-3shot-commas-left",
}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--length", type=int, default=8, help="operand length of the rows read (default 8)")
    p.add_argument("--grid", help="read bench/results/GRID/<representation>-<shots>shot (bench/smollm2_grid.py)")
    p.add_argument("--shots", type=int, default=3, help="with --grid: which shots' cells")
    p.add_argument("--name", help="results name (default smollm2-errors, or smollm2-errors-<length>-<shots>shot)")
    args = p.parse_args()
    folders = FOLDERS
    if args.grid:
        folders = {rep: f"{args.grid}/{rep}-{args.shots}shot" for rep in FOLDERS}
    name = args.name or ("smollm2-errors" if not args.grid else f"smollm2-errors-{args.length}-{args.shots}shot")
    lines = [f"{'representation':<15} {'read':>5} " + " ".join(f"{f'{t}/10':>5}" for t in range(10))]
    lines.append("-" * len(lines[0]))
    data = {}
    for rep, folder in folders.items():
        rows = json.loads((RESULTS / folder / "results.json").read_text())["rows"]
        (row,) = [r for r in rows if r["len_a"] == args.length and r["sampler"] == "uniform"]
        read = row["correct"] + row["wrong"]  # replies that were numbers: the ones whose digits can be placed
        share = [100 * t / read if read else 0.0 for t in row["wrong_digit_tenths"]]
        data[rep] = {"read": read, "wrong_digits_per_100_by_tenth": share}
        lines.append(f"{rep:<15} {read:>5} " + " ".join(f"{x:>5.0f}" for x in share))
    note = (
        f"\n{args.length}-digit addition, {args.shots}-shot chat, {row['n']} problems; wrong digits in each tenth of "
        "the true answer (0/10 = least significant) per 100 replies read as numbers; a missing or extra digit "
        "counts in the top tenth, which can pass 100"
    )
    write_results(name, "\n".join(lines) + note, {"length": args.length, "by_representation": data})


if __name__ == "__main__":
    main()
