"""`numerate solve`: problems like `A+B` or `A-B` (the model's task) on stdin -> its answers on stdout, in order.

Streaming, in two passes: the first reads the whole input once, checking every line (and, when stdin is a pipe,
spooling it to a temporary file); only if every line is good does the second pass read it again in batches,
answer them and write each batch's answers before reading the next. A bad line anywhere therefore costs no
decoding and writes nothing on stdout, and memory stays bounded by one batch whatever the input's size.
"""

from __future__ import annotations

import tempfile

from numerate import malloc
from numerate.errors import UsageError
from numerate.solver.base import MAX_DIGITS

CHUNK_DIGITS = 1 << 22  # characters of input per batch read in the second pass (bounded memory)


def _seekable(stream) -> bool:
    try:
        return stream.seekable() and stream.tell() == 0
    except (OSError, ValueError):
        return False


def solve_stream(
    model_dir,
    stdin,
    stdout,
    stderr,
    batch_size: int = 512,
    device: str = "auto",
    max_digits_allowed: int = MAX_DIGITS,
    progress: bool = False,
    recheck: bool = False,
    ledger: str | None = None,
    show_work: bool = False,
    threads: int | None = None,
    quiet: bool = False,
) -> int:
    """stdin: a binary stream (or a text stream, whose buffer is used). `recheck` re-derives each certificate
    (every case bounded again) before answering, instead of comparing hashes only. The folder is opened as a
    solver (numerate/solver), which knows what kind it is; this function only streams lines through it."""
    import torch

    from numerate.devices import pick_device
    from numerate.solver import open_folder

    if threads:
        torch.set_num_threads(threads)
    solver = open_folder(model_dir, device=pick_device(device))
    report = solver.status(recheck)
    for line in report.lines(problems_only=quiet):
        stderr.write(line + "\n")
    if ledger and not solver.keeps_ledger:
        raise UsageError(
            f"--ledger is for procedure folders (gcd, knapsack, isqrt, descent, mul); {model_dir} is not one"
        )
    source = getattr(stdin, "buffer", stdin)
    spool = None if _seekable(source) else tempfile.TemporaryFile()
    ledger_file = None
    try:
        # Pass 1: check every line (and copy a pipe to the spool file) before any work.
        total = 0
        for number, raw in enumerate(source, start=1):
            if spool is not None:
                spool.write(raw)
            solver.check(solver.parse(raw, number, max_digits_allowed), number)
            total = number
        reader = spool if spool is not None else source
        reader.seek(0)
        # Pass 2: answer batch by batch, in input order, writing each batch before reading the next.
        from tqdm.auto import tqdm

        ledger_file = open(ledger, "w") if ledger else None
        bar = tqdm(total=total, disable=not progress, unit="problem", desc="solve", dynamic_ncols=True)
        writer = _Writer(solver, stdout, show_work, ledger_file, report.proven)
        per_batch = solver.problems_per_batch(batch_size)
        batch, chars, first = [], 0, 1
        for number, raw in enumerate(reader, start=1):
            batch.append(solver.parse(raw, number, max_digits_allowed))
            chars += len(raw)
            if len(batch) >= per_batch or chars >= CHUNK_DIGITS or number == total:
                writer.answer(batch, first, batch_size, progress)
                bar.update(len(batch))
                batch, chars, first = [], 0, number + 1
                malloc.release_free_memory()
        bar.close()
    finally:
        if spool is not None:
            spool.close()
        if ledger_file is not None:
            ledger_file.close()
    if writer.unreadable:
        stderr.write(f"warning: {writer.unreadable} answer(s) were not a number; written as the model produced them\n")
    if writer.off_form:
        stderr.write(
            f"warning: {writer.off_form} answer(s) were read as numbers but not written exactly as the format "
            "writes them (an extra or missing digit, or no end token); their values are printed as read\n"
        )
    return 0


class _Writer:
    """Writes each batch's answers (and work, and ledger rows), counting what the warnings report."""

    def __init__(self, solver, stdout, show_work: bool, ledger_file, steps_proven: bool):
        self.solver, self.stdout, self.show_work = solver, stdout, show_work
        self.ledger_file, self.steps_proven = ledger_file, steps_proven
        self.unreadable = self.off_form = 0

    def answer(self, batch: list, first: int, batch_size: int, progress: bool) -> None:
        """Answer one batch (its first line is number `first`) and write it; a refused answer (a page that does
        not end) stops the run after the lines before it."""
        import json
        import time

        t0 = time.perf_counter()
        solutions = self.solver.answer(batch, batch_size=batch_size, progress=progress)
        seconds = time.perf_counter() - t0
        out = []
        for number, s in enumerate(solutions, start=first):
            if s.refusal:
                self.stdout.write("".join(out))
                self.stdout.flush()
                raise UsageError(f"line {number}: {s.refusal}")
            if s.value is None:
                self.unreadable += 1
            elif not s.exact_form:
                self.off_form += 1
            if self.show_work:
                out.append(self.solver.render_work(s))
            out.append(s.line + "\n")
            if self.ledger_file is not None:
                row = {**s.ledger, "batch_seconds": round(seconds, 3), "steps_proven": self.steps_proven}
                self.ledger_file.write(json.dumps(row) + "\n")
        self.stdout.write("".join(out))
        self.stdout.flush()


# ---------------------------------------------------------------- the command line (cli.py lists the verb)


def add_parser(sub, help: str) -> None:
    """Declare `numerate solve` and its arguments."""
    from numerate.commands.args import positive_int

    s = sub.add_parser(
        "solve",
        help=help,
        description="Read problems written as the model's task writes them — `A+B` for addition, `A-B` for "
        "subtraction (non-negative decimal integers of any length; answers may be negative), `A+B+C+...` for "
        "many-operand addition and running sums, `A*B` for multiplication; for procedure folders `A,B` (gcd), "
        "`N` (isqrt), `C; w:v, w:v, ...` (knapsack) or a "
        "quadratic such as `3x^2 + 2xy + 5y^2 - 7x + 4y; scale=20` (descent) — from stdin, one per line, and write the "
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
        help="refuse operands longer than this (default 1,000,000); for procedure folders, any number on a line",
    )
    s.add_argument(
        "--quiet",
        action="store_true",
        help="no progress bar, and no line for a model whose certificate matches (a warning still says when one "
        "does not)",
    )
    s.add_argument(
        "--threads",
        type=positive_int,
        help="torch CPU threads (default: the cores free when solve starts; more spin against the busy ones)",
    )
    s.add_argument("--device", default="auto", help="auto (CUDA if present), cpu, cuda or cuda:N")
    s.add_argument(
        "--recheck",
        action="store_true",
        help="re-derive the model's certificate (every case bounded again, seconds) before answering; without it "
        "only the hashes of the weights and config are compared with what the certificate binds",
    )
    s.add_argument(
        "--ledger",
        metavar="FILE.jsonl",
        help="procedure folders (gcd, knapsack, isqrt, descent): write one JSON line per problem with its answer, "
        "the questions asked and digits written per step model, and the rounds of questions",
    )
    s.add_argument(
        "--show-work",
        action="store_true",
        help="page models (format page): print the page the model wrote, the operands and every line of work, "
        "above each answer",
    )
    s.set_defaults(func=command)


def command(args) -> int:
    import sys

    from numerate.devices import free_cpus

    if "torch" not in sys.modules:  # a fresh `numerate solve` process (not a test or a notebook, where it would
        # slow everything after it): tune memory for long streams before torch loads.
        malloc.configure_for_streaming()
    return solve_stream(
        args.model,
        sys.stdin,
        sys.stdout,
        sys.stderr,
        batch_size=args.batch_size,
        device=args.device,
        max_digits_allowed=args.max_digits,
        progress=not args.quiet and sys.stderr.isatty(),
        recheck=args.recheck,
        ledger=args.ledger,
        show_work=args.show_work,
        threads=args.threads or free_cpus(),
        quiet=args.quiet,
    )
