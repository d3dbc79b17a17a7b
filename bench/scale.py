"""Does scale fix it? Every named real language model (135M to 1.5B) through the probe and the iteration lab.

    python bench/scale.py [--models smollm2,gemma3-270m,qwen2.5-coder-0.5b,qwen2.5-coder-1.5b] [--samples 10]

For each model (`numerate lm list`; chat prompts where the model has a chat template, plain k-shot text where it
has none):
- addition and multiplication with 3 worked examples in the plain and the reversed representation, lengths
  1-12 (`numerate probe`), and where the wrong digits sit (tenths of the answer, least significant first);
- the iteration lab on running-sum, gcd and knapsack at dial 2-16 (`numerate iterate`): one-shot, the external
  loop with the exact checker at retries 0 and 3, and self-check (the model judges its own steps, retries 3).

Every cell is its own `numerate` command writing into bench/results/scale/<model>/<cell>/; a cell already made by
the same command is read back, so an interrupted run resumes where it stopped. Writes bench/results/scale.md/.json
and scale.png (exact answers against model size, one-shot and looped).
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import RESULTS, run_probe, write_results  # noqa: E402

MODELS = "smollm2,gemma3-270m,qwen2.5-coder-0.5b,qwen2.5-coder-1.5b"
CHAT = {"smollm2": True, "gemma3-270m": False, "qwen2.5-coder-0.5b": True, "qwen2.5-coder-1.5b": True}
ARITHMETIC = [
    ("addition", "plain"),
    ("addition", "reversed"),
    ("multiplication", "plain"),
    ("multiplication", "reversed"),
]
LAB = [  # (cell name, modes, retries)
    ("r0", "one-shot,external", 0),
    ("r3", "external", 3),
    ("self-check", "self-check", 3),
]


def lm_args(model: str) -> list[str]:
    return ["--hf", model, *(["--chat"] if CHAT.get(model, True) else []), "--device", "cpu"]


def run_cell(cmd: list[str], out: Path) -> dict:
    """`numerate iterate ... --out OUT`, unless OUT already holds this command's results."""
    done = out / "results.json"
    if not (done.is_file() and json.loads(done.read_text())["command"] == " ".join(cmd)):
        print("running:", shlex.join(cmd), flush=True)
        ran = subprocess.run(cmd, capture_output=True, text=True)
        if ran.returncode:
            raise SystemExit(f"{shlex.join(cmd)} failed:\n{ran.stderr[-2000:]}")
    return json.loads(done.read_text())


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--models", default=MODELS)
    p.add_argument("--lengths", default="1,2,3,4,6,8,10,12")
    p.add_argument("--samples", type=int, default=10, help="problems per arithmetic length and per lab dial")
    p.add_argument("--dial", default="2,4,8,16")
    p.add_argument("--tasks", default="running-sum,gcd,knapsack")
    p.add_argument(
        "--cells",
        default=",".join(f"{t}-{r}" for t, r in ARITHMETIC),
        help="arithmetic cells TASK-REPRESENTATION (default: addition and multiplication, plain and reversed)",
    )
    p.add_argument("--only", choices=["arithmetic", "lab"], help="run one half (the table reads what exists)")
    p.add_argument("--report", action="store_true", help="run nothing: write the table and plot from the cells on disk")
    args = p.parse_args()
    base = RESULTS / "scale"
    if base.is_relative_to(Path.cwd()):
        base = base.relative_to(Path.cwd())  # the recorded commands read the same on any machine
    for model in [] if args.report else args.models.split(","):
        if args.only != "lab":
            for task, rep in (c.rsplit("-", 1) for c in args.cells.split(",")):
                out = base / model / f"{task}-{rep}"
                cmd = ["numerate", "probe", *lm_args(model), "--task", task, "--representation", rep, "--shots", "3"]
                cmd += ["--lengths", args.lengths, "--samples", str(args.samples), "--quiet", "--out", str(out)]
                print(f"{model} {task} {rep}", flush=True)
                run_probe(cmd, out)
        if args.only != "arithmetic":
            for task in args.tasks.split(","):
                for name, modes, retries in LAB:
                    out = base / model / f"iterate-{task}-{name}"
                    cmd = ["numerate", "iterate", *lm_args(model), "--task", task, "--modes", modes]
                    cmd += ["--dial", args.dial, "--samples", str(args.samples), "--retries", str(retries)]
                    cmd += ["--steps-per-iteration", "2", "--quiet", "--out", str(out)]
                    print(f"{model} {task} {name}", flush=True)
                    run_cell(cmd, out)
    report(measured(base), args)


def measured(base: Path) -> dict:
    """Every cell on disk, whichever invocation made it: cells may differ in lengths, dials and sample sizes, and
    each row of the report says its own n (each cell's results.json holds the command that made it)."""
    data = {}
    for model in MODELS.split(","):
        folder = base / model
        cells = sorted(p for p in folder.glob("*") if (p / "results.json").is_file()) if folder.is_dir() else []
        if not cells:
            continue
        entry = data.setdefault(model, {"arithmetic": {}, "lab": {}})
        for cell in cells:
            result = json.loads((cell / "results.json").read_text())
            if cell.name.startswith("iterate-"):
                entry["lab"][cell.name.removeprefix("iterate-")] = result["summary"]
            else:
                entry["arithmetic"][cell.name] = result["rows"]
    return data


def report(data: dict, args) -> None:
    from numerate.lm import zoo

    lengths = sorted({r["len_a"] for e in data.values() for rows in e["arithmetic"].values() for r in rows})
    lines = ["arithmetic: exact match % by operand length (3 worked examples)"]
    head = f"{'model':<20} {'params':>7} {'task':<15} {'repr':<9} " + " ".join(f"{n:>4}" for n in lengths)
    lines += [head, "-" * len(head)]
    for model, entry in data.items():
        for cell, rows in entry["arithmetic"].items():
            task, rep = cell.rsplit("-", 1)
            by = {r["len_a"]: r for r in rows if r.get("sampler", "uniform") == "uniform"}
            cells = " ".join(f"{100 * by[n]['exact_match']:4.0f}" if n in by else f"{'-':>4}" for n in lengths)
            lines.append(f"{model:<20} {zoo.MODELS[model].parameters / 1e6:6.0f}M {task:<15} {rep:<9} {cells}")
    lines += [
        "",
        "where the wrong digits sit: addition, plain, length 8: wrong digits per 100 numeric replies by "
        "tenth of the answer (0 = least significant)",
    ]
    for model, entry in data.items():
        rows = entry["arithmetic"].get("addition-plain", [])
        row = next((r for r in rows if r["len_a"] == 8), None)
        if row and row.get("wrong_digit_tenths") is not None:
            read = row["correct"] + row["wrong"]
            share = [100 * t / read if read else 0.0 for t in row["wrong_digit_tenths"]]
            lines.append(f"{model:<20} read {read:>3}  " + " ".join(f"{x:4.0f}" for x in share))
    dials = sorted({r["k"] for e in data.values() for summary in e["lab"].values() for r in summary})
    lines += [
        "",
        "iteration lab: exact % by dial (knapsack: feasible and optimal; constraint satisfaction in "
        "brackets); self-check: how often the model accepted a wrong step / rejected a right one",
    ]
    head = (
        f"{'model':<20} {'task':<12} {'mode':<14} "
        + " ".join(f"{k:>10}" for k in dials)
        + "    n  accepts wrong / rejects right"
    )
    lines += [head, "-" * len(head)]
    for model, entry in data.items():
        for cell, summary in entry["lab"].items():
            task, name = cell.split("-", 1) if not cell.startswith("running-sum") else ("running-sum", cell[12:])
            for mode in dict.fromkeys(r["mode"] for r in summary):
                rows = {r["k"]: r for r in summary if r["mode"] == mode}
                label = mode if mode != "external" else f"external {name}"

                def cell_text(r):
                    t = f"{100 * r['exact']:.0f}"
                    if r.get("constraint_satisfaction") is not None:
                        t += f" [{100 * r['constraint_satisfaction']:.0f}]"
                    return t

                cells = " ".join(f"{cell_text(rows[k]):>10}" if k in rows else f"{'-':>10}" for k in dials)
                cells += f" {max(r['n'] for r in rows.values()):>4}"
                gap = ""
                if mode == "self-check":
                    aw = [r.get("accepts_wrong") for r in rows.values() if r.get("accepts_wrong") is not None]
                    rr = [r.get("rejects_right") for r in rows.values() if r.get("rejects_right") is not None]
                    gap = f"  {100 * sum(aw) / len(aw):.0f}% / " if aw else "  - / "
                    gap += f"{100 * sum(rr) / len(rr):.0f}%" if rr else "-"
                lines.append(f"{model:<20} {task:<12} {label:<14} {cells}{gap}")
    arith_n = sorted({r["n"] for e in data.values() for rows in e["arithmetic"].values() for r in rows})
    arith_n = "/".join(map(str, arith_n)) or "-"
    note = (
        f"\narithmetic: {arith_n} problems per cell; lab: n problems per dial setting; chat prompts for the "
        "instruct models, plain text for gemma3-270m (no chat template); models from `numerate lm list`, every "
        "file's sha256 pinned; each cell's command is in bench/results/scale/<model>/<cell>/results.json."
    )
    write_results(
        "scale", "\n".join(lines) + note, {"models": data, "parameters": {m: zoo.MODELS[m].parameters for m in data}}
    )
    plot(data, RESULTS / "scale.png")


def plot(data: dict, path: Path) -> None:
    from numerate.lm import zoo
    from numerate.plots import _pyplot

    plt = _pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    sizes = {m: zoo.MODELS[m].parameters for m in data}
    ax = axes[0]
    for cell in ("addition-plain", "addition-reversed", "multiplication-plain"):
        pts = [
            (sizes[m], 100 * sum(r["exact_match"] for r in e["arithmetic"][cell]) / len(e["arithmetic"][cell]))
            for m, e in data.items()
            if e["arithmetic"].get(cell)
        ]
        if pts:
            ax.plot(*zip(*pts), marker="o", label=cell)
    ax.set(
        xscale="log", xlabel="parameters", ylabel="exact %, mean over the lengths measured", title="arithmetic, 3-shot"
    )
    ax.legend(fontsize=8)
    ax = axes[1]
    for task in ("running-sum", "gcd", "knapsack"):
        for mode, cell, style in (("one-shot", "r0", "--"), ("external", "r3", "-"), ("self-check", "self-check", ":")):
            pts = []
            for m, e in data.items():
                rows = [r for r in e["lab"].get(f"{task}-{cell}", []) if r["mode"] == mode]
                if rows:
                    pts.append((sizes[m], 100 * sum(r["exact"] for r in rows) / len(rows)))
            if pts:
                ax.plot(*zip(*pts), style, marker="o", label=f"{task} {mode}")
    ax.set(xscale="log", xlabel="parameters", ylabel="exact %, mean over the dials measured", title="iteration lab")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    print(f"plot {path}")


if __name__ == "__main__":
    main()
