"""Training time by thread count, on a free machine and with one core kept busy by another process.

    python bench/threads.py --steps 100 --repeats 2

Each cell is `numerate train add-proof --set train.max_steps=STEPS train.threads=T` in a fresh process (the
median of the repeats, in seconds, start-up included); T = 0 is numerate's default, the cores free when the run
starts. The busy core is a Python loop in a separate process, started before the run and stopped after it.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import write_results  # noqa: E402


def train_seconds(steps: int, threads: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "numerate", "train", "add-proof", "--out", f"{tmp}/run", "--quiet"]
        cmd += ["--set", f"train.max_steps={steps}", f"train.threads={threads}", "train.eval_every=100000"]
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        return time.perf_counter() - t0


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--steps", type=int, default=100)
    p.add_argument("--repeats", type=int, default=2)
    p.add_argument("--threads", default="1,2,0", help="thread counts to time (0 = numerate's default)")
    args = p.parse_args()
    counts = [int(t) for t in args.threads.split(",")]
    rows = []
    for busy in (False, True):
        hog = None
        if busy:
            hog = subprocess.Popen([sys.executable, "-c", "while True: pass"])
            time.sleep(1.0)
        try:
            for t in counts:
                times = [train_seconds(args.steps, t) for _ in range(args.repeats)]
                rows.append({"busy_core": busy, "threads": t, "seconds": round(statistics.median(times), 2)})
                print(rows[-1], flush=True)
        finally:
            if hog is not None:
                hog.kill()
                hog.wait()
    lines = [f"cores: {os.cpu_count()}; {args.steps} steps of add-proof; median of {args.repeats} runs", ""]
    lines.append(f"{'one core busy':<14} {'threads':>8} {'seconds':>8}")
    for r in rows:
        name = "auto (0)" if r["threads"] == 0 else str(r["threads"])
        lines.append(f"{'yes' if r['busy_core'] else 'no':<14} {name:>8} {r['seconds']:>8.2f}")
    write_results("threads", "\n".join(lines), {"rows": rows, "steps": args.steps, "repeats": args.repeats})


if __name__ == "__main__":
    main()
