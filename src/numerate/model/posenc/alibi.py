"""ALiBi (Press et al. 2022): a fixed per-head linear penalty on the distance between query and key."""

import torch

from numerate.model.posenc.base import SCHEMES
from numerate.model.posenc.base import PositionalScheme


def alibi_slopes(n_head: int) -> torch.Tensor:
    """Geometric slopes 2^(-8/H), 2^(-16/H), ... (the paper's choice for a power-of-two number of heads)."""
    return torch.tensor([2 ** (-8 * (h + 1) / n_head) for h in range(n_head)])


@SCHEMES.register("alibi", "fixed per-head linear distance penalty on attention (Press et al. 2022)")
class ALiBi(PositionalScheme):
    depends_on = frozenset({"sequence-offset"})

    def __init__(self, cfg, digit_ids):
        super().__init__(cfg, digit_ids)
        self.register_buffer("slopes", alibi_slopes(cfg.n_head), persistent=False)

    def positions(self, idx, generator=None):
        return self.sequence_positions(idx, generator)

    def bias(self, pos_q, pos_k):
        distance = (pos_q[:, :, None] - pos_k[:, None, :]).abs().float()  # (B, Tq, Tk)
        return -self.slopes[None, :, None, None] * distance[:, None]  # (B, H, Tq, Tk)
