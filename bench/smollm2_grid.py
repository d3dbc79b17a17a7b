"""Addition on a language model in every representation, with 0, 3 and 8 worked examples, lengths 1 to 20.

    python bench/smollm2_grid.py [--lm "--hf smollm2 --chat"] [--lengths 1,2,3,4,6,8,12,16,20] [--samples 20]

Runs `numerate probe --representation R --shots S` for every pair (each into bench/results/<name>/<R>-<S>shot/,
with every prompt and reply, so `bench/smollm2_errors.py` can read where the wrong digits sit) and gathers exact
match by length into one table. A cell already probed with the same command is read back, not run again, so an
interrupted grid resumes. Any model `numerate probe` takes fits: --lm "--openai-base-url URL --model M".
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import RESULTS, run_probe, write_results  # noqa: E402

REPRESENTATIONS = ("plain", "reversed", "spaced", "commas-right", "commas-left")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--lm", default="--hf smollm2 --chat --device cpu", help="the model arguments of `numerate probe`")
    p.add_argument("--task", default="addition")
    p.add_argument("--shots", default="0,3,8")
    p.add_argument("--representations", default=",".join(REPRESENTATIONS))
    p.add_argument("--lengths", default="1,2,3,4,6,8,12,16,20")
    p.add_argument("--samples", type=int, default=20)
    p.add_argument("--name", default="smollm2-grid")
    args = p.parse_args()
    lengths = [int(x) for x in args.lengths.split(",")]
    rows, table = [], []
    for rep in args.representations.split(","):
        for shots in [int(s) for s in args.shots.split(",")]:
            out = RESULTS / args.name / f"{rep}-{shots}shot"
            cmd = ["numerate", "probe", *shlex.split(args.lm), "--task", args.task, "--representation", rep]
            cmd += ["--shots", str(shots), "--lengths", args.lengths, "--samples", str(args.samples)]
            cmd += ["--quiet", "--out", str(out)]
            cell = run_probe(cmd, out)
            rows += [{"representation": rep, "shots": shots, **r} for r in cell]
            table.append((rep, shots, {r["len_a"]: r for r in cell}))
            print(rep, shots, [round(100 * r["exact_match"]) for r in cell], flush=True)
    head = f"{'representation':<14} {'shots':>5} " + " ".join(f"{n:>6}" for n in lengths) + "   malformed"
    lines = [f"{args.task}: exact match % by operand length", head, "-" * len(head)]
    for rep, shots, by_len in table:
        cells = " ".join(f"{100 * by_len[n]['exact_match']:6.0f}" for n in lengths)
        malformed = sum(by_len[n]["malformed"] for n in lengths)
        asked = sum(by_len[n]["n"] for n in lengths)
        lines.append(f"{rep:<14} {shots:>5} {cells}   {malformed:>4}/{asked}")
    note = (
        f"\n{args.samples} problems per cell (uniform, both operands the given length), model arguments `{args.lm}`;"
        " malformed = replies not in the answer's form, read strictly (first line only)."
    )
    write_results(args.name, "\n".join(lines) + note, {"rows": rows, "lm": args.lm})


if __name__ == "__main__":
    main()
