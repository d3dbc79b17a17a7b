"""Latent thought by recurrent depth: a looped block with a learned halting rule, per token.

A looped model (model.recurrences > 1) refines a latent state h <- Block(h + e) for a fixed number of
recurrences, or, in the lab's `looped` mode, until its *answer* stops changing, a rule written by hand. Here the
model learns when to stop: a halting head reads each token's state after every recurrence and predicts whether
one more recurrence would still change that token's prediction. While training, its target is exactly that
(the prediction after this recurrence equals the prediction after the last one, a label that needs no answer
key), learned by binary cross-entropy beside the usual loss. At test time a token halts at the first recurrence
whose halting probability passes 1/2, or at the cap (model.test_recurrences, default the training depth); a
halted token's state is frozen, so its keys and values for the later recurrences are computed from that frozen
state and cached decoding still gives the same tokens as a full forward pass.

This is the adaptive-computation idea (Graves 2016, PonderNet, the recurrent-depth models of Geiping et al.
2025) in its simplest form: the latent state is the only thing carried between recurrences, and the halting rule
is learned from the model's own agreement with its deeper self.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

HALT_THRESHOLD = 0.5


class HaltingHead(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.norm = nn.LayerNorm(cfg.n_embd)
        self.score = nn.Linear(cfg.n_embd, 1)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        """Halting logit per token, (B, T)."""
        return self.score(self.norm(h))[..., 0]


def stability_loss(halt_logits: list[torch.Tensor], predictions: list[torch.Tensor]) -> torch.Tensor:
    """Binary cross-entropy of each recurrence's halting logit against 'this recurrence already predicts what the
    last one does'. halt_logits, predictions: one (B, T) tensor per recurrence, the last one's included."""
    final = predictions[-1]
    logits = torch.stack(halt_logits)
    target = torch.stack([(p == final).float() for p in predictions])
    return F.binary_cross_entropy_with_logits(logits, target)
