"""The `numerate` command line. Each verb is a thin layer over a library function.

Exit codes: 0 success, 2 bad input (a message on stderr names what is wrong), 130 interrupted.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from importlib import import_module

from numerate.errors import NumerateError
from numerate.lengths import parse_lengths  # noqa: F401  (part of the command-line API)


VERB_MODULES = ("report",)


def _int_at_least(lowest: int, what: str):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a {what} integer, got '{text}'") from None
        if value < lowest:
            raise argparse.ArgumentTypeError(f"expected a {what} integer, got {value}")
        return value

    return parse


positive_int = _int_at_least(1, "positive")
non_negative_int = _int_at_least(0, "non-negative")


def output_file(text: str) -> str:
    """A file to write at the end of a long command: its folder must exist now, not after the work is done."""
    path = Path(text)
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{text} is a folder; give a file name")
    if not path.parent.is_dir():
        raise argparse.ArgumentTypeError(f"folder {path.parent} does not exist (create it first)")
    if not os.access(path.parent, os.W_OK):
        raise argparse.ArgumentTypeError(f"cannot write in {path.parent}")
    return text


def recurrences_arg(text: str):
    return "auto" if text == "auto" else positive_int(text)


def cmd_train(args) -> int:
    from numerate import config
    from numerate.train.loop import train

    cfg = config.load(args.config, args.set)
    out = Path(args.out or Path("runs") / Path(args.config).stem)
    callbacks = []
    if args.until_proven:
        from numerate.checkpoint import build
        from numerate.verify.until_proven import UntilProven, refuse_unprovable

        refuse_unprovable(build(cfg))
        callbacks.append(UntilProven(every=args.prove_every, quiet=args.quiet))
    elif args.prove_every:
        from numerate.errors import UsageError

        raise UsageError("--prove-every goes with --until-proven")
    row = train(cfg, out, resume=args.resume, quiet=args.quiet, callbacks=callbacks)
    if row:
        print(json.dumps(row))
    print(f"model saved in {out}")
    if args.until_proven:
        proof = callbacks[0]
        if proof.proven_at is None:
            tried = proof.attempts or "none: sampled accuracy stayed below 100%"
            print(f"not proven by step {row.get('step')} (attempts: {tried})")
            return 1
        print(f"PROVEN at step {proof.proven_at}: certificate in {out / 'certificate.json'}")
    return 0


def cmd_eval(args) -> int:
    from numerate.commands.eval import run_eval

    run_eval(args)
    return 0


def cmd_solve(args) -> int:
    if "torch" not in sys.modules:  # a fresh `numerate solve` process (not a test or a notebook, where it would
        # slow everything after it): tune memory for long streams before torch loads.
        from numerate.commands.solve import configure_for_streaming

        configure_for_streaming()
    from numerate.commands.solve import solve_stream

    return solve_stream(
        args.model,
        sys.stdin,
        sys.stdout,
        sys.stderr,
        batch_size=args.batch_size,
        device=args.device,
        max_digits_allowed=args.max_digits,
        progress=not args.quiet and sys.stderr.isatty(),
    )


def cmd_verify(args) -> int:
    from numerate.commands.verify import run_verify

    return run_verify(args)


def cmd_explain(args) -> int:
    from numerate.commands.explain import run_explain

    args.out = args.out or str(Path("runs") / "explain" / Path(args.model).name)
    return run_explain(args)


def cmd_demo(args) -> int:
    from numerate.commands.demo import run_demo

    return run_demo(Path(args.out), quick=args.quick)


def cmd_compare(args) -> int:
    from numerate.commands.compare import run_compare

    out = Path(args.out or Path("runs") / ("compare-" + Path(args.spec).stem))
    return run_compare(args.spec, out, jobs=args.jobs, report_only=args.report_only)


def cmd_iterate(args) -> int:
    from numerate.commands.iterate import run_iterate

    return run_iterate(args)


def cmd_probe(args) -> int:
    from numerate.commands.probe import run_probe_command

    return run_probe_command(args)


def cmd_list(args) -> int:
    from numerate.config import PRESETS_DIR
    from numerate.formats import FORMATS
    from numerate.model.posenc import SCHEMES
    from numerate.iterate.proposers import PROPOSERS
    from numerate.lm.representations import REPRESENTATIONS
    from numerate.tasks import TASKS

    registries = (
        ("tasks", TASKS),
        ("formats", FORMATS),
        ("positional schemes", SCHEMES),
        ("proposers (numerate iterate --proposer)", PROPOSERS),
        ("representations for language models (numerate probe --representation)", REPRESENTATIONS),
    )
    for title, reg in registries:
        print(f"{title}:")
        for name in reg.names():
            print(f"  {name:<18} {reg.doc(name)}")
            if reg is SCHEMES:
                print(f"  {'':<18}   settings (model.* or model.posenc.{name}.*): {', '.join(reg.get(name).settings)}")
    import dataclasses

    from numerate.config import FormatConfig, ModelConfig

    sections = (
        (
            "representation options",
            "format",
            FormatConfig,
            ("reverse", "pad", "group", "group_from", "hints", "spaces", "negatives"),
        ),
        (
            "position and architecture options",
            "model",
            ModelConfig,
            (
                "pos_random_max",
                "pos_offset_max",
                "rel_clip",
                "col_window",
                "posenc",
                "input_injection",
                "recurrences",
                "test_recurrences",
            ),
        ),
    )
    for title, section, cls, keys in sections:
        print(f"{title}:")
        helps = {f.name: f.metadata.get("help", "") for f in dataclasses.fields(cls)}
        for key in keys:
            print(f"  {section + '.' + key:<24} {helps[key]}")
    print("config presets:")
    for path in sorted(PRESETS_DIR.glob("*.yaml")):
        first = path.read_text().splitlines()[0].lstrip("# ").strip()
        print(f"  {path.stem:<18} {first}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    from numerate import __version__

    p = argparse.ArgumentParser(
        prog="numerate",
        description="Train, evaluate and use small transformers that add long numbers exactly.\n\n"
        "Start with `numerate demo`; `numerate VERB --help` explains each verb.",
        epilog="exit codes: 0 success, 2 bad input or arguments (the message says what), 130 interrupted",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--version", action="version", version=f"numerate {__version__}")
    sub = p.add_subparsers(dest="verb", metavar="VERB")

    from numerate.config import help_text

    t = sub.add_parser(
        "train",
        help="train a model from a YAML config or preset",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Train a model. CONFIG is a YAML file or a preset name (`numerate list`).",
        epilog="config keys (set in YAML or with --set section.key=value):\n" + help_text(),
    )
    t.add_argument("config", metavar="CONFIG", help="YAML file or preset name, e.g. add-small")
    t.add_argument(
        "--set", nargs="+", action="extend", default=[], metavar="KEY=VALUE", help="override config keys (repeatable)"
    )
    t.add_argument("--out", help="run folder (default runs/<config name>)")
    t.add_argument("--resume", action="store_true", help="continue the run in --out from its last checkpoint")
    t.add_argument("--quiet", action="store_true", help="no progress bar")
    t.add_argument(
        "--until-proven",
        action="store_true",
        help="once sampled accuracy is 100%%, verify the model at each evaluation and stop when it is proven; the "
        "certificate is written into the run folder (exit 1 if max_steps ends unproven; models outside the "
        "provable class are refused before training)",
    )
    t.add_argument(
        "--prove-every",
        type=positive_int,
        metavar="N",
        help="with --until-proven: try every N steps (default: each evaluation, train.eval_every)",
    )
    t.set_defaults(func=cmd_train)

    e = sub.add_parser(
        "eval",
        help="exact match over operand lengths; table, JSON rows, plot",
        description="Evaluate a model folder on fresh problems: a 1-D sweep (both operands of each "
        "length) or, with --grid, every (len a, len b) pair.",
    )
    e.add_argument("model", metavar="MODEL_DIR")
    e.add_argument(
        "--lengths", default="1-40", help="operand lengths: 1-40, 5,10,20, 1-10,20 or 5-100:5 (default 1-40)"
    )
    e.add_argument("--grid", action="store_true", help="all (len a, len b) pairs instead of equal lengths")
    e.add_argument(
        "--carry",
        "--adversarial",
        dest="carry",
        action="store_true",
        help="also test the task's adversarial samplers at each length (addition: carry chains; subtraction: "
        "borrow chains and negative answers)",
    )
    e.add_argument("--samples", type=positive_int, default=100, help="problems per cell (default 100)")
    e.add_argument("--seed", type=int, default=1234, help="seed of the test problems (default 1234)")
    e.add_argument("--json", type=output_file, help="write the rows to this JSON file")
    e.add_argument("--plot", type=output_file, help="write a PNG: heatmap with --grid, else accuracy against length")
    e.add_argument(
        "--recurrences",
        type=recurrences_arg,
        metavar="R|auto",
        help="recurrences for looped models; 'auto' deepens each problem until its answer stops changing",
    )
    e.add_argument(
        "--task",
        metavar="TASK",
        help="cells and problems of another task, posed as expressions the model's task reads (e.g. a running-sum "
        "model on addition-many's operands x digits grid); default the model's own task",
    )
    e.add_argument(
        "--stepwise",
        action="store_true",
        help="iterative models: answer by running the procedure one model step at a time, each step taken as "
        "written (as `numerate solve` does), instead of asking for the whole answer at once",
    )
    e.add_argument("--no-cache", action="store_true", help="decode without the KV cache (slower; same answers)")
    e.add_argument("--batch-size", type=positive_int, default=512)
    e.add_argument("--mistakes", type=non_negative_int, default=5, help="wrong answers to print (default 5)")
    e.add_argument("--device", default="auto", help="auto (CUDA if present), cpu, cuda or cuda:N")
    e.add_argument("--quiet", action="store_true", help="no progress bar")
    e.set_defaults(func=cmd_eval)

    s = sub.add_parser(
        "solve",
        help="answer problems (A+B, A-B, A*B, ... as the model's task) read from stdin, one per line",
        description="Read problems written as the model's task writes them — `A+B` for addition, `A-B` for "
        "subtraction (non-negative decimal integers of any length; answers may be negative), `A+B+C+...` for "
        "many-operand addition and running sums, `A*B` for multiplication — from stdin, one per line, and write the "
        "model's answers in the same order. Models of iterative tasks (long multiplication, running sums) run their "
        "procedure one step at a time, each step's answer taken as the model wrote it. Input is checked before any "
        "work: a bad line is named on stderr, nothing is written on stdout, and the exit code is 2. Input of any size "
        "streams: a first pass checks every line (spooling a pipe to a temporary file), a second answers "
        "batch by batch and writes as it goes, so memory does not grow with the input.",
    )
    s.add_argument("model", metavar="MODEL_DIR")
    s.add_argument("--batch-size", type=positive_int, default=512)
    s.add_argument(
        "--max-digits",
        type=positive_int,
        default=1_000_000,
        help="refuse operands longer than this (default 1,000,000)",
    )
    s.add_argument("--quiet", action="store_true", help="no progress bar")
    s.add_argument("--device", default="auto", help="auto (CUDA if present), cpu, cuda or cuda:N")
    s.set_defaults(func=cmd_solve)

    v = sub.add_parser(
        "verify",
        help="prove a model right on every problem of every length, or find problems it gets wrong",
        description="Prove that greedy decoding of MODEL_DIR writes the exact answer to every problem of every "
        "length. The field of view of each answer digit is derived from the model's column window and depth; "
        "every field it can see (a finite set) is checked against the exact answer, and an induction over the "
        "answer's digits extends that to all lengths. docs/verification.md states the argument and its "
        "assumptions.",
        epilog="exit codes: 0 proven (certificate printed, and written with --out), 1 not proven: counterexamples "
        "found (printed as problems with the model's wrong answer), or undecided by rounding (the cases whose lead "
        "does not clear the rounding bound are printed), or with --check a certificate that no longer holds; 2 the "
        "model is outside the provable class (no "
        "column window, absolute positions, an unsupported format) or too many cases: the message says why",
    )
    v.add_argument("model", metavar="MODEL_DIR", nargs="?")
    v.add_argument(
        "--check",
        metavar="CERT.json",
        help="re-check a certificate against its model folder (MODEL_DIR, else the certificate's own folder): "
        "weights, config and every case; prints what differs (exit 0 when it still holds)",
    )
    v.add_argument(
        "--out", type=output_file, metavar="CERT.json", help="write the certificate here (and a readable CERT.md)"
    )
    v.add_argument("--batch-size", type=positive_int, default=262_144, help="cases per forward pass (default 262,144)")
    v.add_argument(
        "--max-cases", type=positive_int, default=20_000_000, help="refuse proofs needing more (default 2e7)"
    )
    v.add_argument(
        "--max-failures",
        type=positive_int,
        metavar="N",
        help="stop after N failing cases (one refutes the model); default: check every case",
    )
    v.add_argument(
        "--float64",
        action="store_true",
        help="also run every case in float64 (a cross-check; the rounding bound already covers float32 arithmetic)",
    )
    v.add_argument("--no-float64", action="store_true", help=argparse.SUPPRESS)  # the default now; kept for scripts
    v.add_argument("--quiet", action="store_true", help="no progress bar")
    v.add_argument("--device", default="cpu", help="cpu (default), auto, cuda or cuda:N")
    v.set_defaults(func=cmd_verify)

    x = sub.add_parser(
        "explain",
        help="the finite-state transducer a proven model computes (e.g. the carry automaton), and what its heads read",
        description="Verify MODEL_DIR, then read the automaton it computes off its checked cases: the states are "
        "what one column's digits pass to the next (minimal: prefixes with the same behaviour are one state), the "
        "transitions the digit written for each next column. It is compared with the textbook carry (borrow) "
        "automaton, and the mean attention of the query's heads over its field is drawn. docs/explain.md.",
        epilog="exit codes: 0 equivalent to the textbook automaton, 1 not proven (no automaton is claimed) or a "
        "different automaton (the first difference is printed), 2 bad input",
    )
    x.add_argument("model", metavar="MODEL_DIR")
    x.add_argument("--out", metavar="DIR", help="where the pictures and JSON go (default runs/explain/<model>)")
    x.set_defaults(func=cmd_explain)

    d = sub.add_parser(
        "demo",
        help="train the default model and a learned-positions baseline; compare to 40 digits",
        description="Train the default small model and, beside it, the same model with learned "
        "absolute positions, on 1-10 digit addition; evaluate both out to 40 digits.",
    )
    d.add_argument("--out", default="runs/demo", help="where to write models, table and plots (default runs/demo)")
    d.add_argument("--quick", action="store_true", help="a much shorter run, to check the pipeline")
    d.set_defaults(func=cmd_demo)

    c = sub.add_parser(
        "compare",
        help="train variants x seeds on identical data; table and plot by length band",
        description=__import__("numerate.commands.compare", fromlist=["x"]).__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    c.add_argument("spec", metavar="SPEC.yaml")
    c.add_argument("--out", help="results folder (default runs/compare-<spec name>)")
    c.add_argument("--jobs", type=positive_int, default=2, help="runs trained at once, one thread each (default 2)")
    c.add_argument("--report-only", action="store_true", help="table and plot of the finished runs; train nothing")
    c.set_defaults(func=cmd_compare)

    from numerate.commands.lm_args import add_lm_arguments

    it = sub.add_parser(
        "iterate",
        help="solve an iterative task one-shot, looped or step by step; accuracy against iterations",
        description="Run models trained on an iterative task (running-sum, gcd, knapsack) in each mode over a "
        "range of dial settings (the iterations the procedure needs) and report exact answers, constraint "
        "satisfaction and optimality gap (knapsack), proposals and parse failures. Several models (e.g. "
        "training seeds) are summarized as median [min-max]. Modes: one-shot (the final answer directly), looped "
        "(a looped model deepens each answer up to 4x its training depth until it stops changing), external "
        "(the model proposes one step at a time; a controller keeps the state, verifies every step exactly, asks "
        "again on a rejection and stops when the procedure is done, a step is rejected --retries times, or at "
        "--max-steps). Every proposal of the external loop is a row of ledger-N.jsonl. A language model "
        "(--openai-base-url or --hf, with --task) runs one-shot and external: its prompts state the procedure, "
        "show --shots worked examples and, on a retry, what was rejected; the ledger holds every prompt and reply.",
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
    it.set_defaults(func=cmd_iterate)

    pr = sub.add_parser(
        "probe",
        help="put a language model (OpenAI-compatible server, Hugging Face, numerate) through eval's tests",
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
    pr.add_argument("--samples", type=positive_int, default=20, help="problems per cell (default 20)")
    pr.add_argument("--seed", type=int, default=1234, help="seed of the test problems (default 1234, as eval)")
    pr.add_argument("--shots", type=non_negative_int, default=0, help="worked examples before each problem")
    pr.add_argument("--representation", default="plain", help="how numbers are written (see below; default plain)")
    pr.add_argument("--out", default="runs/probe", help="results folder (default runs/probe)")
    pr.add_argument("--mistakes", type=non_negative_int, default=5, help="wrong replies to print (default 5)")
    pr.add_argument("--quiet", action="store_true", help="no progress bar")
    add_lm_arguments(pr)
    pr.set_defaults(func=cmd_probe)

    for verb in VERB_MODULES:  # verbs that declare their own arguments (commands/<verb>.py)
        import_module(f"numerate.commands.{verb}").add_parser(sub)

    ls = sub.add_parser("list", help="show registered tasks, formats, positional schemes and presets")
    ls.set_defaults(func=cmd_list)
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)[1:]
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return args.func(args)
    except NumerateError as exc:
        print(f"numerate {args.verb}: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `numerate list | head`: the reader left; stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
