"""Fill the "measured" block of every page in docs/techniques/ from a comparison's results.json.

    python bench/technique_pages.py [bench/results/compare-standard/results.json]

A page names the comparison variants it reports in its marker, ``<!-- measured:start learned,learned-hints -->``;
everything up to ``<!-- measured:end -->`` is rewritten with those variants' rows (median [min-max] over seeds
per length band), so the numbers on the pages are always the committed comparison's.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGES = ROOT / "docs" / "techniques"
MARK = re.compile(r"<!-- measured:start ([\w,+\-]*) -->.*?<!-- measured:end -->", re.S)


def block(variants: list[str], result: dict, source: str) -> str:
    summary, spec = result["summary"], result["spec"]
    bands = ["in distribution", "to 2x", "to 4x", "beyond 4x", "carry, beyond 1x"]
    lines = [
        f"Standard comparison (`{source}`): 1-10 digit addition, {len(spec['seeds'])} seeds, exact match %, "
        "median [min-max] over seeds; test lengths "
        f"{spec['eval']['lengths']}, {spec['eval']['samples']} problems per length and kind.",
        "",
        "| variant | switches | " + " | ".join(bands) + " |",
        "|---|---|" + "---|" * len(bands),
    ]
    for v in variants:
        if v not in summary:
            lines.append(f"| `{v}` | not in this comparison |" + " |" * len(bands))
            continue
        cells = []
        for b in bands:
            s = summary[v].get(b)
            cells.append("–" if s is None else f"{s['median']:.1f} [{s['min']:.1f}–{s['max']:.1f}]")
        switches = ", ".join(f"`{o}`" for o in spec["variants"][v]) or "the demo config"
        lines.append(f"| `{v}` | {switches} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    path = Path(sys.argv[1] if len(sys.argv) > 1 else ROOT / "bench/results/compare-standard/results.json")
    result = json.loads(path.read_text())
    source = str(path.relative_to(ROOT)) if path.is_absolute() and ROOT in path.parents else str(path)
    for page in sorted(PAGES.glob("*.md")):
        text = page.read_text()

        def fill(m):
            names = [v for v in m.group(1).split(",") if v]
            return f"<!-- measured:start {m.group(1)} -->\n{block(names, result, source)}\n<!-- measured:end -->"

        new = MARK.sub(fill, text)
        if new != text:
            page.write_text(new)
            print(f"updated {page.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
