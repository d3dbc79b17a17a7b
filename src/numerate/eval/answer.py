"""Answers to any list of problems: batched greedy decoding, read back by the format and scored exactly."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from numerate.eval.decode import PREFILL_CHUNK
from numerate.fieldview import answers_independent
from numerate.tasks.base import as_tuple

ATTENTION_BUDGET = 1 << 27  # elements (512 MB in float32) for one batch's attention matrices
WINDOW_TOKEN_BUDGET = 1 << 19  # tokens in one batch of a decoder whose memory is linear in length


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
    return a.value is not None and a.ended and fmt.writes(a.problem, a.value, a.text)


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

    `decoder`: "auto" takes the fastest decoder that applies to the model and the batch (eval/decoders.py decides,
    and says why one named here does not apply); naming one makes it go first.
    """
    from numerate.eval.decoders import Options, decode_rows, plan

    model, tok, fmt, task = bundle.model, bundle.tok, bundle.fmt, bundle.task
    device = device or next(model.parameters()).device
    encoded = [tok.encode(fmt.prompt(p)) for p in problems]
    by_len: dict[int, list[int]] = {}
    for i, ids in enumerate(encoded):
        by_len.setdefault(len(ids), []).append(i)
    options = Options(
        use_cache=use_cache,
        recurrences=recurrences,
        temperature=temperature,
        generator=generator,
        progress=progress,
        digit_ids=tuple(tok.digit_ids),
        independent=lambda: answers_independent_cached(bundle),
    )
    out: list[Answer | None] = [None] * len(problems)
    from tqdm.auto import tqdm

    bar = tqdm(total=len(problems), disable=not progress, unit="problem", desc="decoding", dynamic_ncols=True)
    for length, idxs in sorted(by_len.items()):
        total = length + max(fmt.max_target_len(problems[i]) for i in idxs) + 1
        if plan(model, batch_size, options, decoder)[0].linear_memory:  # bound the tokens of one batch
            rows = max(1, min(batch_size, WINDOW_TOKEN_BUDGET // total))
        else:  # attention scores or biases are (B, H, chunk, T) while reading the prompt: keep them bounded
            queries = min(length, PREFILL_CHUNK) if use_cache else total
            rows = max(1, min(batch_size, ATTENTION_BUDGET // (model.cfg.n_head * queries * total)))
        for start in range(0, len(idxs), rows):
            chunk = idxs[start : start + rows]
            prompts = torch.tensor([encoded[i] for i in chunk], device=device)
            max_new = max(fmt.max_target_len(problems[i]) for i in chunk) + 1
            written = decode_rows(
                model, prompts, max_new, tok.eos_id, options, plan(model, len(chunk), options, decoder)
            )
            for row, i in zip(written, chunk):
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
