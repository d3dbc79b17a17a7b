"""Low-probability text tasks on a language model: each task at several lengths, plain against spaced letters.

    python bench/lowprob.py [--lm "--hf smollm2 --chat"] [--shots 3] [--samples 20] [--name smollm2-lowprob]

Runs `numerate probe --task T --representation R` for every task and representation (each into
bench/results/<name>/<task>-<rep>/ with every prompt and reply) and gathers exact match by length into one table.
Any model `numerate probe` takes can be put through the same table, e.g. --lm "--openai-base-url URL --model M".
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import RESULTS, run_probe, write_results  # noqa: E402

LENGTHS = {
    "letter-count": "3,5,8,12",
    "reverse-word": "3,5,8,12",
    "alphabet-backwards": "3,6,10,26",
    "copy-digits": "5,10,20,40",
}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--lm", default="--hf smollm2 --chat", help="the model arguments of `numerate probe`")
    p.add_argument("--shots", type=int, default=3)
    p.add_argument("--samples", type=int, default=20)
    p.add_argument("--tasks", default=",".join(LENGTHS))
    p.add_argument("--name", default="smollm2-lowprob")
    args = p.parse_args()
    rows = []
    for task in args.tasks.split(","):
        for rep in ("plain", "spaced"):
            out = RESULTS / args.name / f"{task}-{rep}"
            cmd = ["numerate", "probe", *shlex.split(args.lm), "--task", task, "--representation", rep]
            cmd += ["--lengths", LENGTHS[task], "--shots", str(args.shots), "--samples", str(args.samples)]
            cmd += ["--quiet", "--out", str(out)]
            for r in run_probe(cmd, out):
                rows.append({"task": task, "representation": rep, **r})
            print(task, rep, [round(100 * r["exact_match"]) for r in rows[-len(LENGTHS[task].split(",")) :]])
    head = f"{'task':<20} {'letters':<8} " + " ".join(f"{'len':>4} {'exact%':>7} {'malf':>4}" for _ in range(4))
    lines = [head, "-" * len(head)]
    for task in args.tasks.split(","):
        for rep in ("plain", "spaced"):
            mine = [r for r in rows if r["task"] == task and r["representation"] == rep]
            cells = " ".join(f"{r['length']:>4} {100 * r['exact_match']:>7.1f} {r['malformed']:>4}" for r in mine)
            lines.append(f"{task:<20} {rep:<8} {cells}")
    note = (
        f"\n{args.samples} questions per cell, {args.shots}-shot, model arguments `{args.lm}`; exact% = right; "
        "malf = replies not in the answer's form (read strictly: the first line only)"
    )
    write_results(args.name, "\n".join(lines) + note, {"rows": rows, "lm": args.lm, "shots": args.shots})


if __name__ == "__main__":
    main()
