"""`numerate iterate`: one or more models (e.g. training seeds) x modes x dial settings -> table, JSON, plot."""

from __future__ import annotations

import json
from pathlib import Path

from numerate.errors import UsageError
from numerate.eval.adaptive import is_looped
from numerate.iterate.lab import MODES, LabSettings, run_lab
from numerate.iterate.proposers import PROPOSERS
from numerate.iterate.summary import render, series, summarize
from numerate.lengths import parse_lengths
from numerate.plots import plot_modes


def parse_modes(text: str) -> list[str]:
    modes = [m.strip() for m in text.split(",") if m.strip()]
    bad = [m for m in modes if m not in MODES.names()]
    if bad or not modes:
        raise UsageError(f"--modes: unknown {', '.join(bad) or '(none given)'} (known: {', '.join(MODES.names())})")
    return modes


def load_iterative(folder: str):
    from numerate.checkpoint import load_model
    from numerate.tasks.iterative import IterativeTask

    bundle = load_model(folder)
    if not isinstance(bundle.task, IterativeTask):
        raise UsageError(f"{folder} was trained on '{bundle.task.name}', which is not an iterative task")
    return bundle


def subjects(args) -> dict:
    """Models trained here (MODEL_DIR...) or one language model (--openai-base-url / --hf with --task)."""
    from numerate.commands.lm_args import open_lm, wants_lm

    if wants_lm(args):
        from numerate.iterate.subject import LanguageModelSubject
        from numerate.tasks import get_task
        from numerate.tasks.iterative import IterativeTask

        if args.models:
            raise UsageError("give MODEL_DIR... or a language model, not both (run the command once for each)")
        if not args.task:
            raise UsageError("with a language model, name the task: --task running-sum, gcd or knapsack")
        task = get_task(args.task)
        if not isinstance(task, IterativeTask):
            raise UsageError(f"'{task.name}' is not an iterative task; for arithmetic use `numerate probe`")
        lm = open_lm(args)
        return {lm.name: LanguageModelSubject(task, lm, shots=args.shots)}
    if not args.models:
        raise UsageError("give one or more MODEL_DIR, or a language model (--openai-base-url URL --model NAME, --hf)")
    if args.task:
        raise UsageError("--task is for language models; a model folder knows its task")
    return {folder: load_iterative(folder) for folder in args.models}


def run_iterate(args) -> int:
    from numerate.commands.lm_args import wants_lm

    lm = wants_lm(args)
    modes = parse_modes(args.modes or ("one-shot,external" if lm else "one-shot,looped,external"))
    args.proposer = args.proposer or ("lm" if lm else "model")
    PROPOSERS.get(args.proposer)  # a bad name fails now, not after the other modes ran
    if args.retries < 0:
        raise UsageError(f"--retries must be >= 0, got {args.retries}")
    if lm and "looped" in modes:
        raise UsageError("mode 'looped' needs looped models trained here; a language model runs one-shot, external")
    dials = parse_lengths(args.dial)
    bundles = subjects(args)
    if not args.modes and not lm and all(b.cfg.task.step_fraction == 1.0 for b in bundles.values()):
        modes = ["external"]  # step models (task.step_fraction=1) never trained on whole-problem questions
    tasks = {b.task.name for b in bundles.values()}
    if len(tasks) > 1:
        raise UsageError(f"the models were trained on different tasks ({', '.join(sorted(tasks))})")
    if "looped" in modes and not all(is_looped(b) for b in bundles.values()):
        raise UsageError("mode 'looped' needs looped models (trained with model.recurrences > 1)")
    if "external" in modes:  # a proposer that cannot work with these subjects fails now, not after other modes ran
        for subject in bundles.values():
            PROPOSERS.get(args.proposer)(subject, LabSettings(seed=args.seed))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    per_model = {}
    for i, (folder, bundle) in enumerate(bundles.items()):
        ledger = out / f"ledger-{i}.jsonl" if "external" in modes or lm else None
        settings = LabSettings(args.samples, args.seed, args.max_steps, args.retries, args.proposer)
        per_model[folder] = run_lab(bundle, modes, dials, settings, ledger, not args.quiet)
    bundle = next(iter(bundles.values()))
    summary = summarize(per_model)
    text = render(summary, bundle.task.dial, len(per_model))
    print(text)
    command = "numerate iterate " + " ".join(args.argv)
    (out / "results.json").write_text(
        json.dumps({"command": command, "task": bundle.task.name, "summary": summary, "rows": per_model}, indent=1)
    )
    (out / "results.md").write_text(f"# {bundle.task.name}\n\n`{command}`\n\n```\n{text}\n```\n")
    train_max = bundle.cfg.task.train_lengths[1] if bundle.cfg is not None else None
    plot_modes(series(summary, modes), train_max, bundle.task.dial, bundle.task.name, out / "results.png")
    print(f"table {out / 'results.md'}, rows {out / 'results.json'}, plot {out / 'results.png'}")
    return 0
