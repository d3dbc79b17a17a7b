"""Evaluate a model folder on uniform operands and its task's adversarial samplers at a list of lengths; refresh
its model card.

    python bench/model_eval.py models/add-small --lengths 1,5,10,15,20,25,30,40,50,60,80,100 --samples 1000

Writes bench/results/<model>-eval.md and .json, and replaces the text between the markers
`<!-- eval:start -->` and `<!-- eval:end -->` in MODEL/README.md with the table.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
from common import provenance, write_results  # noqa: E402

from numerate.checkpoint import load_model  # noqa: E402
from numerate.lengths import parse_lengths  # noqa: E402
from numerate.eval.evaluate import evaluate  # noqa: E402
from numerate.eval.cells import make_cells  # noqa: E402


def table(rows: list[dict], lengths: list[int], samplers: list[str]) -> str:
    """One line per length, one column per sampler (the task's own: carry chains, borrow chains, ...)."""
    lines = ["| digits (both operands) | " + " | ".join(samplers) + " |", "|---:|" + "---:|" * len(samplers)]
    for n in lengths:
        cells = []
        for kind in samplers:
            r = next(r for r in rows if r["sampler"] == kind and r["len_a"] == n)
            cells.append(
                "n/a" if r["exact_match"] is None else f"{100 * r['exact_match']:.1f}% ({r['correct']}/{r['n']})"
            )
        lines.append(f"| {n} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model")
    p.add_argument("--lengths", default="1,5,10,15,20,25,30,40,50,60,80,100")
    p.add_argument("--samples", type=int, default=1000)
    p.add_argument("--seed", type=int, default=1234)
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    lengths = parse_lengths(args.lengths)
    bundle = load_model(args.model)
    t0 = time.perf_counter()
    cells = make_cells(lengths, grid=False, carry=True, task=bundle.task)
    rows, _ = evaluate(bundle, cells, samples=args.samples, seed=args.seed)
    seconds = time.perf_counter() - t0
    text = table(rows, lengths, list(bundle.task.samplers))
    name = Path(args.model).name
    write_results(
        f"{name}-eval",
        text,
        {"model": args.model, "samples": args.samples, "seed": args.seed, "seconds": seconds, "rows": rows},
    )
    card = Path(args.model) / "README.md"
    if card.exists():
        prov = provenance()
        block = (
            f"<!-- eval:start -->\n{text}\n\n{args.samples} problems per cell, test seed {args.seed}; "
            f"measured {prov['date']} at commit {prov['commit']} by\n`{prov['command']}`\n<!-- eval:end -->"
        )
        old = card.read_text()
        new, count = re.subn(r"<!-- eval:start -->.*<!-- eval:end -->", lambda _: block, old, flags=re.S)
        if count:
            card.write_text(new)
            print(f"updated the evaluation table in {card}")


if __name__ == "__main__":
    main()
