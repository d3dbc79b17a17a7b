"""`numerate probe`: eval's cells and exact scoring for any language model; table, JSONL of every reply, plot."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from numerate.commands.lm_args import open_lm
from numerate.errors import UsageError
from numerate.eval.cells import make_cells
from numerate.lengths import parse_lengths
from numerate.lm.probe import ProbeSettings, failure_summary, run_probe
from numerate.lm.prompts import show
from numerate.tasks import get_task


def format_rows(rows: list[dict], dims) -> str:
    sw = max(8, *(len(r["sampler"]) for r in rows))
    head = f"{'sampler':<{sw}} " + " ".join(f"{d.replace('_', ' '):>8}" for d in dims)
    head += f" {'exact match':>12} {'wrong':>6} {'malformed':>9} {'failed':>6}"
    lines = [head, "-" * len(head)]
    for r in rows:
        cell = " ".join(f"{r[d]:>8}" for d in dims)
        lines.append(
            f"{r['sampler']:<{sw}} {cell} {100 * r['exact_match']:>11.1f}% {r['wrong']:>6} {r['malformed']:>9}"
            f" {r['failed']:>6}"
        )
    return "\n".join(lines)


def run_suite_command(args) -> int:
    """`probe --suite PATH`: a published suite's own problems and prompts, the paper's few-shot protocol."""
    from numerate.lm.suite import read_suite, run_suite

    out = Path(args.out)
    sets = read_suite(args.suite)  # a bad file is named before any model loads
    lm = open_lm(args)
    try:
        progress = not args.quiet and sys.stderr.isatty()
        rows, records = run_suite(lm, sets, args.shots, args.samples, args.seed, progress, args.suite_prompts)
    finally:
        lm.close()
    out.mkdir(parents=True, exist_ok=True)
    head = f"{'set':<26} {'n':>5} {'exact match':>12} {'95% interval':>16} {'wrong':>6} {'malformed':>9} {'failed':>6}"
    lines = [
        f"{lm.name}: {args.suite}, {args.shots}-shot (the paper's prompts; greedy; exact match)",
        head,
        "-" * len(head),
    ]
    for r in rows:
        lo, hi = r["wilson_95"]
        lines.append(
            f"{r['set']:<26} {r['n']:>5} {100 * r['exact_match']:>11.1f}% {f'{100 * lo:.1f}-{100 * hi:.1f}%':>16} "
            f"{r['wrong']:>6} {r['malformed']:>9} {r['failed']:>6}"
        )
    text = "\n".join(lines)
    print(text)
    if records:
        print(
            "first prompt, exactly as sent:\n"
            + "\n".join("  | " + line for line in show(records[0]["prompt"]).split("\n"))
        )
    command = "numerate probe " + " ".join(args.argv)
    with open(out / "responses.jsonl", "w") as f:
        for r in records:
            f.write(json.dumps(r) + "\n")
    settings = {
        "suite": str(args.suite),
        "shots": args.shots,
        "samples": args.samples,
        "seed": args.seed,
        "prompts": args.suite_prompts,
    }
    meta = {"command": command, "model": lm.describe(), "task": "suite", "settings": settings, "rows": rows}
    (out / "results.json").write_text(json.dumps(meta, indent=1))
    (out / "results.md").write_text(f"# probe: {args.suite}\n\n`{command}`\n\n```\n{text}\n```\n")
    print(f"table {out / 'results.md'}, rows {out / 'results.json'}, every reply {out / 'responses.jsonl'}")
    return 0


def run_probe_command(args) -> int:
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} is a file; give a folder")
    if args.suite:
        return run_suite_command(args)
    settings = ProbeSettings(args.samples, args.seed, args.representation, args.shots, args.max_tokens)
    from numerate.lm.lowprob import TEXT_TASKS, run_text_probe

    text_task = TEXT_TASKS.get(args.task)() if args.task in TEXT_TASKS.names() else None
    if text_task is not None and args.representation not in ("plain", "spaced"):
        raise UsageError(f"--task {args.task} is written plain or spaced, not {args.representation!r}")
    lengths = parse_lengths(args.lengths)
    if args.harness_tasks:
        return write_harness_tasks(args, settings, text_task, lengths)
    lm = open_lm(args)
    try:
        progress = not args.quiet and sys.stderr.isatty()
        if text_task is not None:
            task = text_task
            spaced_out = args.representation == "spaced"
            rows, records = run_text_probe(
                lm, task, lengths, args.samples, args.seed, args.shots, spaced_out, progress=progress
            )
        else:
            task = resolve_task(args, lm)
            cells = make_cells(lengths, args.grid, args.carry, task=task)
            rows, records = run_probe(lm, task, cells, settings, progress=progress)
    finally:
        lm.close()
    out.mkdir(parents=True, exist_ok=True)
    text = format_rows(rows, task.cell_dims)
    print(text)
    total = {s: sum(r[s] for r in rows) for s in ("n", "correct", "malformed", "failed")}
    print(
        f"\n{total['correct']}/{total['n']} right; {total['malformed']} malformed replies, {total['failed']} failed "
        f"requests; {sum(r['cached'] for r in records)} answered from the cache"
    )
    for why, count in failure_summary(records):
        print(f"  failed x{count}: {why}")
    tenths = [sum(t) for t in zip(*(r.get("wrong_digit_tenths", []) for r in rows))]
    if any(tenths):
        share = " ".join(f"{100 * t / sum(tenths):.0f}%" for t in tenths)
        print(f"wrong digits by tenth of the answer, least significant first: {share}")
    bad = [r for r in records if r["status"] in ("wrong", "malformed")][: args.mistakes]
    if bad:
        print("first mistakes:")
        for r in bad:
            said = r["extracted"] if r["status"] == "wrong" else f"malformed {r['response']!r}"
            asked = task.symbol.join(r["operands"]) if "operands" in r else f"{r['subject']} {r['extra']}".strip()
            print(f"  {asked} -> {said}, truth {r['truth']}")
    if records:
        seen = records[0].get("seen")  # a numerate model reads its own format, not the prompt
        what, first = ("what the model read", seen) if seen else ("first prompt, exactly as sent", records[0]["prompt"])
        print(f"{what}:\n" + "\n".join("  | " + line for line in show(first).split("\n")))
    command = "numerate probe " + " ".join(args.argv)
    with open(out / "responses.jsonl", "w") as f:
        for r in records:
            f.write(json.dumps(r) + "\n")
    meta = {"command": command, "model": lm.describe(), "task": task.name, "settings": vars(settings), "rows": rows}
    (out / "results.json").write_text(json.dumps(meta, indent=1))
    (out / "results.md").write_text(f"# probe: {task.name}\n\n`{command}`\n\n```\n{text}\n```\n")
    written = f"table {out / 'results.md'}, rows {out / 'results.json'}, every reply {out / 'responses.jsonl'}"
    try:
        from numerate import plots

        title = f"{lm.name}: {task.name}, {settings.representation}, {settings.shots}-shot"
        if args.grid and len(task.cell_dims) == 2:
            plots.heatmap(rows, out / "results.png", title, dims=task.cell_dims)
        else:
            plots.sweep({lm.name: rows}, out / "results.png", title, dim=task.cell_dims[-1])
        written += f", plot {out / 'results.png'}"
    except UsageError as exc:  # no matplotlib: the numbers are written; say why there is no plot
        written += f" (no plot: {exc})"
    print(written)
    return 0


def write_harness_tasks(args, settings, text_task, lengths) -> int:
    """`probe --harness-tasks DIR`: the cells' questions as lm-evaluation-harness tasks, no model asked."""
    from numerate.lm.harness import grid_documents, write_grid_tasks

    if args.grid and text_task is not None:
        raise UsageError(f"--grid: --task {args.task} has one dimension (its length)")
    if text_task is not None:
        task, cells = text_task, [(n,) for n in lengths]
        docs = grid_documents(task, cells, settings, text_task=True, spaced_out=args.representation == "spaced")
    else:
        task = get_task(args.task or "addition")
        docs = grid_documents(task, make_cells(lengths, args.grid, args.carry, task=task), settings, text_task=False)
    prefix = f"numerate_{task.name}".replace("-", "_")
    names = write_grid_tasks(args.harness_tasks, prefix, docs)
    count = sum(len(d) for d in docs.values())
    print(f"{len(names)} harness tasks ({count} questions, {settings.shots}-shot written into each context) and group")
    print(f"{prefix} in {args.harness_tasks}; run them with")
    print(f"  lm_eval --model hf --model_args pretrained=PATH --include_path {args.harness_tasks} --tasks {prefix}")
    return 0


def resolve_task(args, lm):
    own = getattr(lm, "task", None)  # a numerate model knows its task
    if own is not None:
        if args.task and args.task != own.name:
            raise UsageError(f"{lm.name} was trained on '{own.name}', not '{args.task}'")
        return own
    return get_task(args.task or "addition")


# ---------------------------------------------------------------- the command line (cli.py lists the verb)


def add_parser(sub, help: str) -> None:
    """Declare `numerate probe` and its arguments."""
    import argparse

    from numerate.commands.args import non_negative_int, positive_int
    from numerate.commands.lm_args import add_lm_arguments

    pr = sub.add_parser(
        "probe",
        help=help,
        description="Ask a language model eval's questions — the same cells, problems (by seed), adversarial "
        "samplers and exact scoring — written in a chosen representation with k worked examples, and read each "
        "reply strictly: its first line must be exactly one number in that representation, or the reply counts "
        "as malformed. Requests that fail after retries count as failed; neither stops the run. Every prompt "
        "and reply is written to OUT/responses.jsonl; the table to OUT/results.md, rows to OUT/results.json, "
        "a plot to OUT/results.png. docs/probe.md shows each representation's prompt.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="representations: "
        + ", ".join(
            f"{n} ({__import__('numerate.lm.representations', fromlist=['x']).REPRESENTATIONS.get(n).example})"
            for n in __import__("numerate.lm.representations", fromlist=["x"]).REPRESENTATIONS.names()
        ),
    )
    pr.add_argument(
        "--task",
        help="arithmetic task (default addition; a numerate model's own task), or a low-probability text task: "
        "letter-count, reverse-word, alphabet-backwards, copy-digits (--representation plain or spaced)",
    )
    pr.add_argument("--lengths", default="1-20", help="operand lengths, as for eval (default 1-20)")
    pr.add_argument("--grid", action="store_true", help="every pair of lengths (len a x len b, operands x digits)")
    pr.add_argument(
        "--carry", "--adversarial", dest="carry", action="store_true", help="also the task's adversarial samplers"
    )
    pr.add_argument(
        "--suite",
        metavar="PATH",
        help="a published suite instead of eval's cells: a .jsonl file of {context, completion} records or a folder "
        "of them (GPT-3's arithmetic sets); its own prompts, --shots solved examples of the same set before each "
        "problem, greedy, the number the reply starts with against the completion; --samples problems per set",
    )
    pr.add_argument(
        "--suite-prompts",
        choices=("paper", "harness"),
        default="paper",
        help="with --suite: the file's text as it is (paper, default), or rewritten as lm-evaluation-harness asks it",
    )
    pr.add_argument(
        "--harness-tasks",
        metavar="DIR",
        help="ask no model: write these cells' questions (prompts with their worked examples, right answers) as "
        "lm-evaluation-harness tasks in DIR, one per cell, and a group numerate_TASK over them, to run with "
        "`lm_eval --include_path DIR --tasks numerate_TASK` (greedy check of the answer and its newline, metric acc)",
    )
    pr.add_argument("--samples", type=positive_int, default=20, help="problems per cell (default 20)")
    pr.add_argument("--seed", type=int, default=1234, help="seed of the test problems (default 1234, as eval)")
    pr.add_argument("--shots", type=non_negative_int, default=0, help="worked examples before each problem")
    pr.add_argument("--representation", default="plain", help="how numbers are written (see below; default plain)")
    pr.add_argument("--out", default="runs/probe", help="results folder (default runs/probe)")
    pr.add_argument("--mistakes", type=non_negative_int, default=5, help="wrong replies to print (default 5)")
    pr.add_argument("--quiet", action="store_true", help="no progress bar")
    add_lm_arguments(pr)
    pr.set_defaults(func=command)


def command(args) -> int:

    return run_probe_command(args)
