"""Batched greedy decoding token by token: over the whole past (with or without a KV cache: the same tokens), in
linear time for schemes with a column window, and every answer digit at once where answer digits are independent.

Models whose positional scheme declares a column window decode in linear time: each query reads only the keys
its window allows from a cache indexed by column (model/transformer.py, WindowCache), and position ids are
computed one token at a time. eval/decoders.py says which decoder writes a batch.
"""

from __future__ import annotations

import torch

from numerate.model.posenc.base import PositionalScheme
from numerate.model.transformer import KVCache, WindowCache

PREFILL_CHUNK = 256  # prompt tokens per forward pass while filling the cache
LONG_ANSWER = 2000  # answers at least this many tokens long get a token progress bar (when progress is on)


def _token_bar(max_new: int, progress: bool):
    from tqdm.auto import tqdm

    return tqdm(total=max_new, disable=not progress or max_new < LONG_ANSWER, unit="token", desc="answer", leave=False)


@torch.no_grad()
def general_greedy_decode(
    model,
    prompts: torch.Tensor,
    max_new: int,
    eos_id: int,
    use_cache: bool = True,
    recurrences: int | None = None,
    prefill_chunk: int = PREFILL_CHUNK,
    temperature: float = 0.0,
    generator: torch.Generator | None = None,
    progress: bool = False,
) -> torch.Tensor:
    """Continue every row of `prompts` (B, Tp) — all of one length — for at most `max_new` tokens, reading the
    whole past: any model, greedy or sampled (eval/decoders.py picks the decoder; this one takes anything).

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
    bar = _token_bar(max_new, progress)
    for _ in range(max_new):
        bar.update(1)
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
    bar.close()
    model.train(was_training)
    return seq[:, prompts.shape[1] :]


def supports_windowed(model) -> bool:
    scheme = model.scheme
    if getattr(
        model, "reads_all_past", False
    ):  # a neural memory sees past the window: the general path reads everything
        return False
    return scheme.window is not None and type(scheme).next_positions is not PositionalScheme.next_positions


def _window_cache(scheme, cols: torch.Tensor, capacity: int, n_columns: int, lines: int = 1) -> WindowCache:
    """A cache sized for these rows: room for every column, and for `lines` + 1 more tokens per column than the
    most crowded one holds now (an answer adds one per column, a page one per line; a model writing off the
    format overflows and falls back)."""
    per_column = int(max(torch.bincount(row, minlength=n_columns).max() for row in cols)) + lines + 1
    return WindowCache(scheme.window, cols.shape[0], capacity, n_columns, per_column, cols.device)


@torch.no_grad()
def windowed_greedy_decode(
    model, prompts: torch.Tensor, max_new: int, eos_id: int, recurrences=None, progress: bool = False
):
    """Greedy decoding in time and memory linear in length, for schemes with a column window."""
    was_training = model.training
    model.eval()
    scheme = model.scheme
    B, Tp = prompts.shape
    device = prompts.device
    pos = model.positions(prompts)
    cols = scheme.columns(pos)
    lines = 1
    if getattr(scheme, "row_window", None) is not None:  # a page: every line adds a token to each of its columns
        lines = max_new // max(1, int(cols.max()) + 1) + 2
    cache = _window_cache(scheme, cols, Tp + max_new, max(int(cols.max()), int(cols.min()) + max_new) + 2, lines)
    bar = _token_bar(max_new, progress)
    try:
        logits = model(prompts, pos, cache=cache, recurrences=recurrences)
        last_pos, last_tok = pos[:, -1], prompts[:, -1]
        out = torch.full((B, max_new), eos_id, dtype=torch.long, device=device)
        done = torch.zeros(B, dtype=torch.bool, device=device)
        n = 0
        while n < max_new:
            nxt = torch.where(done, torch.full_like(last_tok, eos_id), logits[:, -1].argmax(-1))
            out[:, n] = nxt
            n += 1
            bar.update(1)
            done |= nxt == eos_id
            if n == max_new or bool(done.all()):
                break
            new_pos = scheme.next_positions(last_pos, last_tok, nxt)
            logits = model(nxt[:, None], new_pos[:, None], cache=cache, recurrences=recurrences)
            last_pos, last_tok = new_pos, nxt
    finally:
        bar.close()
        model.train(was_training)
    return out[:, :n]


@torch.no_grad()
def parallel_greedy_decode(model, prompts: torch.Tensor, n_digits: int, digit_ids, eos_id: int, recurrences=None):
    """Greedy decoding of an answer of (at most) `n_digits` digits then the end token, all digits at once.

    For models where the logits at each answer token depend on no other answer token (its field, see
    verify/field.py, holds no earlier answer digit: true for a [0, 1] column window), the token after answer digit
    j is a function f_j of that digit's value alone. One forward pass with every answer digit set to v gives
    f_j(v) for every j at once; ten passes give the whole table, and the greedy answer is the composition
    s_0 = first, s_j+1 = f_j(s_j) — exact, and independent of how far carries run. Rows whose composition leaves
    the digits (a model writing off the format) get None and are decoded sequentially by the caller.
    Returns a list of token lists (with the end token), or None per row.
    """
    was_training = model.training
    model.eval()
    scheme = model.scheme
    B, Tp = prompts.shape
    device = prompts.device
    total = Tp + n_digits
    digits = torch.tensor(digit_ids, device=device)
    seq = torch.cat((prompts, digits[0].expand(B, n_digits)), dim=1)
    pos = model.positions(seq)
    cols = scheme.columns(pos)
    cache = _window_cache(scheme, cols, total, int(cols.max()) + 2)
    try:
        logits = model(prompts, pos[:, :Tp], cache=cache, recurrences=recurrences)
        first = logits[:, -1].argmax(-1)  # (B,)
        mark = cache.mark()
        table = torch.empty(len(digit_ids), B, n_digits, dtype=torch.long, device=device)
        for i, d in enumerate(digit_ids):
            cache.rewind(mark)
            seq[:, Tp:] = d
            pos = model.positions(seq)
            table[i] = model(seq[:, Tp:], pos[:, Tp:], cache=cache, recurrences=recurrences).argmax(-1)
    finally:
        model.train(was_training)
    index = {d: i for i, d in enumerate(digit_ids)}
    table = table.permute(1, 2, 0).tolist()  # [row][j][digit index]
    out = []
    for b, tok in enumerate(first.tolist()):
        row = [tok]
        for j in range(n_digits):
            if tok not in index:
                break
            tok = table[b][j][index[tok]]
            row.append(tok)
        out.append(row if row[-1] == eos_id and all(t in index for t in row[:-1]) else None)
    return out
