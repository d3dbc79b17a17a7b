"""Published test suites as probe problems: files of {"context": ..., "completion": ...} records, one JSON object
per line, as the arithmetic sets of *Language Models are Few-Shot Learners* (GPT-3, 2020) are published and as
lm-evaluation-harness reads them ("\\n\\nQ: What is 95 times 45?\\n\\nA:" -> " 4275").

The protocol is the paper's few-shot one: each problem is preceded by K solved examples of the same set (their
context and completion, concatenated), drawn at random from the set without the problem itself, then the
problem's context; the model continues greedily (to the end of its line); the reply is right when the number it
starts with is the completion's number. Nothing is rewritten: the prompt is the file's text.

Where this differs from lm-evaluation-harness's arithmetic tasks: they rewrite each context before asking (strip
it, one newline for two, "Question:" for "Q:", "Answer:" for "A:"; `prompts="harness"` asks the same text), and
they score whether the completion's tokens are the greedy continuation (loglikelihood "is_greedy"), so a reply
that goes on with more digits after the right ones (" 42" then "7") is right there and wrong here, since the
number written is 427. bench/harness_agreement.py compares the two item by item; docs/probe.md says more.
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass
from pathlib import Path

from numerate.errors import UsageError

NUMBER = re.compile(r"\s*(-?\d+)")


@dataclass(frozen=True)
class SuiteItem:
    set: str  # the file's name without .jsonl
    index: int  # the record's line in its file, from 0
    context: str
    completion: str

    @property
    def answer(self) -> int:
        return int(self.completion.strip())


def read_suite(path: str | Path) -> dict[str, list[SuiteItem]]:
    """Every set under `path` (one .jsonl file, or a folder of them), by name; UsageError naming the file and the
    line that is not a record with a context and a numeric completion."""
    path = Path(path)
    if path.is_dir():
        files = sorted(path.glob("*.jsonl"))
        if not files:
            raise UsageError(f"--suite {path}: no .jsonl files in this folder")
    elif path.is_file():
        files = [path]
    else:
        raise UsageError(f"--suite {path} does not exist (a .jsonl file of context/completion records, or a folder)")
    sets = {}
    for file in files:
        items = []
        for n, line in enumerate(file.read_text(encoding="utf-8").splitlines()):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
                item = SuiteItem(file.stem, len(items), rec["context"], rec["completion"])
                if not isinstance(item.context, str) or not re.fullmatch(r"\s*-?\d+\s*", item.completion):
                    raise ValueError("completion is not a number")
            except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
                raise UsageError(
                    f"{file}, line {n + 1}: not a record with a 'context' text and a numeric 'completion' ({exc})"
                ) from None
            items.append(item)
        sets[file.stem] = items
    return sets


PROMPT_STYLES = ("paper", "harness")
FEWSHOT_SEPARATOR = "\n\n"  # between solved examples when contexts are rewritten (lm-evaluation-harness's default)


def harness_text(context: str) -> str:
    """A context as lm-evaluation-harness's arithmetic tasks rewrite it before asking."""
    return context.strip().replace("\n\n", "\n").replace("Q:", "Question:").replace("A:", "Answer:")


def fewshot_prompt(items: list[SuiteItem], item: SuiteItem, shots: int, rng: random.Random, style: str = "paper"):
    """K solved examples of the set, drawn without `item`, then `item`'s context: the file's text as it is (the
    paper's few-shot prompt), or rewritten as lm-evaluation-harness asks it (`style="harness"`)."""
    others = [x for x in items if x.index != item.index]
    examples = rng.sample(others, min(shots, len(others)))
    if style == "harness":
        solved = [harness_text(x.context) + x.completion for x in examples]
        return FEWSHOT_SEPARATOR.join(solved + [harness_text(item.context)])
    return "".join(x.context + x.completion for x in examples) + item.context


def reply_number(text: str | None) -> int | None:
    """The number a reply starts with (after spaces), or None."""
    if text is None:
        return None
    m = NUMBER.match(text)
    return int(m.group(1)) if m else None


def wilson(k: int, n: int, z: float = 1.959964) -> tuple[float, float]:
    """The Wilson score interval (95% by default) for k successes in n trials."""
    if n == 0:
        return 0.0, 1.0
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * ((p * (1 - p) / n + z * z / (4 * n * n)) ** 0.5) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def run_suite(
    lm, sets: dict[str, list[SuiteItem]], shots: int, samples: int | None, seed: int, progress=False, prompts="paper"
):
    """(rows, records): per set, exact match over its first `samples` problems (all with None), K = `shots`
    examples each, asked in the `prompts` style; one record per problem with its prompt and the raw reply."""
    from tqdm.auto import tqdm

    from numerate.lm.base import Request

    if prompts not in PROMPT_STYLES:
        raise UsageError(f"suite prompts must be one of {', '.join(PROMPT_STYLES)}, got {prompts!r}")
    if not lm.reads_text:
        raise UsageError(f"{lm.name} reads its own trained format, not a suite's text prompts")
    plan, requests = [], []
    for name, items in sets.items():
        chosen = items[:samples] if samples else items
        for item in chosen:
            rng = random.Random(f"suite/{seed}/{name}/{item.index}")
            prompt = fewshot_prompt(items, item, shots, rng, prompts)
            if lm.chat:
                prompt = [{"role": "user", "content": prompt}]
            requests.append(Request(None, prompt, max_tokens=len(item.completion) + 8))
            plan.append(item)
    with tqdm(total=len(requests), desc="suite", unit="problem", disable=not progress) as bar:
        completions = lm.complete(requests, progress=bar.update)
    records = []
    for item, request, c in zip(plan, requests, completions):
        said = reply_number(c.text)
        if c.text is None:
            status = "failed"
        elif said is None:
            status = "malformed"
        else:
            status = "right" if said == item.answer else "wrong"
        records.append(
            {
                "set": item.set,
                "index": item.index,
                "prompt": request.prompt,
                "truth": item.completion.strip(),
                "response": c.text,
                "extracted": None if said is None else str(said),
                "status": status,
                "error": c.error,
                "seconds": round(c.seconds, 4),
                "cached": c.cached,
            }
        )
    rows = []
    for name in sets:
        mine = [r for r in records if r["set"] == name]
        if not mine:
            continue
        count = {s: sum(r["status"] == s for r in mine) for s in ("right", "wrong", "malformed", "failed")}
        low, high = wilson(count["right"], len(mine))
        rows.append(
            {
                "set": name,
                "n": len(mine),
                "correct": count["right"],
                "exact_match": count["right"] / len(mine),
                "wilson_95": [round(low, 4), round(high, 4)],
                "wrong": count["wrong"],
                "malformed": count["malformed"],
                "failed": count["failed"],
                "shots": shots,
            }
        )
    return rows, records
