"""`numerate solve`: problems `A+B` on stdin -> the model's answers on stdout, in order.

Every line is checked before any decoding starts, so bad input costs nothing and produces no partial output.
"""

from __future__ import annotations

import re

from numerate.capacity import fits, max_digits
from numerate.checkpoint import load_model
from numerate.errors import UsageError
from numerate.tasks.base import Problem

LINE = re.compile(r"^\s*(\d+)\s*\+\s*(\d+)\s*$")


def parse_problems(lines, symbol: str = "+") -> list[Problem]:
    problems = []
    for number, line in enumerate(lines, start=1):
        text = line.rstrip("\n")
        match = LINE.match(text)
        if not match:
            shown = text if len(text) <= 60 else text[:57] + "..."
            raise UsageError(f"line {number}: {shown!r} is not two non-negative integers joined by '{symbol}'")
        problems.append(Problem((int(match.group(1)), int(match.group(2)))))
    return problems


def solve_stream(model_dir, stdin, stdout, stderr, batch_size: int = 512, device: str = "auto") -> int:
    from numerate.eval.evaluate import answer_problems
    from numerate.train.distributed import pick_device

    bundle = load_model(model_dir, device=pick_device(device))
    if bundle.task.symbol != "+":
        raise UsageError(f"{model_dir} was trained on '{bundle.task.name}', not addition")
    problems = parse_problems(stdin.readlines())
    for number, problem in enumerate(problems, start=1):
        if not fits(bundle, problem):
            limit = max_digits(bundle)
            longest = max(len(str(x)) for x in problem.operands)
            raise UsageError(
                f"line {number}: a {longest}-digit operand is longer than this model can represent "
                f"(at most {limit} digits)"
            )
    answers = answer_problems(bundle, problems, batch_size=batch_size)
    unreadable = 0
    for a in answers:
        if a.value is None:
            unreadable += 1
            stdout.write((a.text[::-1] if bundle.fmt.reverse else a.text) + "\n")
        else:
            stdout.write(f"{a.value}\n")
    if unreadable:
        stderr.write(f"warning: {unreadable} answer(s) were not a number; written as the model produced them\n")
    return 0
