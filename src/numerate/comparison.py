"""Comparisons (`numerate compare`, `numerate.compare`): train every variant at every seed on identical data,
evaluate on identical test sets.

A spec is YAML::

    base: demo                 # preset or YAML file shared by every variant
    seeds: [0, 1, 2]
    set: [train.max_steps=4000]          # optional overrides for every variant
    eval: {lengths: 1-40, samples: 100, carry: true}
    variants:
      learned: [model.pos=learned]
      nope: [model.pos=nope]
      2d: []                   # the base as it is

Runs live in OUT/<variant>/s<seed>. A finished run that has been evaluated is skipped, an unfinished one is
resumed, so a long comparison can be spread over several sittings; `--report-only` writes the table and plot of
the runs finished so far, marked partial, without training. `--jobs N` trains N runs at once, one CPU thread
each; `--ray` runs them as Ray tasks on a local cluster of N CPUs, `--ray ADDRESS` on an existing cluster (run
folders on shared storage). A run that fails is reported with the end of its log, the others go on, and the
table of the rest is written, marked partial (exit 1); the same command again retries what failed. The results
table gives, per variant, the median and min-max over seeds of exact match in length bands: in distribution, up
to 2x, up to 4x and beyond the longest training length.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
from pathlib import Path

from numerate import config
from numerate.errors import NumerateError, UsageError
from numerate.plots import plot_bands
from numerate.tasks import get_task


EVAL_FILE = "compare_eval.json"  # written last by a run's unit: its presence means the run is done
# A run that does not reach this exact match (%) on uniform problems of its own training lengths did not learn the
# task at this recipe: its numbers beyond those lengths say nothing about length generalization.
FIT_THRESHOLD = 90.0


def load_spec(path: str) -> dict:
    import yaml

    try:
        spec = yaml.safe_load(Path(path).read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise UsageError(f"cannot read comparison spec {path}: {exc}") from None
    if not isinstance(spec, dict) or not isinstance(spec.get("variants"), dict) or not spec["variants"]:
        raise UsageError(f"{path}: needs a mapping 'variants: {{name: [key=value, ...]}}'")
    unknown = set(spec) - {"base", "seeds", "set", "eval", "variants"}
    if unknown:
        raise UsageError(f"{path}: unknown keys {sorted(unknown)} (known: base, seeds, set, eval, variants)")
    spec.setdefault("base", "demo")  # the preset every variant starts from; validated and trained alike
    spec.setdefault("seeds", [0, 1, 2])
    spec.setdefault("set", [])
    spec.setdefault("eval", {})
    for name, overrides in spec["variants"].items():
        spec["variants"][name] = list(overrides or [])
        # Fail now, not an hour into the comparison, if a variant's config is wrong.
        config.load(spec["base"], spec["set"] + spec["variants"][name])
    return spec


def train_in_subprocess(config_name: str, folder: Path, overrides: list[str], log_path: Path) -> None:
    """`numerate train CONFIG --out FOLDER` in a child process on one thread, output to a log file; continued
    with --resume if FOLDER holds an unfinished run (a finished one returns at once)."""
    from numerate.procs import run_child

    folder.parent.mkdir(parents=True, exist_ok=True)
    resume = ["--resume"] if (folder / "train_state.pt").is_file() else []
    cmd = [sys.executable, "-m", "numerate", "train", config_name, "--out", str(folder), *resume, "--quiet"]
    cmd += ["--set", *overrides, "train.threads=1"]
    with open(log_path, "a") as log:
        if run_child(cmd, stdout=log, stderr=subprocess.STDOUT):
            raise NumerateError(f"training {folder} failed; see {log_path}")


def training_finished(folder: Path) -> bool:
    """Whether FOLDER holds a run trained to its last step."""
    try:
        saved = json.loads((Path(folder) / "config.json").read_text())
        return saved.get("step") == saved["config"]["train"]["max_steps"]
    except (OSError, ValueError, KeyError, TypeError):
        return False


def training_units(config_name: str, runs: dict, overrides: list[str]) -> list:
    """One sweep unit per seed of `runs` ({seed: folder}): train `config_name` at that seed into the folder (log
    beside it); a run already trained to its last step is skipped, an unfinished one resumed."""
    from functools import partial

    from numerate.sweep import Unit

    units = []
    for seed, folder in runs.items():
        folder = Path(folder).resolve()
        args = (config_name, folder, [f"train.seed={seed}", *overrides], folder.with_suffix(".log"))
        units.append(Unit(folder.name, train_in_subprocess, args, log=args[3], done=partial(training_finished, folder)))
    return units


def run_one(spec: dict, variant: str, seed: int, folder: Path) -> None:
    overrides = spec["set"] + spec["variants"][variant] + [f"train.seed={seed}"]
    train_in_subprocess(spec["base"], folder, overrides, folder.parent / f"s{seed}.log")
    evaluate_one(spec, folder)  # while the other jobs still train, so the cores stay busy


def evaluate_one(spec: dict, folder: Path) -> list[dict]:
    from numerate.checkpoint import load_model
    from numerate.lengths import parse_lengths
    from numerate.eval.evaluate import evaluate
    from numerate.eval.cells import make_cells

    out = folder / EVAL_FILE
    ev = spec["eval"]
    key = {
        "lengths": str(ev.get("lengths", "1-40")),
        "samples": int(ev.get("samples", 100)),
        "carry": bool(ev.get("carry", True)),
        "seed": int(ev.get("seed", 1234)),
    }
    if out.exists() and json.loads(out.read_text()).get("key") == key:
        return json.loads(out.read_text())["rows"]
    bundle = load_model(folder)
    cells = make_cells(parse_lengths(key["lengths"]), grid=False, carry=key["carry"], task=bundle.task)
    rows, _ = evaluate(bundle, cells, samples=key["samples"], seed=key["seed"])
    out.write_text(json.dumps({"key": key, "rows": rows}))
    return rows


def band_accuracy(rows: list[dict], lo: int, hi: float, sampler: str, dim: str = "len_a") -> float | None:
    sel = [r for r in rows if r["sampler"] == sampler and lo <= r[dim] <= hi and r["exact_match"] is not None]
    return 100 * sum(r["correct"] for r in sel) / sum(r["n"] for r in sel) if sel else None


def run_compare(spec_path: str, out: Path, engine=None, report_only: bool = False) -> int:
    from numerate import plots

    pictures = plots.pictures_or_warn("compare")
    from numerate.sweep import Engine, Unit, run_units

    engine = engine or Engine(jobs=2)
    spec = load_spec(spec_path)
    from numerate.model.posenc import ignored_settings_warning

    for name, overrides in spec["variants"].items():  # said before any training: a setting the variant ignores
        ignored = ignored_settings_warning(config.load(spec["base"], spec["set"] + overrides).model)
        if ignored:
            print(f"variant {name}: {ignored}", file=sys.stderr)
    shown, out = out, out.resolve()  # units may run in other processes (Ray workers), in other working folders
    out.mkdir(parents=True, exist_ok=True)
    runs = [(v, s, out / v / f"s{s}") for v in spec["variants"] for s in spec["seeds"]]
    units = [
        Unit(f"{v}/s{s}", run_one, (spec, v, s, folder), log=folder.parent / f"s{s}.log", done=folder / EVAL_FILE)
        for v, s, folder in runs
    ]
    todo = [u for u in units if not u.done.exists()]
    failed = []
    if report_only:
        # Table and plot from the runs finished so far, marked as partial; nothing is trained.
        if len(todo) == len(units):
            raise UsageError(f"{out}: no finished runs to report yet")
    else:
        print(f"{len(runs)} runs, {len(runs) - len(todo)} already done; training {len(todo)}, {engine.describe()}")
        failed = run_units(units, engine).failed
        for failure in failed:
            print(f"FAILED {failure}", file=sys.stderr)
    runs = [r for r in runs if (r[2] / EVAL_FILE).exists()]
    if not runs:
        raise NumerateError(f"every run failed; nothing to tabulate in {out}")
    from tqdm.auto import tqdm

    results = {v: {} for v in spec["variants"] if any(r[0] == v for r in runs)}
    for v, s, folder in tqdm(runs, desc="evaluating", unit="run"):
        results[v][s] = evaluate_one(spec, folder)
    base = config.load(spec["base"], spec["set"])
    train_max, task = base.task.train_lengths[1], get_task(base.task.name)
    table, summary = summarize(results, train_max, spec, task)
    print(table)
    total = len(spec["variants"]) * len(spec["seeds"])
    partial = f"\n\n**Partial**: {len(runs)} of {total} runs finished." if len(runs) < total else ""
    if failed:
        partial += " Failed: " + ", ".join(f"{f.name} (log {f.log})" for f in failed) + "."
    (out / "results.md").write_text(
        f"# comparison\n\nspec: `{spec_path}`; command: `numerate compare {spec_path} "
        f"--out {shown}`{partial}\n\n```\n{table}\n```\n"
    )
    fit = fit_report(results, train_max, task)
    data = {"spec": spec, "summary": summary, "fit": fit, "rows": results}
    (out / "results.json").write_text(json.dumps(data, indent=1))
    if pictures:
        plot_bands(results, train_max, out / "results.png", dim=task.cell_dims[0])
    drawn = f", plot {out / 'results.png'}" if pictures else ""
    print(f"table {out / 'results.md'}, rows {out / 'results.json'}{drawn}")
    if failed:
        print(
            f"{len(failed)} of {len(units)} runs failed (above); re-run the same command to retry them", file=sys.stderr
        )
        return 1
    return 0


def length_bands(t: int, adversarial=("carry",)) -> list[tuple[str, int, float, str]]:
    """(name, shortest, longest, sampler) for training lengths 1..t: uniform problems in four bands, and each of
    the task's adversarial samplers beyond the training lengths."""
    inf = float("inf")
    return [
        ("in distribution", 1, t, "uniform"),
        ("to 2x", t + 1, 2 * t, "uniform"),
        ("to 4x", 2 * t + 1, 4 * t, "uniform"),
        ("beyond 4x", 4 * t + 1, inf, "uniform"),
    ] + [(f"{sampler}, beyond 1x", t + 1, inf, sampler) for sampler in adversarial]


def fit_report(results: dict, train_max: int, task=None) -> dict:
    """Per variant, each seed's exact match on uniform problems of the training lengths, and the seeds below
    FIT_THRESHOLD ({variant: {"in_distribution": {seed: %}, "did_not_fit": [seeds]}})."""
    dim = (task or get_task("addition")).cell_dims[0]
    out = {}
    for v, per_seed in results.items():
        inside = {s: band_accuracy(rows, 1, train_max, "uniform", dim) for s, rows in per_seed.items()}
        inside = {s: x for s, x in inside.items() if x is not None}
        out[v] = {"in_distribution": inside, "did_not_fit": [s for s, x in inside.items() if x < FIT_THRESHOLD]}
    return out


def did_not_fit_lines(fit: dict, train_max: int, seeds: bool = True) -> list[str]:
    """The warning under a table: which variants (and seeds) did not fit their own training range, and what that
    means."""
    bad = {v: f for v, f in fit.items() if f["did_not_fit"]}
    if not bad:
        return []
    lines = [f"* did not fit its training range (1-{train_max}; below {FIT_THRESHOLD:g}% there):"]
    for v, f in bad.items():
        which = ", ".join(
            (f"seed {s}: " if seeds else "") + f"{f['in_distribution'][s]:.1f}%" for s in f["did_not_fit"]
        )
        lines.append(f"  {v}: {which}")
    lines.append(
        "  its numbers beyond the training range measure a model that never learned the task, not length "
        "generalization: train longer, or with the scheme's own recipe (docs/positions.md)"
    )
    return lines


def summarize(results: dict, train_max: int, spec: dict, task=None) -> tuple[str, dict]:
    task = task or get_task("addition")
    dim = task.cell_dims[0]
    bands = length_bands(train_max, [s for s in task.samplers if s != "uniform"])
    head = f"{'variant':<22} " + " ".join(f"{name:>20}" for name, *_ in bands)
    lines = [
        f"{task.name}: exact match %, median [min-max] over seeds {spec['seeds']}; training lengths 1-{train_max}",
        head,
        "-" * len(head),
    ]
    summary = {}
    fit = fit_report(results, train_max, task)
    for v, per_seed in results.items():
        cells, summary[v] = [], {}
        for name, lo, hi, sampler in bands:
            vals = [band_accuracy(rows, lo, hi, sampler, dim) for rows in per_seed.values()]
            vals = [x for x in vals if x is not None]
            if not vals:
                cells.append(f"{'-':>20}")
                continue
            summary[v][name] = {"median": statistics.median(vals), "min": min(vals), "max": max(vals)}
            cells.append(f"{statistics.median(vals):6.1f} [{min(vals):5.1f}-{max(vals):5.1f}]")
        name = f"{v} *" if fit[v]["did_not_fit"] else v
        lines.append(f"{name:<22} " + " ".join(f"{c:>20}" for c in cells))
    return "\n".join(lines + did_not_fit_lines(fit, train_max)), summary


# ---------------------------------------------------------------- the command line (cli.py lists the verb)
