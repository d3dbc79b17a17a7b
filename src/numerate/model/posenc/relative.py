"""Learned relative attention bias over coupled digit ids (T5-style buckets, position-coupling ids).

Every head learns one bias per id offset d = id(key) - id(query) in [-rel_clip, rel_clip]; larger offsets share
the two edge buckets. Addition needs only offsets 0 and +1 (digits of the same and the next significance), and
no offset ever seen at test time is new, so the attention pattern is the same for 10 digits and for 1000.
"""

import torch
from torch import nn

from numerate.model.posenc import SCHEMES
from numerate.model.posenc.base import PositionalScheme, digit_run_index, random_offset


@SCHEMES.register("coupling-relative", "learned per-head bias on the clipped offset between coupled digit ids")
class CouplingRelative(PositionalScheme):
    def __init__(self, cfg, digit_ids):
        super().__init__(cfg, digit_ids)
        self.clip = cfg.rel_clip
        self.offset_max, self.eval_offset = cfg.pos_offset_max, cfg.pos_eval_offset
        self.table = nn.Parameter(torch.zeros(cfg.n_head, 2 * cfg.rel_clip + 1))

    def positions(self, idx, generator=None):
        offset = random_offset(self.offset_max, generator) if self.training else self.eval_offset
        return digit_run_index(idx, self.digit_ids) + offset

    def bias(self, pos_q, pos_k):
        rel = (pos_k[:, None, :] - pos_q[:, :, None]).clamp(-self.clip, self.clip) + self.clip  # (B, Tq, Tk)
        return self.table[:, rel].transpose(0, 1)  # (B, H, Tq, Tk)


@SCHEMES.register("coupling-local", "coupling-relative, and keys more than rel_clip ids away are masked out")
class CouplingLocal(CouplingRelative):
    """Attention only within a window of coupled ids.

    A longer number then adds no new keys to any query's view: each answer digit sees the same handful of
    digits (its own significance and its neighbours) whether the operands have 10 digits or 1000, so nothing
    dilutes the attention as length grows.
    """

    def bias(self, pos_q, pos_k):
        rel = pos_k[:, None, :] - pos_q[:, :, None]  # (B, Tq, Tk)
        bias = super().bias(pos_q, pos_k)
        return bias.masked_fill((rel.abs() > self.clip)[:, None], float("-inf"))
