"""Results of the iteration lab over several models: median and min-max per (mode, dial), as text and series."""

from __future__ import annotations

import statistics

from numerate.iterate.lab import format_table

SUMMARY_KEYS = (
    "exact",
    "feasible",
    "constraint_satisfaction",
    "gap_mean",
    "step_first_try",
    "proposals_mean",
    "parse_failure_rate",
    "accepts_wrong",
    "rejects_right",
)


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


def series(summary: list[dict], modes) -> dict:
    return {
        m: [
            (r["k"], 100 * r["exact"], 100 * r["exact_range"][0], 100 * r["exact_range"][1])
            for r in summary
            if r["mode"] == m
        ]
        for m in modes
    }
