"""Decoder-only transformer: pre-norm blocks, causal scaled-dot-product attention, optional looped layers.

Shape glossary: B batch, T new tokens this call, S keys (cached + new), C n_embd, H heads, D head size (C / H),
V vocabulary.

Looped mode (recurrences R > 1): the same block of n_layer layers runs R times with input injection,
h <- Block(h + e) with e the embedded input and h starting at zero. Training runs the first recurrences without
gradient and only the last few with it (truncated backpropagation); at test time any R may be used.

Two switches add persistent state: model.memory (a neural memory in every block, written while reading,
model/memory.py) and model.halting (a learned per-token halting rule for looped models, model/halting.py).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from numerate.model.halting import HALT_THRESHOLD, HaltingHead, stability_loss
from numerate.model.memory import build_memory
from numerate.model.posenc import build_scheme


class KVCache:
    """Keys and values of every (recurrence, layer) slot, plus the position ids of all cached tokens.

    Given a capacity, each slot's buffers are allocated once and filled in place, so appending a token costs no
    copy of the past (which would make decoding quadratic in length).
    """

    def __init__(self, capacity: int | None = None):
        self.capacity = capacity
        self.k: dict[int, torch.Tensor] = {}
        self.v: dict[int, torch.Tensor] = {}
        self.pos: torch.Tensor | None = None
        self.length = 0  # tokens cached so far
        self.memory: dict[int, tuple] = {}  # neural-memory state of every slot (model/memory.py)

    def append(self, slot: int, k: torch.Tensor, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Store k, v (B, H, T, D) after the cached tokens; return all keys and values so far."""
        start, end = self.length, self.length + k.shape[2]
        if self.capacity is None or end > self.capacity:
            if slot in self.k:
                k, v = (
                    torch.cat((self.k[slot][:, :, :start], k), dim=2),
                    torch.cat((self.v[slot][:, :, :start], v), dim=2),
                )
            self.k[slot], self.v[slot] = k, v
            return k, v
        if slot not in self.k:
            B, H, _, D = k.shape
            self.k[slot] = k.new_empty(B, H, self.capacity, D)
            self.v[slot] = v.new_empty(B, H, self.capacity, D)
        self.k[slot][:, :, start:end] = k
        self.v[slot][:, :, start:end] = v
        return self.k[slot][:, :, :end], self.v[slot][:, :, :end]


class WindowOverflow(RuntimeError):
    """More tokens in one column than the window cache was sized for (a model writing far off the format)."""


class WindowCache:
    """KV cache for schemes with a column window, in memory linear in length, read in constant time per query.

    Every token's keys and values are stored (preallocated to `capacity`); a table `slots` (B, columns,
    per_column) lists, per column, the places of the tokens in it. A query at column c reads only the tokens of
    columns c + lo .. c + hi that came before it — exactly the keys the scheme's mask leaves visible.
    """

    def __init__(self, window, batch: int, capacity: int, n_columns: int, per_column: int, device):
        self.lo, self.hi = window
        self.capacity, self.n_columns, self.per_column = capacity, n_columns, per_column
        self.k: dict[int, torch.Tensor] = {}
        self.v: dict[int, torch.Tensor] = {}
        self.pos: torch.Tensor | None = None  # (B, capacity, ...) position ids of cached tokens
        self.slots = torch.full((batch, n_columns, per_column), -1, dtype=torch.long, device=device)
        self.count = torch.zeros(batch, n_columns, dtype=torch.long, device=device)
        self.length = 0
        self.gathered = None  # (index, valid, pos_k) for the tokens of the current call
        self.memory: dict[int, tuple] = {}  # neural-memory state of every slot (model/memory.py)

    def register(self, pos: torch.Tensor, cols: torch.Tensor) -> None:
        """Add T new tokens (position ids `pos`, columns `cols` (B, T)) and work out which keys each reads."""
        B, T = cols.shape
        device = cols.device
        if self.pos is None:
            self.pos = pos.new_zeros((B, self.capacity) + tuple(pos.shape[2:]))
        start = self.length
        self.pos[:, start : start + T] = pos
        if int(cols.min()) < 0 or int(cols.max()) >= self.n_columns:
            raise WindowOverflow("a column id outside the cache's range")
        places = torch.arange(start, start + T, device=device).expand(B, T)
        if T == 1:
            rank = self.count[torch.arange(B, device=device), cols[:, 0]][:, None]
        else:  # rank of each new token among the new tokens of its column, then after those already there
            key = cols + self.n_columns * torch.arange(B, device=device)[:, None]
            flat = key.flatten()
            order = torch.sort(flat, stable=True).indices
            sorted_key = flat[order]
            first = torch.searchsorted(sorted_key, sorted_key, side="left")
            rank_sorted = torch.arange(flat.numel(), device=device) - first
            rank = torch.empty_like(flat).scatter_(0, order, rank_sorted).view(B, T)
            rank = rank + self.count.gather(1, cols)
        if int(rank.max()) >= self.per_column:
            raise WindowOverflow("more tokens in one column than the cache holds")
        b = torch.arange(B, device=device)[:, None].expand(B, T)
        self.slots[b, cols, rank] = places
        self.count.scatter_add_(1, cols, torch.ones_like(cols))
        # The keys of each new query: every slot of columns c + lo .. c + hi, valid if filled and not later.
        offsets = torch.arange(self.lo, self.hi + 1, device=device)
        want = cols[:, :, None] + offsets  # (B, T, W)
        inside = (want >= 0) & (want < self.n_columns)
        idx = self.slots[b[:, :, None], want.clamp(0, self.n_columns - 1)]  # (B, T, W, R)
        valid = inside[..., None] & (idx >= 0) & (idx <= places[:, :, None, None])
        idx, valid = idx.flatten(2), valid.flatten(2)  # (B, T, K)
        idx = idx.clamp(min=0)
        pos_k = self.pos[b[:, :, None], idx]  # (B, T, K, ...)
        self.gathered = (idx, valid, pos_k)

    def mark(self) -> tuple:
        """A point to come back to with `rewind` (keys stored after it are then overwritten)."""
        return self.length, self.slots.clone(), self.count.clone(), dict(self.memory)

    def rewind(self, mark: tuple) -> None:
        self.length, slots, count, memory = mark
        self.slots.copy_(slots)
        self.count.copy_(count)
        self.memory = dict(memory)  # states are replaced, never written in place, so the saved ones are intact

    def append(self, slot: int, k: torch.Tensor, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        start, end = self.length, self.length + k.shape[2]
        if slot not in self.k:
            B, H, _, D = k.shape
            self.k[slot] = k.new_zeros(B, H, self.capacity, D)
            self.v[slot] = v.new_zeros(B, H, self.capacity, D)
        self.k[slot][:, :, start:end] = k
        self.v[slot][:, :, start:end] = v
        return self.k[slot], self.v[slot]


WINDOW_BLOCK_ELEMENTS = 1 << 24  # gathered keys per attention block (x4 bytes), whatever the batch and window


def windowed_attention(q, k_all, v_all, idx, bias):
    """softmax(q k^T / sqrt(D) + bias) v over each query's own keys. q (B, H, T, D); k_all, v_all (B, H, S, D);
    idx (B, T, K) key places; bias (B, H, T, K) with -inf for absent keys."""
    B, H, T, D = q.shape
    K = idx.shape[2]
    chunk = max(1, WINDOW_BLOCK_ELEMENTS // (B * H * K * D))  # many operands put many keys in one column
    out = []
    for a in range(0, T, chunk):
        z = slice(a, a + chunk)
        flat = idx[:, z].reshape(B, 1, -1, 1)  # (B, 1, t*K, 1)
        t = flat.shape[2] // K
        kg = k_all.gather(2, flat.expand(B, H, t * K, D)).view(B, H, t, K, D)
        vg = v_all.gather(2, flat.expand(B, H, t * K, D)).view(B, H, t, K, D)
        scores = torch.einsum("bhtd,bhtkd->bhtk", q[:, :, z], kg) / math.sqrt(D) + bias[:, :, z]
        out.append(torch.einsum("bhtk,bhtkd->bhtd", scores.softmax(dim=-1), vg))
    return torch.cat(out, dim=2)


class Attention(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.n_head = cfg.n_head
        self.qkv = nn.Linear(cfg.n_embd, 3 * cfg.n_embd)
        self.proj = nn.Linear(cfg.n_embd, cfg.n_embd)

    def forward(self, x, pos, scheme, cache: KVCache | None, slot: int, mask):
        """mask: None for plain causal attention over x alone, else an additive (B|1, H|1, T, S) tensor."""
        B, T, C = x.shape
        q, k, v = self.qkv(x).split(C, dim=2)
        q, k, v = (t.view(B, T, self.n_head, C // self.n_head).transpose(1, 2) for t in (q, k, v))  # (B, H, T, D)
        if pos is not None:
            q, k = scheme.rotate(q, pos), scheme.rotate(k, pos)
        if cache is not None:
            k, v = cache.append(slot, k, v)  # (B, H, S, D)
        if isinstance(cache, WindowCache):
            y = windowed_attention(q, k, v, cache.gathered[0], mask)
        elif mask is None:
            y = F.scaled_dot_product_attention(q, k, v, is_causal=T > 1)
        else:
            y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        return self.proj(y.transpose(1, 2).reshape(B, T, C))


class Block(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.ln1 = nn.LayerNorm(cfg.n_embd)
        self.attn = Attention(cfg)
        self.memory = build_memory(cfg)
        self.ln2 = nn.LayerNorm(cfg.n_embd)
        self.mlp = nn.Sequential(
            nn.Linear(cfg.n_embd, cfg.mlp_ratio * cfg.n_embd),
            nn.GELU(),
            nn.Linear(cfg.mlp_ratio * cfg.n_embd, cfg.n_embd),
        )

    def forward(self, x, pos, scheme, cache, slot, mask):
        a = self.ln1(x)
        y = self.attn(a, pos, scheme, cache, slot, mask)
        if self.memory is not None:
            read, state = self.memory(a, None if cache is None else cache.memory.get(slot))
            if cache is not None:
                cache.memory[slot] = state
            y = y + read
        x = x + y
        return x + self.mlp(self.ln2(x))


class Transformer(nn.Module):
    def __init__(self, cfg, vocab_size: int, digit_ids: list[int], mark_ids: list[int] = ()):
        super().__init__()
        self.cfg = cfg
        self.wte = nn.Embedding(vocab_size, cfg.n_embd)
        self.scheme = build_scheme(cfg, digit_ids, mark_ids)
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.n_layer))
        self.ln_f = nn.LayerNorm(cfg.n_embd)
        self.head = nn.Linear(cfg.n_embd, vocab_size, bias=False)
        self.halting = HaltingHead(cfg) if cfg.halting else None
        self.aux_loss: torch.Tensor | None = None  # set by a training forward pass when the model adds a loss
        self.apply(self._init)
        if cfg.tie_embeddings:  # one matrix embeds tokens and reads them out (after init, so both start as it)
            self.head.weight = self.wte.weight
        for block in self.blocks:
            if block.memory is not None:
                block.memory.reset_rates()

    @property
    def reads_all_past(self) -> bool:
        """True when some part of the model (a neural memory) reads every earlier token, whatever the positional
        scheme's window: the windowed, parallel and page decoders, and the field-of-view proofs, do not apply."""
        return any(block.memory is not None for block in self.blocks)

    @staticmethod
    def _init(module):
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, std=0.02)
        if isinstance(module, nn.Linear) and module.bias is not None:
            nn.init.zeros_(module.bias)

    def default_recurrences(self) -> int:
        if self.training:
            return self.cfg.recurrences
        return self.cfg.test_recurrences or self.cfg.recurrences

    def forward(
        self,
        idx,
        pos=None,
        cache: KVCache | None = None,
        recurrences: int | None = None,
        grad_recurrences: int | None = None,
    ):
        """Logits (B, T, V) for tokens idx (B, T) at position ids pos (B, T) (None: the scheme uses none).

        With a cache, idx holds only the new tokens and pos their ids. `grad_recurrences` (training only) keeps
        gradients for just the last that many recurrences.
        """
        x = self.wte(idx)  # (B, T, C)
        if pos is not None:
            extra = self.scheme.embed(pos)
            if extra is not None:
                x = x + extra
        if isinstance(cache, WindowCache):
            cache.register(pos, self.scheme.columns(pos))
            mask = self.window_bias(pos, cache)
        else:
            pos_k = pos if cache is None or cache.pos is None or pos is None else torch.cat((cache.pos, pos), dim=1)
            mask = self.attention_mask(idx.shape[1], 0 if cache is None else cache.length, pos, pos_k, x.dtype)
        n_rec = recurrences or self.default_recurrences()
        n_grad = n_rec if grad_recurrences is None else min(grad_recurrences, n_rec)
        grad_on = torch.is_grad_enabled()
        h = torch.zeros_like(x)
        halting = self.halting is not None and n_rec > 1
        halted = torch.zeros(x.shape[:2], dtype=torch.bool, device=x.device) if halting and not self.training else None
        halt_logits, predictions = [], []
        for r in range(n_rec):
            with torch.set_grad_enabled(grad_on and r >= n_rec - n_grad):
                z = h + x  # input injection (for one recurrence simply the embedded input)
                for i, block in enumerate(self.blocks):
                    if i and self.cfg.input_injection:
                        z = z + x
                    z = block(z, pos, self.scheme, cache, r * len(self.blocks) + i, mask)
                h = z if halted is None else torch.where(halted[..., None], h, z)  # a halted token keeps its state
            if halted is not None:
                halted |= torch.sigmoid(self.halting(h)) > HALT_THRESHOLD
            elif halting:  # training: the halting head learns from a detached state, leaving the trunk alone
                with torch.set_grad_enabled(grad_on):
                    halt_logits.append(self.halting(h.detach()))
                with torch.no_grad():
                    predictions.append(self.head(self.ln_f(h.detach())).argmax(-1))
        self.aux_loss = stability_loss(halt_logits, predictions) if halt_logits else None
        if isinstance(cache, WindowCache):
            cache.length += idx.shape[1]
        elif cache is not None:
            cache.pos = pos_k
            cache.length += idx.shape[1]
        return self.head(self.ln_f(h))

    def attention_mask(self, T: int, past: int, pos_q, pos_k, dtype):
        """The additive mask shared by every layer and recurrence of one call, or None for plain causal.

        Query i sits at place past + i and may see keys 0..past + i; the scheme's bias, if any, is added.
        """
        bias = None if pos_q is None else self.scheme.bias(pos_q, pos_k)
        if bias is None and (past == 0 or T == 1):
            return None
        S = past + T
        device = self.wte.weight.device
        allowed = torch.ones(T, S, dtype=torch.bool, device=device).tril(past)
        mask = torch.zeros(T, S, dtype=dtype, device=device).masked_fill(~allowed, float("-inf"))
        return mask if bias is None else bias + mask

    def window_bias(self, pos, cache: WindowCache) -> torch.Tensor:
        """(B, H, T, K): the scheme's bias between each new query and its own gathered keys, -inf where absent."""
        idx, valid, pos_k = cache.gathered
        B, T, K = idx.shape
        q1 = pos.reshape((B * T, 1) + tuple(pos.shape[2:]))
        k1 = pos_k.reshape((B * T, K) + tuple(pos_k.shape[3:]))
        bias = self.scheme.bias(q1, k1)  # (B*T, H, 1, K)
        H = self.cfg.n_head
        bias = torch.zeros(B * T, H, 1, K, device=idx.device) if bias is None else bias.expand(B * T, H, 1, K)
        bias = bias.reshape(B, T, H, K).permute(0, 2, 1, 3)
        return bias.masked_fill(~valid[:, None], float("-inf"))

    def positions(self, idx, generator=None):
        return self.scheme.positions(idx, generator)

    def num_params(self) -> int:
        return sum(p.numel() for p in self.parameters())
