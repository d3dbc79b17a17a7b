"""Peak memory and time of the commands a newcomer runs first, each in a fresh process.

    python bench/peaks.py

Each row is one command run as a child of a small wrapper process, whose resource usage gives the child's peak
resident memory (ru_maxrss); times are wall-clock, start-up included.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import write_results  # noqa: E402

COMMANDS = [
    "numerate verify models/add-tiny --quiet",
    "numerate verify models/add-proof --quiet --batch-size 8192",
    "numerate verify models/page-mul --quiet --batch-size 8192",
    "numerate verify models/page-mul --quiet",
    "numerate explain models/page-mul --problem 4732*586 --out /tmp/numerate-peaks --quiet",
    "numerate explain models/add-tiny --out /tmp/numerate-peaks-tiny --quiet",
    "numerate solve models/add-tiny < INPUT",
]
WRAPPER = (
    "import resource, subprocess, sys, json; r = subprocess.run(sys.argv[1], shell=True, capture_output=True); "
    "print(json.dumps([r.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss]))"
)


def measure(command: str) -> dict:
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", WRAPPER, command], capture_output=True, text=True, check=True)
    code, kb = json.loads(done.stdout)
    return {
        "command": command,
        "exit": code,
        "peak_mb": round(kb / 1024),
        "seconds": round(time.perf_counter() - t0, 1),
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.parse_args()
    problem = Path("/tmp/numerate-peaks-input.txt")
    problem.write_text("123456789+987654321\n" * 100)
    rows = [measure(c.replace("INPUT", str(problem))) for c in COMMANDS]
    width = max(len(r["command"]) for r in rows)
    lines = [f"{'command':<{width}} {'exit':>4} {'peak MB':>8} {'s':>6}"]
    lines += [f"{r['command']:<{width}} {r['exit']:>4} {r['peak_mb']:>8} {r['seconds']:>6.1f}" for r in rows]
    write_results("peaks", "\n".join(lines), {"rows": rows})


if __name__ == "__main__":
    main()
