"""Answers to any list of problems: batched greedy decoding, read back by the format and scored exactly."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from numerate.fieldview import answers_independent
from numerate.eval.page_decode import supports_page_decode
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
    ended: bool = True  # the model wrote <eos> after it

    @property
    def correct(self) -> bool:
        return as_tuple(self.value) == as_tuple(self.truth)


def written_exactly(fmt, a: Answer) -> bool:
    """The answer is the format's own writing of its value followed by <eos>: what a proof certifies. A value can
    be read back from a text that is not (an extra top zero, a missing end token); this says so."""
    return a.value is not None and a.ended and a.text == fmt.target(a.problem, a.value)


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
    if greedy_cached and decoder != "general" and supports_page_decode(model):
        windowed = None  # greedy_decode takes the line-at-a-time page decoder
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
                ended = tok.eos_id in row
                out[i] = Answer(problems[i], task.answer(problems[i]), text, fmt.parse(text), ended)
            bar.update(len(chunk))
    bar.close()
    return out


def answers_independent_cached(bundle) -> bool:
    key = "answers_independent"
    if key not in bundle.meta:
        bundle.meta[key] = answers_independent(bundle)
    return bundle.meta[key]
