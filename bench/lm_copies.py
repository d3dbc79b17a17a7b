"""How often a language model's one-shot answer is a worked example's answer, copied: read from the iteration
lab's ledgers (no model is run). A reply equal to the last example's answer is the template, not a computation.

    python bench/lm_copies.py            # --folders A,B: other lab folders under bench/results
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import RESULTS, write_results  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--folders",
        default="smollm2-iterate-running-sum-r0,smollm2-iterate-gcd-r0,smollm2-iterate-knapsack-r0",
        help="lab folders under bench/results, comma-separated",
    )
    p.add_argument("--name", default="smollm2-copies")
    args = p.parse_args()
    lines = [f"{'lab folder':<36} {'one-shot':>8} {'= last example':>15} {'= any example':>14} {'right':>6}"]
    data = {}
    for folder in args.folders.split(","):
        replies = []
        for ledger in sorted((RESULTS / folder).glob("ledger-*.jsonl")):
            rows = [json.loads(line) for line in ledger.read_text().splitlines() if line.strip()]
            replies += [r for r in rows if r.get("mode") == "one-shot" and "prompt" in r]
        shown = [[m["content"].strip() for m in r["prompt"] if m["role"] == "assistant"] for r in replies]
        last = sum(r["raw"].strip() == s[-1] for r, s in zip(replies, shown) if s)
        anyone = sum(r["raw"].strip() in s for r, s in zip(replies, shown))
        result = json.loads((RESULTS / folder / "results.json").read_text())
        right = sum(
            row["exact"] * row["n"] for rows in result["rows"].values() for row in rows if row["mode"] == "one-shot"
        )
        data[folder] = {"one_shot": len(replies), "last_example": last, "any_example": anyone, "right": round(right)}
        lines.append(f"{folder:<36} {len(replies):>8} {last:>15} {anyone:>14} {round(right):>6}")
    note = "\none-shot replies (chat, 3 worked examples each) equal to the last worked example's answer, or to any"
    write_results(args.name, "\n".join(lines) + note, data)


if __name__ == "__main__":
    main()
