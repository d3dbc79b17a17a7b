"""The shipped proofs, redone twice: by `numerate verify` and by the independent checker.

    python bench/trust.py [--models add-proof,sub,iter-sum-step,add-tiny,copy,mul/times-digit,iter-sum-proof]

For each shipped model folder: the prover's wall time, verdict, cases, smallest lead at the float64 midpoint,
largest rounding radius and smallest lead minus radius; then tools/check_certificate.py (numpy and safetensors
only: its own fields, cases and ball arithmetic) on the committed certificate, its wall time and whether it
agrees. A certificate that is not a proof (iter-sum-proof: undecided) is one the checker must refuse.
Results: bench/results/trust.md and .json.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import write_results  # noqa: E402

ROOT = Path(__file__).parent.parent


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--models", default="add-proof,sub,iter-sum-step,add-tiny,copy,mul/times-digit,iter-sum-proof")
    args = p.parse_args()
    from numerate import malloc
    from numerate.checkpoint import load_model
    from numerate.verify.prove import verify

    malloc.keep_freed_memory()
    rows = []
    for name in args.models.split(","):
        folder = ROOT / "models" / name
        t0 = time.perf_counter()
        result = verify(load_model(folder), progress=False)
        prove_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        out = subprocess.run(
            [sys.executable, str(ROOT / "tools" / "check_certificate.py"), str(folder / "certificate.json")],
            capture_output=True,
            text=True,
        )
        check_s = time.perf_counter() - t0
        agrees = out.returncode == 0 and "AGREES" in out.stdout
        refuses = out.returncode == 1 and "does not claim a proof" in out.stdout
        rows.append(
            {
                "model": name,
                "verdict": result.verdict,
                "cases": result.cases,
                "min_margin": result.min_margin,
                "max_bound": result.max_bound,
                "min_slack": result.min_slack,
                "prove_s": prove_s,
                "checker": "agrees" if agrees else ("refuses" if refuses else "DIFFERS"),
                "check_s": check_s,
                "checker_output": out.stdout[-2000:] + out.stderr[-2000:],
            }
        )
    head = f"{'model':<16} {'verdict':>9} {'cases':>7} {'min lead':>9} {'max radius':>10} {'lead-radius':>11} "
    head += f"{'verify s':>9} {'checker':>8} {'checker s':>10}"
    lines = [head, "-" * len(head)]
    for r in rows:
        lines.append(
            f"{r['model']:<16} {r['verdict']:>9} {r['cases']:>7} {r['min_margin']:>9.3f} {r['max_bound']:>10.2e} "
            f"{r['min_slack']:>11.3f} {r['prove_s']:>9.1f} {r['checker']:>8} {r['check_s']:>10.1f}"
        )
    write_results("trust", "\n".join(lines), {"rows": rows})


if __name__ == "__main__":
    main()
