"""One-shot, looped, an external loop, a controller on proven steps and a page model, on the same problems.

    python bench/side_by_side.py [--sum-dials 2,8,16,32,80] [--mul-dials 2,4,10,20] [--samples 20]
                                 [--threads 2] [--force]

The problems are the iteration lab's (bench/iterate.py, `numerate iterate`): a cell's problems depend only on
(task, dial, seed 1234), so the first --samples of them are the very problems the lab's models were measured on.
Sums are running-sum's (k operands of 1-3 digits), products long-multiplication's (k x k digits).

- one-shot, looped, external loop: the lab's three trained seeds on all 100 problems of the cell, read from its
  committed results (bench/results/iterate/sum, iterate-mul/mul, iterate-mul-lines/mul-lines; median [min-max]
  over seeds). Their seconds were not recorded; their digits are those a right answer or a right run writes.
- controller on proven steps (models/iter-sum-step one operand at a time; models/mul, two proven step models and
  digit routing) and the page models (models/page-add, models/page-mul): measured here, on the first --samples
  problems, through the code `numerate solve` runs, with the digits each wrote.

Measured cells are kept in bench/results/side-by-side/ and not re-run unless --force. The long cells of
bench/page.py and bench/page_mul.py (100 operands x 100 digits, 1,000 x 1,000 products) are listed after, from
their own kept results.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import RESULTS, write_results  # noqa: E402

LAB_SEED, LAB_SAMPLES = 1234, 100  # what bench/iterate.py ran `numerate iterate` with
LAB = {  # (section, method) -> (results file, mode)
    ("sum", "one-shot"): ("iterate/sum", "one-shot"),
    ("sum", "looped"): ("iterate/sum", "looped"),
    ("sum", "external loop, learned step"): ("iterate/sum", "external"),
    ("mul", "one-shot"): ("iterate-mul/mul", "one-shot"),
    ("mul", "looped"): ("iterate-mul/mul", "looped"),
    ("mul", "external loop, learned step"): ("iterate-mul-lines/mul-lines", "external"),
}
MEASURED = {  # (section, method) -> model folder
    ("sum", "controller, proven step"): "iter-sum-step",
    ("sum", "page model"): "page-add",
    ("mul", "controller, proven steps"): "mul",
    ("mul", "page model"): "page-mul",
}
PROOF = {
    "one-shot": "sampled",
    "looped": "sampled",
    "external loop, learned step": "sampled (steps checked by an exact checker)",
    "controller, proven step": "proven (each step; the loop outside)",
    "controller, proven steps": "proven (each step; routing outside)",
    "page model": "proven (the whole page)",
}
TASKS = {"sum": "running-sum", "mul": "long-multiplication"}
PUBLISHED = {
    "sum": "Cho et al. 2025: about 30 operands x 30 digits from training on 10 x 10, sampled (unverified); "
    "no published model is proven",
    "mul": "Cho et al. 2025: about 20 x 15 with a scratchpad, sampled (unverified); implicit chain of thought "
    "(Deng et al.): 99.5% at 20 x 20 inside its training range (unverified); McLeish et al. 2024: near-perfect "
    "to 15 digits in distribution (unverified)",
}


def lab_problems(section: str, k: int, samples: int) -> list[tuple[int, ...]]:
    from numerate.eval.evaluate import cell_problems
    from numerate.tasks import get_task

    return [p.operands for p in cell_problems(get_task(TASKS[section]), "uniform", (k,), samples, LAB_SEED)]


def right_run_digits(section: str, method: str, problems) -> float:
    """Mean digits a right answer (one-shot, looped) or a right run of the loop (its step answers) writes."""
    from numerate.tasks import get_task
    from numerate.tasks.base import Problem

    task = get_task(TASKS[section])
    total = 0
    for ops in problems:
        p = Problem(tuple(ops))
        if method != "external loop, learned step":
            total += len(str(task.answer(p)))
            continue
        state = task.start(p)
        while not task.done(p, state):
            value = task.step_answer(task.query(p, state))
            total += sum(ch.isdigit() for ch in str(value))
            state = task.advance(p, state, value)
    return total / len(problems)


def lab_row(section: str, method: str, k: int) -> dict | None:
    name, mode = LAB[(section, method)]
    path = RESULTS / name / "results.json"
    if not path.exists():
        return None
    found = [r for r in json.loads(path.read_text())["summary"] if r["mode"] == mode and r["k"] == k]
    if not found:
        return None
    r = found[0]
    return {
        "exact_pct": 100 * r["exact"],
        "range": [100 * x for x in r.get("exact_range", [r["exact"]] * 2)],
        "problems": r["n"],
        "seeds": r.get("models", 1),
        "digits": right_run_digits(section, method, lab_problems(section, k, r["n"])),
        "seconds": None,
        "source": f"bench/results/{name}/results.json",
    }


def measured_row(section: str, method: str, k: int, samples: int, threads: int) -> dict:
    import torch

    torch.set_num_threads(threads)
    problems = lab_problems(section, k, samples)
    model = MEASURED[(section, method)]
    if model == "mul":  # the procedure folder's own solver, which counts the digits its step models write
        from numerate.procedures.folder import load, solve

        loaded = load(Path("models") / model)
        t0 = time.perf_counter()
        answers, _ = solve(loaded, problems)
        seconds = time.perf_counter() - t0
        exact = sum(a == x * y for a, (x, y) in zip(answers, problems))
        digits = loaded.digits_written / len(problems)
    else:
        import page
        import page_mul

        bench = page if section == "sum" else page_mul
        row = bench.measure(model, problems, threads)
        exact, seconds = row["exact"], row["seconds"]
        digits = _page_digits(section, model, problems)
    return {
        "exact_pct": 100 * exact / len(problems),
        "range": None,
        "problems": len(problems),
        "seeds": 1,
        "digits": digits,
        "seconds": seconds / len(problems),
        "source": f"models/{model}",
    }


def _page_digits(section: str, model: str, problems) -> float:
    """Mean digits the model writes: every running total (controller and sum page), or every digit of the
    multiplication page."""
    if section == "sum":
        import page

        return page._digits_written(model, problems)
    from numerate.formats.page import PageGridFormat
    from numerate.tasks.base import Problem
    from numerate.tasks.multiplication_page import page_lines

    fmt = PageGridFormat(symbol="*", marks="=", reverse=True)
    text = (fmt.target(Problem((a, b)), page_lines(a, b)) for a, b in problems)
    return statistics.mean(sum(ch.isdigit() for ch in t) for t in text)


def long_rows() -> list[str]:
    """The long cells of bench/page.py and bench/page_mul.py, from their kept results, smallest first."""
    lines = [f"{'cell':<18} {'unit':<18} {'model':<14} {'exact':>8} {'s/problem':>10}  proof"]
    for folder, unit in (("page", "operands x digits"), ("page-mul", "k x k digits")):
        rows = [json.loads(p.read_text()) for p in (RESULTS / folder).glob("*.json")]
        rows = [r for r in rows if int(r["cell"].split("x")[0].split(":")[0]) >= 100]
        for r in sorted(rows, key=lambda r: (int(r["cell"].split("x")[0].split(":")[0]), r["cell"], r["model"])):
            lines.append(
                f"{r['cell']:<18} {unit:<18} {r['model']:<14} {r['exact']:>4}/{r['problems']:<3} "
                f"{r['seconds'] / r['problems']:>10.1f}  {r['proof']}"
            )
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sum-dials", default="2,8,16,32,80", help="operands per sum (the lab's dial)")
    ap.add_argument("--mul-dials", default="2,4,10,20", help="digits of a and of b (the lab's dial)")
    ap.add_argument("--samples", type=int, default=20, help="problems per cell for the measured methods")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--force", action="store_true")
    args = ap.parse_args()
    keep = RESULTS / "side-by-side"
    keep.mkdir(parents=True, exist_ok=True)
    table, data = [], {"command": " ".join(sys.argv), "rows": []}
    for section, dials in (("sum", args.sum_dials), ("mul", args.mul_dials)):
        title = "k operands of 1-3 digits" if section == "sum" else "k x k digit products"
        head = (
            f"{'k':>4}  {'method':<30} {'exact %':>20} {'problems':>8} {'digits written':>14} {'s/problem':>9}  proof"
        )
        table += [f"## {title}", "", head, "-" * len(head)]
        methods = [m for s, m in list(LAB) + list(MEASURED) if s == section]
        for k in (int(x) for x in dials.split(",")):
            for method in methods:
                if (section, method) in LAB:
                    row = lab_row(section, method, k)
                else:
                    path = keep / f"{section}-{k}--{MEASURED[(section, method)]}-{args.samples}.json"
                    if path.exists() and not args.force:
                        row = json.loads(path.read_text())
                    else:
                        row = measured_row(section, method, k, args.samples, args.threads)
                        path.write_text(json.dumps(row, indent=1))
                        print(
                            f"{section} {k:>3} {method:<28} {row['exact_pct']:.0f}%  {row['seconds']:.2f} s", flush=True
                        )
                if row is None:
                    continue
                data["rows"].append({"section": section, "k": k, "method": method, **row})
                pct = f"{row['exact_pct']:.1f}"
                if row["range"] and row["range"][0] != row["range"][1]:
                    pct += f" [{row['range'][0]:.0f}-{row['range'][1]:.0f}]"
                secs = f"{row['seconds']:.3f}" if row["seconds"] is not None else "-"
                table.append(
                    f"{k:>4}  {method:<30} {pct:>20} {row['problems']:>8} {row['digits']:>14,.0f} {secs:>9}  "
                    f"{PROOF[method]}"
                )
        table += ["", f"published: {PUBLISHED[section]}", ""]
    table += ["## long problems (bench/page.py, bench/page_mul.py)", ""]
    table += long_rows()
    write_results("side-by-side", "\n".join(table), data)


if __name__ == "__main__":
    main()
