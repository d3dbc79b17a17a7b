"""Which decoder writes a batch, decided here and nowhere else.

Four decoders write the same greedy tokens at different costs (tests/test_decoders.py runs each against the
general one on shipped models and mutants):

- ``page``: a one-layer page model a line at a time (eval/page_decode.py), linear in the page;
- ``parallel``: every answer digit at once, for models whose answer digits see no earlier answer digit
  (eval/decode.py, `parallel_greedy_decode`), fastest for a few long rows;
- ``windowed``: token by token from a cache indexed by column, linear in length, for schemes with a column window;
- ``general``: token by token over the whole past (KV cache or none); any model, any sampling.

Each declares what it needs: what the model's positional scheme declares (a window, a page layout), whether the
answer digits are independent, and what the request is (greedy, with the cache, how many rows). `plan` lists the
decoders that apply, fastest first. A decoder may decline a row it finds off the format it assumes (a page that
the scheme lays out elsewhere than the page decoder reads it, a column crowded past the window cache, digits that
leave the parallel table); the next decoder in the plan writes that row, so every row gets greedy decoding's
tokens whichever decoder wrote it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch

from numerate.errors import UsageError
from numerate.eval.decode import (
    PREFILL_CHUNK,
    general_greedy_decode,
    parallel_greedy_decode,
    supports_windowed,
    windowed_greedy_decode,
)
from numerate.eval.page_decode import page_rows, supports_page_decode
from numerate.model.transformer import WindowOverflow

# The parallel decoder does ten passes over every row; the windowed one a step per digit whose fixed cost a batch
# shares. Measured (bench/long.py, 2 CPU threads): parallel is 10x faster for one long problem, 3x slower for 256
# rows at once, so "auto" takes it only for batches up to this many rows.
PARALLEL_MAX_ROWS = 8


@dataclass
class Options:
    """What a batch asks of its decoder."""

    use_cache: bool = True
    recurrences: int | None = None
    prefill_chunk: int = PREFILL_CHUNK
    temperature: float = 0.0
    generator: torch.Generator | None = None
    progress: bool = False
    digit_ids: tuple[int, ...] = ()  # the parallel decoder writes digits only
    independent: Callable[[], bool] | None = None  # whether answer digits see no earlier answer digit (lazy)

    @property
    def greedy_cached(self) -> bool:
        return self.temperature == 0 and self.use_cache


@dataclass(frozen=True)
class Decoder:
    name: str
    summary: str
    supports: Callable  # (model, rows, options, named) -> bool
    decode: Callable  # (model, prompts, max_new, eos_id, options) -> list[list[int] | None], None: declined
    linear_memory: bool  # memory linear in length (batches are sized by tokens, not attention matrices)


def _page_supports(model, rows, o: Options, named: bool) -> bool:
    return o.greedy_cached and o.recurrences in (None, 1) and supports_page_decode(model)


def _parallel_supports(model, rows, o: Options, named: bool) -> bool:
    return (
        o.greedy_cached
        and bool(o.digit_ids)
        and supports_windowed(model)
        and (named or rows <= PARALLEL_MAX_ROWS)
        and o.independent is not None
        and o.independent()
    )


def _windowed_supports(model, rows, o: Options, named: bool) -> bool:
    return o.greedy_cached and supports_windowed(model)


def _page(model, prompts, max_new, eos_id, o: Options):
    return page_rows(model, prompts, max_new, eos_id, progress=o.progress)


def _parallel(model, prompts, max_new, eos_id, o: Options):
    return parallel_greedy_decode(model, prompts, max_new - 1, list(o.digit_ids), eos_id, recurrences=o.recurrences)


def _windowed(model, prompts, max_new, eos_id, o: Options):
    try:
        out = windowed_greedy_decode(model, prompts, max_new, eos_id, o.recurrences, progress=o.progress)
    except WindowOverflow:  # a model far off the format crowded one column past the cache
        return [None] * len(prompts)
    return out.tolist()


def _general(model, prompts, max_new, eos_id, o: Options):
    out = general_greedy_decode(
        model,
        prompts,
        max_new,
        eos_id,
        use_cache=o.use_cache,
        recurrences=o.recurrences,
        prefill_chunk=o.prefill_chunk,
        temperature=o.temperature,
        generator=o.generator,
        progress=o.progress,
    )
    return out.tolist()


DECODERS = {
    d.name: d
    for d in (
        Decoder("page", "a page model a line at a time", _page_supports, _page, True),
        Decoder("parallel", "every answer digit at once", _parallel_supports, _parallel, True),
        Decoder("windowed", "token by token from a column-indexed cache", _windowed_supports, _windowed, True),
        Decoder("general", "token by token over the whole past", lambda *a: True, _general, False),
    )
}
CHOICES = ("auto", *DECODERS)


def plan(model, rows: int, options: Options, wanted: str = "auto") -> list[Decoder]:
    """The decoders that apply to this batch, fastest first; with `wanted`, that one first (UsageError when it
    does not apply), then those that take the rows it declines."""
    if wanted not in CHOICES:
        raise UsageError(f"decoder must be one of {', '.join(CHOICES)}, got {wanted!r}")
    chain = [d for d in DECODERS.values() if d.supports(model, rows, options, d.name == wanted)]
    if wanted == "auto":
        return chain
    names = [d.name for d in chain]
    if wanted not in names:
        raise UsageError(
            f"the {wanted} decoder does not apply to this model or request ({DECODERS[wanted].summary}); "
            f"these do: {', '.join(names)}"
        )
    return chain[names.index(wanted) :]


@torch.no_grad()
def decode_rows(model, prompts: torch.Tensor, max_new: int, eos_id: int, options: Options, chain: list[Decoder]):
    """Each prompt row's new tokens (a list, ending in <eos> where the model ended within `max_new`), written by
    the first decoder of `chain` that does not decline the row."""
    out: list[list[int] | None] = [None] * len(prompts)
    todo = list(range(len(prompts)))
    for decoder in chain:
        if not todo:
            break
        rows = decoder.decode(model, prompts[todo], max_new, eos_id, options)
        for i, row in zip(todo, rows):
            out[i] = row
        todo = [i for i in todo if out[i] is None]
    return out


@torch.no_grad()
def greedy_decode(
    model,
    prompts: torch.Tensor,
    max_new: int,
    eos_id: int,
    use_cache: bool = True,
    recurrences: int | None = None,
    prefill_chunk: int = PREFILL_CHUNK,
    temperature: float = 0.0,
    generator: torch.Generator | None = None,
    decoder: str = "auto",
    progress: bool = False,
) -> torch.Tensor:
    """Continue every row of `prompts` (B, Tp) — all of one length — for at most `max_new` tokens, with the
    decoder `plan` picks (or the one named). Returns the new tokens (B, <= max_new): a row that ended is padded
    with `eos_id`; one that did not end within `max_new` tokens (a page cut where it provably never ends) is
    padded with 0 (<pad>). With `temperature` > 0 tokens are sampled instead (from `generator`, on the CPU)."""
    options = Options(use_cache, recurrences, prefill_chunk, temperature, generator, progress)
    rows = decode_rows(model, prompts, max_new, eos_id, options, plan(model, len(prompts), options, decoder))
    width = max(1, max(len(r) for r in rows))
    out = torch.full((len(rows), width), eos_id, dtype=torch.long, device=prompts.device)
    for i, r in enumerate(rows):
        out[i, : len(r)] = torch.tensor(r, dtype=torch.long)
        if eos_id not in r:
            out[i, len(r) :] = 0
    return out
