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
    from numerate.iterate.subject import procedure_subject
    from numerate.procedures.folder import is_procedure

    return {
        folder: procedure_subject(folder) if is_procedure(folder) else load_iterative(folder) for folder in args.models
    }


def run_iterate(args) -> int:
    from numerate import plots

    pictures = plots.pictures_or_warn("iterate")
    from numerate.commands.lm_args import wants_lm

    lm = wants_lm(args)
    modes = parse_modes(args.modes or ("one-shot,external" if lm else "one-shot,looped,external"))
    args.proposer = args.proposer or ("lm" if lm else "model")
    PROPOSERS.get(args.proposer)  # a bad name fails now, not after the other modes ran
    if args.steps_per_iteration is not None and not args.steps_per_iteration > 0:
        raise UsageError(f"--steps-per-iteration must be > 0, got {args.steps_per_iteration}")
    if args.retries < 0:
        raise UsageError(f"--retries must be >= 0, got {args.retries}")
    if "self-check" in modes and not lm:
        raise UsageError(
            "mode 'self-check' needs a language model (--hf or --openai-base-url): it asks the model "
            "to judge its own steps"
        )
    if lm and "looped" in modes:
        raise UsageError("mode 'looped' needs looped models trained here; a language model runs one-shot, external")
    dials = parse_lengths(args.dial)
    bundles = subjects(args)
    from numerate.iterate.subject import ProcedureSubject

    procedures = [isinstance(b, ProcedureSubject) for b in bundles.values()]
    if any(procedures):
        if not all(procedures):
            raise UsageError("give procedure folders or trained models, not both (run the command once for each)")
        if args.modes and modes != ["proven-steps"]:
            raise UsageError("a procedure folder runs one mode: --modes proven-steps (the default for it)")
        modes = ["proven-steps"]
    elif "proven-steps" in modes:
        raise UsageError("mode 'proven-steps' needs a procedure folder (models/gcd, models/knapsack)")
    elif not args.modes and not lm and all(b.cfg.task.step_fraction == 1.0 for b in bundles.values()):
        modes = ["external"]  # step models (task.step_fraction=1) never trained on whole-problem questions
    tasks = {b.task.name for b in bundles.values()}
    if len(tasks) > 1:
        raise UsageError(f"the models were trained on different tasks ({', '.join(sorted(tasks))})")
    if "looped" in modes and not all(is_looped(b) for b in bundles.values()):
        raise UsageError("mode 'looped' needs looped models (trained with model.recurrences > 1)")
    if (
        "external" in modes or "self-check" in modes
    ):  # a proposer that cannot work with these subjects fails now, not after other modes ran
        for subject in bundles.values():
            PROPOSERS.get(args.proposer)(subject, LabSettings(seed=args.seed))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    per_model = {}
    for i, (folder, bundle) in enumerate(bundles.items()):
        ledger = out / f"ledger-{i}.jsonl" if "external" in modes or lm else None  # lm: also one-shot
        settings = LabSettings(args.samples, args.seed, args.max_steps, args.retries, args.proposer)
        settings.steps_per_iteration = args.steps_per_iteration
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
    if pictures:
        plot_modes(series(summary, modes), train_max, bundle.task.dial, bundle.task.name, out / "results.png")
    shown = f", plot {out / 'results.png'}" if pictures else ""
    print(f"table {out / 'results.md'}, rows {out / 'results.json'}{shown}")
    return 0


# ---------------------------------------------------------------- the command line (cli.py lists the verb)


def add_parser(sub, help: str) -> None:
    """Declare `numerate iterate` and its arguments."""
    import argparse

    from numerate.commands.args import non_negative_int, positive_int
    from numerate.commands.lm_args import add_lm_arguments

    it = sub.add_parser(
        "iterate",
        help=help,
        description="Run models trained on an iterative task (running-sum, gcd, knapsack) in each mode over a "
        "range of dial settings (the iterations the procedure needs) and report exact answers, constraint "
        "satisfaction and optimality gap (knapsack), proposals and parse failures. Several models (e.g. "
        "training seeds) are summarized as median [min-max]. Modes: one-shot (the final answer directly), looped "
        "(a looped model deepens each answer up to 4x its training depth until it stops changing), external "
        "(the model proposes one step at a time; a controller keeps the state, verifies every step exactly, asks "
        "again on a rejection and stops when the procedure is done, a step is rejected --retries times, or at "
        "--max-steps). Every proposal of the external loop is a row of ledger-N.jsonl. A language model "
        "(--openai-base-url or --hf, with --task) runs one-shot and external: its prompts state the procedure, "
        "show --shots worked examples and, on a retry, what was rejected; the ledger holds every prompt and reply. "
        "A language model also runs self-check (--modes one-shot,external,self-check): the external loop with the "
        "model itself, asked yes or no, in the exact checker's place; the checker only scores how often it accepts "
        "a wrong step and rejects a right one. A procedure folder (models/gcd, models/knapsack) runs mode "
        "proven-steps: the same problems through proven step models, the state kept by the procedure.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    it.add_argument("models", nargs="*", metavar="MODEL_DIR", help="one or more models trained on the same task")
    it.add_argument(
        "--modes",
        help="comma-separated (default: all three; one-shot,external for a language model; external for step models "
        "trained with task.step_fraction=1)",
    )
    it.add_argument("--task", help="with a language model: running-sum, gcd or knapsack")
    it.add_argument(
        "--shots", type=non_negative_int, default=3, help="language models: worked examples per prompt (default 3)"
    )
    it.add_argument("--dial", default="1-16", help="dial settings, like --lengths of eval: 1-16, 1,2,4,8,80 ...")
    it.add_argument("--samples", type=positive_int, default=50, help="problems per dial setting (default 50)")
    it.add_argument("--seed", type=int, default=1234, help="seed of the test problems (default 1234)")
    it.add_argument("--max-steps", type=positive_int, default=1000, help="external loop's step budget per problem")
    it.add_argument(
        "--steps-per-iteration",
        type=float,
        default=None,
        metavar="F",
        help="external and self-check loops: at most F x the iterations the problems need (and --max-steps); a "
        "loop that accepts steps that go nowhere stops there",
    )
    it.add_argument(
        "--retries", type=non_negative_int, default=3, help="proposals asked again after a rejection (default 3)"
    )
    it.add_argument(
        "--proposer",
        help="who proposes steps in the external mode: model (default for MODEL_DIR), lm (default with a language "
        "model) or oracle (the exact step, a reference)",
    )
    it.add_argument("--out", default="runs/iterate", help="folder for results.md/json/png and ledgers")
    it.add_argument("--quiet", action="store_true", help="no progress bar")
    add_lm_arguments(it, with_numerate=False)
    it.set_defaults(func=command)


def command(args) -> int:

    return run_iterate(args)
