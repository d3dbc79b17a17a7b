"""Spread over training seeds: train a preset at several seeds, evaluate each, report median and min-max.

    python bench/seeds.py --preset demo --seeds 0,1,2 --lengths 5,10,15,20,30,40,60,100 --samples 200

Runs go to runs/seeds/<preset>-s<seed> and are resumed or skipped if already trained, so the benchmark can be
spread over several sittings. `--jobs` trains that many seeds at once, one thread each.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from numerate.commands.args import add_engine_args, engine_from_args  # noqa: E402
from common import train_seeds, write_results  # noqa: E402

from numerate.checkpoint import load_model  # noqa: E402
from numerate.lengths import parse_lengths  # noqa: E402
from numerate.eval.evaluate import evaluate  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--preset", default="demo")
    p.add_argument("--seeds", default="0,1,2")
    p.add_argument("--lengths", default="5,10,15,20,30,40,60,100")
    p.add_argument("--samples", type=int, default=200)
    p.add_argument("--long-samples", type=int, default=50, help="problems per cell at 500 digits and more")
    p.add_argument("--unequal", action="store_true", help="also test (L, L/3)-digit operand pairs")
    add_engine_args(p)
    p.add_argument("--set", nargs="*", default=[], help="extra config overrides for every seed")
    args = p.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    lengths = parse_lengths(args.lengths)
    runs = {s: Path("runs/seeds") / f"{args.preset}-s{s}" for s in seeds}
    train_seeds(args.preset, runs, args.set, engine_from_args(args))

    kinds = ["uniform", "carry"] + (["unequal"] if args.unequal else [])
    per_seed = {}
    for s, folder in runs.items():
        bundle, rows = load_model(folder), []
        for n in lengths:
            cells = [("uniform", (n, n)), ("carry", (n, n))] + (
                [("uniform", (n, max(1, n // 3)))] if args.unequal else []
            )
            cell_rows, _ = evaluate(bundle, cells, samples=args.samples if n < 500 else args.long_samples)
            for kind, row in zip(kinds, cell_rows):
                rows.append({**row, "kind": kind, "digits": n})
            print(
                f"seed {s}, {n} digits: "
                + ", ".join(f"{k} {100 * r['exact_match']:.1f}%" for k, r in zip(kinds, cell_rows)),
                flush=True,
            )
        per_seed[s] = rows
    summary = summarize(per_seed, seeds, lengths, kinds)
    title = (
        f"preset {args.preset} {' '.join(args.set)}, seeds {seeds}; {args.samples} problems per cell "
        f"({args.long_samples} from 500 digits); exact match %: median [min-max]"
    )
    data = {"title": title, "seeds": seeds, "kinds": kinds, "summary": summary, "rows": per_seed}
    write_results(f"seeds-{args.preset}", render(title, kinds, summary), data)


def summarize(per_seed: dict, seeds: list[int], lengths: list[int], kinds: list[str]) -> list[dict]:
    summary = []
    for n in lengths:
        entry = {"digits": n}
        for kind in kinds:
            vals = [
                100 * next(r for r in per_seed[s] if r["kind"] == kind and r["digits"] == n)["exact_match"]
                for s in seeds
            ]
            entry[kind] = {"median": statistics.median(vals), "min": min(vals), "max": max(vals), "per_seed": vals}
        summary.append(entry)
    return summary


def render(title: str, kinds: list[str], summary: list[dict]) -> str:
    names = {"unequal": "unequal (L, L/3)", "carry": "carry chains"}
    lines = [title, f"{'digits':>6} " + " ".join(f"{names.get(k, k):>22}" for k in kinds) + "   per seed (uniform)"]
    for entry in summary:
        cells = [f"{e['median']:6.1f} [{e['min']:5.1f}-{e['max']:5.1f}]" for e in (entry[k] for k in kinds)]
        per_seed = " ".join(f"{v:5.1f}" for v in entry["uniform"]["per_seed"])
        lines.append(f"{entry['digits']:>6} " + " ".join(f"{c:>22}" for c in cells) + "   " + per_seed)
    return "\n".join(lines)


if __name__ == "__main__":
    main()
