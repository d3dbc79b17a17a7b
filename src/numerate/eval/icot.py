"""Deng et al.'s multiplication test files (Internalize_CoT_Step_by_Step, data/{N}_by_{N}_mult/test_bigbench.txt)
read as numerate problems.

Each line is ``a * b||chain of thought #### c`` with every number's digits least-significant first and
space-separated. Only a and b are taken from the file; the product it states is checked against a * b, so a
corrupted or mislabelled file is refused rather than scored against.
"""

from __future__ import annotations

from pathlib import Path

from numerate.errors import UsageError
from numerate.tasks.base import Problem


def _number(text: str, where: str) -> int:
    digits = text.split()
    if not digits or any(len(d) != 1 or not d.isdigit() for d in digits):
        raise UsageError(f"{where}: {text.strip()!r} is not space-separated digits")
    return int("".join(reversed(digits)))


def read_icot(path: str | Path) -> list[Problem]:
    """The products of one ICoT test file, in file order (UsageError naming the line on a malformed one)."""
    path = Path(path)
    try:
        lines = path.read_text().splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read {path} ({exc})") from None
    problems = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        question, sep, rest = line.partition("||")
        operands = question.split("*")
        if not sep or len(operands) != 2 or "####" not in rest:
            raise UsageError(f"{where}: not an ICoT line 'a * b||chain #### c'")
        a, b = (_number(x, where) for x in operands)
        stated = _number(rest.rsplit("####", 1)[1], where)
        if stated != a * b:
            raise UsageError(f"{where}: the file says {a} * {b} = {stated}, but it is {a * b}")
        problems.append(Problem((a, b)))
    if not problems:
        raise UsageError(f"{path} holds no problems")
    return problems
