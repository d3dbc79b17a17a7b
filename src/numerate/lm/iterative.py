"""The iteration lab's tasks in words, for language models: a step question, a whole-problem question, and the
strict reading of each answer.

Every prompt opens with the procedure's description and worked examples (exact answers from the task itself), then
asks one question. A step answer is written as the task's state ("1234", "12,7", "0,0,3,3,...") and a final answer
as the result; replies are read strictly like probe's: the first line must be exactly integers separated by commas
(a space after a comma is allowed), as many as the answer has, or the reply is unparseable.

    running-sum   step  "123+45="                      -> "168"
                  final "1+22+333="                    -> "356"
    gcd           step  "step 18,12 ->"                -> "6,12"      (the larger minus the smaller)
                  final "gcd 18,12 ="                  -> "6"
    knapsack      step  "row 0,0,0,0,0,0,0,0,0,0 item 37 ->"  -> "0,0,0,7,7,7,7,7,7,7"
                  final "items 37,52,61 take ->"       -> "1,0,1"     (one 0/1 per item)
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from typing import Callable

from numerate.lm.base import Request
from numerate.lm.prompts import first_line
from numerate.registry import Registry
from numerate.tasks.base import Problem

TASK_TEXTS: Registry = Registry("task description for language models")
RETRY = "Rejected: {why}. Answer again."
INSTRUCTION = "Reply with the answer only, written as in the examples, and nothing else."


def _ints(values) -> str:
    return ",".join(str(v) for v in (values if isinstance(values, tuple | list) else (values,)))


def read_ints(text: str | None, count: int | None):
    """Integers separated by commas on the reply's first line, strictly; an int when count is 1, else a tuple;
    None when the reply is not exactly that."""
    if text is None:
        return None
    first = first_line(text)
    if not re.fullmatch(r"-?[0-9]+(?:, ?-?[0-9]+)*", first):
        return None
    values = tuple(int(v) for v in first.replace(" ", "").split(","))
    if count is not None and len(values) != count:
        return None
    return values[0] if count == 1 else values


@dataclass(frozen=True)
class TaskText:
    intro: str
    step_question: Callable[[Problem], str]
    final_question: Callable[[Problem], str]
    step_count: Callable[[Problem], int | None]  # numbers in a step answer
    final_count: Callable[[Problem], int | None]

    def question(self, problem: Problem, final: bool) -> str:
        return self.final_question(problem) if final else self.step_question(problem)

    def read(self, problem: Problem, text: str | None, final: bool):
        return read_ints(text, self.final_count(problem) if final else self.step_count(problem))


TASK_TEXTS.register("running-sum")(
    TaskText(
        "Add the numbers.",
        lambda p: "+".join(map(str, p.operands)) + "=",
        lambda p: "+".join(map(str, p.operands)) + "=",
        lambda p: 1,
        lambda p: 1,
    )
)
TASK_TEXTS.register("gcd")(
    TaskText(
        "Subtractive Euclid: a step replaces the larger of two different numbers by the larger minus the smaller; "
        "the gcd of two numbers is the number both become when they are equal.",
        lambda p: f"step {_ints(p.operands)} ->",
        lambda p: f"gcd {_ints(p.operands)} =",
        lambda p: 2,
        lambda p: 1,
    )
)
TASK_TEXTS.register("knapsack")(
    TaskText(
        "0/1 knapsack with capacity 9. An item is two digits, weight then value (37: weight 3, value 7). A row "
        "lists, for each capacity c = 0..9, the best total value of the items so far within weight c; adding an "
        "item of weight w and value v gives row'[c] = max(row[c], row[c - w] + v) where c >= w. To solve a whole "
        "problem, say for each item whether to take it (1) or not (0) so that the total weight is at most 9 and "
        "the total value is as large as possible.",
        lambda p: f"row {_ints(p.operands[:-1])} item {p.operands[-1]} ->",
        lambda p: f"items {_ints(p.operands)} take ->",
        lambda p: len(p.operands) - 1,
        lambda p: len(p.operands),
    )
)


def text_for(task) -> TaskText:
    return TASK_TEXTS.get(task.name)


def examples(task, final: bool, shots: int, seed: int) -> list[Problem]:
    """Worked examples: whole problems needing 1-3 iterations, or step questions from the task's own sampler."""
    rng = random.Random(f"lm-examples/{task.name}/{final}/{seed}")
    if final:
        return [task.sample_problem(rng, rng.randint(1, 3)) for _ in range(shots)]
    return [task.sample_step(rng, 1, 3) for _ in range(shots)]


def build(task, lm_chat: bool, problem: Problem, final: bool, shots: list[Problem], verdicts=()):
    """The prompt for one question: description, worked examples, the question, and on a retry what was rejected."""
    text = text_for(task)
    q = text.question(problem, final)
    pairs = [(text.question(s, final), _ints(task.answer(s))) for s in shots]
    if lm_chat:
        messages = [{"role": "system", "content": f"{text.intro} {INSTRUCTION}"}]
        for question, answer in pairs:
            messages += [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]
        messages.append({"role": "user", "content": q})
        for v in verdicts:
            messages += [
                {"role": "assistant", "content": v.get("said") or ""},
                {"role": "user", "content": RETRY.format(why=v["why"])},
            ]
        return messages
    lines = [text.intro, *(f"{question} {answer}" for question, answer in pairs)]
    lines += [f"{q} {(v.get('said') or '').strip()} ({RETRY.format(why=v['why'])})" for v in verdicts]
    return "\n".join([*lines, q])


def final_requests(task, lm_chat: bool, problems, shots: int, seed: int) -> list[Request]:
    worked = examples(task, True, shots, seed)
    return [Request(p, build(task, lm_chat, p, True, worked), max_tokens=budget(task, p, True)) for p in problems]


def budget(task, problem: Problem, final: bool) -> int:
    return len(_ints(task.final_answer(problem) if final else task.step_answer(problem))) + 16


# ---------------------------------------------------------------- self-check: the model judges a proposed step

JUDGE_INSTRUCTION = "A proposed step follows each question. Reply yes if the step is right and no if it is wrong."


def _wrong(answer, rng: random.Random):
    """A near miss of a step answer (one number off by a small amount), for the judging examples."""
    values = list(answer) if isinstance(answer, tuple | list) else [answer]
    k = rng.randrange(len(values))
    values[k] += rng.choice([-2, -1, 1, 2, 10])
    return tuple(values) if isinstance(answer, tuple | list) else values[0]


def judge_examples(task, shots: int, seed: int) -> list[tuple[Problem, object, bool]]:
    """Worked judgements: step questions from the task's sampler, alternately with the right answer and a near
    miss, so the examples say yes and no equally often."""
    rng = random.Random(f"lm-judge/{task.name}/{seed}")
    out = []
    for i, s in enumerate(examples(task, False, max(shots, 0), seed)):
        right = task.answer(s)
        out.append((s, right, True) if i % 2 == 0 else (s, _wrong(right, rng), False))
    return out


def judge_build(task, lm_chat: bool, problem: Problem, value, worked):
    """The prompt asking whether `value` is the right step for `problem`."""
    text = text_for(task)

    def asked(p, v):
        return f"{text.question(p, False)} {_ints(v)}\nIs this step right?"

    pairs = [(asked(p, v), "yes" if ok else "no") for p, v, ok in worked]
    if lm_chat:
        messages = [{"role": "system", "content": f"{text.intro} {JUDGE_INSTRUCTION}"}]
        for question, answer in pairs:
            messages += [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]
        return messages + [{"role": "user", "content": asked(problem, value)}]
    lines = [f"{text.intro} {JUDGE_INSTRUCTION}", *(f"{q} {a}" for q, a in pairs)]
    return "\n".join([*lines, asked(problem, value)])


def read_judgement(reply: str | None) -> bool | None:
    """yes -> True, no -> False (first word of the first line, case and punctuation aside); otherwise None."""
    if reply is None:
        return None
    words = re.findall(r"[a-z]+", first_line(reply).lower())
    if not words or words[0] not in ("yes", "no"):
        return None
    return words[0] == "yes"
