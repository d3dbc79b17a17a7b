"""Rotary position embeddings (Su et al. 2021), over sequence positions or over coupled digit ids.

`coupling-rope` rotates queries and keys by the digits' significance instead of their place in the sequence.
Attention then depends only on the difference in significance, so the pattern "look at the digits of equal and
next-lower significance" is the same at every length and needs no table of trained positions.
"""

import torch

from numerate.model.posenc.base import SCHEMES
from numerate.model.posenc.base import PositionalScheme, digit_run_index, random_offset


def rotate_half_pairs(t: torch.Tensor, pos: torch.Tensor, inv_freq: torch.Tensor) -> torch.Tensor:
    """Rotate (B, H, T, D) by angle pos * inv_freq; pairs are (i, i + D/2). pos is (B, T)."""
    angles = pos[:, None, :, None].to(inv_freq.dtype) * inv_freq  # (B, 1, T, D/2)
    cos, sin = angles.cos().to(t.dtype), angles.sin().to(t.dtype)
    t1, t2 = t.chunk(2, dim=-1)
    return torch.cat((t1 * cos - t2 * sin, t1 * sin + t2 * cos), dim=-1)


class _Rotary(PositionalScheme):
    settings = ("rope_base", "pos_offset_max", "pos_eval_offset")

    def __init__(self, cfg, digit_ids):
        super().__init__(cfg, digit_ids)
        head_dim = cfg.n_embd // cfg.n_head
        inv_freq = cfg.rope_base ** (-torch.arange(0, head_dim, 2, dtype=torch.float32) / head_dim)
        self.register_buffer("inv_freq", inv_freq, persistent=False)

    def rotate(self, t, pos):
        return rotate_half_pairs(t, pos, self.inv_freq)


@SCHEMES.register("rope", "rotary embeddings over sequence positions (Su et al. 2021)")
class RoPE(_Rotary):
    depends_on = frozenset({"sequence-offset"})

    def positions(self, idx, generator=None):
        return self.sequence_positions(idx, generator)


@SCHEMES.register("coupling-rope", "rotary embeddings over coupled ids: digits of equal significance share one")
class CouplingRoPE(_Rotary):
    depends_on = frozenset({"column-offset"})
    needs_column_layout = True

    def __init__(self, cfg, digit_ids):
        super().__init__(cfg, digit_ids)
        self.offset_max, self.eval_offset = cfg.pos_offset_max, cfg.pos_eval_offset

    def positions(self, idx, generator=None):
        offset = random_offset(self.offset_max, generator) if self.training else self.eval_offset
        return digit_run_index(idx, self.digit_ids) + offset
