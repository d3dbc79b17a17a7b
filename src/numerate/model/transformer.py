"""Decoder-only transformer: pre-norm blocks, causal scaled-dot-product attention, optional looped layers.

Shape glossary: B batch, T new tokens this call, S keys (cached + new), C n_embd, H heads, D head size (C / H),
V vocabulary.

Looped mode (recurrences R > 1): the same block of n_layer layers runs R times with input injection,
h <- Block(h + e) with e the embedded input and h starting at zero. Training runs the first recurrences without
gradient and only the last few with it (truncated backpropagation); at test time any R may be used.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

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
        if mask is None:
            y = F.scaled_dot_product_attention(q, k, v, is_causal=T > 1)
        else:
            y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        return self.proj(y.transpose(1, 2).reshape(B, T, C))


class Block(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.ln1 = nn.LayerNorm(cfg.n_embd)
        self.attn = Attention(cfg)
        self.ln2 = nn.LayerNorm(cfg.n_embd)
        self.mlp = nn.Sequential(
            nn.Linear(cfg.n_embd, cfg.mlp_ratio * cfg.n_embd),
            nn.GELU(),
            nn.Linear(cfg.mlp_ratio * cfg.n_embd, cfg.n_embd),
        )

    def forward(self, x, pos, scheme, cache, slot, mask):
        x = x + self.attn(self.ln1(x), pos, scheme, cache, slot, mask)
        return x + self.mlp(self.ln2(x))


class Transformer(nn.Module):
    def __init__(self, cfg, vocab_size: int, digit_ids: list[int]):
        super().__init__()
        self.cfg = cfg
        self.wte = nn.Embedding(vocab_size, cfg.n_embd)
        self.scheme = build_scheme(cfg, digit_ids)
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.n_layer))
        self.ln_f = nn.LayerNorm(cfg.n_embd)
        self.head = nn.Linear(cfg.n_embd, vocab_size, bias=False)
        self.apply(self._init)

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
        pos_k = pos if cache is None or cache.pos is None or pos is None else torch.cat((cache.pos, pos), dim=1)
        mask = self.attention_mask(idx.shape[1], 0 if cache is None else cache.length, pos, pos_k, x.dtype)
        n_rec = recurrences or self.default_recurrences()
        n_grad = n_rec if grad_recurrences is None else min(grad_recurrences, n_rec)
        grad_on = torch.is_grad_enabled()
        h = torch.zeros_like(x)
        for r in range(n_rec):
            with torch.set_grad_enabled(grad_on and r >= n_rec - n_grad):
                z = h + x  # input injection (for one recurrence simply the embedded input)
                for i, block in enumerate(self.blocks):
                    if i and self.cfg.input_injection:
                        z = z + x
                    z = block(z, pos, self.scheme, cache, r * len(self.blocks) + i, mask)
                h = z
        if cache is not None:
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

    def positions(self, idx, generator=None):
        return self.scheme.positions(idx, generator)

    def num_params(self) -> int:
        return sum(p.numel() for p in self.parameters())
