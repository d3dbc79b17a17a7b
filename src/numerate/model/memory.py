"""Persistent state inside the network: a neural memory learned at test time, in the spirit of Titans.

Titans (Behrouz, Zhong and Mirrokni 2024) adds to attention a memory whose *weights* are written while the model
reads: each token is a training example (key -> value) for the memory, which takes one gradient step on the
associative loss ||M k - v||^2 with momentum ("surprise") and a forgetting gate. Here the memory is linear, one
D x D matrix per head, so the gradient is exact and cheap:

    S_t = eta_t S_t-1 - theta_t (M_t-1 k_t - v_t) k_t^T       momentum of the surprise
    M_t = (1 - alpha_t) M_t-1 + S_t                           forget a little, then learn
    read_t = M_t q_t

with theta_t (step size), eta_t (momentum) and alpha_t (forgetting) in (0, 1), computed per head from the token
(data-dependent, as in Titans). Keys and queries are L2-normalised, which keeps one step with theta <= 1 from
overshooting. The read joins the block through a learned sigmoid gate beside attention (Titans' memory-as-a-gate
variant): y = attention(x) + gate(x) * W_o read.

As in Titans' parallel training, the tokens are read in chunks of CHUNK, and every gradient in a chunk is taken
at the memory of the chunk's start; momentum and forgetting still act token by token, so the chunk unrolls to a
few matrix products (`_chunk`). Chunks start at fixed places (0, CHUNK, 2 CHUNK, ...), and the state of every
(recurrence, layer) slot, with the tokens of the unfinished chunk, travels in the decoding cache: cached decoding
gives the same tokens as reading the whole sequence again. The memory starts empty for every sequence.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from numerate.registry import Registry

MEMORIES: Registry = Registry("memory")
CHUNK = 16  # tokens whose gradients are taken at one memory (Titans' parallel form; 1 = a step per token)


@MEMORIES.register("titans", "a linear memory per head, written by a gradient step with momentum and forgetting")
class NeuralMemory(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        C, H = cfg.n_embd, cfg.n_head
        self.n_head = H
        self.qkv = nn.Linear(C, 3 * C)
        self.rates = nn.Linear(C, 3 * H)  # theta, eta, alpha per head, from the token
        self.out = nn.Linear(C, C)
        self.gate = nn.Linear(C, C)

    def reset_rates(self) -> None:
        """Start with a moderate step size, some momentum and little forgetting (called after the model's init)."""
        H = self.n_head
        nn.init.zeros_(self.rates.weight)
        with torch.no_grad():
            self.rates.bias.copy_(torch.cat([torch.full((H,), v) for v in (0.0, -1.0, -4.0)]))

    def forward(self, x: torch.Tensor, state: MemoryState | None) -> tuple[torch.Tensor, MemoryState]:
        """x (B, T, C), the tokens after those `state` has read -> (gated read (B, T, C), state after them)."""
        B, T, C = x.shape
        H = self.n_head
        D = C // H
        q, k, v = self.qkv(x).split(C, dim=2)
        q, k, v = (t.view(B, T, H, D).transpose(1, 2) for t in (q, k, v))  # (B, H, T, D)
        q, k = F.normalize(q, dim=-1), F.normalize(k, dim=-1)
        z_theta, z_eta, z_alpha = self.rates(x).view(B, T, 3, H).permute(2, 0, 3, 1)  # (B, H, T) each
        theta, log_eta, log_keep = torch.sigmoid(z_theta), F.logsigmoid(z_eta), F.logsigmoid(-z_alpha)
        new = (q, k, v, theta, log_eta, log_keep)
        if state is None:
            M = S = x.new_zeros(B, H, D, D)
            skip = 0
        else:  # the tokens of the unfinished chunk are read again, from the memory at the chunk's start
            M, S = state.M, state.S
            skip = state.pending[0].shape[2]
            new = tuple(torch.cat((a, b), dim=2) for a, b in zip(state.pending, new))
        reads = []
        n_all = new[0].shape[2]
        for c0 in range(0, n_all, CHUNK):
            part = tuple(t[:, :, c0 : c0 + CHUNK] for t in new)
            read, M_end, S_end = _chunk(M, S, *part)
            reads.append(read)
            if part[0].shape[2] == CHUNK:  # a full chunk: its end state is the next chunk's start
                M, S = M_end, S_end
        pending = tuple(t[:, :, n_all - n_all % CHUNK :] for t in new)
        read = torch.cat(reads, dim=2)[:, :, skip:]  # (B, H, T, D)
        read = read.transpose(1, 2).reshape(B, T, C)
        return torch.sigmoid(self.gate(x)) * self.out(read), MemoryState(M, S, pending)


class MemoryState(NamedTuple):
    """The memory at the start of the current chunk, and the tokens of that chunk read so far."""

    M: torch.Tensor  # (B, H, D, D)
    S: torch.Tensor  # (B, H, D, D) momentum
    pending: tuple  # (q, k, v, theta, log_eta, log_keep), each (B, H, n, ...), n < CHUNK


def _decays(log_rate: torch.Tensor) -> torch.Tensor:
    """(B, H, n, n) lower-triangular products prod_{j < l <= i} rate_l (1 on the diagonal)."""
    cum = log_rate.cumsum(-1)
    diff = cum[..., :, None] - cum[..., None, :]
    n = log_rate.shape[-1]
    lower = torch.ones(n, n, dtype=torch.bool, device=log_rate.device).tril()
    return torch.exp(diff.masked_fill(~lower, float("-inf")))


def _chunk(M0, S0, q, k, v, theta, log_eta, log_keep):
    """Reads and end state of one chunk of n tokens, every gradient taken at the chunk's start memory M0.

    With u_j = theta_j (M0 k_j - v_j) k_j^T, the recurrences S_i = eta_i S_i-1 - u_i, M_i = keep_i M_i-1 + S_i
    unroll to M_i = A_i M0 + Q_i S0 - sum_j C_ij u_j, with A_i = prod keep, G_ij = prod_{j<l<=i} eta_l,
    K_im = prod_{m<l<=i} keep_l, C = K G and Q = K P (P_m = prod_{l<=m} eta_l)."""
    G, K = _decays(log_eta), _decays(log_keep)
    P, A = log_eta.cumsum(-1).exp(), log_keep.cumsum(-1).exp()  # (B, H, n)
    Cm = K @ G
    Q = (K @ P[..., None])[..., 0]
    err = torch.einsum("bhij,bhtj->bhti", M0, k) - v  # (B, H, n, D)
    werr = theta[..., None] * err
    scores = Cm * (q @ k.transpose(-1, -2))  # (B, H, n_i, n_j): C_ij (k_j . q_i)
    read = (
        A[..., None] * torch.einsum("bhij,bhtj->bhti", M0, q)
        + Q[..., None] * torch.einsum("bhij,bhtj->bhti", S0, q)
        - scores @ werr
    )
    M_end = (
        A[..., -1, None, None] * M0 + Q[..., -1, None, None] * S0 - (Cm[..., -1, :, None] * werr).transpose(-1, -2) @ k
    )
    S_end = P[..., -1, None, None] * S0 - (G[..., -1, :, None] * werr).transpose(-1, -2) @ k
    return read, M_end, S_end


def build_memory(cfg) -> nn.Module | None:
    if cfg.memory == "none":
        return None
    return MEMORIES.get(cfg.memory)(cfg)
