"""Tasks whose right answers are low-probability text: trivial procedures that language models fail anyway.

Each task draws a question of a given *length* (letters in a word, places to go back, digits to copy) from a
seeded generator, knows its exact answer, and reads a reply strictly: the reply's first line, trimmed, must be
exactly the answer's form (a number; letters without anything else) or it is malformed. A representation
intervention writes every letter (or digit) of the question and of the expected answer separated by spaces,
which puts one character in each token of most tokenizers:

    letter-count        How many times does the letter "r" appear in "strawberry"?          -> 3
    reverse-word        Write "planet" backwards.                                            -> tenalp
    alphabet-backwards  Write 4 letters of the alphabet going backwards from "q" ...        -> qpon
    copy-digits         Repeat this digit string exactly: 40938271                           -> 40938271

Words are random letter strings (pronounceable is not the point; frequent words would let a model recall instead
of read). `numerate probe --task letter-count` etc. run them through any language model (lm/probe.py's record
statuses: right, wrong, malformed, failed).
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass

from numerate.errors import UsageError
from numerate.registry import Registry

TEXT_TASKS: Registry = Registry("text task")
LETTERS = string.ascii_lowercase


@dataclass(frozen=True)
class TextProblem:
    subject: str  # the word, sequence or digits the question is about
    extra: str = ""  # a second part (the letter to count)
    answer: str = ""


def spaced(text: str) -> str:
    return " ".join(text)


class TextTask:
    name = ""
    cell_dims = ("length",)
    samplers = {"uniform": "a question of the cell's length, uniformly random"}
    system = "Answer with the result only, and nothing else."

    def sample(self, rng: random.Random, n: int) -> TextProblem:
        raise NotImplementedError

    def shot_length(self, n: int) -> int:
        """The length of the worked examples shown before a question of length n."""
        return n

    def question(self, p: TextProblem, spaced_out: bool) -> str:
        raise NotImplementedError

    def reply_form(self, p: TextProblem, spaced_out: bool) -> str:
        """The answer exactly as a right reply writes it."""
        return spaced(p.answer) if spaced_out and not p.answer.isdigit() else p.answer

    def read(self, reply: str | None, spaced_out: bool) -> str | None:
        """The answer a reply states, read strictly (its trimmed first line, in the answer's form), or None."""
        if reply is None:
            return None
        stripped = reply.strip()
        line = stripped.split("\n", 1)[0].strip() if stripped else ""
        return self.parse(line, spaced_out)

    def parse(self, line: str, spaced_out: bool) -> str | None:
        raise NotImplementedError


def _word(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(LETTERS) for _ in range(n))


def _letters(line: str, spaced_out: bool) -> str | None:
    """Lowercase letters only (with single spaces between them when spaced out); anything else is malformed."""
    if spaced_out:
        parts = line.split(" ")
        if not parts or any(len(c) != 1 for c in parts):
            return None
        line = "".join(parts)
    return line if line and all(c in LETTERS for c in line) else None


@TEXT_TASKS.register("letter-count", "how many times a letter appears in a random word of the cell's length")
class LetterCount(TextTask):
    name = "letter-count"

    def sample(self, rng, n):
        word = _word(rng, n)
        # half the questions ask for a letter of the word (repeated ones are likely at longer lengths), half any
        letter = rng.choice(word) if rng.random() < 0.5 else rng.choice(LETTERS)
        return TextProblem(word, letter, str(word.count(letter)))

    def question(self, p, spaced_out):
        word = spaced(p.subject) if spaced_out else p.subject
        return f'How many times does the letter "{p.extra}" appear in "{word}"?'

    def parse(self, line, spaced_out):
        return line if line.isascii() and line.isdigit() and (line == "0" or line[0] != "0") else None


@TEXT_TASKS.register("reverse-word", "a random word of the cell's length written backwards")
class ReverseWord(TextTask):
    name = "reverse-word"

    def sample(self, rng, n):
        word = _word(rng, n)
        return TextProblem(word, "", word[::-1])

    def question(self, p, spaced_out):
        word = spaced(p.subject) if spaced_out else p.subject
        how = " Write the letters separated by spaces." if spaced_out else ""
        return f'Write "{word}" backwards.{how}'

    def parse(self, line, spaced_out):
        return _letters(line.strip('"'), spaced_out)


@TEXT_TASKS.register("alphabet-backwards", "the cell's length of letters of the alphabet, backwards from a random one")
class AlphabetBackwards(TextTask):
    name = "alphabet-backwards"
    samplers = {"uniform": "n letters backwards from a random letter at least n-th in the alphabet (n <= 26)"}

    def sample(self, rng, n):
        if not 1 <= n <= 26:
            raise UsageError(f"alphabet-backwards lengths are 1-26 (letters written), got {n}")
        top = rng.randrange(n - 1, 26)
        return TextProblem(LETTERS[top], str(n), LETTERS[top - n + 1 : top + 1][::-1])

    def shot_length(self, n):
        return n - 1 if n > 1 else 2  # at 26 letters there is one question: an example of it would give it away

    def question(self, p, spaced_out):
        how = "separated by spaces" if spaced_out else "with nothing between them"
        return (
            f'Write {p.extra} letters of the alphabet going backwards from "{p.subject}" ("{p.subject}" included), '
            f"{how}."
        )

    def parse(self, line, spaced_out):
        return _letters(line, spaced_out)


@TEXT_TASKS.register("copy-digits", "a random digit string of the cell's length, repeated exactly")
class CopyDigits(TextTask):
    name = "copy-digits"

    def sample(self, rng, n):
        digits = "".join(rng.choice(string.digits) for _ in range(n))
        return TextProblem(digits, "", digits)

    def question(self, p, spaced_out):
        shown = spaced(p.subject) if spaced_out else p.subject
        how = " Write the digits separated by spaces." if spaced_out else ""
        return f"Repeat this digit string exactly: {shown}{how}"

    def reply_form(self, p, spaced_out):
        return spaced(p.answer) if spaced_out else p.answer

    def parse(self, line, spaced_out):
        text = line
        if spaced_out:
            parts = line.split(" ")
            if any(len(c) != 1 for c in parts):
                return None
            text = "".join(parts)
        return text if text and text.isascii() and text.isdigit() else None


def problems(task: TextTask, n: int, samples: int, seed: int) -> list[TextProblem]:
    """The cell's questions, fixed by seed, task and length (as eval's cells are)."""
    rng = random.Random(f"text/{seed}/{task.name}/{n}")
    return [task.sample(rng, n) for _ in range(samples)]


def prompt(task: TextTask, p: TextProblem, shots: list[TextProblem], spaced_out: bool, chat: bool):
    if chat:
        messages = [{"role": "system", "content": task.system}]
        for s in shots:
            messages.append({"role": "user", "content": task.question(s, spaced_out)})
            messages.append({"role": "assistant", "content": task.reply_form(s, spaced_out)})
        messages.append({"role": "user", "content": task.question(p, spaced_out)})
        return messages
    lines = [f"Q: {task.question(s, spaced_out)}\nA: {task.reply_form(s, spaced_out)}" for s in shots]
    return "\n".join([*lines, f"Q: {task.question(p, spaced_out)}\nA:"])


def run_text_probe(lm, task: TextTask, lengths, samples: int, seed: int, shots: int, spaced_out: bool, progress=False):
    """(rows, records) in the probe's shapes: one row per length, one record per question."""
    from tqdm.auto import tqdm

    from numerate.lm.base import Request

    if not lm.reads_text:
        raise UsageError(f"{lm.name} is a numerate model: text tasks are for language models")
    plan, requests = [], []
    for n in lengths:
        qs = problems(task, n, samples, seed)
        at = task.shot_length(n)
        examples = [task.sample(random.Random(f"text-shots/{seed}/{task.name}/{n}/{i}"), at) for i in range(shots)]
        for p in qs:
            r = Request(p, prompt(task, p, examples, spaced_out, lm.chat))
            r.max_tokens = 2 * len(task.reply_form(p, spaced_out)) + 8
            requests.append(r)
        plan.append((n, len(qs)))
    with tqdm(total=len(requests), desc="probe", unit="question", disable=not progress) as bar:
        completions = lm.complete(requests, progress=bar.update)
    rows, records, at = [], [], 0
    for n, count in plan:
        mine = []
        for r, c in zip(requests[at : at + count], completions[at : at + count]):
            said = task.read(c.text, spaced_out)
            status = "failed" if c.text is None else "malformed" if said is None else "right"
            if status == "right" and said != r.problem.answer:
                status = "wrong"
            mine.append(
                {
                    "length": n,
                    "subject": r.problem.subject,
                    "extra": r.problem.extra,
                    "truth": r.problem.answer,
                    "prompt": r.prompt,
                    "response": c.text,
                    "extracted": said,
                    "status": status,
                    "error": c.error,
                    "cached": c.cached,
                }
            )
        at += count
        k = {s: sum(m["status"] == s for m in mine) for s in ("right", "wrong", "malformed", "failed")}
        rows.append(
            {
                "sampler": "uniform",
                "representation": "spaced" if spaced_out else "plain",
                "length": n,
                "n": count,
                "correct": k["right"],
                "exact_match": k["right"] / count,
                "wrong": k["wrong"],
                "malformed": k["malformed"],
                "failed": k["failed"],
            }
        )
        records.extend(mine)
    return rows, records
