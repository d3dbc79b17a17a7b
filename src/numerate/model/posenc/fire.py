"""FIRE (Li et al. 2024): a learned per-head attention bias on progressively interpolated relative distance.

b(i, j) = MLP(ψ(i − j) / ψ(max(L, i))), ψ(x) = log(|c·x| + 1), with c (init 0.1) and L (init 512) learned and
the MLP 1 → 32 → heads. Dividing by ψ(i) maps every distance into [0, 1] whatever the sequence length, which
is what lets it extrapolate.
"""

import torch
from torch import nn

from numerate.model.posenc.base import SCHEMES
from numerate.model.posenc.base import PositionalScheme


@SCHEMES.register("fire", "learned MLP bias on log-scaled relative distance, normalized by the query position")
class FIRE(PositionalScheme):
    depends_on = frozenset({"sequence-index", "sequence-offset"})  # normalized by the query's place

    def __init__(self, cfg, digit_ids, hidden: int = 32):
        super().__init__(cfg, digit_ids)
        self.mlp = nn.Sequential(nn.Linear(1, hidden), nn.ReLU(), nn.Linear(hidden, cfg.n_head))
        self.c = nn.Parameter(torch.tensor(0.1))
        self.L = nn.Parameter(torch.tensor(512.0))

    def positions(self, idx, generator=None):
        return self.sequence_positions(idx, generator)

    def psi(self, x: torch.Tensor) -> torch.Tensor:
        return torch.log(torch.abs(self.c * x) + 1)

    def bias(self, pos_q, pos_k):
        rel = (pos_q[:, :, None] - pos_k[:, None, :]).float()  # (B, Tq, Tk), >= 0 for visible keys
        scale = self.psi(torch.maximum(self.L.abs(), pos_q.float()))[:, :, None]  # (B, Tq, 1)
        b = self.mlp((self.psi(rel) / scale)[..., None])  # (B, Tq, Tk, H)
        return b.permute(0, 3, 1, 2)
