"""How often does a recipe yield a *provable* model, and when during training does a model become provable?

    python bench/proof.py --preset add-proof --seeds 0,1,2,3,4 --jobs 2      # or --ray [ADDRESS]

Trains the preset at each seed (runs/proof/<preset>-s<seed>, keeping a snapshot at every checkpoint; resumed or
skipped if already trained), runs `numerate verify` on every final model and on every
snapshot, and reports the provable-correctness rate over seeds and the minimum logit margin against the
training step (a model is proven when every case's lead clears its rounding radius).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import RESULTS, run_sweep, train_seeds, write_results  # noqa: E402

from numerate.commands.args import add_engine_args, engine_from_args  # noqa: E402
from numerate.sweep import Unit  # noqa: E402


def verify_folder(folder: str) -> dict:
    """verify one model folder; the result is kept in FOLDER/verify.json (keyed by the weights' hash) for reruns."""
    import torch

    torch.set_num_threads(1)
    import numerate.eval.evaluate  # noqa: F401  (import everything now: a long job must not mix code versions)
    from numerate.checkpoint import load_model
    from numerate.verify.prove import sha256, verify

    saved = Path(folder) / "verify.json"
    digest = sha256(Path(folder) / "model.safetensors")
    if saved.is_file():
        row = json.loads(saved.read_text())
        if row.get("sha256") == digest and "min_lead_minus_bound" in row:
            return row
    bundle = load_model(folder)
    r = verify(bundle, progress=False)
    row = {
        "folder": folder,
        "step": bundle.meta.get("step"),
        "proven": r.proven,
        "cases": r.cases,
        "failing_cases": r.failing_cases,
        "min_margin": r.min_margin,
        "min_lead_minus_bound": r.min_slack,
        "max_bound": r.max_bound,
        "seconds": round(r.seconds, 1),
        "sha256": digest,
    }
    saved.write_text(json.dumps(row))
    return row


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--preset", default="add-proof")
    p.add_argument("--seeds", default="0,1,2,3,4")
    add_engine_args(p)
    p.add_argument("--runs", default="runs/proof", help="where the training runs live")
    p.add_argument(
        "--snapshot-steps", default="250,500,750,1000", help="snapshots to verify (the final model is always verified)"
    )
    args = p.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    runs = {s: Path(args.runs) / f"{args.preset}-s{s}" for s in seeds}
    engine = engine_from_args(args)
    train_seeds(args.preset, runs, ["train.snapshots=true"], engine)
    # Every final model and every wanted snapshot is verified as a unit of its own.
    jobs = [str(runs[s]) for s in seeds]
    wanted = {f"step-{x}" for x in args.snapshot_steps.split(",")}
    jobs += [str(snap) for s in seeds for snap in sorted((runs[s] / "snapshots").glob("step-*")) if snap.name in wanted]
    units = [Unit(f"verify {folder}", verify_folder, (folder,)) for folder in jobs]
    done = run_sweep(units, engine)
    rows = [done[u.name] for u in units]
    finals = {r["folder"]: r for r in rows[: len(seeds)]}
    snaps = rows[len(seeds) :]
    lines = [f"preset {args.preset}; `numerate verify` on each seed's final model and on its training snapshots", ""]
    lines.append(f"{'seed':>4} {'proven':>7} {'cases':>8} {'min margin':>11} {'lead-radius':>12} {'verify s':>9}")
    for s in seeds:
        r = finals[str(runs[s])]
        lines.append(
            f"{s:>4} {str(r['proven']):>7} {r['cases']:>8} {r['min_margin']:>11.3f} {r['min_lead_minus_bound']:>12.3f} "
            f"{r['seconds']:>9.1f}"
        )
    n_proven = sum(r["proven"] for r in finals.values())
    margins = [r["min_margin"] for r in finals.values()]
    lines += [
        "",
        f"provable-correctness rate: {n_proven}/{len(seeds)} seeds; minimum margin median "
        f"{statistics.median(margins):.2f} [{min(margins):.2f}-{max(margins):.2f}]",
        "",
        "smallest lead minus its rounding radius by training step; > 0 means proven at that step",
    ]
    for r in finals.values():  # the final model is the last point of each curve
        snaps.append({**r, "folder": str(Path(r["folder"]) / "snapshots" / f"step-{r['step']}")})
    steps = sorted({r["step"] for r in snaps})
    lines.append(f"{'step':>6} " + " ".join(f"{'s' + str(s):>8}" for s in seeds))
    by = {(Path(r["folder"]).parent.parent.name, r["step"]): r for r in snaps}
    for step in steps:
        cells = []
        for s in seeds:
            r = by.get((runs[s].name, step))
            cells.append(f"{r['min_lead_minus_bound']:>8.2f}" if r else f"{'':>8}")
        lines.append(f"{step:>6} " + " ".join(cells))
    write_results(f"proof-{args.preset}", "\n".join(lines), {"finals": list(finals.values()), "snapshots": snaps})
    plot(args.preset, seeds, runs, by, steps)


def plot(preset, seeds, runs, by, steps) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return
    fig, ax = plt.subplots(figsize=(6, 3.5))
    for s in seeds:
        xs = [st for st in steps if (runs[s].name, st) in by]
        ys = [max(by[(runs[s].name, st)]["min_lead_minus_bound"], -20.0) for st in xs]  # -inf drawn at -20
        ax.plot(xs, ys, marker="o", label=f"seed {s}")
    ax.axhline(0, color="k", lw=0.8)
    ax.set_xlabel("training step")
    ax.set_ylabel("smallest lead minus radius")
    ax.set_title(f"{preset}: when does a model become provable? (> 0 = proven)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(RESULTS / f"proof-{preset}.png", dpi=120)


if __name__ == "__main__":
    main()
