"""One evaluate(): exact match of greedy answers over cells of (sampler, operand lengths)."""

from __future__ import annotations

import random
from dataclasses import dataclass

import torch

from numerate.bigint import to_str
from numerate.eval.decode import PREFILL_CHUNK, greedy_decode, parallel_greedy_decode, supports_windowed
from numerate.tasks.base import as_tuple


ATTENTION_BUDGET = 1 << 27  # elements (512 MB in float32) for one batch's attention matrices
DECODERS = ("auto", "parallel", "windowed", "general")
WINDOW_TOKEN_BUDGET = 1 << 19
# The parallel decoder does ten passes over every row; the windowed one a step per digit whose fixed cost a batch
# shares. Measured (bench/long.py, 2 CPU threads): parallel is 10x faster for one long problem, 3x slower for 256
# rows at once, so "auto" takes it only for batches up to this many rows.
PARALLEL_MAX_ROWS = 8  # tokens in one batch of windowed decoding (activations linear in it)


@dataclass
class Answer:
    problem: object
    truth: int
    text: str  # what the model wrote, in the format's digit order
    value: int | None  # parsed, or None if unparseable

    @property
    def correct(self) -> bool:
        return as_tuple(self.value) == as_tuple(self.truth)


def answer_problems(
    bundle,
    problems,
    batch_size: int = 256,
    use_cache: bool = True,
    recurrences: int | None = None,
    device=None,
    temperature: float = 0.0,
    generator: torch.Generator | None = None,
    decoder: str = "auto",
    progress: bool = False,
) -> list[Answer]:
    """Greedy (or, with a temperature, sampled) answers for any list of problems: grouped by prompt length,
    batched, returned in input order.

    `decoder`: "auto" takes the fastest exact path the model allows — "parallel" (answers_independent models, for
    batches of at most PARALLEL_MAX_ROWS rows), else "windowed" (a column window), else "general"; naming one
    forces it where the model allows it.
    """
    if decoder not in DECODERS:
        raise ValueError(f"decoder must be one of {', '.join(DECODERS)}, got {decoder!r}")
    model, tok, fmt, task = bundle.model, bundle.tok, bundle.fmt, bundle.task
    device = device or next(model.parameters()).device
    encoded = [tok.encode(fmt.prompt(p)) for p in problems]
    by_len: dict[int, list[int]] = {}
    for i, ids in enumerate(encoded):
        by_len.setdefault(len(ids), []).append(i)
    greedy_cached = use_cache and temperature == 0
    windowed = greedy_cached and supports_windowed(model) and decoder != "general"
    parallel = windowed and decoder in ("auto", "parallel") and answers_independent_cached(bundle)
    out: list[Answer | None] = [None] * len(problems)
    from tqdm.auto import tqdm

    bar = tqdm(total=len(problems), disable=not progress, unit="problem", desc="decoding", dynamic_ncols=True)
    for length, idxs in sorted(by_len.items()):
        total = length + max(fmt.max_target_len(problems[i]) for i in idxs) + 1
        if windowed:  # memory linear in length: bound the tokens of one batch
            rows = max(1, min(batch_size, WINDOW_TOKEN_BUDGET // total))
        else:  # attention scores or biases are (B, H, chunk, T) while reading the prompt: keep them bounded
            queries = min(length, PREFILL_CHUNK) if use_cache else total
            rows = max(1, min(batch_size, ATTENTION_BUDGET // (model.cfg.n_head * queries * total)))
        for start in range(0, len(idxs), rows):
            chunk = idxs[start : start + rows]
            prompts = torch.tensor([encoded[i] for i in chunk], device=device)
            max_new = max(fmt.max_target_len(problems[i]) for i in chunk) + 1
            rows_out = [None] * len(chunk)
            if parallel and (decoder == "parallel" or len(chunk) <= PARALLEL_MAX_ROWS):
                rows_out = parallel_greedy_decode(
                    model, prompts, max_new - 1, tok.digit_ids, tok.eos_id, recurrences=recurrences
                )
            todo = [k for k, r in enumerate(rows_out) if r is None]
            if todo:
                new = greedy_decode(
                    model,
                    prompts[todo],
                    max_new,
                    tok.eos_id,
                    use_cache=use_cache,
                    recurrences=recurrences,
                    temperature=temperature,
                    generator=generator,
                    windowed=windowed,
                    progress=progress,
                )
                for k, row in zip(todo, new.tolist()):
                    rows_out[k] = row
            for row, i in zip(rows_out, chunk):
                text = tok.decode(row)
                out[i] = Answer(problems[i], task.answer(problems[i]), text, fmt.parse(text))
            bar.update(len(chunk))
    bar.close()
    return out


def answers_independent_cached(bundle) -> bool:
    key = "answers_independent"
    if key not in bundle.meta:
        from numerate.verify.field import answers_independent

        bundle.meta[key] = answers_independent(bundle)
    return bundle.meta[key]


def wrong_digit_tenths(answers: list[Answer]) -> list[int]:
    """Where in the number the wrong digits sit: counts per tenth of the answer's length, least significant first.

    Digit i of an n-digit true answer (i = 0 least significant) falls in tenth floor(10 i / n); a missing or extra
    digit counts as wrong at its place. Unparseable answers are not counted.
    """
    tenths = [0] * 10
    for a in answers:
        if a.value is None or a.correct or isinstance(a.truth, tuple) or isinstance(a.value, tuple):
            continue
        truth, said = to_str(a.truth)[::-1], to_str(a.value)[::-1]
        n = len(truth)
        for i in range(max(n, len(said))):
            if i >= n or i >= len(said) or truth[i] != said[i]:
                tenths[min(9, 10 * i // n)] += 1
    return tenths


def cell_problems(task, sampler: str, lengths: tuple[int, ...], samples: int, seed: int):
    """The test problems of one cell: fixed by (seed, sampler, lengths), independent of everything else."""
    rng = random.Random(f"eval/{seed}/{sampler}/{'x'.join(map(str, lengths))}")
    return [task.sample(rng, sampler, lengths) for _ in range(samples)]


def evaluate(
    bundle,
    cells,
    samples: int = 100,
    seed: int = 1234,
    batch_size: int = 512,
    use_cache: bool = True,
    recurrences: int | str | None = None,
    progress: bool = False,
):
    """Exact match for each cell (sampler, lengths). Returns (rows, mistakes).

    A row: {"sampler", "len_a", "len_b", "n", "correct", "exact_match"}; cells the model cannot represent get
    "exact_match": None and a "note". All cells are decoded together, grouped by prompt length, so a grid costs
    little more than its longest row. `mistakes` holds up to three wrong answers per cell.

    recurrences="auto" (looped models) raises the depth from the training depth up to 4x it until each answer
    stops changing, and records the mean depth used per cell as "recurrences".
    """
    from numerate.capacity import fits

    rows, pending = [], []
    for sampler, lengths in cells:
        problems = cell_problems(bundle.task, sampler, lengths, samples, seed)
        row = {"sampler": sampler, "len_a": lengths[0], "len_b": lengths[-1], "n": len(problems)}
        longest = max(problems, key=lambda p: len(bundle.fmt.prompt(p)))
        if not fits(bundle, longest):
            row.update(correct=None, exact_match=None, note="longer than the model can represent")
        else:
            pending.append((row, problems))
        rows.append(row)
    flat = [p for _, problems in pending for p in problems]
    depths = None
    if recurrences == "auto":
        from numerate.eval.adaptive import answer_until_stable

        trained = bundle.cfg.model.recurrences
        answers, depths = answer_until_stable(
            bundle, flat, r_min=trained, r_max=4 * trained, batch_size=batch_size, use_cache=use_cache
        )
    else:
        answers = answer_problems(bundle, flat, batch_size, use_cache, recurrences, progress=progress)
    mistakes, at = [], 0
    for row, problems in pending:
        mine, at = answers[at : at + len(problems)], at + len(problems)
        correct = sum(a.correct for a in mine)
        row.update(correct=correct, exact_match=correct / len(mine), wrong_digit_tenths=wrong_digit_tenths(mine))
        if depths is not None:
            row["recurrences"] = sum(depths[at - len(problems) : at]) / len(problems)
        mistakes.extend([a for a in mine if not a.correct][:3])
    return rows, mistakes


def describe_mistake(bundle, a: Answer) -> str:
    expr = bundle.task.symbol.join(map(to_str, a.problem.operands))
    said = (
        to_str(a.value) if isinstance(a.value, int) else a.value if a.value is not None else f"unparseable {a.text!r}"
    )
    truth = to_str(a.truth) if isinstance(a.truth, int) else a.truth
    return f"model says {expr} = {said}, truth {truth}"


def split_accuracy(bundle, lengths: tuple[int, int], samples: int, seed: int, batch_size: int = 256) -> float:
    """Exact match on problems whose operand lengths are drawn independently from [lo, hi]."""
    rng = random.Random(f"split/{seed}/{lengths[0]}-{lengths[1]}")
    problems = [bundle.task.sample_range(rng, *lengths) for _ in range(samples)]
    answers = answer_problems(bundle, problems, batch_size)
    return sum(a.correct for a in answers) / len(answers)
