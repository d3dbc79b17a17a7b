"""One-shot multiplication as the published one-shot marks train it, on their own test files: plain next-token
training beside the running-sum auxiliary loss (Bai et al. 2025) and stepwise internalization (Deng et al. 2024).

    python bench/one_shot.py [--size 4] [--variants plain,aux,icot] [--seeds 0,1,2] [--jobs 2]
                             [--samples 1000] [--mixed] [--set KEY=VALUE ...]

Each variant is a preset (mul-4x4, mul-4x4-aux, mul-4x4-icot) trained at every seed into
runs/one-shot/<variant>-<N>x<N>-s<seed> (finished runs are skipped, unfinished ones resumed, so the benchmark can be
spread over several sittings; `--jobs` trains that many at once, one thread each). Every model is then scored by
exact match on ICoT's own N x N test file (../shared/data/icot/, skipped with a note when absent), on numerate's
samplers at N x N (uniform, and sparse operands), and at 2N x 2N (beyond the training length). Wall time is the
run's own training time. Spread: median [min-max] over seeds, and a Wilson 95% interval per seed on the ICoT file.

With --mixed, the models are trained on every operand length from 1 to N (runs/one-shot/<variant>-1-<N>-s<seed>),
the setting in which 2N x 2N is beyond the training length in both operands.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import run_sweep, write_results  # noqa: E402

from numerate.commands.args import add_engine_args, engine_from_args  # noqa: E402

PRESETS = {"plain": "mul-4x4", "aux": "mul-4x4-aux", "icot": "mul-4x4-icot"}
ICOT = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "icot"
PUBLISHED = {  # one-shot exact match the papers report on these files (in distribution)
    4: "ICoT 100% (GPT-2 small); running-sum loss 99% (2 layers); plain fine-tuning < 1%",
    5: "ICoT 100% (GPT-2 small)",
}


def size_overrides(n: int, mixed: bool) -> list[str]:
    lo = 1 if mixed else n
    return [] if (n, lo) == (4, 4) else [f"task.train_lengths=[{lo},{n}]", f"task.ood_lengths=[{n + 1},{n + 1}]"]


def score(bundle, problems) -> tuple[int, int]:
    from numerate.eval.answer import answer_problems

    answers = answer_problems(bundle, problems, batch_size=250)
    return sum(a.correct for a in answers), len(answers)


def digit_accuracy(bundle, problems) -> list[float]:
    """Per answer place, least significant first: the share of answers whose digit there is right (what the
    model wrote after its chain, if any, against the format's own writing of the product)."""
    from numerate.eval.answer import answer_problems

    fmt = bundle.fmt
    places = None
    for a in answer_problems(bundle, problems, batch_size=250):
        want = fmt.target(a.problem, a.truth).rsplit("#", 1)[-1]
        got = a.text.rsplit("#", 1)[-1]
        if places is None:
            places = [0] * len(want)
        for i, ch in enumerate(want):
            places[i] += i < len(got) and got[i] == ch
    return [p / len(problems) for p in places]


def evaluate_run(folder: Path, n: int, samples: int) -> dict:
    import random

    from numerate.checkpoint import load_model
    from numerate.eval.icot import read_icot

    bundle = load_model(folder)
    row = {}
    icot_file = ICOT / f"{n}_by_{n}_mult_test_bigbench.txt"
    if icot_file.is_file():
        row["icot"] = score(bundle, read_icot(icot_file))
        row["digits"] = digit_accuracy(bundle, read_icot(icot_file))
    rng = random.Random(f"one-shot/{n}")
    for name, sampler, size in (("uniform", "uniform", n), ("sparse", "sparse", n), ("2N", "uniform", 2 * n)):
        problems = [bundle.task.sample(rng, sampler, (size, size)) for _ in range(samples)]
        row[name] = score(bundle, problems)
    metrics = [json.loads(line) for line in (folder / "metrics.jsonl").read_text().splitlines() if line.strip()]
    row["minutes"] = metrics[-1]["elapsed_s"] / 60 if metrics else float("nan")
    row["steps"] = metrics[-1]["step"] if metrics else 0
    return row


def render(title: str, table: dict, n: int, have_icot: bool) -> str:
    from numerate.lm.suite import wilson

    cols = (["icot"] if have_icot else []) + ["uniform", "sparse", "2N"]
    names = {"icot": f"ICoT {n}x{n} file", "uniform": f"uniform {n}x{n}", "sparse": "sparse", "2N": f"{2 * n}x{2 * n}"}
    lines = [title, f"{'variant':<8} " + " ".join(f"{names[c]:>22}" for c in cols) + f" {'minutes':>8}  per seed"]
    for variant, rows in table.items():
        cells = []
        for c in cols:
            vals = [100 * r[c][0] / r[c][1] for r in rows.values()]
            cells.append(f"{statistics.median(vals):6.1f} [{min(vals):5.1f}-{max(vals):5.1f}]")
        minutes = statistics.median(r["minutes"] for r in rows.values())
        key = cols[0]
        per_seed = ", ".join(
            f"s{s} {100 * r[key][0] / r[key][1]:.1f}% [{100 * wilson(*r[key])[0]:.1f}-{100 * wilson(*r[key])[1]:.1f}]"
            for s, r in rows.items()
        )
        lines.append(f"{variant:<8} " + " ".join(f"{c:>22}" for c in cells) + f" {minutes:8.1f}  {per_seed}")
    if all("digits" in r for rows in table.values() for r in rows.values()):
        lines.append("digits right by answer place on the ICoT file, least significant first (mean over seeds, %):")
        for variant, rows in table.items():
            places = zip(*(r["digits"] for r in rows.values()))
            lines.append(f"  {variant:<8} " + " ".join(f"{100 * statistics.mean(p):5.1f}" for p in places))
    if n in PUBLISHED:
        lines.append(f"published, in distribution: {PUBLISHED[n]}")
    return "\n".join(lines)


PAGES = [
    Path(__file__).resolve().parent.parent / "docs" / "techniques" / f
    for f in ("running-sum-loss.md", "internalization.md")
]
MARK = re.compile(r"<!-- one-shot:start -->.*?<!-- one-shot:end -->", re.S)


def fill_pages(table: str, command: str) -> None:
    """Write the table into the "measured" block of the two technique pages (only when all three variants ran)."""
    block = f"<!-- one-shot:start -->\n`{command}`\n\n```\n{table}\n```\n<!-- one-shot:end -->"
    for page in PAGES:
        if page.is_file():
            page.write_text(MARK.sub(lambda _: block, page.read_text()))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--size", type=int, default=4, help="N: train and test on N x N products (default 4)")
    p.add_argument("--variants", default="plain,aux,icot", help=f"any of {', '.join(PRESETS)}")
    p.add_argument("--seeds", default="0,1,2")
    p.add_argument("--samples", type=int, default=1000, help="problems per sampler cell (default 1000)")
    p.add_argument("--mixed", action="store_true", help="train on every length 1..N instead of N x N alone")
    p.add_argument("--set", nargs="*", default=[], help="extra config overrides for every run")
    add_engine_args(p)
    args = p.parse_args()
    variants = args.variants.split(",")
    unknown = [v for v in variants if v not in PRESETS]
    if unknown:
        p.error(f"unknown variant {unknown[0]!r} (known: {', '.join(PRESETS)})")
    seeds = [int(s) for s in args.seeds.split(",")]
    n = args.size
    engine = engine_from_args(args)
    from numerate.comparison import training_units

    trained = f"1-{n}" if args.mixed else f"{n}x{n}"
    runs = {v: {s: Path("runs/one-shot") / f"{v}-{trained}-s{s}" for s in seeds} for v in variants}
    # every run in one sweep, the longest (internalization writes the whole chain at first) first
    units = [
        u
        for v in sorted(variants, key=lambda v: v != "icot")
        for u in training_units(PRESETS[v], runs[v], size_overrides(n, args.mixed) + args.set)
    ]
    run_sweep(units, engine)
    table = {}
    for variant in variants:
        table[variant] = {s: evaluate_run(folder, n, args.samples) for s, folder in runs[variant].items()}
        for s, row in table[variant].items():
            print(f"{variant} s{s}: " + ", ".join(f"{k} {v[0]}/{v[1]}" for k, v in row.items() if isinstance(v, tuple)))
    have_icot = all("icot" in r for rows in table.values() for r in rows.values())
    if not have_icot:
        print(f"note: ICoT's test files are not in {ICOT}: scored on numerate's samplers only", file=sys.stderr)
    title = (
        f"one-shot {n}x{n} multiplication, trained on {f'1..{n} digits' if args.mixed else f'{n}x{n}'}, "
        f"seeds {seeds}, {args.samples} problems per sampler cell "
        f"{' '.join(args.set)}; exact match %: median [min-max] over seeds; per seed with a Wilson 95% interval"
    )
    data = {"title": title, "size": n, "seeds": seeds, "presets": {v: PRESETS[v] for v in variants}}
    data["rows"] = {v: {s: r for s, r in rows.items()} for v, rows in table.items()}
    text = render(title, table, n, have_icot)
    write_results(f"one-shot-{trained}", text, data)
    if n == 4 and set(variants) == set(PRESETS) and len(seeds) >= 3 and not args.set and not args.mixed:
        fill_pages(text, "python " + " ".join(sys.argv))


if __name__ == "__main__":
    main()
