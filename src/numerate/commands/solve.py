"""`numerate solve`: problems like `A+B` or `A-B` (the model's task) on stdin -> its answers on stdout, in order.

Streaming, in two passes: the first reads the whole input once, checking every line (and, when stdin is a pipe,
spooling it to a temporary file); only if every line is good does the second pass read it again in batches,
answer them and write each batch's answers before reading the next. A bad line anywhere therefore costs no
decoding and writes nothing on stdout, and memory stays bounded by one batch whatever the input's size.
"""

from __future__ import annotations

import tempfile

from numerate import malloc
from numerate.bigint import to_str
from numerate.errors import UsageError
from numerate.tasks.base import Problem

MAX_DIGITS = 1_000_000
CHUNK_DIGITS = 1 << 22  # operand digits per batch read in the second pass (bounded memory)


def parse_line(raw: bytes, number: int, task, max_digits: int) -> Problem:
    """One input line as a problem of `task` (e.g. `A+B`, `A-B`); UsageError naming the line and what is wrong."""
    symbol = task.symbol
    try:
        text = raw.decode("ascii").rstrip("\r\n")
    except UnicodeDecodeError:
        raise UsageError(f"line {number}: not plain text (only digits, '{symbol}' and spaces are allowed)") from None
    bad = next((c for c in text if (ord(c) < 32 or ord(c) == 127) and c != " "), None)
    if bad is not None:  # str.strip below would quietly drop tabs, form feeds and the like around a number
        raise UsageError(
            f"line {number}: control character {bad!r} (only digits, '{symbol}' and spaces are allowed; a line "
            "ends with \\n or \\r\\n)"
        )
    parts = [p.strip() for p in text.split(symbol)]
    if all(p.isdigit() for p in parts):  # check the length before converting a huge number
        longest = max(len(p) for p in parts)
        if longest > max_digits:
            raise UsageError(f"line {number}: a {longest}-digit operand is longer than --max-digits {max_digits}")
    try:
        return task.parse_expression(text)
    except ValueError as exc:
        shown = text if len(text) <= 60 else text[:57] + "..."
        raise UsageError(f"line {number}: {shown!r} is not {exc}") from None


def parse_problems(lines, task, max_digits: int = MAX_DIGITS) -> list[Problem]:
    """Every line (str or bytes) as a problem; UsageError naming the first bad line."""
    return [
        parse_line(line.encode() if isinstance(line, str) else line, n, task, max_digits)
        for n, line in enumerate(lines, start=1)
    ]


def _widest_question(task, problem: Problem) -> Problem:
    """The longest question the problem leads to: the procedure's widest step, else the problem itself."""
    from numerate.tasks.iterative import is_stepwise

    return task.widest_query(problem) if is_stepwise(task) else problem


def _check(bundle, problem: Problem, number: int) -> None:
    from numerate.capacity import fits, max_digits

    if not fits(bundle, problem) or not fits(bundle, _widest_question(bundle.task, problem)):
        limit = max_digits(bundle)
        longest = max(len(to_str(x)) for x in problem.operands)
        raise UsageError(
            f"line {number}: a {longest}-digit operand is longer than this model can represent (at most {limit} digits)"
        )


def _check_procedure(multiplier, problem: Problem, number: int) -> None:
    """Both step models must represent the widest question the product leads to: a * d at a's width, and a sum
    as wide as the product."""
    from numerate.capacity import fits, max_digits

    a, b = problem.operands
    width = len(to_str(a)) + len(to_str(b))
    checked = multiplier.notes.setdefault("checked", (0, 0))
    if width <= checked[0] and len(to_str(a)) <= checked[1]:
        return  # a wider product with a longer a already fitted: so does this one
    times, add = multiplier.bundles["times"], multiplier.bundles["add"]
    for step, question in (
        (times, times.task.worst_case(len(to_str(a)))),
        (add, Problem((10**width - 1, 10**width - 1))),
    ):
        if not fits(step, question):
            limit = max_digits(step)
            raise UsageError(
                f"line {number}: a {len(to_str(a))} x {len(to_str(b))}-digit product needs {step.task.name} questions "
                f"longer than its model can represent (at most {limit} digits)"
            )
    multiplier.notes["checked"] = (width, len(to_str(a)))


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
) -> int:
    """stdin: a binary stream (or a text stream, whose buffer is used). `recheck` re-derives each certificate
    (every case bounded again) before answering, instead of comparing hashes only. A procedure folder other than
    long multiplication (gcd, knapsack, isqrt, descent) is answered by commands/solve_procedure.py."""
    from numerate.eval.answer import written_exactly
    from numerate.iterate.stepwise import is_stepwise, procedure_answers
    from numerate.eval.evaluate import answer_problems
    from numerate.devices import pick_device
    from numerate.verify.binding import certificate_status, load_certified

    from numerate.iterate.multiply import is_procedure, load_multiplier, multiply

    multiplier = bundle = None
    if is_procedure(model_dir):
        from numerate.procedures.folder import load, read_spec
        from numerate.tasks import get_task

        if read_spec(model_dir)[0].name != "long-multiplication":
            from numerate.commands.solve_procedure import solve_procedure_stream

            loaded = load(model_dir, device=pick_device(device))
            return solve_procedure_stream(
                loaded,
                stdin,
                stdout,
                stderr,
                batch_size=batch_size,
                max_digits=max_digits_allowed,
                recheck=recheck,
                ledger_path=ledger,
                progress=progress,
            )
        from numerate.commands.solve_procedure import step_statuses

        multiplier = load_multiplier(model_dir, device=pick_device(device))
        for name, status in step_statuses(multiplier, recheck).items():
            stderr.write(f"{name} step ({multiplier.step_dirs[name].name}): {status}\n")
        task = get_task("multiplication")
    else:
        bundle = load_certified(model_dir, device=pick_device(device))
        status = certificate_status(bundle, model_dir)
        if recheck:
            from numerate.commands.recheck import recheck_folder

            status = recheck_folder(bundle, model_dir)
        if status:
            stderr.write(status + "\n")
        task = bundle.task
    if not task.symbol:
        raise UsageError(f"{model_dir} was trained on '{task.name}', whose problems are not written as expressions")
    source = getattr(stdin, "buffer", stdin)
    stepwise = is_stepwise(task)

    spool = None
    if not _seekable(source):
        spool = tempfile.TemporaryFile()
    total_lines, total_digits = 0, 0
    try:
        # Pass 1: check every line (and copy a pipe to the spool file).
        for number, raw in enumerate(source, start=1):
            if spool is not None:
                spool.write(raw)
            problem = parse_line(raw, number, task, max_digits_allowed)
            if multiplier is not None:
                _check_procedure(multiplier, problem, number)
            else:
                _check(bundle, problem, number)
            total_lines, total_digits = number, total_digits + len(raw)
        if spool is not None:
            spool.seek(0)
            reader = spool
        else:
            source.seek(0)
            reader = source
        # Pass 2: answer batch by batch, in input order.
        from tqdm.auto import tqdm

        bar = tqdm(total=total_lines, disable=not progress, unit="problem", desc="solve", dynamic_ncols=True)
        unreadable = off_form = answered = 0
        batch: list[Problem] = []
        digits = 0

        def flush():
            nonlocal unreadable, digits, off_form, answered
            if multiplier is not None:
                stdout.write("".join(to_str(v) + "\n" for v in multiply(multiplier, batch, batch_size)))
                stdout.flush()
                bar.update(len(batch))
                batch.clear()
                digits = 0
                return
            answers = (
                procedure_answers(bundle, batch, batch_size)
                if stepwise
                else answer_problems(bundle, batch, batch_size=batch_size, progress=progress and len(batch) == 1)
            )
            for a in answers:
                answered += 1
                page = getattr(task, "page", False)
                if page and not a.ended:
                    raise UsageError(unended_page(bundle, a, answered))
                if a.value is not None and not stepwise and not written_exactly(bundle.fmt, a):
                    off_form += 1
                if show_work and hasattr(bundle.fmt, "lines"):
                    stdout.write(show_page(bundle, a))
                result = task.final(a.value) if page and a.value is not None else a.value
                if result is None:
                    unreadable += 1
                    stdout.write((a.text[::-1] if bundle.fmt.reverse else a.text) + "\n")
                elif page:  # the result is what the page's lines stand for
                    stdout.write(to_str(result) + "\n")
                else:
                    stdout.write((a.text if stepwise else to_str(a.value)) + "\n")
            stdout.flush()
            bar.update(len(batch))
            batch.clear()
            digits = 0
            malloc.release_free_memory()

        for number, raw in enumerate(reader, start=1):
            batch.append(parse_line(raw, number, task, max_digits_allowed))
            digits += len(raw)
            if len(batch) >= 16 * batch_size or digits >= CHUNK_DIGITS:
                flush()
        if batch:
            flush()
        bar.close()
    finally:
        if spool is not None:
            spool.close()
    if unreadable:
        stderr.write(f"warning: {unreadable} answer(s) were not a number; written as the model produced them\n")
    if off_form:
        stderr.write(
            f"warning: {off_form} answer(s) were read as numbers but not written exactly as the format writes them "
            "(an extra or missing digit, or no end token); their values are printed as read\n"
        )
    return 0


def unended_page(bundle, a, number: int) -> str:
    """Why a page model's answer to input line `number` is refused: its page did not end within the tokens the
    scheme allows for the question."""
    fmt = bundle.fmt
    budget = fmt.max_target_len(a.problem) + 1
    line = a.text.count(fmt.LINE + fmt.OPEN) + 1
    return (
        f"line {number}: the model did not end its page within the {budget:,} tokens its format allows for this "
        f"question (line {line} of the page never closes, or the page holds too many lines); "
        "no answer is given (a model off its procedure: `numerate verify` says where)"
    )


def show_page(bundle, a) -> str:
    """The page a page model wrote, as on paper: the operands, then each line of work as written (most
    significant digit first), right-aligned, one per line."""
    fmt = bundle.fmt
    numbers = [to_str(x) for x in a.problem.operands]
    written = [line[::-1] for line in a.text.replace(fmt.OPEN, "").split(fmt.LINE) if line]
    width = max(map(len, numbers + written)) + 2
    symbol = bundle.task.symbol
    out = [f"{symbol + ' ' if i else '  '}{n:>{width - 2}}" for i, n in enumerate(numbers)]
    out.append("-" * width)
    if hasattr(fmt, "FILL"):  # lines of a cycle of kinds (tasks/multiplication_page.py): name each one
        from numerate.verify.page_grid import NAMES

        first = len(numbers)  # the question's numbers are the first rows of step 0
        names = [f"step {(first + i) // 7}: {NAMES[(first + i) % 7]}" for i in range(len(written))]
    else:
        names = [f"line {i + 1}" for i in range(len(written))]
    out += [f"{w:>{width}}   {name}" for w, name in zip(written, names)]
    return "\n".join(out) + "\n"


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
    s.add_argument("--quiet", action="store_true", help="no progress bar")
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
    )
