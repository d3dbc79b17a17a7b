"""`numerate demo`: the default small model beside a learned-absolute-positions baseline, same data.

Both train at once, one CPU thread each (on two cores that beats two threads for one run, then the other). The
default model (the `add-proof` preset: 2-D positions with a [0, +1] column window) is then proven right at every
length with `numerate verify`, adds two 10,000-digit numbers, and both models are evaluated out to 40 digits; the
table, a heatmap and a length plot are written. `verify` also says why the baseline cannot be proven.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from numerate import config
from numerate.checkpoint import load_model
from numerate.eval.evaluate import describe_mistake, evaluate
from numerate.eval.cells import make_cells
from numerate.train.loop import train

MAIN, BASELINE = "add-proof", "demo-learned"
LONG_DIGITS = 10_000
DISPLAY = [1, 2, 3, 5, 8, 10, 11, 12, 15, 20, 25, 30, 35, 40]  # lengths shown in the printed table
QUICK = ["train.max_steps=150", "train.eval_every=50", "train.ckpt_every=50", "train.eval_samples=50"]


def side_by_side(results: dict[str, list[dict]], lengths: list[int]) -> str:
    """Exact match per operand length: uniform and carry-chain columns for each model."""
    names = list(results)
    head = f"{'digits':>6} " + " ".join(f"{name + ' ' + kind:>22}" for name in names for kind in ("uniform", "carry"))
    lines = [head, "-" * len(head)]
    for n in lengths:
        cells = []
        for name in names:
            for kind in ("uniform", "carry"):
                row = next(r for r in results[name] if r["sampler"] == kind and r["len_a"] == n)
                cells.append(f"{'n/a':>22}" if row["exact_match"] is None else f"{100 * row['exact_match']:>21.1f}%")
        lines.append(f"{n:>6} " + " ".join(cells))
    return "\n".join(lines)


def run_demo(out: Path, quick: bool = False) -> int:
    from numerate import plots

    plots.pictures_or_warn("demo")  # said before the training: heatmap.png and sweep.png need matplotlib
    out.mkdir(parents=True, exist_ok=True)
    overrides = ["train.threads=1"] + (QUICK if quick else [])
    t0 = time.perf_counter()
    from numerate.procs import start_child, stopping_children

    main_dir, base_dir = out / "main", out / "learned"
    resume = ["--resume"] if (base_dir / "train_state.pt").is_file() else []
    # not --quiet: its log gets a line per evaluation (progress goes to a file as lines, not a bar)
    cmd = [sys.executable, "-m", "numerate", "train", BASELINE, "--out", str(base_dir), *resume]
    cmd += ["--set", *overrides]
    # Ctrl-C or SIGTERM stops the baseline too (it checkpoints; running the demo again continues both runs).
    with open(out / "baseline.log", "a") as log, stopping_children():
        baseline = start_child(cmd, stdout=log, stderr=subprocess.STDOUT)
        print(
            f"training the default model ({MAIN}) here and the learned-positions baseline in the background "
            f"(log: {out / 'baseline.log'})"
        )
        train(config.load(MAIN, overrides), main_dir, resume=(main_dir / "train_state.pt").is_file())
        print("waiting for the baseline to finish ...")
        if baseline.wait() != 0:
            print(f"the baseline run failed; see {out / 'baseline.log'}", file=sys.stderr)
            return 1
    train_minutes = (time.perf_counter() - t0) / 60

    proof = prove_and_add_long(out, quick)
    lengths = list(range(1, 13)) if quick else list(range(1, 41))
    samples = 20 if quick else 100
    models = {"default": load_model(out / "main"), "learned abs.": load_model(out / "learned")}
    results, mistakes = {}, {}
    for name, bundle in models.items():
        results[name], mistakes[name] = evaluate(bundle, make_cells(lengths, grid=False, carry=True), samples=samples)
    print()
    print(side_by_side(results, [n for n in DISPLAY if n in lengths]))
    for name, bundle in models.items():
        for a in mistakes[name][:3]:
            print(f"  [{name}] " + describe_mistake(bundle, a))

    grid_rows, _ = evaluate(
        models["default"],
        make_cells(lengths[::2] if not quick else lengths, True, False),
        samples=10 if not quick else 5,
    )
    from numerate import plots

    train_max = models["default"].cfg.task.train_lengths[1]
    if plots.available():
        plots.heatmap(grid_rows, out / "heatmap.png", title="default model: exact match (%)", train_max=train_max)
        title = "exact match by operand length (both operands)"
        plots.sweep(results, out / "sweep.png", title=title, train_max=train_max)
    from numerate.version import __version__

    summary = {
        "command": "numerate demo" + (" --quick" if quick else ""),
        "numerate": __version__,
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "train_minutes": round(train_minutes, 1),
        "samples_per_cell": samples,
        "rows": results,
        "grid": grid_rows,
        "proof": proof,
    }
    (out / "results.json").write_text(json.dumps(summary, indent=1))

    def band(rows, lo, hi):
        sel = [r for r in rows if r["sampler"] == "uniform" and lo <= r["len_a"] <= hi and r["exact_match"] is not None]
        return 100 * sum(r["correct"] for r in sel) / max(1, sum(r["n"] for r in sel))

    print(f"\ntraining took {train_minutes:.1f} min")
    for name, rows in results.items():
        print(
            f"{name:>13}: {band(rows, 1, train_max):5.1f}% on 1-{train_max} digits, "
            f"{band(rows, 20, 20):5.1f}% at 20 digits, {band(rows, 40, 40):5.1f}% at 40 digits"
        )
    print(f"models in {out}/main and {out}/learned; plots {out}/heatmap.png and {out}/sweep.png")
    print(f"proof certificate in {out}/main/certificate.json: `numerate verify {out}/main` checks it again")
    return 0


def prove_and_add_long(out: Path, quick: bool) -> dict:
    """Prove the default model, show why the baseline cannot be proven, and add two 10,000-digit numbers."""
    import random

    import torch

    from numerate.bigint import to_str
    from numerate.eval.answer import answer_problems
    from numerate.tasks.base import Problem
    from numerate.certificate_json import summary
    from numerate.verify.certificate import certificate
    from numerate.verify.prove import NotProvable, verify

    torch.set_num_threads(os.cpu_count() or 1)  # training pinned one thread; the baseline has finished
    bundle = load_model(out / "main")
    print("\nproving the default model right at every length (`numerate verify`, float64 evaluation) ...")
    result = verify(bundle, progress=sys.stderr.isatty(), max_failures=5 if quick else None)
    cert = certificate(bundle, out / "main", result)
    (out / "main" / "certificate.json").write_text(json.dumps(cert, indent=2) + "\n")
    print(summary(cert))
    try:
        verify(load_model(out / "learned"), progress=False)
        reason = "(unexpectedly in the provable class)"
    except NotProvable as exc:
        reason = str(exc)
    print(f"\nthe learned-positions baseline cannot be proven: {reason}")

    rng = random.Random(2026)
    n = 200 if quick else LONG_DIGITS
    problem = Problem((rng.randrange(10 ** (n - 1), 10**n), rng.randrange(10 ** (n - 1), 10**n)))
    t = time.perf_counter()
    answer = answer_problems(bundle, [problem])[0]
    seconds = time.perf_counter() - t
    shown = to_str(answer.value) if answer.value is not None else answer.text
    print(
        f"\ntwo {n:,}-digit numbers added in {seconds:.1f} s: {shown[:20]}...{shown[-20:]} "
        f"({'exact' if answer.correct else 'WRONG'})"
    )
    return {
        "proven": result.proven,
        "cases": result.cases,
        "min_margin": result.min_margin,
        "verify_seconds": round(result.seconds, 1),
        "baseline_reason": reason,
        "long_digits": n,
        "long_exact": answer.correct,
        "long_seconds": round(seconds, 2),
    }


# ---------------------------------------------------------------- the command line (cli.py lists the verb)


def add_parser(sub, help: str) -> None:
    """Declare `numerate demo` and its arguments."""

    d = sub.add_parser(
        "demo",
        help=help,
        description="Train the default small model and, beside it, the same model with learned "
        "absolute positions, on 1-10 digit addition; evaluate both out to 40 digits.",
    )
    d.add_argument("--out", default="runs/demo", help="where to write models, table and plots (default runs/demo)")
    d.add_argument("--quick", action="store_true", help="a much shorter run, to check the pipeline")
    d.set_defaults(func=command)


def command(args) -> int:

    return run_demo(Path(args.out), quick=args.quick)
