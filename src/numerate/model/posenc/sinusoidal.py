"""Fixed sinusoidal positions (Vaswani et al. 2017), added to the token embeddings."""

import math

import torch

from numerate.model.posenc.base import SCHEMES
from numerate.model.posenc.base import PositionalScheme


def sinusoid(pos: torch.Tensor, dim: int) -> torch.Tensor:
    """(B, T) positions -> (B, T, dim): sin on even channels, cos on odd, wavelengths 2π … 10000·2π."""
    freq = torch.exp(torch.arange(0, dim, 2, device=pos.device, dtype=torch.float32) * (-math.log(10000.0) / dim))
    angles = pos[..., None].float() * freq  # (B, T, dim/2)
    out = torch.empty(*pos.shape, dim, device=pos.device)
    out[..., 0::2], out[..., 1::2] = angles.sin(), angles.cos()
    return out


@SCHEMES.register("sinusoidal", "fixed sin/cos of the sequence position added to embeddings (Vaswani et al. 2017)")
class Sinusoidal(PositionalScheme):
    depends_on = frozenset({"sequence-index"})

    def __init__(self, cfg, digit_ids):
        super().__init__(cfg, digit_ids)
        self.dim = cfg.n_embd

    def positions(self, idx, generator=None):
        return self.sequence_positions(idx, generator)

    def embed(self, pos):
        return sinusoid(pos, self.dim)
