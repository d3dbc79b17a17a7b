"""Combinations of positional schemes, named with '+': `abacus+fire`, `abacus+rope`, `coupling+alibi`, ...

Each part numbers the tokens its own way; the ids are stacked on a last axis and every hook of every part
sees only its own ids: embeddings and biases add up, rotations apply one after the other.
"""

from __future__ import annotations

import torch
from torch import nn

from numerate.model.posenc.base import PositionalScheme


class Combined(PositionalScheme):
    def __init__(self, cfg, digit_ids, parts: list[PositionalScheme]):
        super().__init__(cfg, digit_ids)
        self.parts = nn.ModuleList(parts)
        bounded = [p.table_size for p in parts if p.table_size is not None]
        self.table_size = min(bounded) if bounded else None  # bounded if any part is; `fits` asks each part
        self.widths = [self._width(p, digit_ids) for p in parts]  # ids per token of each part (0: none)
        self.depends_on = frozenset().union(*(p.depends_on for p in parts))
        self.needs_column_layout = any(p.needs_column_layout for p in parts)
        windows = [p.window for p in parts if p.window is not None]  # a key masked by any part is masked
        if windows:
            self.window = (max(w[0] for w in windows), min(w[1] for w in windows))

    @staticmethod
    def _width(part, digit_ids) -> int:
        part.eval()  # no random offsets, so probing draws nothing from any generator
        pos = part.positions(torch.tensor([[digit_ids[0]]]))
        part.train()
        return 0 if pos is None else (pos.shape[-1] if pos.dim() == 3 else 1)

    def positions(self, idx, generator=None):
        columns = []
        for part, width in zip(self.parts, self.widths):
            if width:
                pos = part.positions(idx, generator)
                columns.append(pos if pos.dim() == 3 else pos[..., None])
        return torch.cat(columns, dim=-1) if columns else None

    def _split(self, pos):
        at = 0
        for part, width in zip(self.parts, self.widths):
            if width == 0:
                yield part, None
            else:
                piece = pos[..., at : at + width]
                yield part, piece[..., 0] if width == 1 else piece
            at += width

    def embed(self, pos):
        vectors = [part.embed(p) for part, p in self._split(pos) if p is not None]
        vectors = [v for v in vectors if v is not None]
        return sum(vectors) if vectors else None

    def rotate(self, t, pos):
        for part, p in self._split(pos):
            if p is not None:
                t = part.rotate(t, p)
        return t

    def bias(self, pos_q, pos_k):
        biases = [part.bias(q, k) for (part, q), (_, k) in zip(self._split(pos_q), self._split(pos_k)) if q is not None]
        biases = [b for b in biases if b is not None]
        return sum(biases) if biases else None

    def fits(self, pos):
        return pos is None or all(part.fits(p) for part, p in self._split(pos))
