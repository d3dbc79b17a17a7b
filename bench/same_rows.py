"""Do two comparison folders hold the same numbers? Per run (variant, seed) found in both, whether every
evaluation row is identical; e.g. a sweep run on Ray against the committed one run with --jobs.

    python bench/same_rows.py bench/results/compare-sub runs/compare-sub-ray --name compare-sub-ray

Exit 0 when every run present in both is identical (and at least one is), 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def runs(folder: Path) -> dict:
    return {
        (p.parent.parent.name, p.parent.name): json.loads(p.read_text())
        for p in sorted(folder.glob("*/s*/compare_eval.json"))
    }


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("a", type=Path)
    p.add_argument("b", type=Path)
    p.add_argument("--name", help="also write the table to bench/results/NAME.md and .json")
    args = p.parse_args()
    a, b = runs(args.a), runs(args.b)
    both = sorted(set(a) & set(b))
    same, lines = 0, [f"{args.a} against {args.b}: evaluation rows of each run"]
    for key in both:
        ok = a[key]["key"] == b[key]["key"] and a[key]["rows"] == b[key]["rows"]
        same += ok
        lines.append(f"{key[0]:<20} {key[1]:<4} {'identical' if ok else 'DIFFERENT'} ({len(a[key]['rows'])} rows)")
    only = sorted(set(a) ^ set(b))
    lines.append(f"{same} of {len(both)} runs in both folders identical; {len(only)} in one folder only")
    if args.name:
        sys.path.insert(0, str(Path(__file__).parent))
        from common import write_results

        write_results(args.name, "\n".join(lines), {"identical": same, "compared": len(both), "one_only": len(only)})
    else:
        print("\n".join(lines))
    return 0 if both and same == len(both) else 1


if __name__ == "__main__":
    sys.exit(main())
