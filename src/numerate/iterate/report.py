"""`numerate iterate`: one or more models (e.g. training seeds) x modes x dial settings -> table, JSON, plot."""

from __future__ import annotations

import json
import statistics
from pathlib import Path

from numerate.errors import UsageError
from numerate.iterate.lab import MODES, format_table, plot_modes, run_lab

SUMMARY_KEYS = (
    "exact",
    "feasible",
    "constraint_satisfaction",
    "gap_mean",
    "step_first_try",
    "proposals_mean",
    "parse_failure_rate",
)


def parse_modes(text: str) -> list[str]:
    modes = [m.strip() for m in text.split(",") if m.strip()]
    bad = [m for m in modes if m not in MODES]
    if bad or not modes:
        raise UsageError(f"--modes: unknown {', '.join(bad) or '(none given)'} (known: {', '.join(MODES)})")
    return modes


def load_iterative(folder: str):
    from numerate.checkpoint import load_model
    from numerate.tasks.iterative import IterativeTask

    bundle = load_model(folder)
    if not isinstance(bundle.task, IterativeTask):
        raise UsageError(f"{folder} was trained on '{bundle.task.name}', which is not an iterative task")
    return bundle


def summarize(per_model: dict[str, list[dict]]) -> list[dict]:
    """Median and min-max over models of each measure, per (mode, k)."""
    first = next(iter(per_model.values()))
    out = []
    for i, row in enumerate(first):
        agg = {"mode": row["mode"], "k": row["k"], "n": row["n"], "models": len(per_model)}
        for key in SUMMARY_KEYS:
            vals = [rows[i][key] for rows in per_model.values() if rows[i].get(key) is not None]
            if vals:
                agg[key] = statistics.median(vals)
                agg[key + "_range"] = [min(vals), max(vals)]
        out.append(agg)
    return out


def render(summary: list[dict], dial: str, n_models: int) -> str:
    head = f"median [min-max] over {n_models} models" if n_models > 1 else "one model"
    return f"{head}; exact = the final answer is right (optimization: feasible and optimal)\n" + format_table(
        summary, dial
    )


def run_iterate(args) -> int:
    from numerate.cli import parse_lengths

    modes = parse_modes(args.modes)
    if args.retries < 0:
        raise UsageError(f"--retries must be >= 0, got {args.retries}")
    dials = parse_lengths(args.dial)
    bundles = {}
    for folder in args.models:
        bundles[folder] = load_iterative(folder)
    tasks = {b.task.name for b in bundles.values()}
    if len(tasks) > 1:
        raise UsageError(f"the models were trained on different tasks ({', '.join(sorted(tasks))})")
    if "looped" in modes and any(b.cfg.model.recurrences == 1 for b in bundles.values()):
        raise UsageError("mode 'looped' needs looped models (trained with model.recurrences > 1)")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    per_model = {}
    for i, (folder, bundle) in enumerate(bundles.items()):
        ledger = out / f"ledger-{i}.jsonl" if "external" in modes else None
        per_model[folder] = run_lab(
            bundle, modes, dials, args.samples, args.seed, args.max_steps, args.retries, ledger, not args.quiet
        )
    bundle = next(iter(bundles.values()))
    summary = summarize(per_model)
    text = render(summary, bundle.task.dial, len(per_model))
    print(text)
    command = "numerate iterate " + " ".join(args.argv)
    (out / "results.json").write_text(
        json.dumps({"command": command, "task": bundle.task.name, "summary": summary, "rows": per_model}, indent=1)
    )
    (out / "results.md").write_text(f"# {bundle.task.name}\n\n`{command}`\n\n```\n{text}\n```\n")
    train_max = bundle.cfg.task.train_lengths[1]
    plot_modes(series(summary, modes), train_max, bundle.task.dial, bundle.task.name, out / "results.png")
    print(f"table {out / 'results.md'}, rows {out / 'results.json'}, plot {out / 'results.png'}")
    return 0


def series(summary: list[dict], modes) -> dict:
    return {
        m: [
            (r["k"], 100 * r["exact"], 100 * r["exact_range"][0], 100 * r["exact_range"][1])
            for r in summary
            if r["mode"] == m
        ]
        for m in modes
    }
