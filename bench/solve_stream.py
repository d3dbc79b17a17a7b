"""Does `numerate solve` stream? Peak memory and throughput on inputs of growing size, from a file and a pipe.

    python bench/solve_stream.py --model models/add-proof --sizes-mb 2,8

For each size, a file of random short problems (1-12 digit operands) is answered by `numerate solve` in a child
process, once reading the file and once through a pipe (spooled); the child's peak resident memory (ru_maxrss),
wall time and the number of answers checked right are reported. Memory that does not grow with the input is the
claim under test.
"""

from __future__ import annotations

import argparse
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import write_results  # noqa: E402


def make_input(path: Path, megabytes: float, seed: int) -> list[int]:
    rng = random.Random(seed)
    sums, size = [], 0
    with open(path, "w") as f:
        while size < megabytes * 1e6:
            a, b = rng.randrange(10 ** rng.randint(1, 12)), rng.randrange(10 ** rng.randint(1, 12))
            line = f"{a}+{b}\n"
            f.write(line)
            size += len(line)
            sums.append(a + b)
    return sums


def run(cmd: list[str], stdin_path: Path, pipe: bool, out_path: Path) -> tuple[float, float]:
    """(seconds, peak MB of the child)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t = time.perf_counter()
    with open(out_path, "w") as out:
        if pipe:
            cat = subprocess.Popen(["cat", str(stdin_path)], stdout=subprocess.PIPE)
            subprocess.run(cmd, stdin=cat.stdout, stdout=out, check=True)
            cat.wait()
        else:
            with open(stdin_path) as f:
                subprocess.run(cmd, stdin=f, stdout=out, check=True)
    seconds = time.perf_counter() - t
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return seconds, max(peak, before) / 1024


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default="models/add-proof")
    p.add_argument("--sizes-mb", default="2,8")
    p.add_argument("--via", default="file,pipe", help="file, pipe or both (default file,pipe)")
    args = p.parse_args()
    cmd = [sys.executable, "-m", "numerate", "solve", args.model, "--quiet"]
    rows, lines = [], [f"`numerate solve {args.model}` on random 1-12 digit problems", ""]
    lines.append(f"{'input MB':>8} {'problems':>9} {'via':>5} {'seconds':>8} {'problems/s':>11} {'peak MB':>8} exact")
    with tempfile.TemporaryDirectory() as tmp:
        for mb in [float(x) for x in args.sizes_mb.split(",")]:
            src, out = Path(tmp) / "in.txt", Path(tmp) / "out.txt"
            sums = make_input(src, mb, seed=int(mb * 10))
            for pipe in [v == "pipe" for v in args.via.split(",")]:
                # ru_maxrss of children is a running maximum over all of them: measure each run in a fresh child.
                probe = subprocess.run(
                    [sys.executable, __file__, "--measure-one", str(src), str(out), str(int(pipe)), *cmd],
                    capture_output=True,
                    text=True,
                    check=True,
                )
                seconds, peak = (float(x) for x in probe.stdout.split())
                answers = out.read_text().split()
                exact = answers == [str(s) for s in sums]
                rows.append({"mb": mb, "problems": len(sums), "pipe": pipe, "seconds": seconds, "peak_mb": peak})
                lines.append(
                    f"{mb:>8.1f} {len(sums):>9} {'pipe' if pipe else 'file':>5} {seconds:>8.1f} "
                    f"{len(sums) / seconds:>11.0f} {peak:>8.0f} {exact}"
                )
                print(lines[-1], flush=True)
    write_results("solve-stream", "\n".join(lines), {"rows": rows})


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--measure-one":
        src, out, pipe, *cmd = sys.argv[2:]
        print(*run(cmd, Path(src), pipe == "1", Path(out)))
    else:
        main()
