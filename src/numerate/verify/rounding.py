"""A bound on how far any float32 evaluation of the model can land from the exact logits.

The proof checks each case once, but `solve` computes the same query with other kernels (the windowed or the
parallel decoder, SDPA on another device), other batch shapes and other summation orders. Rather than assume those
differences are small, every case gets a bound on them, computed by *adjoint forward error analysis*:

1. Each operation of the forward pass (a matrix product, an addition, a layer norm, GELU, a score product, the
   softmax, the weighted sum of values) is run in float64 and given its *local* rounding bound b_k: how far a
   float32 evaluation of that one operation can land from its exact value on the same inputs, elementwise, under
   the floating-point model below (ROUNDING_MODEL, recorded in every certificate).
2. A float32 evaluation is the exact computation with an error e_k, |e_k| <= b_k, added after each operation.
   To first order in the unit roundoff u, logit j then moves by sum_k (d logit_j / d e_k) e_k, so the
   right token's lead over token j moves by at most  sum_k |d(l_right - l_j)/d e_k| * b_k : one backward pass
   per logit gives every such bound at once.
3. A case is *certified* when, for every wrong token j, the float64 lead over j exceeds that bound times
   FIRST_ORDER_SLACK (covering the neglected terms, each a product of two or more rounding errors, so of order
   u^2).

The floating-point model:

- each float32 operation is IEEE round-to-nearest, or a fused multiply-add (unit roundoff u = 2^-24);
- sums and dot products may be accumulated in any order and any blocking: fl(sum of n terms) is within
  gamma(n) * sum |terms| of the exact sum, gamma(n) = n u / (1 - n u) (Higham, Accuracy and Stability of
  Numerical Algorithms, 3.1); terms that are exactly zero (masked keys, exp(-inf) = 0) add no rounding;
- exp, erf and the reciprocal square root are within TRANSCENDENTAL_ULPS units in the last place;
- layer norm's variance may be computed by any one- or two-pass or Welford scheme (bounded via the mean square).

So the verdict no longer rests on "reordering moves a logit by less than half the margin": it holds for every
decoder, device and batch shape that meets this model, up to terms of order u^2. (A fully rigorous interval
version of the same rules — midpoint and radius through every operation — was tried first: through two layer
norms of small variance and absolute weight sums it overestimates so fast that on models/add-proof the radius
passes 1e+38 in the second layer; the adjoint form keeps the signs of the sensitivities and stays near 1e-4.)
`logit_bounds` mirrors `numerate.model.transformer.Transformer.forward` operation by operation; tests check that
its midpoints equal a float64 forward pass and that float32 passes through every decoder stay inside its bounds.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

U32 = 2.0**-24
U64 = 2.0**-53
TRANSCENDENTAL_ULPS = 4
SAFETY = 1.0
FIRST_ORDER_SLACK = 2.0

ROUNDING_MODEL = {
    "arithmetic": "float32 (unit roundoff 2^-24) with round-to-nearest or fused multiply-add; no TF32, no half "
    "precision",
    "reductions": "any order and blocking; gamma(n) = n u / (1 - n u) per sum of n non-zero terms",
    "transcendental_ulps": TRANSCENDENTAL_ULPS,
    "safety_factor_on_rounding_terms": SAFETY,
    "layer_norm_variance": "any one-pass, two-pass or Welford scheme (bounded via the mean square)",
    "midpoint": "float64; its own rounding is bounded by the same rules with u = 2^-53 and added to the bound",
    "analysis": "first-order adjoint forward error bound, times a slack of 2 for the neglected O(u^2) terms",
}

U = SAFETY * (U32 + U64)  # one rounding, float32 evaluation and float64 midpoint together, with the safety factor
ULP_T = SAFETY * TRANSCENDENTAL_ULPS * (U32 + U64)


def gamma(n) -> float | torch.Tensor:
    return n * U / (1 - n * U)


class _Tape:
    """Collects each operation's local rounding bound and a zero tensor whose gradient is the sensitivity."""

    def __init__(self):
        self.errors: list[torch.Tensor] = []
        self.bounds: list[torch.Tensor] = []

    def round(self, value: torch.Tensor, bound: torch.Tensor) -> torch.Tensor:
        e = torch.zeros_like(value, requires_grad=True)
        self.errors.append(e)
        self.bounds.append(bound.detach())
        return value + e


def _linear(tape, x, weight, bias):
    w = weight.double()
    y = x @ w.T
    mag = x.detach().abs() @ w.abs().T
    if bias is not None:
        y = y + bias.double()
        mag = mag + bias.double().abs()
    return tape.round(y, gamma(w.shape[1] + 1) * mag)


def _add(tape, a, b):
    y = a + b
    return tape.round(y, U * y.detach().abs())


def _layer_norm(tape, x, ln):
    n = x.shape[-1]
    g, beta = ln.weight.double(), ln.bias.double()
    mu = x.mean(-1, keepdim=True)
    c = x - mu
    var = (c * c).mean(-1, keepdim=True)
    sigma = (var + ln.eps).sqrt()
    z = c / sigma
    y = z * g + beta
    with torch.no_grad():  # rounding of the mean, the centring, the variance, rsqrt, the scale and the shift
        xa, ca, za = x.abs(), c.abs(), z.abs()
        e_mu = gamma(n + 1) * xa.mean(-1, keepdim=True)
        e_c = e_mu + U * (ca + e_mu)
        e_var = gamma(2 * n + 8) * (xa * xa).mean(-1, keepdim=True) + 2 * e_mu * ca.mean(-1, keepdim=True)
        rel_sigma = 0.5 * (e_var + e_mu * e_mu) / (var + ln.eps) + ULP_T + 2 * U
        e_z = e_c / sigma + za * rel_sigma
        bound = g.abs() * e_z + 2 * U * (g.abs() * za + beta.abs())
    return tape.round(y, bound)


def _gelu(tape, x):
    return tape.round(F.gelu(x), (ULP_T + 6 * U) * x.detach().abs())


def _attention(tape, x, attn, bias, visible, n_head):
    """bias: (B, H, T, T) float64 with -inf where the causal mask or the window hides a key; visible its
    finite entries."""
    B, T, C = x.shape
    D = C // n_head
    qkv = _linear(tape, x, attn.qkv.weight, attn.qkv.bias)
    q, k, v = qkv.view(B, T, 3, n_head, D).permute(2, 0, 3, 1, 4)  # (B, H, T, D) each
    scale = 1 / math.sqrt(D)
    s = (q @ k.transpose(-1, -2)) * scale + bias
    with torch.no_grad():
        s_fin = s.masked_fill(~visible, 0.0)
        b_s = gamma(D + 4) * (q.abs() @ k.abs().transpose(-1, -2)) * scale + 2 * U * s_fin.abs()
    s = tape.round(s, b_s.masked_fill(~visible, 0.0))
    p = torch.softmax(s, dim=-1)
    with torch.no_grad():  # exp of the shifted scores, their sum, the division, rescaling in online kernels
        K = visible.sum(-1, keepdim=True).double()
        shift = (s_fin - s.amax(-1, keepdim=True)).abs().masked_fill(~visible, 0.0)
        rel = 2 * ULP_T + 2 * K * (ULP_T + 2 * U) + 8 * U + gamma(K) + 2 * U * shift.amax(-1, keepdim=True)
    p = tape.round(p, p.detach() * torch.expm1(rel))
    y = p @ v
    y = tape.round(y, gamma(K + 1) * (p.detach() @ v.detach().abs()))
    return _linear(tape, y.transpose(1, 2).reshape(B, T, C), attn.proj.weight, attn.proj.bias)


def _block(tape, z, block, bias, visible, n_head):
    z = _add(tape, z, _attention(tape, _layer_norm(tape, z, block.ln1), block.attn, bias, visible, n_head))
    h = _linear(tape, _layer_norm(tape, z, block.ln2), block.mlp[0].weight, block.mlp[0].bias)
    h = _linear(tape, _gelu(tape, h), block.mlp[2].weight, block.mlp[2].bias)
    return _add(tape, z, h)


def _forward(tape, model, idx, pos):
    """The float64 logits (B, T, V), every operation's rounding recorded on `tape` (Transformer.forward)."""
    cfg = model.cfg
    x = model.wte.weight.double()[idx]
    extra = model.scheme.embed(pos)
    if extra is not None:
        x = _add(tape, x, extra.double())
    T = idx.shape[1]
    bias = model.scheme.bias(pos, pos)
    causal = torch.ones(T, T, dtype=torch.bool, device=idx.device).tril()
    bias = torch.zeros(1, 1, T, T, dtype=torch.float64, device=idx.device) if bias is None else bias.double()
    bias = bias.masked_fill(~causal, float("-inf")).expand(idx.shape[0], cfg.n_head, T, T)
    visible = torch.isfinite(bias)
    n_rec = cfg.test_recurrences or cfg.recurrences
    h = None
    for _ in range(n_rec):
        z = x if h is None else _add(tape, h, x)  # h starts at zero: 0 + x is exact
        for i, block in enumerate(model.blocks):
            if i and cfg.input_injection:
                z = _add(tape, z, x)
            z = _block(tape, z, block, bias, visible, cfg.n_head)
        h = z
    return _linear(tape, _layer_norm(tape, h, model.ln_f), model.head.weight, None)


def logit_bounds(model, idx: torch.Tensor, pos: torch.Tensor, q: int, truth: torch.Tensor):
    """At query place q of tokens idx (B, T) with position ids pos and right next tokens truth (B,):
    (float64 logits (B, V), bound (B, V)) where bound[:, j] bounds, to first order, how far the right token's
    lead over token j can move in any float32 evaluation (0 for j = truth)."""
    model = model.eval()
    tape = _Tape()
    with torch.enable_grad():
        logits = _forward(tape, model, idx, pos)[:, q]  # (B, V)
        B, V = logits.shape
        eye = torch.eye(V, dtype=logits.dtype, device=logits.device)[:, None, :].expand(V, B, V)
        grads = torch.autograd.grad(logits, tape.errors, grad_outputs=eye, is_grads_batched=True, allow_unused=True)
    bound = torch.zeros(V, B, dtype=torch.float64, device=idx.device)
    rows = torch.arange(B, device=idx.device)
    for g, b in zip(grads, tape.bounds):
        if g is None:
            continue
        g = g.flatten(2)  # (V, B, N): d logit_j / d e
        lead = g[truth, rows][None] - g  # d (l_right - l_j) / d e
        bound += (lead.abs() * b.flatten(1)[None]).sum(-1)
    return logits.detach(), FIRST_ORDER_SLACK * bound.T


def certified_margins(logits: torch.Tensor, bound: torch.Tensor, truth: torch.Tensor) -> torch.Tensor:
    """(B,) min over wrong tokens j of (lead of the right token over j) - (its rounding bound): > 0 means every
    float32 evaluation within the model ranks the right token first."""
    right = logits.gather(1, truth[:, None])
    slack = (right - logits - bound).scatter(1, truth[:, None], float("inf"))
    return slack.min(dim=1).values
