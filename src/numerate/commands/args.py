"""Argument types shared by the verbs' parsers: each checks one value and says what is wrong with it."""

from __future__ import annotations

import argparse
import os
from pathlib import Path


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


def add_engine_args(parser, jobs: int = 2) -> None:
    """--jobs and --ray, the same on every command and benchmark that runs a sweep."""
    parser.add_argument(
        "--jobs", type=positive_int, default=jobs, help=f"units run at once, one CPU thread each (default {jobs})"
    )
    parser.add_argument(
        "--ray",
        nargs="?",
        const="local",
        default=None,
        metavar="ADDRESS",
        help="run the units as Ray tasks: on a local cluster of --jobs CPUs, or on the cluster at ADDRESS "
        "(e.g. ray://head:10001 or auto); needs `pip install 'numerate[ray]'`, numerate on every node and the "
        "output folder on storage every node sees",
    )


def engine_from_args(args):
    from numerate.sweep import Engine

    return Engine(jobs=args.jobs, ray=args.ray)
