"""Prompts for arithmetic problems and the strict reading of replies.

A problem is written as its expression in the chosen representation, ending in "=" (never a trailing space: a
prompt that ends in a space changes how most tokenizers split the answer):

    completion, 2-shot, plain        12+34=46\\n56+78=134\\n123+456=
    completion, 0-shot, spaced       1 2 3 + 4 5 6 =
    chat                             system: "You are a calculator. <how numbers are written>. Reply with ..."
                                     then the shots as user/assistant turns, then the problem as a user turn

Reading a reply (`extract`) is strict: the reply's first line, with surrounding whitespace removed, must be
exactly one integer written in the prompt's representation ("579", "-12", "1,234"); anything else — prose, a
trailing period, another representation — is *malformed* and scored wrong. Nothing searches the text for a
number that looks right.
"""

from __future__ import annotations

import random

from numerate.lm.base import Request
from numerate.lm.representations import Representation
from numerate.tasks.base import Problem

SYSTEM = "You are a calculator. {how} Reply with the result only, written the same way, and nothing else."


def expression(task, problem: Problem, rep: Representation) -> str:
    space = rep.operator_spacing
    return f"{space}{task.symbol}{space}".join(rep.render(x) for x in problem.operands) + f"{space}="


def answer_text(task, problem: Problem, rep: Representation) -> str:
    return rep.render(task.answer(problem))


def shot_problems(task, sampler: str, cell: tuple[int, ...], shots: int, seed: int) -> list[Problem]:
    """The k worked examples shown before every problem of a cell: same sampler and lengths, their own seed."""
    rng = random.Random(f"shots/{seed}/{sampler}/{'x'.join(map(str, cell))}")
    return [task.sample(rng, sampler, cell) for _ in range(shots)]


def build_prompt(task, problem: Problem, rep: Representation, shots: list[Problem], chat: bool):
    space = rep.operator_spacing
    if chat:
        messages = [{"role": "system", "content": SYSTEM.format(how=rep.description)}]
        for s in shots:
            messages.append({"role": "user", "content": expression(task, s, rep)})
            messages.append({"role": "assistant", "content": answer_text(task, s, rep)})
        messages.append({"role": "user", "content": expression(task, problem, rep)})
        return messages
    lines = [f"{expression(task, s, rep)}{space}{answer_text(task, s, rep)}" for s in shots]
    return "\n".join([*lines, expression(task, problem, rep)])


def requests_for(task, problems, rep: Representation, shots: list[Problem], chat: bool) -> list[Request]:
    return [Request(p, build_prompt(task, p, rep, shots, chat)) for p in problems]


def extract(text: str | None, rep: Representation) -> int | None:
    """The integer a reply states, read strictly (see the module's docstring), or None."""
    return None if text is None else rep.parse(first_line(text))


def first_line(text: str) -> str:
    """The reply's first non-blank line, whitespace around it removed: the only part a strict reading reads."""
    stripped = text.strip()
    return stripped.split("\n", 1)[0].strip() if stripped else ""


def show(prompt) -> str:
    """A prompt as one readable string, for tables, docs and ledgers."""
    if isinstance(prompt, str):
        return prompt
    return "\n".join(f"[{m['role']}] {m['content']}" for m in prompt)
