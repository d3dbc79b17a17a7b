"""The logits of many fields at once, computing each distinct token state only once.

After t attention steps a token's state depends only on the tokens that reach it in t hops (its own smaller
field). Across the cases of one class most of those smaller fields repeat: in the addition field
{a_j, a_j+1, a_j+2, b_j, b_j+1, s_j} the first-layer state of a_j takes 10 values and that of b_j 1,000, while
only the query's last step differs in every case. So each step computes each token's distinct states once, and
a state's keys and values are gathered from the distinct states of the step before.

This is the same real-valued function as `Transformer.forward` on the field (tests compare the two on every case of
several classes and architectures); it differs only in the order of float32 operations, which the rounding bound
covers.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def _unique_rows(x: torch.Tensor, base: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(first index of each distinct row, inverse (N,) mapping each row to its distinct row); entries < base."""
    if x.shape[1] * math.log2(max(base, 2)) < 62:  # each row as one integer: a 1-D unique is far faster
        codes = (x * base ** torch.arange(x.shape[1], dtype=torch.long)).sum(1)
        _, inverse = torch.unique(codes, return_inverse=True)
    else:
        _, inverse = torch.unique(x, dim=0, return_inverse=True)
    n = int(inverse.max()) + 1 if len(inverse) else 0
    first = torch.full((n,), len(x), dtype=torch.long).scatter_reduce(0, inverse, torch.arange(len(x)), reduce="amin")
    return first, inverse


class _Table:
    """Distinct states of one slot after some step: values (U, C) and, per case, which row is its state."""

    def __init__(self, values: torch.Tensor, inverse: torch.Tensor):
        self.values, self.inverse = values, inverse


@torch.no_grad()
def field_logits(model, ids: torch.Tensor, pos: torch.Tensor, states: list[int] | None = None) -> torch.Tensor:
    """Logits (N, V) at the last token of each field ids (N, F) whose tokens have position ids pos (F, ...).

    `states`, if given, gets the token states computed at each layer added in (index 0: embeddings): the cost
    model a certificate reports, against N * F per layer for feeding every case whole."""
    cfg = model.cfg
    N, Fn = ids.shape
    device = model.wte.weight.device
    dtype = model.wte.weight.dtype
    bias = model.scheme.bias(pos[None], pos[None])  # (1, H, F, F), -inf outside the window
    causal = torch.ones(Fn, Fn, dtype=torch.bool, device=device).tril()
    if bias is None:
        bias = torch.zeros(1, cfg.n_head, Fn, Fn, dtype=dtype, device=device)
    bias = bias[0].to(dtype)
    visible = causal & torch.isfinite(bias).all(0)
    keys = [torch.nonzero(visible[k]).flatten().tolist() for k in range(Fn)]
    depth = cfg.n_layer * (cfg.test_recurrences or cfg.recurrences)
    # reach[t][k]: slots whose tokens the state of k after t steps depends on
    reach = [[[k] for k in range(Fn)]]
    for _ in range(depth):
        prev = reach[-1]
        reach.append([sorted(set().union(*(prev[j] for j in keys[k]))) for k in range(Fn)])
    # hops[k]: steps from k to the query; slot k is needed after step t if hops[k] <= depth - t
    hops = [math.inf] * Fn
    hops[Fn - 1] = 0
    for k in range(Fn - 1, -1, -1):
        for j in keys[k]:
            hops[j] = min(hops[j], hops[k] + 1)
    ids_cpu = ids.cpu()
    base = int(ids_cpu.max()) + 1 if ids_cpu.numel() else 1
    distinct: dict[tuple, tuple] = {}

    def unique(slots: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
        """Distinct contents of these slots over the cases (first case of each, inverse), on the device."""
        key = tuple(slots)
        if key not in distinct:
            first, inverse = _unique_rows(ids_cpu[:, slots], base)
            distinct[key] = (first.to(device), inverse.to(device))
        return distinct[key]

    extra = model.scheme.embed(pos[None])
    embed = [None] * Fn  # (N, C) embedding of each slot's token in each case, computed per distinct token

    def embedding(k: int) -> torch.Tensor:
        if embed[k] is None:
            e = model.wte.weight[ids[:, k]]
            embed[k] = e + extra[0, k] if extra is not None else e
        return embed[k]

    tables: list[_Table | None] = [None] * Fn
    for k in range(Fn):
        if hops[k] <= depth:
            first, inverse = unique([k])
            tables[k] = _Table(embedding(k)[first], inverse)
    if states is not None:
        _count(states, 0, tables)
    for t in range(1, depth + 1):
        r, i = divmod(t - 1, cfg.n_layer)
        block = model.blocks[i]
        inputs: dict[int, tuple] = {}  # slot -> (its block input z, q, k, v) per distinct state after t - 1

        def prepare(j: int):
            if j not in inputs:
                tab = tables[j]
                z = tab.values
                rows = unique(reach[t - 1][j])[0]
                x = embedding(j)[rows]
                if i == 0 and r > 0:
                    z = z + x  # a new recurrence: h + x (input injection)
                elif i > 0 and cfg.input_injection:
                    z = z + x
                qkv = block.attn.qkv(block.ln1(z))
                inputs[j] = (z, *qkv.split(cfg.n_embd, dim=-1))
            return inputs[j]

        new: list[_Table | None] = [None] * Fn
        for k in range(Fn):
            if hops[k] > depth - t:
                continue
            first, inverse = unique(reach[t][k])
            z = prepare(k)[0][tables[k].inverse[first]]
            q = prepare(k)[1][tables[k].inverse[first]]
            ks = torch.stack([prepare(j)[2][tables[j].inverse[first]] for j in keys[k]], dim=1)  # (U, K, C)
            vs = torch.stack([prepare(j)[3][tables[j].inverse[first]] for j in keys[k]], dim=1)
            U, K, C = ks.shape
            H = cfg.n_head
            D = C // H
            qh = q.view(U, H, 1, D)
            kh = ks.view(U, K, H, D).transpose(1, 2)  # (U, H, K, D)
            vh = vs.view(U, K, H, D).transpose(1, 2)
            scores = (qh @ kh.transpose(-1, -2))[:, :, 0] / math.sqrt(D) + bias[:, k, keys[k]]  # (U, H, K)
            y = (F.softmax(scores, dim=-1)[:, :, None] @ vh)[:, :, 0].reshape(U, C)
            z = z + block.attn.proj(y)
            z = z + block.mlp(block.ln2(z))
            new[k] = _Table(z, inverse)
        tables = new
        if states is not None:
            _count(states, t, tables)
    last = tables[Fn - 1]
    logits = model.head(model.ln_f(last.values))
    return logits[last.inverse]


def _count(states: list[int], layer: int, tables: list) -> None:
    while len(states) <= layer:
        states.append(0)
    states[layer] += sum(len(t.values) for t in tables if t is not None)
