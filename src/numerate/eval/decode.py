"""Batched greedy decoding, with or without a KV cache (the two give the same tokens)."""

from __future__ import annotations

import torch

from numerate.model.transformer import KVCache

PREFILL_CHUNK = 256  # prompt tokens per forward pass while filling the cache


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
) -> torch.Tensor:
    """Continue every row of `prompts` (B, Tp) — all of one length — for at most `max_new` tokens.

    With the cache, the prompt is read `prefill_chunk` tokens at a time, so attention memory grows with
    chunk x length rather than length squared. Returns the new tokens (B, <= max_new); a row that ended keeps
    emitting `eos_id`. With `temperature` > 0 tokens are sampled instead (from `generator`, on the CPU).
    """
    was_training = model.training
    model.eval()
    seq = prompts
    done = torch.zeros(prompts.shape[0], dtype=torch.bool, device=prompts.device)
    cache = KVCache(capacity=prompts.shape[1] + max_new) if use_cache else None
    pos = model.positions(seq)
    if use_cache:
        for start in range(0, seq.shape[1], prefill_chunk):
            part = slice(start, start + prefill_chunk)
            logits = model(seq[:, part], None if pos is None else pos[:, part], cache=cache, recurrences=recurrences)
    else:
        logits = model(seq, pos, recurrences=recurrences)
    for _ in range(max_new):
        if temperature > 0:
            probs = torch.softmax(logits[:, -1].float().cpu() / temperature, dim=-1)
            nxt = torch.multinomial(probs, 1, generator=generator)[:, 0].to(logits.device)
        else:
            nxt = logits[:, -1].argmax(-1)
        nxt = torch.where(done, torch.full_like(nxt, eos_id), nxt)
        seq = torch.cat((seq, nxt[:, None]), dim=1)
        done |= nxt == eos_id
        if bool(done.all()) or seq.shape[1] - prompts.shape[1] >= max_new:
            break
        pos = model.positions(seq)
        if use_cache:
            logits = model(nxt[:, None], None if pos is None else pos[:, -1:], cache=cache, recurrences=recurrences)
        else:
            logits = model(seq, pos, recurrences=recurrences)
    model.train(was_training)
    return seq[:, prompts.shape[1] :]
