"""From nothing to a proven adder: `numerate train PRESET --until-proven`, timed end to end, over seeds.

    python bench/until_proven.py --preset add-proof --seeds 0,1,2,3,4 [--set train.threads=2 ...] [--every 100]

Each seed runs as its own process (one after the other, so each has the machine): training, the verification
attempts once sampled accuracy is 100%, and the certificate. Reported: the wall time of the whole command, the
step at which it was proven, the attempts, the minimum margin and the rounding bound.

A finished seed is kept in bench/results/NAME/seed-N.json and not run again unless --force, and the table is
rebuilt from every kept seed, so seeds can be run one command (or one day) at a time. An interrupted seed
resumes from its last checkpoint in runs/until-proven/ (`numerate train --resume`), its wall time adding up
over the attempts.
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
from common import RESULTS, write_results  # noqa: E402

from numerate.certificate_json import Certificate  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--preset", default="add-proof")
    p.add_argument("--seeds", default="0,1,2,3,4")
    p.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE")
    p.add_argument("--every", type=int, help="--prove-every (default: each evaluation)")
    p.add_argument("--name", default=None)
    p.add_argument("--force", action="store_true", help="run kept seeds again, from scratch")
    args = p.parse_args()
    name = args.name or f"until-proven-{args.preset}"
    keep = RESULTS / name
    keep.mkdir(parents=True, exist_ok=True)
    for seed in [int(s) for s in args.seeds.split(",")]:
        kept = keep / f"seed-{seed}.json"
        if kept.exists() and not args.force:
            continue
        out = Path("runs/until-proven") / f"{args.preset}-s{seed}"
        spent = out / "bench-seconds"  # wall time of earlier, interrupted attempts
        if args.force:
            shutil.rmtree(out, ignore_errors=True)
        resume = (out / "train_state.pt").exists()
        before = float(spent.read_text()) if resume and spent.exists() else 0.0
        cmd = ["numerate", "train", args.preset, "--out", str(out), "--quiet", "--until-proven"]
        cmd += ["--set", f"train.seed={seed}", *args.set] + (["--prove-every", str(args.every)] if args.every else [])
        cmd += ["--resume"] if resume else []
        cert_path = out / "certificate.json"
        t0, returncode, stdout = time.perf_counter(), 0, ""
        ended = resume and spent.exists() and cert_path.exists() and Certificate.load(cert_path).proven
        if not ended:  # (a run that ended proven but was not kept is only tabled)
            proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            out.mkdir(parents=True, exist_ok=True)
            try:
                stdout, _ = proc.communicate()
            finally:
                spent.write_text(f"{before + time.perf_counter() - t0:.1f}")
            returncode = proc.returncode
        seconds = before + time.perf_counter() - t0
        found = Certificate.read(cert_path)
        cert = found.data if found else None
        margin = cert and (cert["margin"].get("min_float32") or cert["margin"].get("min_midpoint"))
        row = {
            "seed": seed,
            "exit": returncode,
            "seconds": round(seconds, 1),
            "proven_at": cert["training"]["proven_at_step"] if cert else None,
            "attempts": cert["training"]["attempts"] if cert else None,
            "min_margin": margin,
            "max_bound": cert["rounding"]["max_bound"] if cert else None,
            "command": " ".join(cmd),
            "resumed": resume,
        }
        if returncode != 0 and cert is None:
            row["attempts"] = stdout[-500:]
        kept.write_text(json.dumps(row, indent=1))
        print(row, flush=True)
    rows = sorted((json.loads(f.read_text()) for f in keep.glob("seed-*.json")), key=lambda r: r["seed"])
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
    write_results(name, "\n".join(lines), {"rows": rows, "preset": args.preset, "set": args.set})


if __name__ == "__main__":
    main()
