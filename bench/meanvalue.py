"""Which models a proof covers in which precision, by ball arithmetic and by mean-value forms per layer: the
verdict, the largest lead radius and the smallest lead minus its radius for each (model, precision, method), and
the wall time of the proof.

    python bench/meanvalue.py                                   # every row not measured yet
    python bench/meanvalue.py --models add-proof --precisions float32 --methods mean-value

Each row is kept in bench/results/meanvalue/ as it finishes (a long table can be measured over several
sittings: rows already there are skipped unless --force), and the table is written from every kept row.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import RESULTS, provenance, write_results  # noqa: E402

MODELS = [
    "add-tiny",
    "add-proof",
    "sub",
    "copy",
    "iter-sum-step",
    "mul/times-digit",
    "iter-sum-proof",
    "page-add",
    "page-mul",
    "page-div",
    "page-gcd",
]
ROWS = RESULTS / "meanvalue"


def row_path(model: str, precision: str, method: str) -> Path:
    return ROWS / f"{model.replace('/', '--')}__{precision}__{method}.json"


def measure(model: str, precision: str, method: str, batch_size: int) -> dict:
    from numerate.checkpoint import load_model
    from numerate.verify.prove import verify

    bundle = load_model(Path("models") / model)
    t0 = time.perf_counter()
    result = verify(bundle, progress=False, precision=precision, method=method, batch_size=batch_size)
    return {
        "model": model,
        "precision": precision,
        "method": method,
        "verdict": result.verdict,
        "cases": result.cases,
        "undecided_cases": sum(c.undecided for c in result.classes),
        "max_radius": max((c.max_bound for c in result.classes), default=math.nan),
        "min_lead": result.min_margin,
        "min_lead_minus_radius": min((c.min_slack for c in result.classes), default=math.nan),
        "seconds": round(time.perf_counter() - t0, 1),
        "command": f"numerate verify models/{model} --precision {precision} --enclosure {method}",
        **provenance(),
    }


def table(rows: list[dict]) -> str:
    head = f"{'model':<16} {'precision':<9} {'method':<10} {'verdict':<10} {'cases':>8} {'undecided':>9} "
    head += f"{'max radius':>11} {'min lead':>9} {'lead-radius':>12} {'seconds':>8}"
    lines = [head, "-" * len(head)]
    order = {m: i for i, m in enumerate(MODELS)}
    for r in sorted(rows, key=lambda r: (order.get(r["model"], 99), r["precision"] != "float64", r["method"])):
        lines.append(
            f"{r['model']:<16} {r['precision']:<9} {r['method']:<10} {r['verdict']:<10} {r['cases']:>8} "
            f"{r['undecided_cases']:>9} {r['max_radius']:>11.3g} {r['min_lead']:>9.3f} "
            f"{r['min_lead_minus_radius']:>12.3g} {r['seconds']:>8.1f}"
        )
    lines.append("")
    lines.append("seconds: the whole proof on the machine named in each row's file (bench/results/meanvalue/)")
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--models", default=",".join(MODELS))
    p.add_argument("--precisions", default="float64,float32")
    p.add_argument("--methods", default="ball,mean-value")
    p.add_argument("--batch-size", type=int, default=8192)
    p.add_argument("--force", action="store_true", help="measure rows that are already kept again")
    args = p.parse_args()
    ROWS.mkdir(parents=True, exist_ok=True)
    for model in args.models.split(","):
        if not (Path("models") / model).is_dir():
            raise SystemExit(f"meanvalue: no model folder models/{model}")
        for precision in args.precisions.split(","):
            for method in args.methods.split(","):
                path = row_path(model, precision, method)
                if path.exists() and not args.force:
                    continue
                row = measure(model, precision, method, args.batch_size)
                tmp = path.with_suffix(".tmp")
                tmp.write_text(json.dumps(row, indent=1))
                tmp.replace(path)  # a row is kept whole or not at all
                print({k: row[k] for k in ("model", "precision", "method", "verdict", "seconds")}, flush=True)
    rows = [json.loads(f.read_text()) for f in sorted(ROWS.glob("*.json"))]
    write_results("meanvalue", table(rows), {"rows": rows})


if __name__ == "__main__":
    main()
