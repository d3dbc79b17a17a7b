"""Test-time compute of a looped model: exact match by number of recurrences and operand length.

    python bench/recurrences.py runs/add-looped --depths 1-8 --lengths 10,20,50,100 --samples 200

Also scores the `auto` rule (deepen each problem until its answer stops changing). Writes
bench/results/recurrences-<model>.md/.json and a plot (one line per length).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
from common import RESULTS, write_results  # noqa: E402

from numerate.checkpoint import load_model  # noqa: E402
from numerate.lengths import parse_lengths  # noqa: E402
from numerate.eval.evaluate import evaluate  # noqa: E402
from numerate.eval.cells import make_cells  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model")
    p.add_argument("--depths", default="1-8")
    p.add_argument("--lengths", default="10,20,50,100")
    p.add_argument("--samples", type=int, default=200)
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    bundle = load_model(args.model)
    depths, lengths = parse_lengths(args.depths), parse_lengths(args.lengths)
    cells = make_cells(lengths, grid=False, carry=False)
    grid = {}
    for r in depths:
        rows, _ = evaluate(bundle, cells, samples=args.samples, recurrences=r)
        grid[r] = {row["len_a"]: row["exact_match"] for row in rows}
        print(f"R={r}: " + ", ".join(f"{n} digits {100 * grid[r][n]:.1f}%" for n in lengths), flush=True)
    auto_rows, _ = evaluate(bundle, cells, samples=args.samples, recurrences="auto")

    trained = bundle.cfg.model.recurrences
    lines = [
        f"{args.model}: trained with up to {trained} recurrences on "
        f"{bundle.cfg.task.train_lengths[0]}-{bundle.cfg.task.train_lengths[1]} digits; "
        f"{args.samples} problems per cell; exact match %",
        f"{'recurrences':>11} " + " ".join(f"{str(n) + ' digits':>11}" for n in lengths),
    ]
    for r in depths:
        lines.append(f"{r:>11} " + " ".join(f"{100 * grid[r][n]:>11.1f}" for n in lengths))
    lines.append(f"{'auto':>11} " + " ".join(f"{100 * row['exact_match']:>11.1f}" for row in auto_rows))
    lines.append(f"{'(mean R)':>11} " + " ".join(f"{row['recurrences']:>11.2f}" for row in auto_rows))
    name = f"recurrences-{Path(args.model).name}"
    write_results(name, "\n".join(lines), {"depths": depths, "lengths": lengths, "grid": grid, "auto": auto_rows})

    from numerate.plots import _pyplot

    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 4))
    for n in lengths:
        ax.plot(depths, [100 * grid[r][n] for r in depths], marker="o", ms=3, label=f"{n} digits")
    ax.axvline(trained, color="grey", ls="--", lw=1, label="training depth")
    ax.set_xlabel("recurrences at test time")
    ax.set_ylabel("exact match (%)")
    ax.set_ylim(-2, 102)
    ax.legend(loc="center right")
    ax.set_title("test-time compute of a looped model")
    fig.tight_layout()
    fig.savefig(RESULTS / f"{name}.png", dpi=120)
    print(f"plot written to {RESULTS / name}.png")


if __name__ == "__main__":
    main()
