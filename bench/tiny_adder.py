"""The smallest adder proven at every length: search one-layer recipes downward in size.

    python bench/tiny_adder.py --configs 2x1x1,2x1x2,2x1x4,4x1x1,4x1x2,4x1x4,6x1x2,8x1x2 \\
        --seeds 0,1,2 --steps 6000 --lr 0.01 --jobs 2

Each config WIDTHxHEADSxMLP_RATIO is the add-proof recipe (2-D positions, column window [0, +1]) with one layer
of that size (widths must give an even head size), trained with `numerate train --until-proven` (verified every
250 steps once sampled accuracy is 100%; stops when proven) for at most --steps steps. Runs whose folder already
holds a finished run are not trained again, and interrupted ones resume. Reported per config: parameters (all,
and without the 13 row embeddings three-row problems never use), how many seeds were proven, the median step,
and the minimum margin; a plot of parameters against the provable rate. Results: bench/results/tiny-adder.md,
.json and .png.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import RESULTS, write_results  # noqa: E402

from numerate.certificate_json import Certificate  # noqa: E402


def parse(config: str) -> tuple[int, int, int, bool, int]:
    """WIDTHxHEADSxMLP, then `t` for a head tied to the embedding and `rN` for a row table of N rows."""
    import re

    m = re.fullmatch(r"(\d+)x(\d+)x(\d+)(t?)(?:r(\d+))?", config)
    if m is None:
        raise SystemExit(f"{config!r} is not WIDTHxHEADSxMLP[t][rN] (e.g. 4x1x1 or 4x1x1tr3)")
    width, heads, ratio, tied, rows = m.groups()
    return int(width), int(heads), int(ratio), bool(tied), int(rows or 16)


def overrides(config: str, steps: int, lr: float, seed: int) -> list[str]:
    width, heads, ratio, tied, rows = parse(config)
    return [
        f"model.tie_embeddings={str(tied).lower()}",
        f"model.pos_rows={rows}",
        "model.n_layer=1",
        f"model.n_embd={width}",
        f"model.n_head={heads}",
        f"model.mlp_ratio={ratio}",
        f"train.max_steps={steps}",
        f"train.lr={lr}",
        "train.eval_every=250",
        "train.ckpt_every=250",
        f"train.seed={seed}",
        "train.threads=1",
    ]


def run_one(config: str, seed: int, args) -> dict:
    out = Path("runs/tiny") / f"{config}-s{seed}"
    done = out / "done.json"
    if done.exists():
        return json.loads(done.read_text())
    resume = ["--resume"] if (out / "train_state.pt").exists() else []  # an interrupted search goes on
    cmd = ["numerate", "train", "add-proof", "--out", str(out), "--quiet", "--until-proven", *resume, "--set"]
    cmd += overrides(config, args.steps, args.lr, seed)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    cert_path = out / "certificate.json"
    found = Certificate.read(cert_path)
    cert = found.data if found else None
    side = json.loads((out / "config.json").read_text()) if (out / "config.json").exists() else {}
    row = {
        "config": config,
        "seed": seed,
        "exit": proc.returncode,
        "proven": bool(cert and cert["proven"]),
        "step": side.get("step"),
        "min_margin": cert["margin"]["min_midpoint"] if cert else None,
        "seconds": round(seconds, 1),
        "command": " ".join(cmd),
        "tail": (proc.stdout + proc.stderr)[-400:],
    }
    if proc.returncode in (0, 1):
        done.write_text(json.dumps(row))
    print(
        f"{config} s{seed}: {'PROVEN' if row['proven'] else 'not proven'} at step {row['step']} ({row['seconds']} s)",
        flush=True,
    )
    return row


def params(config: str) -> int:
    from numerate import checkpoint, config as config_mod

    return checkpoint.build(config_mod.load("add-proof", overrides(config, 1, 0.01, 0))).model.num_params()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--configs", required=True)
    p.add_argument("--seeds", default="0,1,2")
    p.add_argument("--steps", type=int, default=6000)
    p.add_argument("--lr", type=float, default=0.01)
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--name", default="tiny-adder", help="results file name in bench/results")
    args = p.parse_args()
    configs, seeds = args.configs.split(","), [int(s) for s in args.seeds.split(",")]
    jobs = [(c, s) for c in configs for s in seeds]
    with ThreadPoolExecutor(args.jobs) as pool:
        rows = list(pool.map(lambda cs: run_one(cs[0], cs[1], args), jobs))
    head = f"{'config (width x heads x mlp)':<30} {'params':>7} {'used':>6} {'proven':>7} "
    head += f"{'median step':>12} {'min margin':>11}"
    lines = [
        f"add-proof recipe, 1 layer, window [0, +1]; `numerate train --until-proven`, <= {args.steps} steps, "
        f"lr {args.lr}; seeds {args.seeds}",
        "",
        head,
        "-" * len(head),
    ]
    summary = []
    for c in configs:
        mine = [r for r in rows if r["config"] == c]
        ok = [r for r in mine if r["proven"]]
        n = params(c)
        width, n_rows = parse(c)[0], parse(c)[4]
        unused = max(0, n_rows - 3) * width  # rows 3.. of the row table: a two-operand problem has rows 0, 1, 2
        step = statistics.median(r["step"] for r in ok) if ok else None
        margin = min(r["min_margin"] for r in ok) if ok else None
        summary.append({"config": c, "params": n, "used": n - unused, "proven": len(ok), "of": len(mine)})
        lines.append(
            f"{c:<30} {n:>7} {n - unused:>6} {len(ok):>3}/{len(mine):<3} "
            f"{'-' if step is None else int(step):>12} {'-' if margin is None else f'{margin:.3f}':>11}"
        )
    write_results(args.name, "\n".join(lines), {"rows": rows, "summary": summary})
    from numerate.plots import _pyplot

    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot([s["params"] for s in summary], [s["proven"] / s["of"] for s in summary], "o-")
    for s in summary:
        ax.annotate(s["config"], (s["params"], s["proven"] / s["of"]), fontsize=7, rotation=30)
    ax.set_xscale("log")
    ax.set_xlabel("parameters")
    ax.set_ylabel("seeds proven at every length")
    ax.set_title("smallest proven adder: one layer, window [0, +1]")
    fig.tight_layout()
    fig.savefig(RESULTS / f"{args.name}.png", dpi=120)


if __name__ == "__main__":
    main()
