"""`numerate solve PROCEDURE_DIR` for procedures other than long multiplication (gcd, knapsack, isqrt, descent).

Every line is read and checked before any work (a bad line: its number and what is wrong on stderr, nothing on
stdout, exit 2); then the problems are answered in batches, all of a batch's questions asked level by level, and
each batch's answers written before the next starts. Whether each step model is proven is said on stderr first; a
procedure on a step model that is not proven still runs, and says so.
"""

from __future__ import annotations

import json
import re
import tempfile
import time

from numerate.errors import UsageError


def step_statuses(loaded, recheck: bool = False) -> dict[str, str]:
    """Each step model's certificate status, as `solve` reports it."""
    from numerate.verify.binding import certificate_status

    out = {}
    for name, bundle in loaded.bundles.items():
        status = certificate_status(bundle, loaded.step_dirs[name]) or "no certificate: not proven"
        if recheck:
            from numerate.commands.recheck import recheck_folder

            status = recheck_folder(bundle, loaded.step_dirs[name])
        out[name] = status
    return out


def parse_line(procedure, raw, number: int, max_digits: int):
    """One input line as the procedure's problem; UsageError naming the line and what is wrong (a number longer
    than `max_digits` digits among them, checked before any number is converted)."""
    try:
        text = raw.decode("ascii") if isinstance(raw, bytes) else raw
    except UnicodeDecodeError:
        raise UsageError(f"line {number}: not plain text ({procedure.syntax})") from None
    text = text.rstrip("\r\n")
    bad = next((c for c in text if (ord(c) < 32 or ord(c) == 127)), None)
    if bad is not None:
        raise UsageError(f"line {number}: control character {bad!r} ({procedure.syntax})")
    longest = max((len(run) for run in re.findall(r"[0-9]+", text)), default=0)
    if longest > max_digits:
        raise UsageError(f"line {number}: a {longest:,}-digit number is longer than --max-digits {max_digits:,}")
    try:
        return procedure.parse(text)
    except ValueError as e:
        shown = text if len(text) <= 60 else text[:57] + "..."
        raise UsageError(f"line {number}: {shown!r}: {e}") from None


def solve_procedure_stream(
    loaded,
    stdin,
    stdout,
    stderr,
    batch_size: int = 512,
    problems_per_batch: int = 64,
    max_digits: int = 1_000_000,
    recheck: bool = False,
    ledger_path: str | None = None,
    progress: bool = False,
) -> int:
    """Two passes, as for models (commands/solve.py): every line checked first (a pipe spooled to a temporary
    file), then read again and answered batch by batch, so memory holds one batch of problems. With `progress`,
    a bar of the problems and one of the rounds of questions of the batch being answered."""
    from tqdm.auto import tqdm

    from numerate.commands.solve import _seekable
    from numerate.procedures.folder import solve

    procedure = loaded.procedure
    statuses = step_statuses(loaded, recheck)
    for name, status in statuses.items():
        stderr.write(f"{name} step ({loaded.step_dirs[name].name}): {status}\n")
    unproven = [name for name, s in statuses.items() if not s.startswith(("certificate matches", "re-checked:"))]
    if unproven:
        stderr.write(f"warning: step(s) {', '.join(unproven)} not proven: these answers are not covered by a proof\n")
    source = getattr(stdin, "buffer", stdin)
    spool = None if _seekable(source) else tempfile.TemporaryFile()
    ledger = None
    try:
        total = 0
        for number, raw in enumerate(source, start=1):  # pass 1: every line checked before any work
            if spool is not None:
                spool.write(raw)
            parse_line(procedure, raw, number, max_digits)
            total = number
        reader = spool if spool is not None else source
        reader.seek(0)
        ledger = open(ledger_path, "w") if ledger_path else None
        bar = tqdm(total=total, disable=not progress, unit="problem", desc="solve", dynamic_ncols=True)
        batch: list = []
        for number, raw in enumerate(reader, start=1):  # pass 2: answered batch by batch, in input order
            batch.append(parse_line(procedure, raw, number, max_digits))
            if len(batch) == problems_per_batch or number == total:
                t0 = time.perf_counter()
                answers, ledgers = solve(loaded, batch, batch_size=batch_size, progress=progress)
                seconds = time.perf_counter() - t0
                stdout.write("".join(procedure.write(p, a) + "\n" for p, a in zip(batch, answers)))
                stdout.flush()
                if ledger:
                    for p, a, led in zip(batch, answers, ledgers):
                        row = {
                            "problem": procedure.expression(p),
                            "answer": procedure.write(p, a),
                            "questions": dict(led.questions),
                            "digits_written": dict(led.digits),
                            "rounds": led.rounds,
                            "batch_seconds": round(seconds, 3),
                            "steps_proven": not unproven,
                        }
                        ledger.write(json.dumps(row) + "\n")
                bar.update(len(batch))
                batch = []
        bar.close()
    finally:
        if ledger:
            ledger.close()
        if spool is not None:
            spool.close()
    return 0
