"""Learned absolute positions (GPT-2): a table indexed by sequence position."""

import torch
from torch import nn

from numerate.model.posenc.base import SCHEMES
from numerate.model.posenc.base import PositionalScheme


@SCHEMES.register("learned", "learned absolute position table over sequence positions (GPT-2)")
class LearnedAbsolute(PositionalScheme):
    settings = ("max_pos", "pos_random_max")
    depends_on = frozenset({"sequence-index"})

    def __init__(self, cfg, digit_ids):
        super().__init__(cfg, digit_ids)
        self.table_size = cfg.max_pos
        self.table = nn.Embedding(cfg.max_pos, cfg.n_embd)

    def positions(self, idx, generator=None):
        return self.sequence_positions(idx, generator)

    def embed(self, pos: torch.Tensor) -> torch.Tensor:
        return self.table(pos)
