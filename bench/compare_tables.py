"""Re-render committed comparison tables from their own rows, with today's table code: the length bands and the
mark on every variant that did not fit its training range (below FIT_THRESHOLD on uniform problems of its own
training lengths), whose zeros beyond them say nothing about length generalization.

    python bench/compare_tables.py bench/results/compare-standard bench/results/compare-sub ...

Each folder's results.json (spec, rows per variant and seed, as `numerate compare` writes it) is read; results.md
gets the new table under its original command and a line saying when and how it was re-rendered; results.json
gains the per-seed fit. Nothing is trained or evaluated again.
"""

from __future__ import annotations

import argparse
import datetime
import json
import re
from pathlib import Path


def rerender(folder: Path) -> str:
    from numerate import config
    from numerate.comparison import fit_report, summarize
    from numerate.tasks import get_task

    data = json.loads((folder / "results.json").read_text())
    spec = data["spec"]
    rows = {v: {int(s): r for s, r in per.items()} for v, per in data["rows"].items()}
    base = config.load(spec["base"], spec.get("set", []))
    train_max, task = base.task.train_lengths[1], get_task(base.task.name)
    table, summary = summarize(rows, train_max, spec, task)
    data.update(summary=summary, fit=fit_report(rows, train_max, task))
    (folder / "results.json").write_text(json.dumps(data, indent=1))
    md = (folder / "results.md").read_text()
    head = md.split("```", 1)[0].rstrip()
    head = re.sub(r"\n\nTable re-rendered .*", "", head, flags=re.S)
    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")
    note = (
        f"Table re-rendered from these rows on {when} with `python bench/compare_tables.py {folder}` (the same "
        "runs, nothing retrained; * marks a variant that did not fit its training range)."
    )
    (folder / "results.md").write_text(f"{head}\n\n{note}\n\n```\n{table}\n```\n")
    return table


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("folders", nargs="+", type=Path)
    args = p.parse_args()
    for folder in args.folders:
        print(f"== {folder}\n{rerender(folder)}\n")


if __name__ == "__main__":
    main()
