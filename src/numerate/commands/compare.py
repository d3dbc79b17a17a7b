"""`numerate compare`: the command line over numerate/comparison.py (the spec's format is in its docstring)."""

from __future__ import annotations

from pathlib import Path


def add_parser(sub, help: str) -> None:
    """Declare `numerate compare` and its arguments."""
    import argparse

    from numerate.commands.args import add_engine_args

    c = sub.add_parser(
        "compare",
        help=help,
        description=__import__("numerate.comparison", fromlist=["x"]).__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    c.add_argument("spec", metavar="SPEC.yaml")
    c.add_argument("--out", help="results folder (default runs/compare-<spec name>)")
    add_engine_args(c, jobs=2)
    c.add_argument("--report-only", action="store_true", help="table and plot of the finished runs; train nothing")
    c.set_defaults(func=command)


def command(args) -> int:
    from numerate import api

    out = args.out or Path("runs") / ("compare-" + Path(args.spec).stem)
    return api.compare(args.spec, out, jobs=args.jobs, ray=args.ray, report_only=args.report_only).exit_code
