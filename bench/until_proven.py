"""From nothing to a proven adder: `numerate train PRESET --until-proven`, timed end to end, over seeds.

    python bench/until_proven.py --preset add-proof --seeds 0,1,2,3,4 [--set train.threads=2 ...] [--every 100]

Each seed runs as its own process (one after the other, so each has the machine): training, the verification
attempts once sampled accuracy is 100%, and the certificate. Reported: the wall time of the whole command, the
step at which it was proven, the attempts, the minimum margin and the rounding bound.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import write_results  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--preset", default="add-proof")
    p.add_argument("--seeds", default="0,1,2,3,4")
    p.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE")
    p.add_argument("--every", type=int, help="--prove-every (default: each evaluation)")
    p.add_argument("--name", default=None)
    args = p.parse_args()
    rows = []
    for seed in [int(s) for s in args.seeds.split(",")]:
        out = Path("runs/until-proven") / f"{args.preset}-s{seed}"
        shutil.rmtree(out, ignore_errors=True)
        cmd = ["numerate", "train", args.preset, "--out", str(out), "--quiet", "--until-proven"]
        cmd += ["--set", f"train.seed={seed}", *args.set] + (["--prove-every", str(args.every)] if args.every else [])
        t0 = time.perf_counter()
        done = subprocess.run(cmd, capture_output=True, text=True)
        seconds = time.perf_counter() - t0
        cert = json.loads((out / "certificate.json").read_text()) if (out / "certificate.json").exists() else None
        rows.append(
            {
                "seed": seed,
                "exit": done.returncode,
                "seconds": round(seconds, 1),
                "proven_at": cert["training"]["proven_at_step"] if cert else None,
                "attempts": cert["training"]["attempts"] if cert else done.stdout[-500:],
                "min_margin": cert["margin"]["min_float32"] if cert else None,
                "max_bound": cert["rounding"]["max_bound"] if cert else None,
                "command": " ".join(cmd),
            }
        )
        print(rows[-1], flush=True)
    lines = [f"preset {args.preset} {' '.join(args.set)}; `numerate train --until-proven`, one process per seed", ""]
    lines.append(f"{'seed':>4} {'exit':>4} {'proven at step':>14} {'attempts':>8} {'min margin':>10} {'seconds':>8}")
    for r in rows:
        n = len(r["attempts"]) if isinstance(r["attempts"], list) else "-"
        margin = f"{r['min_margin']:.3f}" if r["min_margin"] is not None else "-"
        lines.append(f"{r['seed']:>4} {r['exit']:>4} {str(r['proven_at']):>14} {n:>8} {margin:>10} {r['seconds']:>8}")
    proven = [r for r in rows if r["exit"] == 0]
    times = [r["seconds"] for r in rows]
    lines += [
        "",
        f"proven: {len(proven)}/{len(rows)} seeds; wall time median {statistics.median(times):.1f} s "
        f"[{min(times):.1f}-{max(times):.1f}], training and proof included",
    ]
    name = args.name or f"until-proven-{args.preset}"
    write_results(name, "\n".join(lines), {"rows": rows, "preset": args.preset, "set": args.set})


if __name__ == "__main__":
    main()
