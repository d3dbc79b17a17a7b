"""Where the multiplication scratchpad's lines go wrong: from the iteration lab's ledgers (every line asked and
what the model wrote), the share of wrong lines by b's digit d (the multiplier written in every column), by the
carry into the first wrong column, and by where in the line that column sits.

    python bench/mul_lines.py bench/results/iterate-mul-lines/mul-lines --name mul-lines-errors

Reads FOLDER/ledger-*.jsonl (one per model) as `numerate iterate` writes them; no model is run.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import write_results  # noqa: E402

from numerate.bigint import from_str, to_str  # noqa: E402


def first_wrong(s: int, a: int, d: int, said: str) -> tuple[int, int, int] | None:
    """(column, carry into it, line width) of the first wrong answer digit (least significant first), or None."""
    truth = to_str(s + a * d)[::-1]
    width = len(truth)
    sd, ad = to_str(s)[::-1].ljust(width, "0"), to_str(a)[::-1].ljust(width, "0")
    carry = 0
    for i in range(max(width, len(said))):
        if i >= width or i >= len(said) or truth[i] != said[i]:
            return i, carry, width
        carry = (int(sd[i]) + d * int(ad[i]) + carry) // 10
    return None


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("folder", help="a `numerate iterate --out` folder of a long-multiplication model")
    p.add_argument("--name", default="mul-lines-errors", help="results go to bench/results/NAME.md/.json")
    args = p.parse_args()
    ledgers = sorted(Path(args.folder).glob("ledger-*.jsonl"))
    if not ledgers:
        p.error(f"no ledger-*.jsonl in {args.folder}")
    asked, wrong, by_carry, by_tenth = Counter(), Counter(), Counter(), Counter()
    for path in ledgers:
        for line in path.read_text().splitlines():
            row = json.loads(line)
            if row.get("mode") != "external" or row.get("attempt", 0) != 0:
                continue
            s, a, digits = (from_str(x[::-1]) for x in row["input"].rstrip(">").split("*"))  # written reversed
            d = digits % 10
            asked[d] += 1
            if row["verdict"]["ok"]:
                continue
            wrong[d] += 1
            where = first_wrong(s, a, d, row["raw"] or "")
            if where:
                column, carry, width = where
                by_carry[carry] += 1
                by_tenth[min(9, 10 * column // width)] += 1
    total_wrong = sum(wrong.values())
    lines = [
        f"{sum(asked.values())} lines asked (first tries, {len(ledgers)} models), {total_wrong} wrong",
        "",
        "multiplier digit d      " + " ".join(f"{d:>6}" for d in range(10)),
        "lines asked             " + " ".join(f"{asked[d]:>6}" for d in range(10)),
        "wrong %                 " + " ".join(f"{100 * wrong[d] / max(1, asked[d]):>6.1f}" for d in range(10)),
        "",
        "carry into first wrong  " + " ".join(f"{c:>6}" for c in range(10)),
        "wrong lines             " + " ".join(f"{by_carry[c]:>6}" for c in range(10)),
        "",
        "tenth of the line       " + " ".join(f"{t:>6}" for t in range(10)),
        "wrong lines             " + " ".join(f"{by_tenth[t]:>6}" for t in range(10)),
    ]
    data = {"asked": asked, "wrong": wrong, "by_carry": by_carry, "by_tenth": by_tenth}
    write_results(args.name, "\n".join(lines), {k: dict(sorted(v.items())) for k, v in data.items()})


if __name__ == "__main__":
    main()
