"""Learned relative attention bias over coupled digit ids (T5-style buckets, position-coupling ids).

Every head learns one bias per id offset d = id(key) - id(query) in [-rel_clip, rel_clip]; larger offsets share
the two edge buckets. Addition needs only offsets 0 and +1 (digits of the same and the next significance), and
no offset ever seen at test time is new, so the attention pattern is the same for 10 digits and for 1000.
"""

import torch
from torch import nn

from numerate.model.posenc.base import SCHEMES
from numerate.model.posenc.base import PositionalScheme, digit_run_index, random_offset


@SCHEMES.register("coupling-relative", "learned per-head bias on the clipped offset between coupled digit ids")
class CouplingRelative(PositionalScheme):
    settings = ("rel_clip", "pos_offset_max", "pos_eval_offset")
    depends_on = frozenset({"column-offset"})
    needs_column_layout = True

    def __init__(self, cfg, digit_ids):
        super().__init__(cfg, digit_ids)
        self.lo, self.hi = self.bias_range(cfg)
        self.offset_max, self.eval_offset = cfg.pos_offset_max, cfg.pos_eval_offset
        self.table = nn.Parameter(torch.zeros(cfg.n_head, self.hi - self.lo + 1))

    @staticmethod
    def bias_range(cfg) -> tuple[int, int]:
        return -cfg.rel_clip, cfg.rel_clip

    def positions(self, idx, generator=None):
        offset = random_offset(self.offset_max, generator) if self.training else self.eval_offset
        return digit_run_index(idx, self.digit_ids) + offset

    def columns(self, pos):
        return pos

    def next_positions(self, last_pos, last_tok, new_tok):
        is_digit, was_digit = torch.isin(new_tok, self.digit_ids), torch.isin(last_tok, self.digit_ids)
        offset = self.eval_offset
        run = torch.where(was_digit, last_pos - offset + 1, torch.ones_like(last_pos))
        return torch.where(is_digit, run, torch.zeros_like(last_pos)) + offset

    def bias(self, pos_q, pos_k):
        rel = (pos_k[:, None, :] - pos_q[:, :, None]).clamp(self.lo, self.hi) - self.lo  # (B, Tq, Tk)
        return self.table[:, rel].transpose(0, 1)  # (B, H, Tq, Tk)


@SCHEMES.register(
    "coupling-local", "coupling-relative, and keys outside a window of ids (model.col_window) are masked out"
)
class CouplingLocal(CouplingRelative):
    """Attention only within a window of coupled ids: [-rel_clip, rel_clip] by default, or `model.col_window`.

    A longer number then adds no new keys to any query's view: each answer digit sees the same handful of
    digits (its own significance and its neighbours) whether the operands have 10 digits or 1000, so nothing
    dilutes the attention as length grows. A one-sided window such as [0, 1] also bounds what a query can
    depend on through any number of layers, which is what makes `numerate verify` possible.
    """

    settings = CouplingRelative.settings + ("col_window",)

    def __init__(self, cfg, digit_ids):
        super().__init__(cfg, digit_ids)
        self.window = (self.lo, self.hi)

    @staticmethod
    def bias_range(cfg) -> tuple[int, int]:
        return tuple(cfg.col_window) if cfg.col_window else (-cfg.rel_clip, cfg.rel_clip)

    def bias(self, pos_q, pos_k):
        rel = pos_k[:, None, :] - pos_q[:, :, None]  # (B, Tq, Tk)
        bias = super().bias(pos_q, pos_k)
        return bias.masked_fill(((rel < self.lo) | (rel > self.hi))[:, None], float("-inf"))
