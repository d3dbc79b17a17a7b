"""`numerate solve PROCEDURE_DIR` for procedures other than long multiplication (gcd, knapsack, isqrt, descent).

Every line is read and checked before any work (a bad line: its number and what is wrong on stderr, nothing on
stdout, exit 2); then the problems are answered in batches, all of a batch's questions asked level by level, and
each batch's answers written before the next starts. Whether each step model is proven is said on stderr first; a
procedure on a step model that is not proven still runs, and says so.
"""

from __future__ import annotations

import json
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


def read_problems(procedure, lines, max_chars: int) -> list:
    problems = []
    for number, raw in enumerate(lines, start=1):
        try:
            text = raw.decode("ascii") if isinstance(raw, bytes) else raw
        except UnicodeDecodeError:
            raise UsageError(f"line {number}: not plain text ({procedure.syntax})") from None
        text = text.rstrip("\r\n")
        if len(text) > max_chars:
            raise UsageError(f"line {number}: longer than --max-digits {max_chars} characters")
        bad = next((c for c in text if (ord(c) < 32 or ord(c) == 127)), None)
        if bad is not None:
            raise UsageError(f"line {number}: control character {bad!r} ({procedure.syntax})")
        try:
            problems.append(procedure.parse(text))
        except ValueError as e:
            shown = text if len(text) <= 60 else text[:57] + "..."
            raise UsageError(f"line {number}: {shown!r}: {e}") from None
    return problems


def solve_procedure_stream(
    loaded,
    stdin,
    stdout,
    stderr,
    batch_size: int = 512,
    problems_per_batch: int = 64,
    max_chars: int = 1_000_000,
    recheck: bool = False,
    ledger_path: str | None = None,
) -> int:
    from numerate.procedures.folder import solve

    procedure = loaded.procedure
    statuses = step_statuses(loaded, recheck)
    for name, status in statuses.items():
        stderr.write(f"{name} step ({loaded.step_dirs[name].name}): {status}\n")
    unproven = [name for name, s in statuses.items() if not s.startswith(("certificate matches", "re-checked:"))]
    if unproven:
        stderr.write(f"warning: step(s) {', '.join(unproven)} not proven: these answers are not covered by a proof\n")
    source = getattr(stdin, "buffer", stdin)
    problems = read_problems(procedure, source, max_chars)
    ledger = open(ledger_path, "w") if ledger_path else None
    try:
        for start in range(0, len(problems), problems_per_batch):
            batch = problems[start : start + problems_per_batch]
            t0 = time.perf_counter()
            answers, ledgers = solve(loaded, batch, batch_size=batch_size)
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
    finally:
        if ledger:
            ledger.close()
    return 0
