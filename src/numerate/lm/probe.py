"""One probe: the same cells, problems and exact scoring as `evaluate()`, put to any language model as text.

For each cell (sampler, lengths) the test problems are eval's (`cell_problems`: fixed by seed, sampler and
lengths), so a numerate model probed here scores what `numerate eval` reports. Each problem becomes a Request
(prompt in the chosen representation, with k worked examples), the model's reply is read strictly
(`prompts.extract`) and every problem gets one record: its prompt, the raw reply and one status —

    right      the reply is the exact answer
    wrong      a number in the right representation, but not the answer
    malformed  a reply that is not exactly one number in the representation (prose, another format, empty)
    failed     no reply at all (HTTP error after retries, timeout, malformed response body)

Exact match counts only `right` over every problem of the cell; malformed and failed are reported beside it.
"""

from __future__ import annotations

from dataclasses import dataclass

from numerate.bigint import to_str
from numerate.errors import UsageError
from numerate.lm.base import Completion, LanguageModel
from numerate.lm.prompts import answer_text, extract, requests_for, shot_problems
from numerate.lm.representations import REPRESENTATIONS


@dataclass
class ProbeSettings:
    samples: int = 20
    seed: int = 1234
    representation: str = "plain"
    shots: int = 0
    max_tokens: int | None = None  # None: the rendered right answer's length + 8 (tokens are at least a character)


def check_probe(lm: LanguageModel, task, settings: ProbeSettings) -> None:
    from numerate.tasks.iterative import IterativeTask

    REPRESENTATIONS.get(settings.representation)
    if isinstance(task, IterativeTask):
        raise UsageError(f"probe asks arithmetic questions; for '{task.name}' use `numerate iterate` with an LM")
    if not lm.reads_text and (settings.representation != "plain" or settings.shots):
        raise UsageError(
            f"{lm.name} is a numerate model: it reads its own trained format, so --representation and --shots do "
            "not apply (leave them at plain and 0)"
        )
    if settings.shots < 0 or settings.samples < 1:
        raise UsageError("--shots must be >= 0 and --samples >= 1")


def run_probe(lm: LanguageModel, task, cells, settings: ProbeSettings, progress: bool = False):
    """(rows, records): one row per cell as `evaluate()` writes them (plus malformed/failed counts), one record
    per problem."""
    from tqdm.auto import tqdm

    from numerate.eval.evaluate import cell_problems

    check_probe(lm, task, settings)
    rep = REPRESENTATIONS.get(settings.representation)
    plan, requests = [], []
    for sampler, cell in cells:
        problems = cell_problems(task, sampler, cell, settings.samples, settings.seed)
        shots = shot_problems(task, sampler, cell, settings.shots, settings.seed) if settings.shots else []
        batch = requests_for(task, problems, rep, shots, lm.chat)
        for r in batch:
            r.max_tokens = settings.max_tokens or len(answer_text(task, r.problem, rep)) + 8
        plan.append((sampler, cell, len(batch)))
        requests.extend(batch)
    with tqdm(total=len(requests), desc="probe", unit="problem", disable=not progress) as bar:
        completions = lm.complete(requests, progress=bar.update)
    rows, records, at = [], [], 0
    for sampler, cell, n in plan:
        mine = [score(task, rep, r, c) for r, c in zip(requests[at : at + n], completions[at : at + n])]
        at += n
        rows.append(summarize_cell(task, sampler, cell, mine))
        for rec in mine:
            rec.update(sampler=sampler, **dict(zip(task.cell_dims, cell)))
        records.extend(mine)
    return rows, records


def score(task, rep, request, completion: Completion) -> dict:
    truth = task.answer(request.problem)
    value = extract(completion.text, rep)
    if completion.text is None:
        status = "failed"
    elif value is None:
        status = "malformed"
    else:
        status = "right" if value == truth else "wrong"
    rec = {
        "operands": [to_str(x) for x in request.problem.operands],
        "truth": to_str(truth),
        "prompt": request.prompt,
        "response": completion.text,
        "extracted": None if value is None else to_str(value),
        "status": status,
        "error": completion.error,
        "seconds": round(completion.seconds, 4),
        "cached": completion.cached,
        "attempts": completion.attempts,
    }
    if completion.seen is not None:
        rec["seen"] = completion.seen
    return rec


def summarize_cell(task, sampler: str, cell, records: list[dict]) -> dict:
    from numerate.bigint import from_str
    from numerate.eval.answer import Answer
    from numerate.eval.evaluate import wrong_digit_tenths

    n = len(records)
    count = {s: sum(r["status"] == s for r in records) for s in ("right", "wrong", "malformed", "failed")}
    said = [None if r["extracted"] is None else from_str(r["extracted"]) for r in records]
    answers = [Answer(None, from_str(r["truth"]), "", v) for r, v in zip(records, said)]
    return {
        "sampler": sampler,
        **dict(zip(task.cell_dims, cell)),
        "n": n,
        "correct": count["right"],
        "exact_match": count["right"] / n,
        "wrong": count["wrong"],
        "malformed": count["malformed"],
        "failed": count["failed"],
        "wrong_digit_tenths": wrong_digit_tenths(answers),
    }


def failure_summary(records: list[dict]) -> list[tuple[str, int]]:
    """The most common reasons for failed requests, with counts."""
    from collections import Counter

    return Counter(r["error"] for r in records if r["status"] == "failed").most_common(3)
